# Correctness survives the scale: 20,000 users in 2 worker processes against
# a 2-worker hopper-target. Every user holds its own connection, the user
# count reaches its target, and hopper's request count equals the server's.
. "$(dirname "$0")/lib.sh"

target_start --workers 2 || exit 1
hf=$(hopperfile scale <<EOF
host = $TARGET_URL
users = 20000
spawn-rate = 5000
wait = between 1s 2s
[task status]
request = GET /status
[task by-id]
request = GET /api/id/tt0068646
EOF
)
hop "$T/scale.out" -f "$hf" -t 12s --workers 2 --no-tui --print-interval 3s --stop-timeout 10s
target_stop
total=$(summary_reqs "$T/scale.out" Aggregated)
echo "# hopper: $total requests; server: $(target_total); $(grep '^connections accepted' "$TARGET_OUT")"
check "scale: exit 0" [ "$HOP_RC" = 0 ]
check "scale: 20,000 users reached" grep -q 'peak 20000 users (target 20000)' "$T/scale.out"
check "scale: every user held its own connection" grep -q '^connections accepted: 20000$' "$TARGET_OUT"
check "scale: the count equals the server's" [ "$total" = "$(target_total)" ]
# A real load: every one of the 20,000 users got at least one request
# through. (How many more depends on how busy this shared machine is, so the
# test does not judge it: bench/run measures throughput.)
check "scale: and it is a real load (every user sent a request)" [ "${total:-0}" -ge 20000 ]
