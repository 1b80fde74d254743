#!/usr/bin/env bash
# Ember's transformer encoder against ONNX Runtime on the same weights, in one run.
#
#   bench/encoder_bench.sh [BUILD_DIR]      (default: build/)
#   env: BENCH_SECONDS (3) per measurement, BENCH_DOCS (512) SciFact abstracts, BENCH_THREADS ("1 2"),
#        BENCH_PRECISIONS (fp32,bf16) for Ember's linear layers
#
# Makes the all-MiniLM-L6-v2-shape model with ../shared/tools/make_reference_model.py --onnx into
# models/minilm-shape (git-ignored) unless $EMBER_MINILM_SHAPE_DIR names one, installs onnxruntime-node
# into .cache/ortpeer (git-ignored), then for each thread count runs ONNX Runtime (ort_bench.mjs at
# batch 32 x 16/64/128 tokens; ort_mixed_bench.mjs on the SciFact abstracts) and right after it
# encoder_bench on the same shapes, which prints the table with the ratios and one JSON line each.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build}
shared=${EMBER_SHARED_DIR:-$repo/../shared}
model=${EMBER_MINILM_SHAPE_DIR:-$repo/models/minilm-shape}
peer=$repo/.cache/ortpeer
seconds=${BENCH_SECONDS:-3}
docs=${BENCH_DOCS:-512}
threads=${BENCH_THREADS:-1 2}
corpus=$shared/data/scifact/corpus.jsonl

[ -d "$shared" ] || { echo "encoder_bench: no shared folder at $shared" >&2; exit 1; }
bash "$repo/scripts/install-deps.sh"
# Only the reference-model maker needs PyTorch: a large install the test suite does without.
if ! /usr/bin/python3 -c "import torch, numpy" 2>/dev/null; then
  echo "encoder_bench: installing python3-torch and python3-numpy" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-numpy >/dev/null
fi
if [ ! -f "$model/model.onnx" ]; then
  echo "encoder_bench: making the MiniLM-shape model in $model (about 30 s)" >&2
  /usr/bin/python3 "$shared/tools/make_reference_model.py" --out "$model" \
    --tokenizer-dir "$shared/fixtures/tokenizer/all-MiniLM-L6-v2" \
    --ids "$shared/fixtures/tokenizer/token_ids.jsonl" --onnx >&2
fi
if [ ! -d "$peer/node_modules/onnxruntime-node" ]; then
  echo "encoder_bench: installing onnxruntime-node into $peer" >&2
  mkdir -p "$peer"
  ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$peer" onnxruntime-node@1.30.0 >&2
fi
# ES modules resolve packages next to the script.
cp "$shared/tools/ort_bench.mjs" "$repo/bench/ort_mixed_bench.mjs" "$peer/"
cmake --build "$build" --target encoder_bench >&2

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$build/bench/encoder_bench" --model "$model" --scifact "$corpus" --docs "$docs" \
  --write-ids "$scratch/scifact_ids.jsonl"
node "$peer/ort_bench.mjs" "$model/model.onnx" --seqs 16 --seconds 0.1 \
  --check "$model/reference.jsonl" | head -1
for t in $threads; do
  : > "$scratch/ort.jsonl"
  node "$peer/ort_bench.mjs" "$model/model.onnx" --threads "$t" --batch 32 --seqs 16,64,128 \
    --seconds "$seconds" | tee -a "$scratch/ort.jsonl"
  node "$peer/ort_mixed_bench.mjs" "$model/model.onnx" "$scratch/scifact_ids.jsonl" --threads "$t" \
    --batch 32 --seconds "$seconds" | tee -a "$scratch/ort.jsonl"
  "$build/bench/encoder_bench" --model "$model" --threads "$t" --batch 32 --seqs 16,64,128 \
    --seconds "$seconds" --scifact "$corpus" --docs "$docs" --ort "$scratch/ort.jsonl" \
    --precisions "${BENCH_PRECISIONS:-fp32,bf16}"
done
