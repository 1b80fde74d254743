#!/usr/bin/env bash
# Retrieval quality and embedding throughput of a model on a BEIR dataset, end to end through the
# `ember` command: builds Release, creates a collection with --model MODEL, imports the corpus (the
# database embeds every document: docs/s), evaluates the test queries (`ember DB eval`: nDCG@10,
# Recall@100, MRR@10, queries/s), and, in the same run, measures the encoder alone on the same
# texts (`ember embed MODEL --jsonl`: sentences/s, model loading excluded), so that the ratio
# (import docs/s over encoder sentences/s) shows what the database adds. `ember embed` prints every
# vector as JSON, which it pays for and the import does not: with a fast static model the ratio
# can exceed 1.
#
#   bench/beir.sh MODEL [DATASET_DIR]        # DATASET_DIR default: ../shared/data/scifact
#   bench/beir.sh default
#   CHUNK_TOKENS=128 bench/beir.sh models/minilm-shape   # chunked, scored by parent document
#
# Environment: BUILD_DIR (default <repo>/build-release), DB_DIR (default /tmp/ember_beir_bench),
# CREATE_FLAGS (extra `create` flags, e.g. "--index flat"), CHUNK_TOKENS (import with
# --chunk-tokens N and evaluate with --group-by parent_id).
# The output (table and one JSON line) goes to stdout and to <repo>/data/beir/results/.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 1 ]; then
  echo "usage: $0 MODEL [DATASET_DIR]" >&2
  exit 2
fi
model="$1"
dataset_dir="${2:-$repo/../shared/data/scifact}"
build_dir="${BUILD_DIR:-$repo/build-release}"
db="${DB_DIR:-/tmp/ember_beir_bench}"
chunk_tokens="${CHUNK_TOKENS:-}"

for file in corpus.jsonl queries.jsonl qrels/test.tsv; do
  if [ ! -f "$dataset_dir/$file" ]; then
    echo "$0: $dataset_dir/$file is missing (a BEIR dataset folder is expected)" >&2
    exit 1
  fi
done
dataset="$(basename "$(cd "$dataset_dir" && pwd)")"

# An existing build directory is used as configured (it must be an optimized build).
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEMBER_BUILD_TESTS=OFF \
    -DEMBER_BUILD_BENCH=OFF >/dev/null
fi
cmake --build "$build_dir" --target ember_cli -j"$(nproc)" >&2
ember="$build_dir/tools/ember"
# `default` and other bare model names: the repository's models/ unless the caller says otherwise.
export EMBER_MODELS_DIR="${EMBER_MODELS_DIR:-$repo/models}"

rm -rf "$db"
# shellcheck disable=SC2086  # CREATE_FLAGS is a list of flags
"$ember" "$db" create beir --model "$model" ${CREATE_FLAGS:-} >&2

import_flags=(--no-sync)
eval_flags=()
if [ -n "$chunk_tokens" ]; then
  import_flags+=(--chunk-tokens "$chunk_tokens")
  eval_flags+=(--group-by parent_id)
fi
echo "importing $dataset_dir/corpus.jsonl ..." >&2
import_json="$("$ember" --json "$db" import beir "$dataset_dir/corpus.jsonl" "${import_flags[@]}")"

echo "evaluating the test queries ..." >&2
eval_json="$("$ember" --json "$db" eval beir --queries "$dataset_dir/queries.jsonl" \
  --qrels "$dataset_dir/qrels/test.tsv" "${eval_flags[@]}")"

echo "embedding the same texts with the encoder alone ..." >&2
# The import's time leaves out opening the database (and loading the model), so the encoder's
# does too: the time of a run that loads the model and embeds one text is subtracted.
start=$(date +%s%N)
"$ember" embed "$model" "warm-up" >/dev/null
load_ms=$((($(date +%s%N) - start) / 1000000))
start=$(date +%s%N)
raw_lines=$("$ember" embed "$model" --jsonl "$dataset_dir/corpus.jsonl" | wc -l)
raw_ms=$((($(date +%s%N) - start) / 1000000 - load_ms))

mkdir -p "$repo/data/beir/results"
out="$repo/data/beir/results/$dataset-$(basename "$model")-$(date +%Y%m%d-%H%M%S).txt"
IMPORT_JSON="$import_json" EVAL_JSON="$eval_json" RAW_LINES="$raw_lines" RAW_MS="$raw_ms" \
  DATASET="$dataset" MODEL="$model" CHUNK_TOKENS="$chunk_tokens" python3 - <<'PY' | tee "$out"
import json, os
imported = json.loads(os.environ["IMPORT_JSON"])
evaluated = json.loads(os.environ["EVAL_JSON"])
docs_per_s = imported["imported"] / imported["seconds"]
raw_per_s = int(os.environ["RAW_LINES"]) / (int(os.environ["RAW_MS"]) / 1000)
chunk_tokens = int(os.environ["CHUNK_TOKENS"]) if os.environ["CHUNK_TOKENS"] else None
r = {"bench": "beir", "dataset": os.environ["DATASET"], "model": os.environ["MODEL"],
     "chunk_tokens": chunk_tokens, "docs": imported["imported"],
     "chunks": imported.get("chunks", imported["imported"]),
     "import_seconds": round(imported["seconds"], 2), "docs_per_s": round(docs_per_s, 1),
     "raw_sentences_per_s": round(raw_per_s, 1), "ratio": round(docs_per_s / raw_per_s, 3),
     "queries": evaluated["queries"], "ndcg_at_10": round(evaluated["ndcg_at_10"], 4),
     "recall_at_100": round(evaluated["recall_at_100"], 4),
     "mrr_at_10": round(evaluated["mrr_at_10"], 4),
     "queries_per_s": round(evaluated["queries_per_s"], 1)}
title = f"dataset {r['dataset']}, model {r['model']}"
if chunk_tokens:
    title += f", chunks of {chunk_tokens} tokens (scored by parent document)"
print(title)
rows = [("documents imported", f"{r['docs']} ({r['chunks']} stored) in {r['import_seconds']}s"),
        ("import docs/s", r["docs_per_s"]),
        ("encoder alone sentences/s", r["raw_sentences_per_s"]),
        ("import / encoder", r["ratio"]),
        ("queries", r["queries"]),
        ("nDCG@10", f"{r['ndcg_at_10']:.4f}"),
        ("Recall@100", f"{r['recall_at_100']:.4f}"),
        ("MRR@10", f"{r['mrr_at_10']:.4f}"),
        ("queries/s", r["queries_per_s"])]
for name, value in rows:
    print(f"  {name:<27}{value}")
print(json.dumps(r))
PY
echo "beir.sh: results in $out" >&2
