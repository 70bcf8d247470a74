# Responses without a body (RFC 9112 6.3): the answer to a HEAD, and every
# 1xx, 204 and 304, ends at its header block whatever Content-Length or
# Transfer-Encoding say. Against tests/tools/faultserver --mode no-body, each
# kind must pass (no failure, no timeout waiting for a body that never
# comes), hopper's count must equal the requests the server saw, and each
# user must keep its one connection (the server's connections accepted),
# which proves the next request on it went out and was answered. An interim
# 100 Continue and 103 Early Hints are skipped for the real answer after
# them. Run once per HTTP client (tests/run).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/faultserver.sh"

if [ ! -x "$FAULTSERVER" ]; then
    not_ok "nobody: $FAULTSERVER is missing (make $FAULTSERVER)"
    exit 1
fi
CLIENT="${HOPPER_CLIENT:-native}"
echo "# client: $CLIENT"
USERS=3

# no_body NAME REQUEST STATUS [HEADER]: USERS users send REQUEST for 1 s,
# expecting STATUS, with HEADER if given.
no_body() {
    local name="$1" request="$2" status="$3" header="${4:-}"
    local n="nobody: $name"
    fault_start no-body || { not_ok "$n: the fault server starts"; return; }
    local hf
    hf=$(hopperfile "$name" <<HF
host = $FS_URL
users = $USERS
spawn-rate = 100
wait = constant 20ms
timeout = 1s
[task t]
request = $request
${header:+header = $header}
expect-status = $status
HF
)
    hop "$T/$name.out" -f "$hf" -t 1s --only-summary --stop-timeout 5s --json "$T/$name.json"
    fault_stop
    local reqs fails seen conns line
    reqs=$(jq -r '.aggregated.requests' "$T/$name.json" 2>/dev/null)
    fails=$(jq -r '.aggregated.failures' "$T/$name.json" 2>/dev/null)
    seen=$(fs_count "requests seen")
    conns=$(fs_count "connections accepted")
    line=$(fs_seen "$request")
    echo "# $name: rc=$HOP_RC hopper reqs=$reqs fails=$fails; server saw $seen ($line as '$request')" \
         "on $conns connections"
    grep -E '^[0-9]+ +\| ' "$T/$name.out" | sed 's/^/#   /'
    check "$n: exit status 0" [ "$HOP_RC" = 0 ]
    check "$n: requests were sent" [ "${reqs:-0}" -gt "$USERS" ]
    check "$n: no request failed" [ "${fails:-x}" = 0 ]
    check "$n: hopper's count equals the requests the server saw" [ "${reqs:-x}" = "$seen" ]
    check "$n: all of them were '$request'" [ "$line" = "$seen" ]
    check "$n: one kept-alive connection per user ($conns)" [ "${conns:-x}" = "$USERS" ]
}

no_body head "HEAD /x" 200
no_body conditional-304 "GET /304" 304 'If-None-Match: "x"'
no_body 304-chunked "GET /304-chunked" 304 'If-None-Match: "x"'
no_body 204 "GET /204" 204
no_body 204-chunked "DELETE /204-chunked" 204
no_body interim-1xx "GET /1xx" 200
