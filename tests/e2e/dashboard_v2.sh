# The dashboard's charts, rows and views, driven through tmux: the charts
# take the rows the table leaves (their plot rows counted at 160x50, 120x40,
# 80x24; one-line sparklines at the compact sizes, nothing below), the
# requests/s scale covers the table's req/s, Up/Enter/Esc drill into an
# endpoint whose numbers are the table's and, once the load is stopped,
# hopper-target's own count (its exact "requests  N"), whole at 80x24 and
# 60x20 too; a resize after Escape repaints the whole screen;
# the status line keeps whole fields at 80 columns; t zooms; d c l open the
# panels; other terminals (xterm, screen, linux and vt100 without UTF-8: the
# ASCII ramp) and NO_COLOR.
. "$(dirname "$0")/lib.sh"

tmux_lib dashboard_v2
tm new-session -d -s keep "sleep 600"

target_start || exit 1
hf=$(hopperfile dash2 <<EOF
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
run_in_tmux() { # SESSION COLS ROWS ENV... -- HOPPER-ARGS...
    local s="$1" x="$2" y="$3"; shift 3
    local envs=()
    while [ "$1" != -- ]; do envs+=("$1"); shift; done
    shift
    tm new-session -d -s "$s" -x "$x" -y "$y" \
        "env ${envs[*]} $HOPPER -f $hf $* ; echo EXIT=\$?; sleep 60"
}
# Plot rows of the charts on the screen: a scale's label (or none), a space,
# then the y axis (│ or ┤; | or + in ASCII).
plot_rows() { screen "$1" | grep -cE '^ *[^ ]*( users?)? (│|┤)'; }
axis_lines() { screen "$1" | grep -cE '^ +0 (└|\+)'; }
# Waits (up to 5 s) until the plot rows are stable over two captures after a
# resize, then prints them.
settled_rows() {
    local a b i
    a=$(plot_rows "$1")
    for i in $(seq 1 25); do
        sleep 0.2
        b=$(plot_rows "$1")
        [ "$a" = "$b" ] && [ "$(screen "$1" | tail -n 1 | cut -c1-6)" = "q stop" ] && break
        a=$b
    done
    echo "$b"
}
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }
# Polls a command until it succeeds (up to SECONDS), never a fixed sleep.
until_ok() { # SECONDS CMD...
    local n=$(( $1 * 10 )); shift
    for _ in $(seq 1 $n); do "$@" && return 0; sleep 0.1; done
    "$@"
}
# The same value from CMD twice, a second apart (up to 30 s): counts that
# stopped changing.
settled_value() { # CMD...
    local a b
    a=$("$@")
    for _ in $(seq 1 30); do
        sleep 1
        b=$("$@")
        [ -n "$b" ] && [ "$a" = "$b" ] && { echo "$b"; return 0; }
        a=$b
    done
    return 1
}
# A value of a scale label ("2.0k/s" -> 2000, "50/s" -> 50).
label_value() { sed -e 's#/s$##' | awk '/k$/ { sub(/k$/, ""); print $0 * 1000; next } /M$/ { sub(/M$/, ""); print $0 * 1000000; next } { print $0 + 0 }'; }

run_in_tmux main 120 40 LANG=C.UTF-8 TERM=tmux-256color -- -t 120s --stop-timeout 5s
check "dashboard_v2: the dashboard is up" wait_for main "Aggregated"
check "dashboard_v2: 5 users running" wait_for main "users 5/5" 10
check "dashboard_v2: requests counted" wait_for_re main "Aggregated +[1-9]" 10

# ---- the charts take the rows the table leaves ------------------------------------
r120=$(settled_rows main)
echo "# plot rows at 120x40: $r120 (3 charts)"
check "dashboard_v2: 120x40: three charts, each with a time axis" [ "$(axis_lines main)" = 3 ]
# 40 rows: status, header, 3 endpoints, Aggregated, key bar: 33 rows for
# three charts of a title, plot rows and an axis each.
check "dashboard_v2: 120x40: every row used (27 plot rows)" [ "$r120" = 27 ]
check "dashboard_v2: 120x40: the charts start right under the table" \
    bash -c "tmux -L $TMUX_SOCK capture-pane -p -t main | grep -A1 'Aggregated' | tail -n 1 | grep -q '^requests/s'"
check "dashboard_v2: 120x40: the last chart's axis is right above the key bar" \
    bash -c "tmux -L $TMUX_SOCK capture-pane -p -t main | tail -n 2 | head -n 1 | grep -qE '^ +0 └'"

