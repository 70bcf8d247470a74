# Counts equal to the server's at every way of stopping, with no
# --stop-timeout given: the run time, q on the dashboard, Ctrl-C (SIGINT),
# SIGTERM and SIGHUP, SIGTERM to the whole process group, in one process and
# with --workers 2. The server answers
# each request after 200 ms, so requests are in flight at every stop; by
# default they finish (are drained) and are counted. The summary, the CSV, the
# JSON and the HTML report must each say exactly what hopper-target itself
# counted, and the summary and the JSON must say that requests were drained
# and none cancelled.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { not_ok "stop counts: jq is installed (make test-deps)"; exit 1; }
command -v tmux >/dev/null || { not_ok "stop counts: tmux is installed (make test-deps)"; exit 1; }
TMUX_SOCK="hopper-stopcounts-$$"
tm() { tmux -L "$TMUX_SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup_lib; }
trap cleanup_tmux EXIT
# Keeps the private tmux server alive between the dashboard runs.
tm new-session -d -s keep "sleep 600"

hf=$(hopperfile stop_counts <<EOF
host = http://127.0.0.1:1
users = 20
spawn-rate = 1000
wait = constant 0
[task status]
request = GET /status
[task by-id]
request = GET /api/id/tt0068646
EOF
)

# The HTML report's "Requests" figure at the top (its table is read with
# lib.sh's html_reqs).
html_figure_reqs() {
    sed -n 's/.*<span>Requests<\/span><b>\([0-9]*\)<\/b>.*/\1/p' "$1" | head -n 1
}

# Waits until hopper has printed a periodic table (load is flowing).
wait_for_load() { # OUT
    local i
    for i in $(seq 1 100); do
        grep -q 'last 10 s' "$1" 2>/dev/null && break
        sleep 0.05
    done
    sleep 0.4
}

# Runs hopper once and stops it the given way; leaves the summary in $T/$name.out
# and the reports at $T/$name.{json,html} and $T/${name}_stats.csv.
stop_once() { # WAY NAME [ARGS...]
    local way="$1" name="$2"; shift 2
    local reports=(--csv "$T/$name" --json "$T/$name.json" --html "$T/$name.html")
    case "$way" in
        runtime)
            hop "$T/$name.out" -f "$hf" -H "$TARGET_URL" -t 1100ms --only-summary "${reports[@]}" "$@" ;;
        INT|TERM|HUP)
            hop_bg "$T/$name.out" -f "$hf" -H "$TARGET_URL" --no-tui --print-interval 200ms "${reports[@]}" "$@"
            wait_for_load "$T/$name.out"
            kill -s "$way" "$HOP_PID"
            hop_wait ;;
        group)
            # A service manager's stop (systemd, a container runtime):
            # SIGTERM to hopper's whole process group, its workers included.
            # setsid gives hopper a group of its own (it is not a group
            # leader here, so setsid runs it in place: $! is hopper).
            # shellcheck disable=SC2086 # HOPPER_TLS_ARGS is words
            setsid "$HOPPER" ${HOPPER_CLIENT:+--http-client "$HOPPER_CLIENT"} $HOPPER_TLS_ARGS -f "$hf" -H "$TARGET_URL" \
                --no-tui --print-interval 200ms "${reports[@]}" "$@" >"$T/$name.out" 2>&1 </dev/null &
            HOP_PID=$!
            ( sleep 60; kill -9 "$HOP_PID" 2>/dev/null ) >/dev/null 2>&1 &
            HOP_WATCHDOG=$!
            wait_for_load "$T/$name.out"
            kill -TERM -- "-$HOP_PID"
            hop_wait ;;
        q)
            # The dashboard needs a terminal: a private tmux server's pane,
            # wide enough that no line of the summary wraps.
            tm new-session -d -s "$name" -x 220 -y 50 \
                "$HOPPER ${HOPPER_CLIENT:+--http-client $HOPPER_CLIENT} $HOPPER_TLS_ARGS -f $hf -H $TARGET_URL ${reports[*]} $* ; echo EXIT=\$?; sleep 60"
            local i
            for i in $(seq 1 100); do
                tm capture-pane -p -t "$name" | grep -q 'Aggregated' && break
                sleep 0.1
            done
            sleep 0.5
            tm send-keys -t "$name" q
            for i in $(seq 1 150); do
                tm capture-pane -p -t "$name" | grep -q '^EXIT=' && break
                sleep 0.1
            done
            tm capture-pane -p -J -S - -t "$name" >"$T/$name.out"
            HOP_RC=$(sed -n 's/^EXIT=\([0-9]*\)$/\1/p' "$T/$name.out")
            tm kill-session -t "$name" ;;
    esac
}

for workers in 1 2; do
    for way in runtime q INT TERM HUP group; do
        name="$way-w$workers"
        what="stop counts ($way, --workers $workers)"
        target_start --delay 200ms || exit 1
        stop_once "$way" "$name" --workers "$workers"
        # The server answers (and counts) what it received, even from a client
        # that has gone: give it more than its delay before stopping it, or a
        # request hopper cancelled would go uncounted on both sides.
        sleep 0.6
        target_stop
        server=$(target_total)
        summary=$(summary_reqs "$T/$name.out" Aggregated)
        csv=$(awk -F, '$2 == "Aggregated" { print $3 }' "$T/${name}_stats.csv" 2>/dev/null)
        json=$(jq .aggregated.requests "$T/$name.json" 2>/dev/null)
        html=$(html_reqs "$T/$name.html" Aggregated 2>/dev/null)
        fig=$(html_figure_reqs "$T/$name.html" 2>/dev/null)
        drained=$(sed -n 's/^At the stop: \([0-9]*\) requests in flight finished and are counted, \([0-9]*\) were cancelled.*/\1 \2/p' "$T/$name.out")
        echo "# $what: server $server; summary $summary, CSV $csv, JSON $json, HTML $html/$fig; drained and cancelled: ${drained:-none}"
        check "$what: exit status 0" [ "$HOP_RC" = 0 ]
        check "$what: load was sent" [ "${server:-0}" -ge 40 ]
        check "$what: the summary's count equals the server's" [ "$summary" = "$server" ]
        check "$what: the /status row equals the server's" \
            [ "$(summary_reqs "$T/$name.out" /status)" = "$(target_count 'GET /status')" ]
        check "$what: the CSV's count equals the server's" [ "$csv" = "$server" ]
        check "$what: the JSON's count equals the server's" [ "$json" = "$server" ]
        check "$what: the HTML's count equals the server's (table and figure)" \
            [ "$html" = "$server" -a "$fig" = "$server" ]
        check "$what: the summary says requests in flight were drained, none cancelled" \
            bash -c '[ "${1% *}" -gt 0 ] && [ "${1#* }" = 0 ]' _ "${drained:-0 x}"
        check "$what: the JSON says so too" \
            jqe '.drained_requests > 0 and .cancelled_requests == 0' "$T/$name.json"
    done
done
