# Every way out of a run prints the summary and exits normally: run time
# reached, Ctrl-C (SIGINT), SIGTERM, SIGHUP (a dropped SSH session). Requests
# in flight are cancelled and reported as such, or finish with --stop-timeout.
. "$(dirname "$0")/lib.sh"

target_start --delay 200ms || exit 1
hf=$(hopperfile stop <<EOF
host = $TARGET_URL
users = 20
spawn-rate = 1000
wait = constant 0
[task status]
request = GET /status
EOF
)

# Starts hopper in the background, waits until it has sent load, sends a signal.
signal_run() { # SIGNAL OUT [ARGS...]
    local sig="$1" out="$2"; shift 2
    hop_bg "$out" -f "$hf" --no-tui --print-interval 200ms "$@"
    local i
    for i in $(seq 1 100); do
        grep -q 'last 10 s' "$out" 2>/dev/null && break
        sleep 0.05
    done
    sleep 0.3
    kill -s "$sig" "$HOP_PID"
    hop_wait
}

for sig in INT TERM HUP; do
    signal_run "$sig" "$T/$sig.out"
    check "stop: SIG$sig exits with status 0" [ "$HOP_RC" = 0 ]
    check "stop: SIG$sig prints the summary" grep -q '^=== hopper summary' "$T/$sig.out"
    check "stop: SIG$sig prints the percentile table" grep -q '^Response time percentiles' "$T/$sig.out"
    check "stop: SIG$sig reports the cancelled requests" grep -Eq 'requests in flight at the stop were cancelled' "$T/$sig.out"
done
target_stop

# With --stop-timeout, requests in flight finish and are counted: hopper's
# count equals the server's, and nothing is cancelled.
target_start --delay 200ms || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
signal_run TERM "$T/graceful.out" --stop-timeout 5s
target_stop
check "stop-timeout: exit status 0" [ "$HOP_RC" = 0 ]
check "stop-timeout: in-flight requests finished and were counted" \
    [ "$(summary_reqs "$T/graceful.out" Aggregated)" = "$(target_total)" ]
check "stop-timeout: nothing cancelled" bash -c "! grep -q cancelled '$T/graceful.out'"

# A second signal while waiting for in-flight requests stops at once.
target_start --delay 5s || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop_bg "$T/twice.out" -f "$hf" --only-summary --stop-timeout 30s --json "$T/twice.json" --csv "$T/twice"
sleep 0.5
kill -INT $HOP_PID
sleep 0.3
kill -INT $HOP_PID
start=$SECONDS
hop_wait
rc=$HOP_RC
target_stop
check "stop: a second Ctrl-C does not wait out --stop-timeout" [ $((SECONDS - start)) -lt 10 ]
check "stop: and still prints the summary" grep -q '^=== hopper summary' "$T/twice.out"
check "stop: cancelled requests are reported" grep -q 'cancelled' "$T/twice.out"
check "stop: exit status 0" [ "$rc" = 0 ]
check "stop: the reports are still written after the second Ctrl-C" jqe '.cancelled_requests > 0' "$T/twice.json"
check "stop: and the CSV too" grep -q '^,Aggregated,' "$T/twice_stats.csv"

# Run time reached: the summary covers the run, exit 0.
target_start || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop "$T/runtime.out" -f "$hf" -t 1s --only-summary
target_stop
check "run-time: exits 0 with a summary" [ "$HOP_RC" = 0 ]
check "run-time: summary printed" grep -q '^Run: 1' "$T/runtime.out"
