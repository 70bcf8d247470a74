# The dashboard, driven through tmux like a person at an SSH terminal: it
# shows the endpoints with growing counts, the charts and the status line;
# keys change the target users and the spawn rate and the engine follows;
# resizes redraw at any size; q restores the terminal and prints the summary.
. "$(dirname "$0")/lib.sh"

tmux_lib dashboard

# A session that lives as long as the test, so the tmux server does not exit
# (and race the next new-session) whenever the last test session is killed.
tm new-session -d -s keep "sleep 600"

target_start || exit 1
hf=$(hopperfile dash <<EOF
host = $TARGET_URL
users = 5
spawn-rate = 5
wait = constant 100ms
[task status]
request = GET /status
[task by-id]
request = GET /api/id/tt0068646
[task by-title]
request = GET /api/title/The godfather/1972
EOF
)
run_in_tmux() { # SESSION ENV... -- HOPPER-ARGS...
    local s="$1"; shift
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    # After hopper exits the pane shows its status and the terminal's modes,
    # so the test can check that the terminal was restored.
    tm new-session -d -s "$s" -x 120 -y 40 \
        "env ${envs[*]} $HOPPER -f $hf $* ; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo)' | tr '\n' ' '; echo; sleep 60"
}

run_in_tmux main LANG=C.UTF-8 TERM=tmux-256color -- -t 60s --stop-timeout 5s
check "dashboard: the status line appears" wait_for main "hopper  $TARGET_URL"
check "dashboard: the table shows every endpoint" \
    bash -c "screen() { tmux -L $TMUX_SOCK capture-pane -p -t main; }; s=\$(screen); echo \"\$s\" | grep -q '/status' && echo \"\$s\" | grep -q '/api/id/tt0068646' && echo \"\$s\" | grep -q 'Aggregated'"
agg1=$(screen main | awk '/Aggregated/ { print $2; exit }')
sleep 2
agg2=$(screen main | awk '/Aggregated/ { print $2; exit }')
echo "# Aggregated requests: $agg1 then $agg2"
check "dashboard: counts grow" [ "${agg2:-0}" != "${agg1:-0}" ]
check "dashboard: the requests/s chart is labelled" wait_for main "requests/s"
check "dashboard: the response time chart is labelled" wait_for main "response time p95"
check "dashboard: the users chart is labelled" wait_for_re main "^users 5 +target 5"
check "dashboard: Unicode blocks in a UTF-8 terminal" bash -c "tmux -L $TMUX_SOCK capture-pane -p -t main | grep -q '█'"
check "dashboard: colours by role" bash -c "tmux -L $TMUX_SOCK capture-pane -e -p -t main | grep -qE \$'\e\\[([0-9]+;)*3[0-8](;[0-9]+)*m'"

# Keys: W twice (+20 users) and + (spawn rate 5 -> 10).
tm send-keys -t main W
tm send-keys -t main W
tm send-keys -t main +
check "dashboard: W W raises the target to 25" wait_for main "/25 |" 3
check "dashboard: + raises the spawn rate to 10/s" wait_for main "rate 10/s" 3
check "dashboard: the engine follows: 25 users running" wait_for main "users 25/25" 10
tm send-keys -t main s
check "dashboard: s lowers the target by one" wait_for main "users 24/24" 5
tm send-keys -t main w w w
check "dashboard: keys that arrive together all count (w w w)" wait_for main "users 27/27" 5
tm send-keys -t main s s s
check "dashboard: s s s" wait_for main "users 24/24" 5
tm send-keys -t main u
tm send-keys -t main 3 0 Enter
check "dashboard: u types an exact target" wait_for main "users 30/30" 10
tm send-keys -t main p
check "dashboard: p pauses the ramp" wait_for main "(paused)" 3
tm send-keys -t main p
tm send-keys -t main '?'
check "dashboard: ? shows the help" wait_for main "hopper dashboard keys" 3
tm send-keys -t main x
check "dashboard: marks of operator actions on the charts' time axis" wait_for_re main "^ +0 └.*U" 3

# Resizes: a compact layout at 80x24, a notice at 30x8, and back.
tm resize-window -t main -x 80 -y 24
check "dashboard: 80x24 redraws the table" wait_for main "Aggregated" 3
check "dashboard: 80x24 drops the size column" bash -c "! tmux -L $TMUX_SOCK capture-pane -p -t main | grep -q ' Size '"
tm resize-window -t main -x 30 -y 8
check "dashboard: 30x8 shows a one-line notice" wait_for main "too small" 3
tm resize-window -t main -x 120 -y 40
check "dashboard: back at 120x40 the full table returns" wait_for main " Size " 3
check "dashboard: and it is still running" wait_for main "users 30/30" 3

tm send-keys -t main q
check "dashboard: q stops and exits 0" wait_for main "EXIT=0" 15
wait_for main "icanon" 5 >/dev/null    # the terminal's modes, printed after the exit
full=$(tm capture-pane -p -S -300 -t main)
check "dashboard: the summary is printed after the screen closes" \
    bash -c "echo \"\$1\" | grep -q '^=== hopper summary' && echo \"\$1\" | grep -q '^Response time percentiles'" _ "$full"
