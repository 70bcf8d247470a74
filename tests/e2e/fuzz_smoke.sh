# A few seconds of each libFuzzer target (tests/fuzz), so that the targets
# keep building and the parsers keep their promises: `make fuzz-smoke`, one
# result per target. `make fuzz` is the long run. Without clang and its
# fuzzer runtime this fails, on purpose: the suite must not look green for a
# check it could not run.
. "$(dirname "$0")/lib.sh"

if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1 ||
   ! make -C "$TOP" --no-print-directory -s fuzz-check >"$T/check.out" 2>&1; then
    not_ok "fuzz: clang with libFuzzer is installed (make test-deps)"
    exit 1
fi

# The build is quick and each target runs FUZZ_SMOKE_SECONDS (3): the limit
# only catches a hang.
timeout -k 5 300 make -C "$TOP" --no-print-directory fuzz-smoke >"$T/fuzz.out" 2>&1
rc=$?
cat "$T/fuzz.out"

results=0
failed=0
while read -r target rest; do
    results=$((results + 1))
    case "$rest" in
        "ran "*) execs=${rest#ran }; execs=${execs%% *}
                 ok "fuzz: $target ran $execs executions" ;;
        *) failed=$((failed + 1))
           not_ok "fuzz: $target" "${rest#FAILED: }" ;;
    esac
done < <(sed -n 's/^fuzz: \(fuzz_[a-z0-9_]*\) /\1 /p' "$T/fuzz.out")

# A build error, or a hang past the limit, leaves no line for some target.
if [ "$results" -eq 0 ] || { [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
    not_ok "fuzz: make fuzz-smoke" "exit status $rc (its output is above)"
    exit 1
fi
[ "$failed" -eq 0 ]