# The requests/s scale against the table: its top is at least the
# Aggregated row's req/s (the last 10 s), and not far above it.
top=$(screen main | grep -A1 '^requests/s' | tail -n 1 | awk '{ print $1 }' | label_value)
rps=$(screen main | awk '/Aggregated/ { print $(NF - 1); exit }' | label_value)
echo "# requests/s scale top: $top; Aggregated req/s: $rps"
check "dashboard_v2: the requests/s scale covers the table's req/s" fcmp "${top:-0}" '>=' "${rps:-1}"
check "dashboard_v2: and is not far above it" fcmp "${top:-0}" '<=' "$(awk -v r="${rps:-0}" 'BEGIN { print (r < 5 ? 20 : r * 3) }')"
check "dashboard_v2: the response time scale has units" wait_for_re main "^ +[0-9.]+(µs|ms|s) ┤" 3
check "dashboard_v2: the users scale has units" wait_for_re main "^ *[0-9]+ users? ┤" 3
check "dashboard_v2: the time axis is in elapsed time" wait_for_re main "^ +0 └0s─+10s─" 3

tm resize-window -t main -x 160 -y 50
r160=$(settled_rows main)
tm resize-window -t main -x 80 -y 24
r80=$(settled_rows main)
echo "# plot rows: 160x50 $r160, 120x40 $r120, 80x24 $r80"
check "dashboard_v2: taller at 160x50 (37 plot rows)" [ "$r160" = 37 ]
check "dashboard_v2: shorter at 80x24 (11 plot rows), still three charts" \
    bash -c "[ '$r80' = 11 ] && [ \$(tmux -L $TMUX_SOCK capture-pane -p -t main | grep -cE '^ +0 └') = 3 ]"
tm resize-window -t main -x 80 -y 20
check "dashboard_v2: 80x20: one-line sparklines, no chart" until_ok 10 \
    bash -c "s=\$(tmux -L $TMUX_SOCK capture-pane -p -t main); echo \"\$s\" | grep -qE '^req/s [0-9.k]+ ' && ! echo \"\$s\" | grep -q '└'"
tm resize-window -t main -x 80 -y 10
check "dashboard_v2: 80x10: the table without charts" until_ok 10 \
    bash -c "s=\$(tmux -L $TMUX_SOCK capture-pane -p -t main); echo \"\$s\" | grep -q 'Aggregated' && ! echo \"\$s\" | grep -qE '^req/s|└'"

# ---- resize repaints everything (after Escape) ------------------------------------
tm resize-window -t main -x 120 -y 40
settled_rows main >/dev/null
tm send-keys -t main Escape
check "dashboard_v2: Escape on the main screen changes nothing" wait_for main "Aggregated" 3
tm resize-window -t main -x 80 -y 24
whole_screen() { # FILE: the 80x24 main screen, with nothing left over from 120x40
    sed -n 1p "$1" | grep -q '^ hopper | ' &&
    sed -n 2p "$1" | grep -q '^Type   Name ' &&
    sed -n 3,5p "$1" | grep -c '^GET    /' | grep -qx 3 &&
    sed -n 6p "$1" | grep -q '^       Aggregated ' &&
    sed -n 7p "$1" | grep -q '^requests/s ' &&
    grep -q '^response time p95 ' "$1" && grep -q '^users 5 ' "$1" &&
    [ "$(grep -cE '^ +0 └' "$1")" = 3 ] &&
    sed -n 24p "$1" | grep -q '^q stop ' &&
    ! grep -q 'Failures' "$1" && [ "$(wc -l <"$1")" -le 24 ]
}
resized() { screen main > "$T/after_resize"; whole_screen "$T/after_resize"; }
check "dashboard_v2: a resize after Escape repaints the whole screen" until_ok 10 resized ||
    sed 's/^/# | /' "$T/after_resize"