check "dashboard: the terminal is restored (icanon echo)" bash -c "echo \"\$1\" | grep -q 'icanon echo'" _ "$full" || echo "$full" | grep -v '^$' | tail -5 | sed 's/^/# | /'
tm kill-session -t main

# No colours with NO_COLOR, ASCII charts without UTF-8, and a vt100 works.
run_in_tmux plain LANG=C TERM=vt100 NO_COLOR=1 -- -t 60s
check "dashboard: runs on a vt100" wait_for plain "Aggregated"
wait_for plain "users 5/5" >/dev/null
sleep 2     # a few seconds of sparkline
check "dashboard: ASCII charts without UTF-8" bash -c "s=\$(tmux -L $TMUX_SOCK capture-pane -p -t plain); ! echo \"\$s\" | grep -q '█' && echo \"\$s\" | grep -q '#' && echo \"\$s\" | grep -qE '^ +0 \\+0s--'"
check "dashboard: NO_COLOR means no colours" bash -c "! tmux -L $TMUX_SOCK capture-pane -e -p -t plain | grep -qE \$'\e\\[([0-9]+;)*3[0-8](;[0-9]+)*m'"
tm send-keys -t plain C-c
check "dashboard: Ctrl-C stops too, with the summary" wait_for plain "EXIT=0" 15
tm kill-session -t plain

# The other terminal types people have.
for term in xterm-256color screen; do
    run_in_tmux "t-$term" LANG=C.UTF-8 TERM=$term -- -t 60s
    check "dashboard: runs with TERM=$term" wait_for "t-$term" "Aggregated"
    tm send-keys -t "t-$term" q
    check "dashboard: TERM=$term exits 0 on q" wait_for "t-$term" "EXIT=0" 15
    tm kill-session -t "t-$term"
done

# Out of file descriptors (users added from the keyboard past ulimit -n): the
# failures are counted and named, hopper says why, and it keeps running.
tm new-session -d -s fds -x 120 -y 40 \
    "bash -c 'ulimit -n 128; LANG=C.UTF-8 $HOPPER -f $hf -r 1000 -t 60s --workers 1; echo EXIT=\$?; sleep 60'"
wait_for fds "users 5/5" >/dev/null
tm send-keys -t fds u
tm send-keys -t fds 3 0 0 Enter
check "fds: the shortage is said on the dashboard" wait_for fds "out of file descriptors" 10
check "fds: the failures are counted and named" wait_for fds "Too many open files" 5
tm send-keys -t fds q
check "fds: q still stops with the summary" wait_for fds "EXIT=1" 15
check "fds: the summary warns" bash -c "tmux -L $TMUX_SOCK capture-pane -p -S -200 -t fds | grep -q '^Warning: .* ran out of file descriptors'"
tm kill-session -t fds

# SIGHUP (the SSH session drops): hopper stops and exits by itself. The pane
# runs a shell that runs hopper; the shell dies of the SIGHUP whatever hopper
# does, so the process watched is the shell's child whose executable is
# $HOPPER, found before the terminal drops.
hopper_in_pane() { # SESSION -> pid of $HOPPER running in that pane
    local shell_pid c exe
    shell_pid=$(tm display-message -p -t "$1" '#{pane_pid}') || return 1
    exe=$(readlink -f "$HOPPER")
    for c in $(pgrep -P "$shell_pid"); do
        [ "$(readlink -f "/proc/$c/exe" 2>/dev/null)" = "$exe" ] && { echo "$c"; return 0; }
    done
    return 1
}
# Running: it exists and is not a zombie (its parent, the shell, is gone too).
running() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st#Z}" = "$st" ]; }
run_in_tmux hup LANG=C.UTF-8 -- -t 60s
wait_for hup "Aggregated" >/dev/null
pid=$(hopper_in_pane hup)
check "dashboard: hopper is found running in the pane before the terminal drops" running "${pid:-none}"
tm kill-session -t hup
hup_ended=no
if [ -n "$pid" ]; then
    for i in $(seq 1 50); do running "$pid" || { hup_ended=yes; break; }; sleep 0.1; done
fi
if [ "$hup_ended" = no ] && [ -n "$pid" ]; then
    echo "# hopper (pid $pid) still runs 5 s after the terminal dropped:"
    ps -o pid,ppid,stat,args -p "$pid" | sed 's/^/#   /'
    kill -9 "$pid" 2>/dev/null
fi
check "dashboard: a dropped terminal (SIGHUP) ends hopper" [ "$hup_ended" = yes ]

# SIGHUP sent to hopper itself, the terminal still there: the same stop, with
# the summary on the screen and exit status 0.
run_in_tmux hup2 LANG=C.UTF-8 -- -t 60s
wait_for hup2 "Aggregated" >/dev/null
pid=$(hopper_in_pane hup2)
check "dashboard: hopper is found running in the second pane" running "${pid:-none}"
[ -n "$pid" ] && kill -HUP "$pid"
check "dashboard: SIGHUP to hopper exits 0" wait_for hup2 "EXIT=0" 15
check "dashboard: SIGHUP prints the summary" \
    bash -c "tmux -L $TMUX_SOCK capture-pane -p -S -300 -t hup2 | grep -q '^=== hopper summary'"
running "${pid:-none}" && kill -9 "$pid"
tm kill-session -t hup2
target_stop
