# What counts as a failure: statuses of 400 and more unless expect-status
# allows them, expect-body misses, and the default that anything below 400
# passes. Also: methods and bodies reach the server.
. "$(dirname "$0")/lib.sh"

target_start || exit 1
hf=$(hopperfile expect <<EOF
host = $TARGET_URL
users = 3
spawn-rate = 100
wait = constant 20ms
header = X-Run: e2e

[task missing-allowed]
request = GET /nope
expect-status = 404
name = allowed 404

[task missing]
request = GET /nope
name = plain 404

[task body-ok]
request = GET /status
expect-body = "status":"OK"
name = body ok

[task body-miss]
request = GET /status
expect-body = "status":"DOWN"
name = body miss

[task status-range]
request = GET /status
expect-status = 500-599
name = wants 5xx

[task post]
request = POST /status
body = {"hello": "world"}
expect-status = 405
name = post 405

[task head]
request = HEAD /api/id/tt0068646
name = head
EOF
)
hop "$T/out" -f "$hf" -t 2s --only-summary --stop-timeout 5s
target_stop
check "expect: exit 1 (some tasks fail by design)" [ "$HOP_RC" = 1 ]
for row in "allowed 404" "body ok" "post 405" "head"; do
    r=$(summary_reqs "$T/out" "$row")
    f=$(summary_fails "$T/out" "$row")
    check "expect: '$row' ran and passed" [ "${r:-0}" -gt 0 -a "${f:-1}" = 0 ]
done
for row in "plain 404" "body miss" "wants 5xx"; do
    r=$(summary_reqs "$T/out" "$row")
    f=$(summary_fails "$T/out" "$row")
    check "expect: '$row' ran and every request failed" [ "${r:-0}" -gt 0 -a "$f" = "$r" ]
done
check "expect: 404 is named HTTP 404" grep -q 'GET plain 404: HTTP 404' "$T/out"
check "expect: a body miss names the missing text" grep -q 'GET body miss: body lacks ""status":"DOWN""' "$T/out"
check "expect: a status outside expect-status is named" grep -q 'GET wants 5xx: HTTP 200' "$T/out"
check "expect: the server saw the POSTs" [ "$(target_count 'POST /status')" = "$(summary_reqs "$T/out" "post 405")" ]
check "expect: the server saw the HEADs" [ "$(target_count 'HEAD /api/id/tt0068646')" = "$(summary_reqs "$T/out" head)" ]
check "expect: all counts equal the server's" [ "$(summary_reqs "$T/out" Aggregated)" = "$(target_total)" ]
