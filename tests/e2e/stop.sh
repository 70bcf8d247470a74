# Every way out of a run prints the summary and exits normally: run time
# reached, Ctrl-C (SIGINT), SIGTERM, SIGHUP (a dropped SSH session). Requests
# in flight at the stop finish and are counted (drained) for up to the stop
# timeout (default 10 s); --stop-timeout 0, the limit running out, or a second
# signal or q cancels them, and the summary and the reports say so.
# (stop_counts.sh holds every way of stopping to the server's own count.)
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { not_ok "stop: jq is installed (make test-deps)"; exit 1; }
# "At the stop: D requests in flight finished and are counted, C were cancelled
# ...": prints "D C", or nothing without that line.
stop_line() {
    sed -n 's/^At the stop: \([0-9]*\) requests in flight finished and are counted, \([0-9]*\) were cancelled and are not counted$/\1 \2/p' "$1"
}
# The server answers (and counts) what it received even after hopper has gone:
# give it more than its delay before stopping it, so that a request hopper
# cancelled is in the server's count and not in hopper's.
target_settle_stop() { sleep "${1:-0.6}"; target_stop; }

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
    check "stop: SIG$sig says a second one stops at once" grep -q ': stopping (again to stop at once)$' "$T/$sig.out"
    line=$(stop_line "$T/$sig.out")
    echo "# SIG$sig: drained and cancelled: ${line:-none}"
    check "stop: SIG$sig drains the requests in flight by default (none cancelled)" \
        bash -c '[ "${1% *}" -gt 0 ] && [ "${1#* }" = 0 ]' _ "${line:-0 x}"
done
target_stop

# --stop-timeout 0 keeps the old way: requests in flight are cancelled at once,
# said so, and not counted; the server answered them, so its count is higher.
target_start --delay 200ms || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
signal_run TERM "$T/cancel.out" --stop-timeout 0 --json "$T/cancel.json"
target_settle_stop
line=$(stop_line "$T/cancel.out")
echo "# --stop-timeout 0: drained and cancelled: ${line:-none}; hopper $(summary_reqs "$T/cancel.out" Aggregated), server $(target_total)"
check "stop-timeout 0: exit status 0" [ "$HOP_RC" = 0 ]
check "stop-timeout 0: no promise of a second signal" bash -c "grep -q ': stopping$' '$T/cancel.out'"
check "stop-timeout 0: the requests in flight are cancelled and reported" \
    bash -c '[ "${1% *}" = 0 ] && [ "${1#* }" -gt 0 ]' _ "${line:-x 0}"
