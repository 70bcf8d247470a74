# HTTP status codes per row, exactly, in the JSON report (status_codes), with
# both HTTP clients, in one process and across worker processes (whose
# statistics reach the engine as deltas): against two targets, one answering
# 30% of its requests with 503 and one 10% with 500, each row's 503s (or
# 500s) equal the failures that target produced ("requests failed"), and its
# 200s plus those equal the target's count for the route.
. "$(dirname "$0")/lib.sh"

B_PID=""
trap '[ -n "$B_PID" ] && kill -9 "$B_PID" 2>/dev/null; cleanup_lib' EXIT

# The second target, apart from lib.sh's one: its report in $B_OUT.
b_start() {
    B_OUT="$T/b.out"
    : >"$B_OUT"
    "$HOPPER_TARGET" --port 0 "${TARGET_TLS_ARGS[@]}" "$@" >"$B_OUT" 2>"$T/b.err" &
    B_PID=$!
    local _
    B_PORT=""
    for _ in $(seq 1 100); do
        B_PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$B_OUT" | head -n 1)
        [ -n "$B_PORT" ] && break
        sleep 0.05
    done
    [ -n "$B_PORT" ] || { echo "# hopper-target B did not start: $(cat "$T/b.err")"; return 1; }
}
b_stop() {
    kill -TERM "$B_PID" 2>/dev/null
    wait "$B_PID" 2>/dev/null
    B_PID=""
}
# A target report's count for "METHOD PATH", and its "requests failed".
count_in() { # FILE "GET /status"
    awk -v want="$2" '
        /^ *[0-9]+  / { n = $1; sub(/^ *[0-9]+  /, ""); if ($0 == want) { print n; found = 1 } }
        END { if (!found) print 0 }' "$1"
}
failed_in() { sed -n 's/^requests failed: \([0-9]*\)$/\1/p' "$1" | grep . || echo 0; }
# A row's count for one status code in hopper's JSON report (0 if absent);
# NAME Aggregated is the aggregated row.
code_of() { # JSON NAME CODE
    jq -r --arg n "$2" --arg c "$3" \
        '[(.entries[], .aggregated) | select(.name == $n) | .status_codes[$c] // 0] | add // "missing"' "$1"
}
both() { [ "$1" = "$2" ] && [ "$3" = "$4" ]; }

# Target A answers 30% with 503, on both of its routes (rows a and b). With
# libcurl, which sends to any origin, row c goes to target B, which answers
# 10% with 500 (hopper's own client sends to one origin only).
for client in native curl; do
    for workers in 1 2; do
        run="$client, --workers $workers"
        target_start --fail-rate 0.3 --fail-status 503 || exit 1
        b_start --fail-rate 0.1 || exit 1
        task_c=""
        [ "$client" = curl ] && task_c="[task c]
request = GET http${HOPPER_TLS:+s}://127.0.0.1:$B_PORT/api/id/tt0068646
name = c"
        hf=$(hopperfile "codes-$client-$workers.hopper" <<EOF
host = $TARGET_URL
users = 8
spawn-rate = 100
wait = constant 2ms
[task a]
request = GET /status
name = a
[task b]
request = GET /api/title/Heat/1995
name = b
$task_c
EOF
)
        hop "$T/out-$client-$workers" -f "$hf" -t 2s --only-summary --stop-timeout 10s \
            --http-client "$client" --workers "$workers" --json "$T/$client-$workers.json"
        target_stop
        b_stop
        j="$T/$client-$workers.json"
        a_200=$(code_of "$j" a 200); a_503=$(code_of "$j" a 503)
        b_200=$(code_of "$j" b 200); b_503=$(code_of "$j" b 503)
        c_200=0; c_500=0
        [ "$client" = curl ] && { c_200=$(code_of "$j" c 200); c_500=$(code_of "$j" c 500); }
        t_200=$(code_of "$j" Aggregated 200); t_503=$(code_of "$j" Aggregated 503)
        t_500=$(code_of "$j" Aggregated 500)
        a_srv=$(count_in "$TARGET_OUT" "GET /status")
        b_srv=$(count_in "$TARGET_OUT" "GET /api/title/Heat/1995")
        a_fail=$(failed_in "$TARGET_OUT")
        c_srv=$(count_in "$B_OUT" "GET /api/id/tt0068646"); c_fail=$(failed_in "$B_OUT")
        echo "# $run: hopper a 200=$a_200 503=$a_503, b 200=$b_200 503=$b_503," \
            "c 200=$c_200 500=$c_500; target A: /status $a_srv, /api/title $b_srv," \
            "$a_fail failed; target B: $c_srv, $c_fail failed"
        check "codes ($run): the run ends with failures (exit 1)" [ "$HOP_RC" = 1 ]
        check "codes ($run): there was load, and 503s" [ "$a_srv" -gt 50 -a "$a_fail" -gt 0 ]
        check "codes ($run): the 503s of rows a and b equal target A's failures" \
            [ "$((a_503 + b_503))" = "$a_fail" ]
        check "codes ($run): row a's 200s + 503s equal target A's count for /status" \
            [ "$((a_200 + a_503))" = "$a_srv" ]
        check "codes ($run): row b's 200s + 503s equal target A's count for /api/title" \
            [ "$((b_200 + b_503))" = "$b_srv" ]
        if [ "$client" = curl ]; then
            check "codes ($run): row c's 500s equal target B's failures" \
                [ "$c_fail" -gt 0 -a "$c_500" = "$c_fail" ]
            check "codes ($run): row c's 200s + 500s equal target B's count" \
                [ "$((c_200 + c_500))" = "$c_srv" ]
            check "codes ($run): no other codes" \
                jqe '[.entries[].status_codes | keys[]] | unique == ["200", "500", "503"]' "$j"
        else
            check "codes ($run): no other codes" \
                jqe '[.entries[].status_codes | keys[]] | unique == ["200", "503"]' "$j"
        fi
        check "codes ($run): Aggregated adds the rows up" \
            both "$t_200" "$((a_200 + b_200 + c_200))" "$t_503$t_500" "$((a_503 + b_503))$c_500"
    done
done

# No response, no code: a refused connection counts as a failure without one.
hf=$(hopperfile refused.hopper <<EOF
host = http://127.0.0.1:$TARGET_PORT
users = 1
wait = constant 10ms
[task a]
request = GET /status
name = a
EOF
)
hop "$T/refused.out" -f "$hf" -t 1s --only-summary --json "$T/refused.json"
check "codes: a refused request has no status code" \
    jqe '(.entries[] | select(.name == "a") | .failures > 0 and .status_codes == {})' "$T/refused.json"
