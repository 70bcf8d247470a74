# Latency, ramp and wait semantics measured against a real server. Every check
# here is a count or a lower bound with generous slack, never a tight timing.
. "$(dirname "$0")/lib.sh"

# A server with a known 50 ms delay: the percentiles come out at that delay.
target_start --delay 50ms || exit 1
hf=$(hopperfile delay <<EOF
host = $TARGET_URL
users = 10
spawn-rate = 100
wait = constant 0
[task status]
request = GET /status
EOF
)
hop "$T/delay.out" -f "$hf" -t 2s --only-summary --stop-timeout 5s
target_stop
p50=$(summary_pct "$T/delay.out" Aggregated 50%)
p99=$(summary_pct "$T/delay.out" Aggregated 99%)
p0=$(summary_pct "$T/delay.out" Aggregated 100%)
echo "# p50=$p50 p99=$p99 max=$p0"
check "delay: p50 is at the server's 50 ms delay" fcmp "$p50" '>=' 50
check "delay: p50 is not far above it" fcmp "$p50" '<' 75
check "delay: p99 is at least the delay" fcmp "$p99" '>=' 50
check "delay: counts still match" [ "$(summary_reqs "$T/delay.out" Aggregated)" = "$(target_total)" ]

# The ramp: 2 users a second, evenly: users at 0, 0.5, 1.0, 1.5 and 2.0 s.
# Each sends one request when it starts and then waits 10 minutes, so the
# server's count is the number of users started in 2.25 s: 5 (Locust's bursts
# of floor(rate) would have made it 6).
target_start || exit 1
hf=$(hopperfile ramp <<EOF
host = $TARGET_URL
users = 10
spawn-rate = 2
wait = constant 10m
[task status]
request = GET /status
EOF
)
hop "$T/ramp.out" -f "$hf" -t 2250ms --only-summary --stop-timeout 5s
target_stop
echo "# ramp: server answered $(target_total)"
check "ramp: users start one every 1/rate seconds" [ "$(target_total)" = 5 ]
check "ramp: the summary names the peak" grep -q 'peak 5 users (target 10)' "$T/ramp.out"

# Waits, with a server that takes 300 ms: constant 1s gives a request at
# 0, 1.3 and 2.6 s; pacing 1s (start-to-start) at 0, 1 and 2 s. Over 2.5 s with
# 2 users: constant -> 4 requests, pacing -> 6, throughput 1 (= pacing 1 s) -> 6.
for spec in "constant 1s:4" "pacing 1s:6" "throughput 1:6" "between 1s 1s:4"; do
    wait=${spec%:*}
    want=${spec##*:}
    target_start --delay 300ms || exit 1
    hf=$(hopperfile wait <<EOF
host = $TARGET_URL
users = 2
spawn-rate = 1000
wait = $wait
[task status]
request = GET /status
EOF
)
    hop "$T/wait.out" -f "$hf" -t 2500ms --only-summary --stop-timeout 5s
    target_stop
    echo "# wait $wait: server answered $(target_total)"
    check "wait: '$wait' gives $want requests in 2.5 s" [ "$(target_total)" = "$want" ]
done

# A request timeout: the server takes 2 s, the task allows 300 ms.
target_start --delay 2s || exit 1
hf=$(hopperfile timeout <<EOF
host = $TARGET_URL
users = 1
spawn-rate = 10
wait = constant 10m
timeout = 300ms
[task status]
request = GET /status
EOF
)
hop "$T/timeout.out" -f "$hf" -t 1s --only-summary
target_stop
check "timeout: counted as a failure with its cause" grep -q 'GET /status: timeout after 300ms' "$T/timeout.out"
check "timeout: exit status 1" [ "$HOP_RC" = 1 ]
