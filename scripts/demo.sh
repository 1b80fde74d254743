#!/usr/bin/env bash
# Ember end to end on a fresh Debian machine: installs the build dependencies, builds the `ember`
# command (Release, into build/), fetches the default text encoder, creates a collection that embeds
# its texts with it and also keeps a full-text (BM25) index of them, imports the descriptions of
# every package Debian's archive offers (`apt-cache dumpavail`) as text with attributes (the
# database embeds them), and runs a few searches in plain English, with and without filters:
# hybrid by default (meaning and words fused), then by words alone and by meaning alone.
# Everything it writes stays in build/, models/ and data/demo/ (all git-ignored). Run it as root or
# with sudo available; about 5 minutes on 2 cores.
# Usage: bash scripts/demo.sh        (BUILD_DIR=... builds elsewhere than build/)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
started=$SECONDS

step() { printf '\n== %s  (%ds)\n' "$1" $((SECONDS - started)); }

step "installing build dependencies"
bash scripts/install-deps.sh

build_dir=${BUILD_DIR:-$repo_root/build}
step "building ember (Release) into ${build_dir#"$repo_root"/}"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_BENCH=OFF \
  -DEMBER_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" --target ember_cli
ember=$build_dir/tools/ember

step "fetching the default text encoder into models/default"
bash scripts/fetch-default-model.sh
# `--model default` names models/default of this repository.
export EMBER_MODELS_DIR=$repo_root/models

step "listing Debian's packages"
if [[ -z $(apt-cache dumpavail | head -c 1) ]]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
fi
data=$repo_root/data/demo
mkdir -p "$data"
apt-cache dumpavail | /usr/bin/python3 scripts/debian-packages-jsonl.py >"$data/packages.jsonl"
head -n 2 "$data/packages.jsonl"

step "loading them into data/demo/packages.ember (the database embeds and indexes each description)"
db=$data/packages.ember
rm -rf "$db"
# --full-text: a BM25 index of the texts beside the vectors, so that searches by text run hybrid.
# The package name starts each text ("NAME: description"), so names are searchable words too.
"$ember" "$db" create packages --model default --full-text --index hnsw --m 16 \
  --ef-construction 100 --attribute section:string --attribute priority:string \
  --attribute installed_size:int
"$ember" "$db" import packages "$data/packages.jsonl" --no-sync
"$ember" "$db" stats packages

# search QUERY [FLAGS...]: the 5 best packages for QUERY. Mode auto is hybrid here: the query's
# vector (the collection's model) and its words (BM25) each rank packages, and the two rankings
# are fused; --mode text or --mode vector runs one side alone.
search() {
  local query=$1
  shift
  printf '\n-- "%s" %s\n' "$query" "$*"
  "$ember" "$db" search packages --text "$query" -k 5 "$@"
}

step "searching"
search "fast lightweight text editor"
search "library for parsing json" --filter "section = 'libs' OR section = 'libdevel'"
search "play music files from the command line"
# --explain: the plan, and where each side ranked every hit (vec rank/score, bm25 rank/score).
search "compress files" --filter "installed_size < 500" --explain
# A word the encoder does not know: BM25 finds it, the vectors cannot.
search "zstd compression" --mode text
search "zstd compression" --mode vector

step "done in $((SECONDS - started))s"
