#!/usr/bin/env bash
# Builds the fuzz targets and runs each one in turn, from the committed seed corpus, for a time
# or a number of executions; fails on any crash, timeout or out-of-memory, and prints what
# each target did.
#
#   fuzz/run.sh                      every target for FUZZ_SECONDS (default 20) seconds
#   fuzz/run.sh filter phone         only these targets
#   FUZZ_RUNS=10000000 fuzz/run.sh   10 million executions per target (the long run)
#
# Settings (environment):
#   FUZZ_SECONDS    seconds per target (default 20); ignored when FUZZ_RUNS is set
#   FUZZ_RUNS       executions per target instead of a time
#   FUZZ_TIMEOUT    seconds one input may take before it is a timeout (default 10)
#   FUZZ_RSS_MB     memory limit in MB before it is an out-of-memory (default 2048)
#   FUZZ_MAX_LEN    longest input in bytes (default 4096)
#   FUZZ_SANITIZER  none (default) or address
#   FUZZ_PROFILE    release (default; the long runs) or dev (unoptimised: a cold build takes
#                   a fraction of the time, for a smoke run)
#   FUZZ_WORK_DIR   where new corpus entries, reproducers and logs go (default
#                   fuzz/target/work); the committed corpus under fuzz/corpus is only read
#   FUZZ_TARGET_DIR where the build goes (default fuzz/target); keep it between runs and
#                   only what changed is rebuilt
#   CARGO_FUZZ      the cargo-fuzz binary (default: cargo-fuzz on PATH)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install --locked cargo-fuzz@0.13.1`).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${FUZZ_SECONDS:-20}"
RUNS="${FUZZ_RUNS:-}"
TIMEOUT="${FUZZ_TIMEOUT:-10}"
RSS_MB="${FUZZ_RSS_MB:-2048}"
MAX_LEN="${FUZZ_MAX_LEN:-4096}"
SANITIZER="${FUZZ_SANITIZER:-none}"
WORK="${FUZZ_WORK_DIR:-$PWD/fuzz/target/work}"
CARGO_FUZZ="${CARGO_FUZZ:-cargo-fuzz}"
export RUSTUP_TOOLCHAIN=nightly
# The same flags for the build and the runs, so a run never rebuilds.
case "${FUZZ_PROFILE:-release}" in
  release) PROFILE=(--release --debug-assertions) ;;
  dev) PROFILE=(--dev) ;;
  *) echo "FUZZ_PROFILE is release or dev" >&2; exit 2 ;;
esac
FLAGS=(--sanitizer "$SANITIZER" "${PROFILE[@]}")
if [ -n "${FUZZ_TARGET_DIR:-}" ]; then FLAGS+=(--target-dir "$FUZZ_TARGET_DIR"); fi

if [ "$#" -gt 0 ]; then
  TARGETS=("$@")
else
  mapfile -t TARGETS < <("$CARGO_FUZZ" fuzz list)
fi
mkdir -p "$WORK"

start=$(date +%s)
if ! "$CARGO_FUZZ" fuzz build "${FLAGS[@]}" >"$WORK/build.log" 2>&1; then
  cat "$WORK/build.log" >&2
  exit 1
fi
echo "built the fuzz targets in $(($(date +%s) - start)) s (sanitizer: $SANITIZER)"

failed=0
rows=()
for t in "${TARGETS[@]}"; do
  mkdir -p "$WORK/corpus/$t" "$WORK/artifacts/$t"
  args=(
    "-timeout=$TIMEOUT" "-rss_limit_mb=$RSS_MB" "-max_len=$MAX_LEN"
    -print_final_stats=1 "-artifact_prefix=$WORK/artifacts/$t/"
  )
  if [ -f "fuzz/dict/$t.dict" ]; then args+=("-dict=fuzz/dict/$t.dict"); fi
  if [ -n "$RUNS" ]; then args+=("-runs=$RUNS"); else args+=("-max_total_time=$SECONDS_PER_TARGET"); fi
  began=$(date +%s)
  rc=0
  # New inputs go to the work corpus (the first directory); the seeds are only read.
  "$CARGO_FUZZ" fuzz run "${FLAGS[@]}" "$t" "$WORK/corpus/$t" "fuzz/corpus/$t" -- "${args[@]}" \
    >"$WORK/$t.log" 2>&1 || rc=$?
  took=$(($(date +%s) - began))
  stat() { sed -n "s/^stat::$1: *//p" "$WORK/$t.log" | tail -n1 || true; }
  execs=$(stat number_of_executed_units)
  speed=$(stat average_exec_per_sec)
  # A target that fails while loading its seeds prints no corpus line.
  corpus=$(grep -o 'corp: [0-9]*' "$WORK/$t.log" | tail -n1 | cut -d' ' -f2 || true)
  crashes=$(find "$WORK/artifacts/$t" -type f \( -name 'crash-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
  timeouts=$(find "$WORK/artifacts/$t" -type f -name 'timeout-*' | wc -l)
  rows+=("$(printf '%-12s %12s %8s %10s %8s %9s %7s' "$t" "${execs:-?}" "$took" "${speed:-?}" "$crashes" "$timeouts" "${corpus:-?}")")
  if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] || [ "$timeouts" -ne 0 ]; then
    failed=1
    echo "FAILED: $t (exit $rc); reproducers in $WORK/artifacts/$t, log $WORK/$t.log" >&2
    grep -E 'panicked|ERROR: libFuzzer|SUMMARY' "$WORK/$t.log" | head -n 5 >&2 || true
  fi
done

printf '%-12s %12s %8s %10s %8s %9s %7s\n' target executions seconds exec/s crashes timeouts corpus
printf '%s\n' "${rows[@]}"
exit "$failed"
