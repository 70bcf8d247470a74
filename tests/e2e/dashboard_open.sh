# The dashboard in the open model, driven through tmux like dashboard.sh: the
# status line shows the arrival rate (achieved/target), the dropped arrivals
# and the pool; + steps the rate to the next 1-2-5 step, the engine follows,
# and an 'A' marks it on the charts' time axis; r takes a typed rate and refuses
# garbage; the user keys say where the users come from. With stages, the
# stage and the time left in it, a '|' at each stage change, and "manual"
# once a key has taken over. q prints the summary.
. "$(dirname "$0")/lib.sh"

tmux_lib dashboard_open
# The achieved arrival rate on the status line ("arrivals 48.7/50/s" -> 48.7;
# "1.2k" -> 1200), or nothing.
achieved() { # SESSION
    screen "$1" | head -n 1 | sed -n 's/.*arrivals \([0-9.]*k\{0,1\}\)\/.*/\1/p' |
        awk '/k$/ { sub(/k$/, ""); print $0 * 1000; next } { print }'
}

tm new-session -d -s keep "sleep 600"

target_start || exit 1
hf=$(hopperfile open <<EOF
host = $TARGET_URL
[task status]
request = GET /status
[task by-id]
request = GET /api/id/tt0068646
EOF
)
run_in_tmux() { # SESSION HOPPER-ARGS...
    local s="$1"; shift
    tm new-session -d -s "$s" -x 120 -y 40 \
        "env LANG=C.UTF-8 TERM=tmux-256color $HOPPER -f $hf $* ; echo EXIT=\$?; sleep 60"
}

# ---- a steady rate, then keys --------------------------------------------------
run_in_tmux rate --arrival-rate 50/s --max-users 20 -t 60s
check "dashboard_open: the status line shows the target arrival rate" wait_for rate "/50/s |"
check "dashboard_open: and the dropped arrivals" wait_for rate "| dropped 0 |" 3
check "dashboard_open: and the pool (busy/users, max-users)" wait_for_re rate "\| pool [0-9]+ busy/[0-9]+ \(max 20\)" 3
check "dashboard_open: no closed-model users field" bash -c "! tmux -L $TMUX_SOCK capture-pane -p -t rate | head -n 1 | grep -qE 'users [0-9]+/[0-9]+ \\|'"
check "dashboard_open: corrected and raw latencies side by side" wait_for rate "raw p99" 3
check "dashboard_open: the arrivals chart" wait_for rate "arrivals/s" 3
check "dashboard_open: with the dropped arrivals" wait_for rate "dropped/s" 3
check "dashboard_open: the response time chart has corrected and raw p95" wait_for rate "response time p95 corrected" 3
check "dashboard_open: the key bar names the open model's keys" wait_for rate "+/- arrival rate" 3
# The achieved rate settles near the target (over the last 10 s).
for i in $(seq 1 60); do a=$(achieved rate); [ -n "$a" ] && fcmp "$a" '>=' 40 && break; sleep 0.1; done
echo "# achieved before +: ${a:-none}/s"
check "dashboard_open: the achieved rate reaches the target's neighbourhood" fcmp "${a:-0}" '>=' 40

tm send-keys -t rate +
check "dashboard_open: + steps 50/s to the next 1-2-5 step, 100/s" wait_for rate "/100/s |" 3
check "dashboard_open: + says so on the key bar" wait_for rate "arrival rate -> 100/s" 3
check "dashboard_open: an 'A' marks the change on the charts' time axis" \
    bash -c "for i in \$(seq 1 30); do tmux -L $TMUX_SOCK capture-pane -p -t rate | grep -qE '^ +0 └.*A' && exit 0; sleep 0.1; done; exit 1"
# The engine follows: the achieved rate climbs past the old target.
for i in $(seq 1 120); do a=$(achieved rate); [ -n "$a" ] && fcmp "$a" '>' 60 && break; sleep 0.1; done
echo "# achieved after +: ${a:-none}/s"
check "dashboard_open: the engine follows + (achieved above 60/s)" fcmp "${a:-0}" '>' 60

