# The dashboard's detail views through tmux: the status codes view (c) of a
# run against `hopper-target --fail-rate --fail-status 503` shows the 503s,
# and both its count once the load is stopped (u 0, counts settled) and
# hopper's final count of them (--json) equal the one the target keeps
# ("requests failed"); the distribution view (d) of a run against a fast and
# a slow (--delay 1s) target shows two humps with empty rows between; the
# log view (l) shows hopper's message with the time it was logged.
. "$(dirname "$0")/lib.sh"

tmux_lib panels
tm new-session -d -s keep "sleep 600"

# The fast target fails 30% with 503 (from two processes, whose counts of
# them it adds up at the end); the slow one answers every request after a
# second: a gap of over four octaves from the fast one's slowest stragglers
# (50 ms on a busy machine), which no row can bridge.
target_start --fail-rate 0.3 --fail-status 503 --workers 2 || exit 1
SLOW_OUT="$T/slow.out"
"$HOPPER_TARGET" --port 0 "${TARGET_TLS_ARGS[@]}" --delay 1s >"$SLOW_OUT" 2>"$T/slow.err" &
SLOW_PID=$!
trap 'kill -9 "$SLOW_PID" 2>/dev/null; cleanup_tmux' EXIT
for _ in $(seq 1 100); do
    SLOW_PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$SLOW_OUT" | head -n 1)
    [ -n "$SLOW_PORT" ] && break
    sleep 0.05
done
[ -n "$SLOW_PORT" ] || { not_ok "panels: the slow target starts" "$(cat "$T/slow.err")"; exit 1; }

hf=$(hopperfile panels <<EOF
host = $TARGET_URL
users = 20
spawn-rate = 20
wait = constant 20ms
[task fast]
request = GET /status
[task slow]
request = GET http${HOPPER_TLS:+s}://127.0.0.1:$SLOW_PORT/api/id/tt0068646
name = slow
EOF
)

# 90x50: the two histograms of the distribution view one above the other.
# --var unused makes hopper log a warning at the start, for the log view.
started=$(date +%H:%M:%S)
# shellcheck disable=SC2086 # HOPPER_TLS_ARGS is words
tm new-session -d -s main -x 90 -y 50 \
    "env LANG=C.UTF-8 TERM=tmux-256color $HOPPER ${HOPPER_CLIENT:+--http-client $HOPPER_CLIENT} $HOPPER_TLS_ARGS -f $hf -t 60s --stop-timeout 5s --json $T/out.json --var unused=1; echo EXIT=\$?; sleep 60"
check "panels: the dashboard is up" wait_for main "Aggregated"

# The status codes of the Aggregated row (selected at the start).
tm send-keys -t main c
check "panels: c shows the 503s" wait_for_re main "^503 Service Unavailable +[1-9][0-9]* +[0-9.]+%" 15
check "panels: c shows the 200s" wait_for_re main "^200 OK +[1-9][0-9]* +[0-9.]+%" 5
check "panels: c shows the error kind with its count" wait_for_re main "^ *[1-9][0-9]*  HTTP 503" 5
codes503() { screen main | awk '/^503 Service Unavailable/ { print $4; exit }'; }
echo "# 503s on the screen so far: $(codes503)"

# The distribution: once the run histogram has enough of both modes.
tm send-keys -t main d
check "panels: d shows the run's histogram" wait_for_re main "^run: [0-9]+ requests" 5
# The run's histogram as "LABEL SHARE" per row ("-" for a row without a
# bar), from the row under its title to the key bar.
dist_rows() {
    screen main | awk '
        /^run: [0-9]+ requests/ { on = 1; next }
        on && NF == 0 { exit }
        on { bar = ($0 ~ /(█|▏|▎|▍|▌|▋|▊|▉)/); share = "-"
             if (bar) for (i = NF; i > 0; i--) if ($i ~ /%$/) { share = $i; sub(/%$/, "", share); break }
             print $1, share }'
}
# Two modes as two humps: rows of 5% or more only at the fast end (below
# 50 ms) and where 1 s falls, and between them at least one row without a
# bar ("-"). Stragglers of either endpoint may show as thin bars in
# between, but not in every row.
humps() {
    dist_rows | awk '
        function us(v) {        # "850µs", "12ms", "1.23s" -> microseconds
            if (v ~ /µs$|us$/) { sub(/(µs|us)$/, "", v); return v + 0 }
            if (v ~ /ms$/) { sub(/ms$/, "", v); return v * 1000 }
            sub(/s$/, "", v); return v * 1000000
        }
        { n = split($1, edge, "–"); lo = us(edge[1]); hi = n > 1 ? us(edge[2]) : lo
          big = $2 != "-" && $2 + 0 >= 5
          if (big && hi <= 50000) { fast = 1; if (slow) bad = 1; gap = 0 }
          else if (big && lo <= 1000000 && hi > 1000000) { if (fast && gap) slow = 1; else bad = 1 }
          else if (big) bad = 1
          else if (fast && !slow && $2 == "-") gap = 1 }
        END { exit !(fast && slow && !bad) }'
}
ok2=no
for _ in $(seq 1 100); do humps && { ok2=yes; break; }; sleep 0.1; done
check "panels: d shows a fast and a slow hump with empty rows between" [ "$ok2" = yes ]
[ "$ok2" = yes ] || dist_rows | sed 's/^/# | /'
check "panels: the run's p50 is tagged in the distribution" wait_for_re main "%  *p50" 5

