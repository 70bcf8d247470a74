# Attaching to a running test (--control PATH, hopper attach PATH), driven
# through tmux: a headless test serves its socket (0600, refused on a path
# that is taken); viewers in tmux windows see its dashboard and its counts,
# steer it (W raises the target users: the test's JSON events say so),
# detach with q (the test goes on), die by kill -9 (the test goes on), two
# at once; a viewer of another protocol version and a viewer sending an
# oversized frame are dropped (handcrafted with python3), and so is another
# user (SO_PEERCRED, when the tests run as root); X then y stops the test,
# the viewer's final count is the JSON's, and the runs' counts are
# hopper-target's. The run is made with the defaults, then with --workers 2
# and with --http-client curl. Then: a test ending by its run time and by
# SIGTERM with a viewer attached; --only-summary with --control; a test
# started with nohup from a shell whose tmux window is killed (it goes on,
# a viewer stops it) and the same without nohup (the hangup stops it); a
# socket served by another user, which the viewer refuses. And a plan of
# 12 rows: the endpoint view of the 10th, in a viewer, has its charts.
. "$(dirname "$0")/lib.sh"
# The control protocol this hopper speaks (PROTO_VERSION).
PROTO=$(awk '$2 == "PROTO_VERSION" { print $3 }' "$(dirname "$0")/../../include/control/proto.h")

tmux_lib attach
tm new-session -d -s keep "sleep 600"
command -v python3 >/dev/null || { not_ok "attach: python3 is installed"; exit 1; }

target_start || exit 1
hf=$(hopperfile attach <<EOF
host = $TARGET_URL
users = 5
spawn-rate = 10
wait = constant 100ms
[task status]
request = GET /status
[task by-id]
request = GET /api/id/tt0068646
EOF
)

viewer() { # SESSION SOCKET [ARGS...]: hopper attach in a 120x40 UTF-8 window
    local s="$1" sock="$2"; shift 2
    tm new-session -d -s "$s" -x 120 -y 40 \
        "env LANG=C.UTF-8 TERM=tmux-256color $HOPPER attach $sock $* ; echo EXIT=\$?; sleep 60"
}
# The pid of the `hopper attach` in a window (the pane runs a shell that runs it).
viewer_pid() {
    local shell_pid c exe
    shell_pid=$(tm display-message -p -t "$1" '#{pane_pid}') || return 1
    exe=$(readlink -f "$HOPPER")
    for c in $(pgrep -P "$shell_pid"); do
        [ "$(readlink -f "/proc/$c/exe" 2>/dev/null)" = "$exe" ] && { echo "$c"; return 0; }
    done
    return 1
}
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st#Z}" = "$st" ]; }
gone() { ! alive "$1"; }
agg() { screen "$1" | awk '$1 == "Aggregated" { print $2; exit }'; }
# The Aggregated count of the test's last headless table.
printed_agg() { awk '$1 == "Aggregated" && $3 ~ /^[0-9]+$/ { n = $3 } END { print n + 0 }' "$1"; }
wait_socket() { local i; for i in $(seq 1 100); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }
wait_line() { # FILE REGEX: up to 5 s for a line in a file
    local i; for i in $(seq 1 50); do grep -qE -- "$2" "$1" && return 0; sleep 0.1; done
    echo "# no line /$2/ in $1:"; tail -n 5 "$1" | sed 's/^/# | /'; return 1
}

