# hopper's counts equal the server's, exactly; each user holds its own
# connection; paths are percent-encoded on the wire; failures are counted
# with their cause and set the exit status.
. "$(dirname "$0")/lib.sh"

target_start || exit 1
hf=$(hopperfile grafmuvi <<EOF
host = $TARGET_URL
users = 30
spawn-rate = 200
wait = constant 0
[task status]
weight = 1
request = GET /status
[task similar-by-id]
weight = 1
request = GET /api/id/tt0068646
[task similar-by-title]
weight = 2
request = GET /api/title/The godfather/1972
EOF
)
hop "$T/out" -f "$hf" -t 3s --no-tui --stop-timeout 10s
target_stop
check "counts: clean run exits 0" [ "$HOP_RC" = 0 ]
total=$(summary_reqs "$T/out" Aggregated)
status=$(summary_reqs "$T/out" /status)
byid=$(summary_reqs "$T/out" /api/id/tt0068646)
title=$(summary_reqs "$T/out" "/api/title/The godfather/1972")
echo "# hopper: total=$total status=$status id=$byid title=$title; server: $(target_total)"
# Under valgrind (HOPPER_WRAP) hopper runs many times slower, libcurl over
# TLS slowest of all: the check is only that there was load to count.
min_load=1000
[ -n "$HOPPER_WRAP" ] && min_load=100
check "counts: some load was sent (more than $min_load requests)" [ "${total:-0}" -gt "$min_load" ]
check "counts: Aggregated equals the server's total" [ "$total" = "$(target_total)" ]
check "counts: /status equals the server's" [ "$status" = "$(target_count 'GET /status')" ]
check "counts: /api/id equals the server's" [ "$byid" = "$(target_count 'GET /api/id/tt0068646')" ]
check "counts: the title path went out percent-encoded and equals the server's" \
    [ "$title" = "$(target_count 'GET /api/title/The godfather/1972')" ]
check "counts: rows add up to Aggregated" [ $((status + byid + title)) = "$total" ]
# Weight 2 of 4: about half the requests (loose: it is random).
check "counts: weights shape the mix" [ $((title * 100 / total)) -ge 40 -a $((title * 100 / total)) -le 60 ]
check "counts: one keep-alive connection per user" grep -q '^connections accepted: 30$' "$TARGET_OUT"
if [ -n "$HOPPER_TLS" ] && [ "${HOPPER_CLIENT:-native}" = native ]; then
    check "counts: one TLS handshake per user, none resumed (no reconnect)" \
        grep -q '^TLS: 30 handshakes, 0 of them resumed a session$' "$T/out"
fi
check "counts: the periodic table was printed" grep -q 'last 10 s' "$T/out"
case "${HOPPER_CLIENT:-native}${HOPPER_HTTP2:+-h2}${HOPPER_TLS:+-tls}" in
    curl-h2*) client="libcurl (HTTP/2) client" ;;
    curl*) client="libcurl client" ;;
    *-h2-tls) client="native HTTP/2 over TLS client" ;;
    *-h2) client="native HTTP/2 (h2c) client" ;;
    *-tls) client="native HTTP/1.1 over TLS client" ;;
    *) client="native HTTP/1.1 client" ;;
esac
check "counts: the run used the $client" grep -q "^generator: $client" "$T/out"
check "counts: the summary has the percentile table" grep -q '^Response time percentiles' "$T/out"
check "counts: no failures reported" grep -q '^no failures$' "$T/out"

# A share of 500s: counted as failures named "HTTP 500", exit status 1.
target_start --fail-rate 0.2 || exit 1
hf=$(hopperfile failing <<EOF
host = $TARGET_URL
users = 5
spawn-rate = 100
wait = constant 0
[task status]
request = GET /status
EOF
)
hop "$T/fail" -f "$hf" -t 2s --only-summary --stop-timeout 10s
target_stop
fails=$(summary_fails "$T/fail" Aggregated)
reqs=$(summary_reqs "$T/fail" Aggregated)
check "failures: exit status 1 when requests failed" [ "$HOP_RC" = 1 ]
check "failures: requests still equal the server's" [ "$reqs" = "$(target_total)" ]
check "failures: about a fifth failed" [ "${fails:-0}" -gt 0 -a $((fails * 100 / reqs)) -ge 10 -a $((fails * 100 / reqs)) -le 30 ]
check "failures: the error report names HTTP 500 with its count" grep -Eq "^$fails +\| GET /status: HTTP 500$" "$T/fail"
check "failures: --only-summary prints no periodic table" bash -c "! grep -q 'last 10 s' '$T/fail'"

target_start --fail-rate 1 || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop "$T/code" -f "$hf" -t 1s --only-summary --exit-code-on-error 9
target_stop
check "failures: --exit-code-on-error sets the status" [ "$HOP_RC" = 9 ]

# Nothing listening any more: connection refused, counted and named.
hop "$T/refused" -f "$hf" -H "http://127.0.0.1:$TARGET_PORT" -t 1s --only-summary
check "refused: exit status 1" [ "$HOP_RC" = 1 ]
check "refused: the cause is named" grep -q 'GET /status: connection refused' "$T/refused"