check "stop-timeout 0: and in the JSON" jqe '.cancelled_requests > 0 and .drained_requests == 0' "$T/cancel.json"
cancelled=${line#* }
check "stop-timeout 0: the cancelled ones are what the server counted beyond hopper" \
    [ $(( $(summary_reqs "$T/cancel.out" Aggregated) + ${cancelled:-0} )) = "$(target_total)" ]

# With --stop-timeout, requests in flight finish and are counted: hopper's
# count equals the server's, and nothing is cancelled.
target_start --delay 200ms || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
signal_run TERM "$T/graceful.out" --stop-timeout 5s
target_settle_stop
check "stop-timeout: exit status 0" [ "$HOP_RC" = 0 ]
check "stop-timeout: in-flight requests finished and were counted" \
    [ "$(summary_reqs "$T/graceful.out" Aggregated)" = "$(target_total)" ]
check "stop-timeout: nothing cancelled" grep -Eq '^At the stop: [1-9][0-9]* requests in flight finished and are counted, 0 were cancelled' "$T/graceful.out"

# The limit runs out: what is still in flight then is cancelled.
target_start --delay 5s || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop_bg "$T/limit.out" -f "$hf" --only-summary --stop-timeout 1s
sleep 0.5
kill -TERM $HOP_PID
start=$SECONDS
hop_wait
target_stop
check "stop-timeout: the limit ends the wait" [ $((SECONDS - start)) -lt 4 ]
check "stop-timeout: what was left is cancelled and reported" \
    grep -Eq '^At the stop: 0 requests in flight finished and are counted, 20 were cancelled' "$T/limit.out"

# A second signal while waiting for in-flight requests stops at once (the
# default drain: no --stop-timeout).
target_start --delay 8s || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop_bg "$T/twice.out" -f "$hf" --only-summary --json "$T/twice.json" --csv "$T/twice"
sleep 0.5
kill -INT $HOP_PID
sleep 0.3
kill -INT $HOP_PID
start=$SECONDS
hop_wait
rc=$HOP_RC
target_stop
check "stop: a second Ctrl-C does not wait for the requests in flight" [ $((SECONDS - start)) -lt 4 ]
check "stop: the second Ctrl-C is acknowledged" grep -q 'Interrupt again: cancelling the requests still in flight' "$T/twice.out"
check "stop: and still prints the summary" grep -q '^=== hopper summary' "$T/twice.out"
check "stop: cancelled requests are reported" \
    grep -Eq '^At the stop: 0 requests in flight finished and are counted, 20 were cancelled' "$T/twice.out"
check "stop: exit status 0" [ "$rc" = 0 ]
check "stop: the reports are still written after the second Ctrl-C" jqe '.cancelled_requests == 20 and .drained_requests == 0' "$T/twice.json"
check "stop: and the CSV too" grep -q '^,Aggregated,' "$T/twice_stats.csv"

# The default limit: a server slower than it gets 10 s, then the rest is
# cancelled (one signal only).
target_start --delay 30s || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop_bg "$T/default.out" -f "$hf" --no-tui --print-interval 500ms
sleep 0.5
kill -INT $HOP_PID
start=$SECONDS
hop_wait
waited=$((SECONDS - start))
target_stop
echo "# the default drain waited ${waited}s"
# (The upper bound only tells "the limit" from "the server's 30 s" on a busy machine.)
check "stop: the default drain waits 10 s at most" [ "$waited" -ge 9 -a "$waited" -le 20 ]
check "stop: the headless status line shows the drain while it lasts" \
    grep -q '^stopping: 20 in flight (up to 10s), 0 drained, 0 cancelled; Ctrl-C again: cancel them now$' "$T/default.out"
check "stop: then cancels what is left and says so" \
    grep -Eq '^At the stop: 0 requests in flight finished and are counted, 20 were cancelled' "$T/default.out"

# The dashboard's q: the status line shows the drain, a second q cancels.
if command -v tmux >/dev/null; then
    TMUX_SOCK="hopper-stop-$$"
    tm() { tmux -L "$TMUX_SOCK" "$@"; }
    cleanup_tmux() { tm kill-server 2>/dev/null; cleanup_lib; }
    trap cleanup_tmux EXIT
    tm new-session -d -s keep "sleep 600"
    wait_screen() { # SESSION TEXT SECONDS
        local i
        for i in $(seq 1 $(( $3 * 10 ))); do
            tm capture-pane -p -J -S - -t "$1" | grep -qE -- "$2" && return 0
            sleep 0.1
        done
        tm capture-pane -p -t "$1" | sed 's/^/# | /'
        return 1
    }
    target_start --delay 8s || exit 1
    sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
    tm new-session -d -s q2 -x 160 -y 40 \
        "$HOPPER ${HOPPER_CLIENT:+--http-client $HOPPER_CLIENT} -f $hf --json $T/q2.json; echo EXIT=\$?; sleep 60"
    wait_screen q2 'users 20/20' 10 >/dev/null
    sleep 0.5
    tm send-keys -t q2 q
    check "dashboard q: the status line shows the drain" \
        wait_screen q2 'stopping: 20 in flight \(up to 10s\), 0 drained, 0 cancelled; q: cancel them now' 5
    start=$SECONDS
    tm send-keys -t q2 q
    check "dashboard q: a second q exits at once" wait_screen q2 '^EXIT=0' 4
    check "dashboard q: within seconds" [ $((SECONDS - start)) -lt 4 ]
    check "dashboard q: the summary says they were cancelled" \
        wait_screen q2 '^At the stop: 0 requests in flight finished and are counted, 20 were cancelled' 1
    check "dashboard q: and the JSON" jqe '.cancelled_requests == 20' "$T/q2.json"
    tm kill-session -t q2
    target_stop
else
    not_ok "stop: tmux is installed (make test-deps)"
fi

# Run time reached: the summary covers the run, exit 0.
target_start || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop "$T/runtime.out" -f "$hf" -t 1s --only-summary
target_stop
check "run-time: exits 0 with a summary" [ "$HOP_RC" = 0 ]
check "run-time: summary printed" grep -q '^Run: 1' "$T/runtime.out"