# A handcrafted viewer: a hello of protocol VERSION, then (with LEN) a raw
# header announcing LEN bytes. Prints the types of the frames that came
# back, the goodbye's text, and EOF if the test closed the connection.
raw_viewer() { # SOCKET VERSION [LEN]
    python3 - "$@" <<'PY'
import socket, struct, sys, time
path, version = sys.argv[1], int(sys.argv[2])
big = int(sys.argv[3]) if len(sys.argv) > 3 else 0
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
payload = b"HOPPER" + struct.pack("<H", version) + bytes([5]) + b"9.9.9"
s.sendall(struct.pack("<I", len(payload) + 1) + bytes([1]) + payload)
if big:
    time.sleep(0.3)
    s.sendall(struct.pack("<I", big) + bytes([5]) + b"x" * 100)
s.settimeout(1)
data, eof, end = b"", False, time.time() + 5
while time.time() < end:
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        break
    if not chunk:
        eof = True
        break
    data += chunk
types, bye, i = [], "", 0
while i + 5 <= len(data):
    n = struct.unpack("<I", data[i:i + 4])[0]
    if i + 4 + n > len(data):
        break
    t = data[i + 4]
    types.append(t)
    if t == 6:
        bye = data[i + 6:i + 6 + data[i + 5]].decode(errors="replace")
    i += 4 + n
print("types", " ".join(map(str, types)))
print("bye", bye)
print("EOF" if eof else "open")
PY
}

# ---- bad paths: clear messages, exit 2, nothing sent -----------------------

echo "not a socket" >"$T/plain"
hop "$T/plain.out" -f "$hf" --no-tui -t 5s --control "$T/plain"
check "attach: --control on a regular file exits 2" [ "$HOP_RC" = 2 ]
check "attach: ... and says why" grep -q "exists and is not a socket" "$T/plain.out"
check "attach: ... and leaves the file alone" grep -qx "not a socket" "$T/plain"
"$HOPPER" attach "$T/nope.sock" >"$T/nope.out" 2>&1 </dev/null
rc=$?
check "attach: no such socket exits 2 with a clear message" \
    bash -c "[ $rc = 2 ] && grep -q 'no such socket: is a test running with --control' '$T/nope.out'"
"$HOPPER" attach "$T/plain" >"$T/notsock.out" 2>&1 </dev/null
rc=$?
check "attach: a regular file is not a test's socket (exit 2)" \
    bash -c "[ $rc = 2 ] && grep -q 'not a socket' '$T/notsock.out'"
"$HOPPER" attach >"$T/noarg.out" 2>&1 </dev/null
rc=$?
check "attach: no PATH is a usage error (exit 2)" bash -c "[ $rc = 2 ] && grep -q 'hopper attach PATH' '$T/noarg.out'"
# A socket nobody listens on (a killed test): the viewer says so, and a
# test replaces it.
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$T/stale.sock"
"$HOPPER" attach "$T/stale.sock" >"$T/stale-attach.out" 2>&1 </dev/null
rc=$?
check "attach: nobody listening on a socket exits 1" \
    bash -c "[ $rc = 1 ] && grep -q 'no test is listening' '$T/stale-attach.out'"

# ---- a run: viewers, steering, detaching, stopping --------------------------