# ---- the status line at 80 columns: whole fields --------------------------------
status_whole() { # LINE: every field of the status line is one we know, whole
    local line="$1" left right f
    left=$(printf '%s' "$line" | sed -E 's/ {2,}(cpu [0-9]+%|[0-9]+ workers, cpu [0-9]+%) *$//')
    right=${line#"$left"}
    printf '%s\n' "$right" | grep -qE '^( {2,}(cpu [0-9]+%|[0-9]+ workers, cpu [0-9]+%) *)?$' || return 1
    printf '%s\n' "$left" | sed 's/ | /\n/g' | while IFS= read -r f; do
        f="${f# }"
        printf '%s\n' "$f" | grep -qxE "hopper( +http://127\.0\.0\.1:[0-9]+)?|http://127\.0\.0\.1:[0-9]+|running|users [0-9]+/[0-9]+|rate [0-9.]+/s|[0-9]{2}:[0-9]{2}, [0-9]{2}:[0-9]{2} left|[0-9.k]+ reqs|[0-9.k]+ req/s|[0-9]+\.[0-9]{2}% fail *" || { echo "# cut field: '$f'"; exit 1; }
    done
}
st=$(screen main | head -n 1)
echo "# status line at 80: |$st|"
check "dashboard_v2: the status line at 80 columns is made of whole fields" status_whole "$st"
check "dashboard_v2: with the clock whole" bash -c "echo '$st' | grep -qE ' [0-9]{2}:[0-9]{2}, [0-9]{2}:[0-9]{2} left( |\$)'"
tm resize-window -t main -x 120 -y 40
settled_rows main >/dev/null

# ---- zoom ------------------------------------------------------------------------
tm send-keys -t main t
check "dashboard_v2: t zooms to the last 10 minutes" wait_for main "last 10m (t)" 3
tm send-keys -t main t
check "dashboard_v2: t again: the last minute" wait_for main "last 1m (t)" 3
tm send-keys -t main t
check "dashboard_v2: and back to the whole run" wait_for main "whole run (t)" 3

# ---- rows and the endpoint view --------------------------------------------------
# Up selects the row above Aggregated (/status, the last by name),
# highlighted in reverse video.
tm send-keys -t main Up
check "dashboard_v2: Up highlights the /status row" until_ok 5 \
    bash -c "tmux -L $TMUX_SOCK capture-pane -e -p -t main | grep 'GET    /status' | grep -qE \$'\e\\\\[([0-9]+;)*7(;[0-9]+)*m'"
# The load stops (0 users), so every count holds still and can be compared
# with hopper-target's at the end.
tm send-keys -t main u
tm send-keys -t main 0 Enter
check "dashboard_v2: u 0: no users" wait_for main "users 0/0" 10
status_row() { screen main | grep -m1 'GET    /status'; }
row=$(settled_value status_row)
table_reqs=$(echo "$row" | awk '{ print $3 }')
echo "# the table's /status row (settled): $row"
tm send-keys -t main Enter
check "dashboard_v2: Enter opens the endpoint view" wait_for_re main "^requests  [0-9]+ " 5
# The view's exact count ("requests  1234"), not the table's "1.2k".
view_count() { screen main | awk '/^requests  [0-9]+ / { print $2; exit }'; }
view_reqs=$(settled_value view_count)
view=$(screen main)
echo "$view" > "$T/endpoint"
view_row=$(sed -n 3p "$T/endpoint")
echo "# the endpoint view's row: $view_row; its requests: $view_reqs"
check "dashboard_v2: the endpoint view is /status's" bash -c "echo '$view_row' | grep -q '^GET    /status '"
check "dashboard_v2: with the table's request count ($table_reqs)" same "$(echo "$view_row" | awk '{ print $3 }')" "$table_reqs"
check "dashboard_v2: its charts (requests/s, p99 p95 p50)" \
    bash -c "grep -q '^requests/s ' '$T/endpoint' && grep -qE '^p99 .* p95 .* p50 ' '$T/endpoint' && [ \$(grep -cE '^ +0 └' '$T/endpoint') = 2 ]"
check "dashboard_v2: its status codes (200, all of its requests)" bash -c "grep -qE ' 200( OK)? +$view_reqs ' '$T/endpoint'" ||
    sed 's/^/# | /' "$T/endpoint"
check "dashboard_v2: its percentiles" bash -c "grep -qE '99% +[0-9.]+(µs|ms|s)' '$T/endpoint'"
# The same view at 80x24 and at a compact size: the percentiles and the
# codes whole (no panel "too small", no heading cut), the same count; the
# distribution (a third of 80 columns) left to its own view (d). The view
# is opened after each resize, so that its key bar ("Esc back" on the last
# line) says the capture is of a draw at the new size.
drill_whole() { # COLS ROWS
    local f="$T/endpoint_$1x$2"
    screen main > "$f"
    [ "$(wc -l <"$f")" = "$2" ] && tail -n 1 "$f" | grep -q '^Esc back ' &&
        grep -qE "^requests  $view_reqs " "$f" && grep -qE ' status +count +share' "$f" &&
        grep -qE " 200( OK)? +$view_reqs " "$f" && grep -qE '^99% +[0-9.]+(µs|ms|s)' "$f" &&
        ! grep -q 'too s' "$f" && ! grep -q 'last 10 s' "$f"
}
for size in 80x24 60x20; do
    cols=${size%x*} rows=${size#*x}
    tm send-keys -t main Escape
    tm resize-window -t main -x "$cols" -y "$rows"
    wait_for_re main "^q stop " 10 >/dev/null
    tm send-keys -t main Enter
    if until_ok 10 drill_whole "$cols" "$rows"; then
        ok "dashboard_v2: the endpoint view at $size: percentiles and codes whole"
    else
        not_ok "dashboard_v2: the endpoint view at $size: percentiles and codes whole"
        sed 's/^/# | /' "$T/endpoint_$size"
    fi
done
tm send-keys -t main Escape
tm resize-window -t main -x 120 -y 40
check "dashboard_v2: back at 120x40" until_ok 10 bash -c "[ \$(tmux -L $TMUX_SOCK capture-pane -p -t main | wc -l) -ge 40 ]"
tm send-keys -t main Escape
check "dashboard_v2: Esc returns to the table" wait_for main "Aggregated" 3
check "dashboard_v2: Esc: the charts are back" wait_for_re main "^users 0 " 3
# Down: Aggregated, its view.
tm send-keys -t main Down Enter
check "dashboard_v2: Down Enter: the Aggregated row's view" wait_for_re main "^ +Aggregated " 3
agg_view=$(screen main | sed -n 3p | awk '{ print $2 }')
tm send-keys -t main Escape
check "dashboard_v2: Esc: the table again" wait_for main "GET    /status" 3
agg_table=$(screen main | awk '/Aggregated/ { print $2; exit }')
check "dashboard_v2: with the Aggregated count ($agg_table)" same "$agg_view" "$agg_table"

# ---- panels -------------------------------------------------------------------
tm send-keys -t main d
check "dashboard_v2: d: the distribution" wait_for_re main "(last 10 s|run): " 3
tm send-keys -t main c
check "dashboard_v2: c: the status codes" wait_for_re main "^ *status +count" 3
tm send-keys -t main l
check "dashboard_v2: l: the log view" wait_for main "Esc back" 3
tm send-keys -t main Escape
check "dashboard_v2: Esc from the panels" wait_for main "Aggregated" 3

# ---- q, and the counts against hopper-target's -------------------------------------
tm send-keys -t main q
check "dashboard_v2: q stops and exits 0" wait_for main "EXIT=0" 15
target_stop
want=$(target_count "GET /status")
echo "# hopper-target answered GET /status $want times; the endpoint view showed $view_reqs"
check "dashboard_v2: the endpoint view's count is hopper-target's" same "$view_reqs" "$want"
tm kill-session -t main

# ---- other terminals, no colour ------------------------------------------------
target_start || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
for v in "xterm-256color C.UTF-8" "screen C.UTF-8" "linux C" "vt100 C"; do
    set -- $v
    s="t-$1"
    run_in_tmux "$s" 80 24 LANG="$2" TERM="$1" NO_COLOR=1 -- -t 60s
    if ! wait_for "$s" "users 5/5" 10 >/dev/null; then
        not_ok "dashboard_v2: TERM=$1 runs"
        continue
    fi
    if [ "$2" = C ]; then
        check "dashboard_v2: TERM=$1 LANG=C: ASCII charts (#, + axis)" until_ok 10 \
            bash -c "s=\$(tmux -L $TMUX_SOCK capture-pane -p -t $s); echo \"\$s\" | grep -q '#' && echo \"\$s\" | grep -qE '^ +0 \\+0s-' && ! echo \"\$s\" | grep -q '█'"
    else
        check "dashboard_v2: TERM=$1: block charts" until_ok 10 \
            bash -c "s=\$(tmux -L $TMUX_SOCK capture-pane -p -t $s); echo \"\$s\" | grep -q '█' && echo \"\$s\" | grep -qE '^ +0 └0s'"
    fi
    check "dashboard_v2: TERM=$1 NO_COLOR: no colours" \
        bash -c "! tmux -L $TMUX_SOCK capture-pane -e -p -t $s | grep -qE \$'\e\\\\[([0-9]+;)*3[0-8](;[0-9]+)*m'"
    tm send-keys -t "$s" q
    check "dashboard_v2: TERM=$1 exits 0 on q" wait_for "$s" "EXIT=0" 15
    tm kill-session -t "$s"
done
target_stop
