# --workers N: the users run in N worker processes; the engine merges their
# statistics exactly, so the counts still equal the server's; users reach
# their targets; every way out still stops the workers and writes the files.
. "$(dirname "$0")/lib.sh"

target_start || exit 1
hf=$(hopperfile workers <<EOF
host = $TARGET_URL
users = 40
spawn-rate = 400
wait = constant 0
[task status]
request = GET /status
[task by-title]
weight = 2
request = GET /api/title/The godfather/1972
EOF
)
hop "$T/w2.out" -f "$hf" -t 3s --workers 2 --no-tui --print-interval 1s --stop-timeout 5s --json "$T/w2.json"
target_stop
check "workers: exit 0" [ "$HOP_RC" = 0 ]
total=$(summary_reqs "$T/w2.out" Aggregated)
echo "# hopper: $total; server: $(target_total)"
check "workers: the merged count equals the server's" [ "$total" = "$(target_total)" ]
check "workers: per endpoint too" [ "$(summary_reqs "$T/w2.out" "/api/title/The godfather/1972")" = "$(target_count 'GET /api/title/The godfather/1972')" ]
check "workers: one connection per user across the workers" grep -q '^connections accepted: 40$' "$TARGET_OUT"
check "workers: the users reached their target" grep -q 'users 40/40' "$T/w2.out"
check "workers: the JSON agrees" [ "$(jq .aggregated.requests "$T/w2.json")" = "$total" ]
check "workers: percentiles merged" jqe '.aggregated.percentiles_ms["99"] > 0' "$T/w2.json"
check "workers: the table shows the generator's health" grep -q 'worker 1' "$T/w2.out"
# hopper's processes, the main one and its workers (forked, so they carry its
# executable and its arguments), found by what they are rather than by the
# order of the arguments (hop puts --http-client first in the libcurl pass):
# the executable is $HOPPER and one argument is this script's hopperfile.
# Zombies have no executable and do not count: they are not running.
hopper_procs() {
    local p exe
    exe=$(readlink -f "$HOPPER")
    for p in $(pgrep -f -- "$hf"); do
        [ "$(readlink -f "/proc/$p/exe" 2>/dev/null)" = "$exe" ] || continue
        tr '\0' '\n' <"/proc/$p/cmdline" 2>/dev/null | grep -qxF -- "$hf" && echo "$p"
    done
}
none_left() {
    local left
    left=$(hopper_procs | paste -sd, -)
    [ -z "$left" ] || { echo "# still running:"; ps -o pid,ppid,stat,args -p "$left" | sed 's/^/#   /'; return 1; }
}
check "workers: no worker is left running" none_left

# A ramp across workers: 1 user every 0.5 s is still one at a time.
target_start || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#; s#^wait = .*#wait = constant 10m#; s#^spawn-rate = .*#spawn-rate = 2#" "$hf"
hop "$T/ramp.out" -f "$hf" -t 2250ms --workers 3 --only-summary --stop-timeout 5s
target_stop
check "workers: the ramp stays even across workers (5 users in 2.25 s)" [ "$(target_total)" = 5 ]

# SIGTERM in the middle: the workers stop, the counts still match.
target_start --delay 50ms || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#; s#^wait = .*#wait = constant 0#; s#^spawn-rate = .*#spawn-rate = 400#" "$hf"
hop_bg "$T/term.out" -f "$hf" --workers 2 --no-tui --stop-timeout 5s
sleep 1.5
# The search none_left relies on finds them while they run: hopper and its
# two workers (so "none left" cannot pass by finding nothing ever).
running=$(hopper_procs | wc -l)
echo "# hopper processes found while running: $running"
check "workers: hopper and its 2 workers are found while running" [ "$running" = 3 ]
kill -TERM "$HOP_PID"
hop_wait
target_stop
check "workers: SIGTERM exits 0" [ "$HOP_RC" = 0 ]
check "workers: SIGTERM counts equal the server's" [ "$(summary_reqs "$T/term.out" Aggregated)" = "$(target_total)" ]
check "workers: SIGTERM leaves no worker running" none_left

# A worker that dies is reported; the run goes on and ends normally.
target_start || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop_bg "$T/kill.out" -f "$hf" --workers 2 --no-tui -t 3s --stop-timeout 5s
sleep 1
victim=$(pgrep -P "$HOP_PID" | head -n 1)
[ -n "$victim" ] && kill -9 "$victim"
hop_wait
target_stop
check "workers: a killed worker is reported" grep -q 'worker .* went away' "$T/kill.out"
check "workers: the run still ends with a summary" grep -q '^=== hopper summary' "$T/kill.out"
check "workers: after a worker died, none is left running" none_left