RUN_COUNTS=0
run_attach() { # NAME [HOPPER ARGS...]
    local name="$1"; shift
    local sock="$T/$name.sock" out="$T/$name.out" json="$T/$name.json"
    # The first run reuses the stale socket: a test replaces it.
    [ "$name" = attach ] && sock="$T/stale.sock"
    hop_bg "$out" -f "$hf" --no-tui --print-interval 1s --control "$sock" -t 50s \
        --stop-timeout 5s --json "$json" "$@"
    local test_pid=$HOP_PID
    if ! wait_socket "$sock" || ! wait_line "$out" "Aggregated"; then
        not_ok "$name: the test made its socket" "$(head -c 300 "$out")"
        hop_wait
        return
    fi
    check "$name: the socket is 0600 and ours" [ "$(stat -c '%a %u' "$sock")" = "600 $(id -u)" ]

    viewer "$name-v1" "$sock"
    check "$name: a viewer shows the test's dashboard" wait_for "$name-v1" "Aggregated"
    check "$name: ... with its users" wait_for "$name-v1" "users 5/5" 10
    local a1 a2
    a1=$(agg "$name-v1"); sleep 1.5; a2=$(agg "$name-v1")
    echo "# $name: the viewer's Aggregated: $a1 then $a2"
    check "$name: the viewer's counts grow" [ "${a2:-0}" -gt "${a1:-0}" ]

    viewer "$name-v2" "$sock" --ascii --no-color
    check "$name: a second viewer at the same time" wait_for "$name-v2" "Aggregated"
    check "$name: the test logged both" wait_line "$out" "control: viewer .* attached \(.*; 2 attached\)"

    # W in one viewer: the test's target goes up, and the other viewer sees it.
    tm send-keys -t "$name-v1" W
    check "$name: W in a viewer raises the test's target users" wait_for "$name-v1" "users 15/15" 10
    check "$name: ... and the other viewer sees it" wait_for "$name-v2" "users 15/15" 10
    check "$name: ... and the test logged the command" wait_line "$out" "control: viewer [0-9]+: target users 15"

    # q detaches: the viewer exits 0, the test goes on.
    tm send-keys -t "$name-v1" q
    check "$name: q detaches and exits 0" wait_for "$name-v1" "EXIT=0" 10
    check "$name: ... saying the test goes on" wait_for "$name-v1" "the test goes on" 2
    local p1 p2
    p1=$(printed_agg "$out"); sleep 2.5; p2=$(printed_agg "$out")
    check "$name: the test is still running after q" alive "$test_pid"
    check "$name: ... and still counting ($p1 then $p2)" [ "$p2" -gt "$p1" ]

    # kill -9 of a viewer: the test goes on.
    local vp
    vp=$(viewer_pid "$name-v2")
    check "$name: the second viewer is found" [ -n "$vp" ]
    [ -n "$vp" ] && kill -9 "$vp"
    check "$name: the test noticed the killed viewer" wait_line "$out" "control: viewer $vp is gone"
    sleep 1
    check "$name: the test is still running after kill -9 of a viewer" alive "$test_pid"

    # A viewer's terminal closing (SIGHUP, an SSH session dropping) detaches it.
    viewer "$name-v4" "$sock"
    wait_for "$name-v4" "Aggregated" >/dev/null
    vp=$(viewer_pid "$name-v4")
    tm kill-session -t "$name-v4"
    check "$name: a viewer whose terminal closed detaches" wait_line "$out" "control: viewer $vp detached"
    check "$name: ... and the test goes on" alive "$test_pid"

    # A viewer of another protocol version: told, dropped; the test goes on.
    raw_viewer "$sock" 99 >"$T/$name-old.out" 2>&1
    check "$name: a viewer of protocol 99 gets the test's hello, a goodbye, EOF" \
        bash -c "grep -qx 'types 1 6' '$T/$name-old.out' && grep -qx EOF '$T/$name-old.out'"
    check "$name: ... that names both versions" \
        grep -q "control protocol 99 (hopper 9.9.9) was refused: this test speaks protocol $PROTO" "$T/$name-old.out"
    # An oversized frame: dropped.
    raw_viewer "$sock" "$PROTO" 1000000 >"$T/$name-big.out" 2>&1
    check "$name: an oversized frame drops that viewer" grep -qx EOF "$T/$name-big.out"
    check "$name: ... which was served until then" grep -q "^types 1 .*2 3" "$T/$name-big.out"
    check "$name: ... and the test says why" wait_line "$out" "malformed or oversized frame"
    check "$name: the test is still running after both" alive "$test_pid"

    # Another user (the tests may run as root): refused by SO_PEERCRED.
    if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && command -v perl >/dev/null; then
        chmod 0711 "$T"; chmod 0666 "$sock"
        # perl: the system's, which any user may run (python3 may be a user's own).
        setpriv --reuid=65534 --regid=65534 --clear-groups perl -MSocket -e '
            alarm 3; socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
            connect($s, pack_sockaddr_un($ARGV[0])) or die "connect: $!";
            my $n = sysread($s, my $buf, 100); print defined $n && $n == 0 ? "EOF\n" : "data\n"' \
            "$sock" >"$T/$name-nobody.out" 2>&1
        chmod 0600 "$sock"; chmod 0700 "$T"
        check "$name: a viewer of another user is refused (SO_PEERCRED)" \
            bash -c "grep -qx EOF '$T/$name-nobody.out' && grep -q 'refused a viewer of uid 65534' '$out'"
    else
        skip_unavailable "$name: a viewer of another user is refused" "not root: cannot connect as another user"
    fi

    # X then y in a viewer stops the test; the viewer says so with the counts.
    viewer "$name-v3" "$sock"
    wait_for "$name-v3" "Aggregated" >/dev/null
    tm send-keys -t "$name-v3" X
    check "$name: X asks before stopping" wait_for "$name-v3" "stop the test? (y/n)" 5
    tm send-keys -t "$name-v3" y
    check "$name: y stops the test; the viewer says it ended and exits 0" \
        wait_for_re "$name-v3" "the test has ended: [0-9]+ requests" 20
    wait_for "$name-v3" "EXIT=0" 5 >/dev/null
    hop_wait
    check "$name: the test exits 0" [ "$HOP_RC" = 0 ]
    check "$name: the socket is gone" [ ! -e "$sock" ]
    local shown json_n
    shown=$(screen "$name-v3" | sed -n 's/.*the test has ended: \([0-9]*\) requests.*/\1/p' | head -n 1)
    json_n=$(jq '.aggregated.requests' "$json" 2>/dev/null)
    echo "# $name: the viewer's final count $shown, the JSON's $json_n"
    check "$name: the viewer's final count is the test's" [ -n "$shown" -a "$shown" = "$json_n" ]
    check "$name: the JSON records the viewer's W (target users 15) and stop" \
        jqe '([.events[] | select(.kind == "target_users" and .value == 15)] | length == 1) and
             ([.events[] | select(.kind == "stop")] | length == 1)' "$json"
    for s in v1 v2 v3; do tm kill-session -t "$name-$s" 2>/dev/null; done
    RUN_COUNTS=$(( RUN_COUNTS + ${json_n:-0} ))
}

