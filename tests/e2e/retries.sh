# No silent retries that the server sees twice. Against tests/tools/faultserver
# --mode drop-second (each connection: the first request answered, the second
# read in full and the connection closed without an answer):
#   POST (not idempotent) is never sent again: every dropped one is a failure
#     ("connection closed without a response"), no retry is counted, and
#     hopper's requests equal the requests the server read;
#   GET (idempotent) goes again once on a new connection: no failure, the
#     retries are counted in the summary and the JSON report, and requests +
#     retries equal the requests the server read;
#   GET with --no-retry behaves like POST.
# Run once per HTTP client (tests/run): libcurl's own retry must follow the
# same rule.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/tools/faultserver.sh"

if [ ! -x "$FAULTSERVER" ]; then
    not_ok "retries: $FAULTSERVER is missing (make $FAULTSERVER)"
    exit 1
fi
CLIENT="${HOPPER_CLIENT:-native}"
echo "# client: $CLIENT"
NO_ANSWER="connection closed without a response"

# drop_second NAME METHOD [HOPPER ARGS...]: 3 users send METHOD /x for 2 s.
# Sets REQS FAILS RETRIES SEEN (the server's requests seen), OUT and JSON.
drop_second() {
    local name="$1" method="$2"; shift 2
    REQS="" FAILS="" RETRIES="" SEEN="" OUT="$T/$name.out" JSON="$T/$name.json"
    fault_start drop-second || { not_ok "retries: $name: the fault server starts"; return 1; }
    local hf
    hf=$(hopperfile "$name" <<HF
host = $FS_URL
users = 3
spawn-rate = 100
wait = constant 10ms
timeout = 2s
[task t]
request = $method /x
HF
)
    hop "$OUT" -f "$hf" -t 2s --only-summary --stop-timeout 5s --json "$JSON" "$@"
    fault_stop
    REQS=$(jq -r '.aggregated.requests' "$JSON" 2>/dev/null)
    FAILS=$(jq -r '.aggregated.failures' "$JSON" 2>/dev/null)
    RETRIES=$(jq -r '.retries' "$JSON" 2>/dev/null)
    SEEN=$(fs_count "requests seen")
    echo "# $name: rc=$HOP_RC hopper reqs=$REQS fails=$FAILS retries=$RETRIES;" \
         "server saw $SEEN on $(fs_count "connections accepted") connections"
    grep -E '^[0-9]+ +\| |^Retries:' "$OUT" | sed 's/^/#   /'
}

# PART is about half of WHOLE (within 3): every second request of a
# connection is dropped. check_half NAME PART WHOLE
check_half() {
    local half=$(( ${3:-0} / 2 ))
    if [ "${2:-0}" -ge $((half - 3)) ] && [ "${2:-0}" -le $((half + 3)) ]; then
        ok "$1 ($2 of $3)"
    else
        not_ok "$1 ($2 of $3)"
    fi
}

# The checks of a run that may not retry: each dropped request counted once
# and failed with the one error. no_retry_checks NAME METHOD (after drop_second)
no_retry_checks() {
    local n="$1" method="$2"
    check "$n: exit status 1 (requests failed)" [ "$HOP_RC" = 1 ]
    check "$n: requests were sent" [ "${REQS:-0}" -gt 6 ]
    check "$n: hopper's requests equal the requests the server read" [ "${REQS:-x}" = "$SEEN" ]
    check "$n: no retry counted" [ "${RETRIES:-x}" = 0 ]
    check "$n: no retry line in the summary" bash -c "! grep -q '^Retries:' '$OUT'"
    check_half "$n: the dropped requests failed" "$FAILS" "$REQS"
    check "$n: one error row, '$NO_ANSWER', with every failure" \
        [ "$(jq -r '[.failures[] | "\(.method) \(.name): \(.error) \(.occurrences)"] | join(";")' \
              "$JSON" 2>/dev/null)" = "$method /x: $NO_ANSWER $FAILS" ]
}

drop_second post POST
no_retry_checks "retries: POST" POST

# The checks of a run that retries: no failure, each dropped request sent
# again once and counted. retry_checks NAME (after drop_second)
retry_checks() {
    local n="$1"
    check "$n: exit status 0" [ "$HOP_RC" = 0 ]
    check "$n: requests were sent" [ "${REQS:-0}" -gt 6 ]
    check "$n: no request failed" [ "${FAILS:-x}" = 0 ]
    check_half "$n: each dropped request went again once" "${RETRIES:-0}" "$(( ${REQS:-0} + ${RETRIES:-0} ))"
    check "$n: requests + retries equal the requests the server read" \
        [ "$(( ${REQS:-0} + ${RETRIES:-0} ))" = "${SEEN:-x}" ]
    check "$n: the summary counts the retries" \
        grep -q "^Retries: $RETRIES requests went out again .* (the server may have seen $SEEN)$" "$OUT"
}

drop_second get GET
retry_checks "retries: GET"

# The workers' reports carry the count (engine/wire.c).
drop_second get-workers GET --workers 2
retry_checks "retries: GET --workers 2"

drop_second get-no-retry GET --no-retry
no_retry_checks "retries: GET --no-retry" GET
