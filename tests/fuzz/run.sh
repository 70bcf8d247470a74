#!/usr/bin/env bash
# Runs libFuzzer targets for a bounded time each: the runner behind `make fuzz`
# and `make fuzz-smoke` (see tests/fuzz/README.md).
#
#   tests/fuzz/run.sh SECONDS TARGET...     (from the top of the checkout)
#
# Each TARGET is $FUZZ_BUILD/TARGET (default build-fuzz/). It runs on a
# scratch corpus, $FUZZ_BUILD/corpus-TARGET, which is where new inputs go and
# which later runs start from; the committed seeds in tests/fuzz/corpus/TARGET
# are read, never written. With FUZZ_FRESH=1 (the smoke run) the scratch
# corpus is $FUZZ_BUILD/fresh-corpus-TARGET, emptied first, so that a run of a
# few seconds is spent on the seeds and new inputs, not on replaying
# everything earlier runs found.
# Crashes, leaks and timeouts leave the input in $FUZZ_BUILD/artifacts/TARGET/
# and libFuzzer's output in $FUZZ_BUILD/logs/TARGET.log. Targets run
# FUZZ_JOBS at a time (default: the number of CPUs); FUZZ_ARGS adds libFuzzer
# options. Prints one line per target, in order:
#   fuzz: TARGET ran N executions in S s (...)
#   fuzz: TARGET FAILED: what libFuzzer found (input: ARTIFACT, log: LOG)
# and exits 1 if any target failed.
set -u
cd "$(dirname "$0")/../.."

seconds="${1:?usage: tests/fuzz/run.sh SECONDS TARGET...}"
shift
[ $# -gt 0 ] || { echo "tests/fuzz/run.sh: no targets" >&2; exit 2; }
build="${FUZZ_BUILD:-build-fuzz}"
scratch="corpus"
[ "${FUZZ_FRESH:-0}" = 1 ] && scratch="fresh-corpus"
jobs="${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}"

# The longest input worth trying per target: a hopperfile or a server answer
# needs room for several lines; a duration or a check does not.
max_len() {
    case "$1" in
        fuzz_hopperfile|fuzz_response|fuzz_h2_response|fuzz_control) echo 8192 ;;
        fuzz_cookies) echo 4096 ;;
        *) echo 1024 ;;
    esac
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

mkdir -p "$build/logs"

run_target() { # TARGET: runs it; its exit status goes in logs/TARGET.rc
    local t="$1"
    local bin="$build/$t" log="$build/logs/$t.log" seeds="tests/fuzz/corpus/$t"
    local dict=()
    [ -f "tests/fuzz/dict/$t.dict" ] && dict=("-dict=tests/fuzz/dict/$t.dict")
    local corpus="$build/$scratch-$t"
    [ "$scratch" = corpus ] || rm -rf "$corpus"
    mkdir -p "$corpus" "$build/artifacts/$t"
    [ -d "$seeds" ] || seeds=""
    # -timeout: one input slower than this is a hang, reported like a crash.
    # stdin is /dev/null so that nothing the target does can wait on a terminal.
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=20 \
        -print_final_stats=1 -artifact_prefix="$build/artifacts/$t/" "${dict[@]}" \
        ${FUZZ_ARGS:-} "$corpus" $seeds >"$log" 2>&1 </dev/null
    echo $? >"$build/logs/$t.rc"
}

stamp="$build/logs/.started"
: >"$stamp"
for t in "$@"; do
    if [ ! -x "$build/$t" ]; then
        echo 127 >"$build/logs/$t.rc"
        echo "no such fuzz target: $build/$t" >"$build/logs/$t.log"
        continue
    fi
    rm -f "$build/logs/$t.rc"
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
        wait -n
    done
    run_target "$t" &
done
wait

failed=0
for t in "$@"; do
    log="$build/logs/$t.log"
    rc=$(cat "$build/logs/$t.rc" 2>/dev/null || echo 1)
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
    if [ "$rc" -eq 0 ] && [ -n "$execs" ]; then
        inputs=$(find "$build/$scratch-$t" -type f | wc -l)
        echo "fuzz: $t ran $execs executions in $seconds s (no crash; scratch corpus $build/$scratch-$t: $inputs inputs)"
        continue
    fi
    failed=1
    # The newest artifact written by this run, and libFuzzer's one-line verdict.
    artifact=$(find "$build/artifacts/$t" -type f -newer "$stamp" -printf '%T@ %p\n' 2>/dev/null |
               sort -n | tail -n 1 | cut -d' ' -f2-)
    what=$(grep -m 1 -E '^(SUMMARY: |==[0-9]+== ?ERROR: |fuzz invariant broken:|ALARM: |.*runtime error: )' "$log" |
           sed 's/^==[0-9]*== *//')
    [ -n "$what" ] || what="exit status $rc"
    echo "fuzz: $t FAILED: $what (input: ${artifact:-none}, ${execs:-?} executions, log: $log)"
done
rm -f "$stamp"
exit "$failed"