run_attach attach
run_attach attach-workers --workers 2
run_attach attach-curl --http-client curl

# ---- the test ends while a viewer watches ------------------------------------

json_count() { jq '.aggregated.requests' "$1" 2>/dev/null; }
# ends_with_viewer NAME HOW: a test with a viewer attached ends by its run
# time (HOW=time) or by SIGTERM (HOW=term): the viewer says so with the
# final count and exits 0, the socket goes, the JSON is written.
ends_with_viewer() {
    local name="$1" how="$2" sock="$T/$1.sock" out="$T/$1.out" json="$T/$1.json" t=50s
    [ "$how" = time ] && t=6s
    hop_bg "$out" -f "$hf" --no-tui --control "$sock" -t "$t" --stop-timeout 5s --json "$json"
    local test_pid=$HOP_PID
    wait_socket "$sock" || { not_ok "$name: the test made its socket"; hop_wait; return; }
    viewer "$name-v" "$sock"
    check "$name: the viewer shows the test" wait_for "$name-v" "Aggregated" 10
    [ "$how" = term ] && kill -TERM "$test_pid"
    check "$name: the viewer says the test has ended, with its count" \
        wait_for_re "$name-v" "the test has ended: [0-9]+ requests" 20
    check "$name: ... and exits 0" wait_for "$name-v" "EXIT=0" 5
    check "$name: ... having said it waited for the first snapshot" \
        wait_for "$name-v" "waiting for the first snapshot from $sock" 1
    hop_wait
    check "$name: the test exits 0" [ "$HOP_RC" = 0 ]
    check "$name: the socket is gone" [ ! -e "$sock" ]
    local shown n
    shown=$(screen "$name-v" | sed -n 's/.*the test has ended: \([0-9]*\) requests.*/\1/p' | head -n 1)
    n=$(json_count "$json")
    check "$name: the JSON is written and its count is the viewer's ($shown, $n)" \
        [ -n "$n" -a "$shown" = "$n" ]
    tm kill-session -t "$name-v" 2>/dev/null
    RUN_COUNTS=$(( RUN_COUNTS + ${n:-0} ))
}
ends_with_viewer end-time time
ends_with_viewer end-term term