# The log: hopper's warning about --var, with the time it was logged.
tm send-keys -t main l
check "panels: l shows hopper's message with its time" \
    wait_for_re main "^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]  .*--var unused: no template uses" 5
logged=$(screen main | awk '/--var unused: no template uses/ { print $1; exit }')
now=$(date +%H:%M:%S)
echo "# started $started, logged ${logged:-none}, now $now"
# Local times of one day: the one logged lies between the start and now
# (unless midnight came in between, which the string order cannot tell).
logged_in_run() {
    [[ "$logged" =~ ^[0-9]{2}:[0-9]{2}:[0-9]{2}$ ]] || return 1
    [[ "$now" < "$started" ]] && return 0
    ! [[ "$logged" < "$started" ]] && ! [[ "$now" < "$logged" ]]
}
check "panels: the message's time is when it was logged" logged_in_run

# The main screen's table has every endpoint; the views above only the
# selected row (Aggregated).
tm send-keys -t main Escape
check "panels: Esc returns to the main screen" wait_for main "/status" 5
check "panels: and the log view is gone" bash -c '! tmux -L "$0" capture-pane -p -t main | grep -q "no template uses"' "$TMUX_SOCK"

# The load stops (0 users): once the counts stop changing, the codes view's
# 503 count is the run's, to compare exactly with the target's at the end.
tm send-keys -t main u
tm send-keys -t main 0 Enter
check "panels: u 0: no users" wait_for main "users 0/0" 15
tm send-keys -t main c
check "panels: c again" wait_for_re main "^503 Service Unavailable +[1-9]" 5
seen503=""
a=$(codes503)
for _ in $(seq 1 30); do
    sleep 1
    b=$(codes503)
    [ -n "$b" ] && [ "$a" = "$b" ] && { seen503=$b; break; }
    a=$b
done
echo "# 503s on the screen once idle: ${seen503:-not settled}"
tm send-keys -t main q
check "panels: q stops the run (exit 1: requests failed)" wait_for main "EXIT=1" 20
target_stop
kill -TERM "$SLOW_PID" 2>/dev/null
wait "$SLOW_PID" 2>/dev/null

failed=$(sed -n 's/^requests failed: \([0-9]*\)$/\1/p' "$TARGET_OUT")
json503=$(jq -r '[.. | objects | select(.name == "Aggregated" and has("status_codes"))][0].status_codes["503"] // 0' "$T/out.json" 2>/dev/null)
json200=$(jq -r '[.. | objects | select(.name == "Aggregated" and has("status_codes"))][0].status_codes["200"] // 0' "$T/out.json" 2>/dev/null)
reqs=$(jq -r '[.. | objects | select(.name == "Aggregated" and has("status_codes"))][0].requests // 0' "$T/out.json" 2>/dev/null)
slow_answered=$(sed -n 's/^requests answered: \([0-9]*\)$/\1/p' "$SLOW_OUT")
echo "# target: ${failed:-?} failed of $(target_total) + ${slow_answered:-?} answered; hopper: 503 ${json503:-?}, 200 ${json200:-?} of ${reqs:-?}"
check "panels: hopper's 503s equal the target's count of them" \
    test -n "$failed" -a "${json503:-x}" = "$failed"
check "panels: every request has its code (200 + 503 = requests = the targets' answers)" \
    test "$((json200 + json503))" = "$reqs" -a "$reqs" = "$(($(target_total) + ${slow_answered:-0}))"
check "panels: the codes view's 503 count once idle is the target's (${failed:-?})" \
    test -n "$failed" -a "${seen503:-x}" = "$failed"
tm kill-session -t main
