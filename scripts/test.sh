#!/usr/bin/env bash
# Installs what Ember needs, builds it, and runs the whole test suite.
#   scripts/test.sh            Release build with debug info, in build/
#   scripts/test.sh --asan     AddressSanitizer + UndefinedBehaviorSanitizer, in build-asan/
#   scripts/test.sh --tsan     ThreadSanitizer, in build-tsan/
# Extra arguments after the mode go to ctest (e.g. -R Crash).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=release
case "${1:-}" in
  --asan) mode=asan; shift ;;
  --tsan) mode=tsan; shift ;;
esac

bash scripts/install-deps.sh

build_dir=build
cmake_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DEMBER_BUILD_BENCH=OFF)
case "$mode" in
  asan) build_dir=build-asan; cmake_flags+=(-DEMBER_ASAN=ON) ;;
  tsan) build_dir=build-tsan; cmake_flags+=(-DEMBER_TSAN=ON) ;;
esac

cmake -S . -B "$build_dir" -G Ninja "${cmake_flags[@]}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"

if [ ! -d ../shared ]; then
  echo "note: ../shared is absent: tests that need its fixtures and data will be skipped" >&2
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp}"
# libgomp is not built with TSan, so the barriers that end OpenMP regions (FAISS's graph
# construction, BLAS) are invisible to it: under TSan, OpenMP runs on one thread. Ember's own threads
# are still checked.
[ "$mode" = tsan ] && export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
cd "$build_dir"
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