# ---- a row past the first 8: the viewer's selection brings its charts -------

# A plan of 12 rows; the viewer selects the 10th (Up from the Aggregated
# row) and opens its endpoint view: its charts have values, because the
# test sends the timelines of every row a viewer has selected.
hf12=$( { printf 'host = %s\nusers = 12\nspawn-rate = 50\nwait = constant 100ms\n' "$TARGET_URL"
          for i in $(seq -w 1 12); do printf '[task t%s]\nrequest = GET /status?row=%s\n' "$i" "$i"; done
        } | hopperfile attach12 )
hop_bg "$T/rows.out" -f "$hf12" --no-tui --control "$T/rows.sock" -t 50s --stop-timeout 5s \
    --json "$T/rows.json"
if wait_socket "$T/rows.sock"; then
    viewer rows-v "$T/rows.sock"
    check "rows: a viewer shows the 12 rows" wait_for rows-v "/status?row=12" 10
    for k in Up Up Up; do tm send-keys -t rows-v "$k"; done
    tm send-keys -t rows-v Enter
    check "rows: Enter on the 10th row opens its endpoint view" wait_for rows-v "Esc back" 10
    sc=$(screen rows-v)
    check "rows: ... of that row alone" bash -c \
        'grep -qE "^GET +/status\?row=10 " <<<"$1" && ! grep -q Aggregated <<<"$1"' _ "$sc"
    check "rows: ... whose request rate chart has values" wait_for_re rows-v "^requests/s [1-9]" 10
    check "rows: ... and whose latency chart too" wait_for_re rows-v "^p99 [1-9]" 10
    tm kill-session -t rows-v
else
    not_ok "rows: the test made its socket" "$(head -c 300 "$T/rows.out")"
fi
kill -TERM "$HOP_PID" 2>/dev/null
hop_wait
check "rows: the test exits 0" [ "$HOP_RC" = 0 ]
RUN_COUNTS=$(( RUN_COUNTS + $(json_count "$T/rows.json") ))

# --only-summary with --control: no tables while it runs, the summary at the end.
hop "$T/quiet.out" -f "$hf" --no-tui --only-summary --print-interval 1s -t 3s \
    --control "$T/quiet.sock" --json "$T/quiet.json"
check "attach: --only-summary with --control exits 0" [ "$HOP_RC" = 0 ]
check "attach: ... prints no table before the summary" \
    awk '/=== hopper summary/ { exit found } /Aggregated/ { found = 1 } END { exit found }' "$T/quiet.out"
check "attach: ... and prints the summary" grep -q "=== hopper summary" "$T/quiet.out"
RUN_COUNTS=$(( RUN_COUNTS + $(json_count "$T/quiet.json") ))

# ---- nohup: the hangup of the terminal that started the test ----------------

# A test started in the background of an interactive shell in a tmux
# window; the window is killed, so the shell gets SIGHUP and passes it on
# to its jobs. Under nohup the test goes on (and is stopped with X y from a
# viewer); without, the hangup stops it and its reports are written.
hangup_run() { # NAME nohup|plain
    local name="$1" sock="$T/$1.sock" out="$T/$1.out" json="$T/$1.json" pre=""
    [ "$2" = nohup ] && pre="nohup "
    tm new-session -d -s "$name-sh" -x 120 -y 40 "env PS1='$ ' bash --norc --noprofile -i"
    sleep 0.5
    tm send-keys -t "$name-sh" "${pre}$HOPPER ${HOPPER_CLIENT:+--http-client $HOPPER_CLIENT} -f $hf --no-tui --control $sock -t 50s --stop-timeout 5s --json $json >$out 2>&1 </dev/null & echo \$! >$T/$name.pid" Enter
    wait_socket "$sock" || { not_ok "$name: the test made its socket" "$(head -c 300 "$out")"; return 1; }
    HUP_PID=$(cat "$T/$name.pid")
    wait_line "$out" "control:|Aggregated|SIGHUP" >/dev/null
    tm kill-session -t "$name-sh"
}
if hangup_run hup-plain plain; then
    for i in $(seq 1 100); do alive "$HUP_PID" || break; sleep 0.1; done
    # (alive: the shell that started it is gone, so whoever adopted it may
    # leave it a zombie for a while.)
    check "hup-plain: without nohup, the hangup stops the test" gone "$HUP_PID"
    check "hup-plain: ... which says so" grep -q "Hangup: stopping" "$T/hup-plain.out"
    check "hup-plain: ... and writes its reports" jqe '.aggregated.requests > 0' "$T/hup-plain.json"
    RUN_COUNTS=$(( RUN_COUNTS + $(json_count "$T/hup-plain.json") ))