tm send-keys -t rate -- -
check "dashboard_open: - steps back to 50/s" wait_for rate "/50/s |" 3
tm send-keys -t rate r
check "dashboard_open: r prompts for a rate" wait_for rate "Arrival rate, e.g. 300 or 300/s" 3
tm send-keys -t rate 3 0 / s Enter
check "dashboard_open: r 30/s sets the target" wait_for rate "/30/s |" 3
tm send-keys -t rate r
tm send-keys -t rate 7 x Enter
check "dashboard_open: r refuses garbage with a word" wait_for rate "'7x' is not a rate" 3
check "dashboard_open: and changes nothing" wait_for rate "/30/s |" 3
# From a rate between steps, the next step each way: 30 -> 50, 50 -> 20.
tm send-keys -t rate +
check "dashboard_open: + from 30/s goes to the next step up, 50/s" wait_for rate "/50/s |" 3
tm send-keys -t rate -- -
check "dashboard_open: - from 50/s goes to 20/s" wait_for rate "/20/s |" 3
tm send-keys -t rate w
check "dashboard_open: w says the users come from the pool" wait_for rate "open model: users come from the pool (max-users 20)" 3
check "dashboard_open: w changes nothing" wait_for rate "/20/s |" 3
tm send-keys -t rate '?'
check "dashboard_open: ? shows the open model's help" wait_for rate "hopper dashboard keys (open model: arrivals)" 3
tm send-keys -t rate x

# At 80x24 whole fields and columns go, the corrected and raw p99 stay.
tm resize-window -t rate -x 80 -y 24
check "dashboard_open: 80x24 keeps the arrivals on the status line" wait_for_re rate "^ *(hopper \| )?(running \| )?arrivals [0-9.k]+/20/s" 3
check "dashboard_open: 80x24 keeps p99 and raw p99" wait_for_re rate "p99 raw p99" 3
check "dashboard_open: 80x24 drops raw p95" bash -c "! tmux -L $TMUX_SOCK capture-pane -p -t rate | grep -q 'raw p95'"
tm resize-window -t rate -x 120 -y 40
check "dashboard_open: back at 120x40, raw p95 returns" wait_for rate "raw p95" 3

tm send-keys -t rate q
check "dashboard_open: q stops and exits 0" wait_for rate "EXIT=0" 15
full=$(tm capture-pane -p -S -400 -t rate)
check "dashboard_open: the summary is printed after the screen closes" \
    bash -c "echo \"\$1\" | grep -q '^=== hopper summary'" _ "$full"
check "dashboard_open: the summary names the open model" \
    bash -c "echo \"\$1\" | grep -qi 'open model'" _ "$full" || echo "$full" | grep -v '^$' | tail -8 | sed 's/^/# | /'
tm kill-session -t rate

# ---- stages ---------------------------------------------------------------------
run_in_tmux stages --model open --stages 2s:0-20/s,20s:20/s --max-users 20
check "dashboard_open: the first stage and the time left in it" wait_for_re stages "stage 1/2 · ([0-9]+ms|[12]s) left" 5
check "dashboard_open: the second stage" wait_for_re stages "stage 2/2 · [0-9]+s left" 5
check "dashboard_open: a '|' marks the stage change" \
    bash -c "for i in \$(seq 1 30); do tmux -L $TMUX_SOCK capture-pane -p -t stages | grep -qE '^ +0 └.*\\|' && exit 0; sleep 0.1; done; exit 1"
check "dashboard_open: no manual marker before a key" \
    bash -c "l=\$(tmux -L $TMUX_SOCK capture-pane -p -t stages | head -n 1); echo \"\$l\" | grep -q 'stage 2/2' && ! echo \"\$l\" | grep -q ' manual'"
# A mark is one column a second: the key a second after the stage change,
# so that the two marks do not share a column.
sleep 1.5
tm send-keys -t stages +
check "dashboard_open: + during a stage: 20/s -> 50/s" wait_for stages "/50/s |" 3
check "dashboard_open: the status line says manual" wait_for stages "left manual" 3
check "dashboard_open: marks: the stage and the key" \
    bash -c "for i in \$(seq 1 30); do tmux -L $TMUX_SOCK capture-pane -p -t stages | grep -qE '^ +0 └.*\\|.*A' && exit 0; sleep 0.1; done; tmux -L $TMUX_SOCK capture-pane -p -t stages | grep '└' | sed 's/^/# | /'; exit 1"
tm send-keys -t stages q
check "dashboard_open: q during stages exits 0" wait_for stages "EXIT=0" 15
check "dashboard_open: with the summary" \
    bash -c "tmux -L $TMUX_SOCK capture-pane -p -S -400 -t stages | grep -q '^=== hopper summary'"
tm kill-session -t stages

target_stop