fi
if hangup_run hup-nohup nohup; then
    sleep 1.5
    check "hup-nohup: under nohup, the test goes on after the hangup" alive "$HUP_PID"
    check "hup-nohup: ... says why" grep -q "SIGHUP is ignored (nohup)" "$T/hup-nohup.out"
    check "hup-nohup: ... and did not stop" bash -c "! grep -q 'Hangup' '$T/hup-nohup.out'"
    viewer hup-v "$T/hup-nohup.sock"
    check "hup-nohup: a viewer attaches" wait_for hup-v "Aggregated" 10
    tm send-keys -t hup-v X
    wait_for hup-v "stop the test? (y/n)" 5 >/dev/null
    tm send-keys -t hup-v y
    check "hup-nohup: X y stops it" wait_for_re hup-v "the test has ended: [0-9]+ requests" 20
    for i in $(seq 1 100); do alive "$HUP_PID" || break; sleep 0.1; done
    check "hup-nohup: ... the test is gone" gone "$HUP_PID"
    shown=$(screen hup-v | sed -n 's/.*the test has ended: \([0-9]*\) requests.*/\1/p' | head -n 1)
    n=$(json_count "$T/hup-nohup.json")
    check "hup-nohup: ... its reports written, the viewer's count the JSON's ($shown, $n)" \
        [ -n "$n" -a "$shown" = "$n" ]
    RUN_COUNTS=$(( RUN_COUNTS + ${n:-0} ))
    tm kill-session -t hup-v 2>/dev/null
fi

# ---- the viewer checks who serves the socket ----------------------------------

# A socket another user made in a shared directory: the viewer refuses it
# before reading a byte (SO_PEERCRED), exit 2.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && command -v perl >/dev/null; then
    mkdir -p "$T/shared"; chmod 1777 "$T/shared"; chmod 0711 "$T"
    setpriv --reuid=65534 --regid=65534 --clear-groups perl -MSocket -e '
        socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
        bind($s, pack_sockaddr_un($ARGV[0])) or die "bind: $!"; chmod 0666, $ARGV[0];
        listen($s, 5) or die "listen: $!"; sleep 10' "$T/shared/evil.sock" &
    evil=$!
    wait_socket "$T/shared/evil.sock"
    "$HOPPER" attach "$T/shared/evil.sock" >"$T/evil.out" 2>&1 </dev/null
    rc=$?
    kill "$evil" 2>/dev/null; wait "$evil" 2>/dev/null; chmod 0700 "$T"
    check "attach: a socket served by another user is refused (exit 2, $rc)" \
        bash -c "[ $rc = 2 ] && grep -q 'served by uid 65534' '$T/evil.out'"
else
    skip_unavailable "attach: a socket served by another user is refused" "not root: cannot serve as another user"
fi

# Every request of the three runs reached the target, and the refused run
# (on the regular file) sent nothing.
target_stop
got=$(target_total)
echo "# the target answered $got; the runs' JSON reports sum to $RUN_COUNTS"
check "attach: the runs' final counts are the target's (the refused run sent nothing)" \
    [ "$RUN_COUNTS" -gt 0 -a "$got" = "$RUN_COUNTS" ]
