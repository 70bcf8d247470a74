# Shared helpers for the end-to-end scripts. Source it; it expects $BUILD (the
# build folder, default "build") and gives:
#   ok NAME / not_ok NAME [why]    report one result (counted by tests/run)
#   check NAME CMD...              ok if CMD succeeds
#   skip NAME REASON               the check did not run: "ok - NAME # SKIP REASON"
#   skip_unavailable NAME WHY      the check cannot run on this machine or in this
#                                  configuration: "# SKIP unavailable here: WHY"
#   target_start [ARGS...]         start hopper-target on a free loopback port;
#                                  sets TARGET_PID, TARGET_PORT, TARGET_URL, TARGET_OUT
#   target_stop                    SIGTERM it and wait; its report is in $TARGET_OUT
#   target_stop_checked NAME       the same, noting a bad exit (status, stderr) in BAD_EXITS
#   target_count "GET /status"     requests the stopped target answered for that path
#   html_reqs HTML NAME            a row's request count in the HTML report (html_cell)
#   nginx_start CERT KEY [WORKERS] nginx with TLS and HTTP/2 on a free loopback port, an
#                                  access log of its own; sets NGINX_PID, NGINX_PORT,
#                                  NGINX_URL, NGINX_DIR, NGINX_LOG
#   nginx_stop                     stop it (graceful, bounded); call it from your EXIT trap
#   nginx_count [PROTO]            requests in its access log (or of HTTP/1.1, HTTP/2.0)
#   tmux_lib NAME                  a tmux server of the script's own with tm, screen,
#                                  wait_for and wait_for_re (the dashboard's tests)
# Every script runs with a hard timeout of its own so nothing can hang the suite.
set -u
TOP="${TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
BUILD="${BUILD:-build}"
case "$BUILD" in /*) ;; *) BUILD="$TOP/$BUILD" ;; esac
HOPPER="$BUILD/hopper"
HOPPER_TARGET="$BUILD/hopper-target"
T="$(mktemp -d "${TMPDIR:-/tmp}/hopper-e2e.XXXXXX")"
TARGET_PID=""

cleanup_lib() {
    [ -n "$TARGET_PID" ] && kill -9 "$TARGET_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup_lib EXIT

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1${2:+: $2}"; }
check() { local n="$1"; shift; if "$@"; then ok "$n"; else not_ok "$n"; fi; }
# Skips (tests/run has the rule): a skip is counted apart, never as a pass,
# and must say why. In CI (CI=true) only skip_unavailable's are accepted; any
# other skip fails there. A tool that `make test` installs is never a reason
# to skip (report not_ok instead): use skip_unavailable only for what this
# machine or this configuration cannot do (no IPv6 loopback, https:// with the
# native client).
skip() { echo "ok - $1 # SKIP ${2:?skip NAME REASON: a skip must say why}"; }
skip_unavailable() { skip "$1" "unavailable here: ${2:?skip_unavailable NAME WHY}"; }

# HOPPER_TLS=1 (tests/run's TLS pass): the target speaks TLS with the test
# certificates in $BUILD/certs (make certs), TARGET_URL is https://, and
# every hopper run trusts the test CA (HOPPER_TLS_ARGS), so that the same
# checks hold over HTTPS against hopper's own target.
# HOPPER_HTTP2=1 adds --http2 to every hopper run (HTTP/2 over TLS with
# HOPPER_TLS, h2c with prior knowledge without).
HOPPER_TLS="${HOPPER_TLS:-}"
HOPPER_HTTP2="${HOPPER_HTTP2:-}"
HOPPER_TLS_ARGS="${HOPPER_HTTP2:+--http2}"
TARGET_TLS_ARGS=()
if [ -n "$HOPPER_TLS" ]; then
    HOPPER_TLS_ARGS="$HOPPER_TLS_ARGS --cacert $BUILD/certs/ca.crt"
    TARGET_TLS_ARGS=(--tls "$BUILD/certs/server.crt" "$BUILD/certs/server.key")
fi

target_start() {
    TARGET_OUT="$T/target.out"
    : >"$TARGET_OUT"
    "$HOPPER_TARGET" --port 0 "${TARGET_TLS_ARGS[@]}" "$@" >"$TARGET_OUT" 2>"$T/target.err" &
    TARGET_PID=$!
    local i
    for i in $(seq 1 100); do
        TARGET_PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$TARGET_OUT" | head -n 1)
        [ -n "$TARGET_PORT" ] && break
        sleep 0.05
    done
    if [ -z "$TARGET_PORT" ]; then
        echo "hopper-target did not start:"; cat "$T/target.err"; return 1
    fi
    TARGET_URL="http${HOPPER_TLS:+s}://127.0.0.1:$TARGET_PORT"
}

target_stop() {
    [ -n "$TARGET_PID" ] || return 0
    kill -TERM "$TARGET_PID" 2>/dev/null
    wait "$TARGET_PID" 2>/dev/null
    TARGET_PID=""
}

# Stops the target like target_stop, and remembers a bad exit in BAD_EXITS
# (a non-zero status, or anything on stderr, where sanitizer reports go):
# target_stop_checked NAME.
BAD_EXITS=""
target_stop_checked() {
    local pid="$TARGET_PID" rc
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rc=$?
    TARGET_PID=""
    if [ "$rc" -ne 0 ] || [ -s "$T/target.err" ]; then
        BAD_EXITS="$BAD_EXITS [$1: status $rc: $(head -c 300 "$T/target.err" | tr '\n' ' ')]"
    fi
}

# The count the target printed for one "METHOD PATH" line of its exit report.
target_count() {
    awk -v want="$1" '
        /^ *[0-9]+  / { n = $1; sub(/^ *[0-9]+  /, ""); if ($0 == want) { print n; found = 1 } }
        END { if (!found) print 0 }' "$TARGET_OUT"
}

# The target's total ("requests answered: N").
target_total() {
    sed -n 's/^requests answered: \([0-9]*\)$/\1/p' "$TARGET_OUT"
}

# Writes a hopperfile from stdin into $T/NAME and prints its path.
hopperfile() {
    cat >"$T/$1"
    echo "$T/$1"
}

# Runs hopper with a hard time limit: hop OUT ARGS... (stdout+stderr in OUT,
# exit status in $HOP_RC). The limit is generous: it only catches hangs.
# HOPPER_CLIENT (native or curl) picks hopper's HTTP client for every run
# made through hop/hop_bg: tests/run runs the client-sensitive scripts once
# with each, so both paths are held to the same expectations.
HOPPER_CLIENT="${HOPPER_CLIENT:-}"
# HOPPER_WRAP runs hopper under a tool (make test-valgrind sets valgrind).
HOPPER_WRAP="${HOPPER_WRAP:-}"

hop() {
    local out="$1"; shift
    local limit=60
    [ -n "$HOPPER_WRAP" ] && limit=600
    # shellcheck disable=SC2086 # HOPPER_WRAP is a command line
    # shellcheck disable=SC2086 # HOPPER_TLS_ARGS is words
    timeout -k 5 "$limit" $HOPPER_WRAP "$HOPPER" ${HOPPER_CLIENT:+--http-client "$HOPPER_CLIENT"} $HOPPER_TLS_ARGS "$@" >"$out" 2>&1 </dev/null
    HOP_RC=$?
}

# A number from hopper's summary: summary_field OUT NAME COLUMN, where COLUMN
# counts the "|"-separated cells of the statistics table (3 = # reqs).
summary_reqs() { # OUT NAME -> request count of that row in the final summary
    awk -v name="$2" '
        /^=== hopper summary/ { in_summary = 1 }
        in_summary && /^Response time percentiles/ { exit }
        in_summary { split($0, c, "|"); n = c[1]; sub(/^[A-Z]* +/, "", n); sub(/ +$/, "", n);
                     if (n == name) { v = c[2]; gsub(/ /, "", v); print v; exit } }' "$1"
}
summary_fails() {
    awk -v name="$2" '
        /^=== hopper summary/ { in_summary = 1 }
        in_summary && /^Response time percentiles/ { exit }
        in_summary { split($0, c, "|"); n = c[1]; sub(/^[A-Z]* +/, "", n); sub(/ +$/, "", n);
                     if (n == name) { v = c[3]; gsub(/ /, "", v); sub(/\(.*/, "", v); print v; exit } }' "$1"
}
# A percentile (column label like 50% or 99%) of a row of the percentile table, in ms.
summary_pct() { # OUT NAME LABEL
    awk -v name="$2" -v label="$3" '
        /^Response time percentiles/ { in_pct = 1; next }
        in_pct && /^Type/ { for (i = 1; i <= NF; i++) if ($i == label) col = i - 1; next }
        in_pct && /^Error report/ { exit }
        in_pct && col { line = $0; sub(/^[A-Z]* +/, "", line);
                        if (index(line, name) == 1) { rest = substr(line, length(name) + 1);
                          split(rest, f, " "); print f[col - 1]; exit } }' "$1"
}
# A cell of a table in the HTML report: html_cell HTML SECTION ROW COLUMN,
# e.g. html_cell run.html stats Aggregated Requests. SECTION is the id of the
# report's <section> (stats: the Requests table; percentiles), ROW the Name
# cell as written (entities decoded), COLUMN a heading of that table. The
# report writes one <tr> a line; columns are found by their heading, so a new
# column does not break the tests. Prints nothing when there is no such cell.
html_cell() {
    awk -v sec="$2" -v name="$3" -v col="$4" -v apos="'" '
        function cells(s, out) {
            gsub(/<\/t[dh]>/, "\t", s); gsub(/<[^>]*>/, "", s)
            gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s); gsub(/&quot;/, "\"", s)
            gsub(/&#39;/, apos, s); gsub(/&amp;/, "\\&", s)
            return split(s, out, "\t")
        }
        index($0, "<section id=\"" sec "\">") { in_sec = 1 }
        !in_sec { next }
        /<\/section>/ { exit }
        /<th[ >]/ { n = cells($0, h); for (i = 1; i <= n; i++) { if (h[i] == "Name") ni = i; if (h[i] == col) ci = i } }
        /<td[ >]/ && ni && ci { cells($0, c); if (c[ni] == name) { print c[ci]; exit } }' "$1"
}
html_reqs() { html_cell "$1" stats "$2" Requests; } # HTML NAME -> request count

# Floating-point comparison: fcmp A OP B, e.g. fcmp 50.3 '>=' 50
fcmp() { awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN { exit !((op == ">=" && a >= b) || (op == "<=" && a <= b) || (op == "<" && a < b) || (op == ">" && a > b)) }'; }

# Starts hopper in the background (stdout+stderr in OUT; $HOP_PID) with a
# watchdog that kills it after 60 s. Not under timeout(1): timeout forwards a
# signal to hopper and to the whole group, so hopper would get it twice.
hop_bg() { # OUT ARGS...
    local out="$1"; shift
    # shellcheck disable=SC2086 # HOPPER_TLS_ARGS is words
    "$HOPPER" ${HOPPER_CLIENT:+--http-client "$HOPPER_CLIENT"} $HOPPER_TLS_ARGS "$@" >"$out" 2>&1 </dev/null &
    HOP_PID=$!
    ( sleep 60; kill -9 "$HOP_PID" 2>/dev/null ) >/dev/null 2>&1 &
    HOP_WATCHDOG=$!
}

# Waits for the background hopper; its exit status goes in $HOP_RC.
hop_wait() {
    wait "$HOP_PID"
    HOP_RC=$?
    kill "$HOP_WATCHDOG" 2>/dev/null
    wait "$HOP_WATCHDOG" 2>/dev/null
    return 0
}

# jq -e, quietly: for checks on JSON files.
jqe() { jq -e "$@" >/dev/null; }

# ---- nginx: a TLS and HTTP/2 server that is not ours -------------------------
# nginx_start CERT KEY [WORKERS]: nginx (Debian's nginx-light is enough) in the
# foreground as the current user, with its config, pid file, logs and temp
# folders in $NGINX_DIR (under $T), listening on 127.0.0.1:$NGINX_PORT with
# "ssl http2" (ALPN picks h2 for a client that offers it, http/1.1 otherwise).
# Every location answers 200 "ok\n". Each request is one line in $NGINX_LOG:
# "PROTOCOL STATUS METHOD URI" ($server_protocol: HTTP/1.1 or HTTP/2.0).
# Keep-alive is unlimited (keepalive_requests), so that a count never depends
# on nginx closing a busy connection. A taken port is tried again (5 tries);
# 1 when nginx does not start (its error log is printed as # lines).
NGINX_PID=""
nginx_start() {
    local cert="$1" key="$2" workers="${3:-1}" try lo mod temps="" i
    NGINX_DIR="$T/nginx"
    NGINX_LOG="$NGINX_DIR/access.log"
    rm -rf "$NGINX_DIR"
    mkdir -p "$NGINX_DIR/tmp"
    # A temp path for each module built in (the directive of a module left
    # out is an error; the default path of one built in is not writable).
    for mod in proxy fastcgi uwsgi scgi; do
        nginx -V 2>&1 | grep -q -- "--without-http_${mod}_module" ||
            temps="$temps    ${mod}_temp_path $NGINX_DIR/tmp/$mod;"$'\n'
    done
    lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$lo" -gt 12000 ] || lo=32768
    for try in 1 2 3 4 5; do
        # Below the ephemeral range, so that no client's local port holds it.
        NGINX_PORT=$(( 10000 + RANDOM % (lo - 10000) ))
        (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && continue # taken
        cat >"$NGINX_DIR/nginx.conf" <<EOF
# tests/e2e/lib.sh: nginx_start
worker_processes $workers;
daemon off;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 4096; }
http {
    log_format counted '\$server_protocol \$status \$request_method \$uri';
    access_log $NGINX_LOG counted;
    default_type text/plain;
    keepalive_requests 1000000;
    keepalive_timeout 700s;
    client_body_temp_path $NGINX_DIR/tmp/body;
$temps    ssl_certificate $cert;
    ssl_certificate_key $key;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl http2;
        location / { return 200 "ok\n"; }
    }
}
EOF
        : >"$NGINX_DIR/error.log"
        : >"$NGINX_LOG"
        nginx -p "$NGINX_DIR" -c "$NGINX_DIR/nginx.conf" -e "$NGINX_DIR/error.log" \
            >"$NGINX_DIR/stdout" 2>&1 </dev/null &
        NGINX_PID=$!
        for i in $(seq 1 100); do
            kill -0 "$NGINX_PID" 2>/dev/null || break
            if (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null; then
                NGINX_URL="https://127.0.0.1:$NGINX_PORT"
                return 0
            fi
            sleep 0.05
        done
        nginx_stop
        grep -q 'Address already in use' "$NGINX_DIR/error.log" "$NGINX_DIR/stdout" 2>/dev/null || break
    done
    echo "# nginx did not start:"
    cat "$NGINX_DIR/error.log" "$NGINX_DIR/stdout" 2>/dev/null | grep -v setrlimit | head -n 20 | sed 's/^/#   /'
    return 1
}

# Stops nginx: SIGQUIT (its workers finish what they serve and write their
# last log lines), SIGKILL to the master and its workers after 5 s.
nginx_stop() {
    [ -n "$NGINX_PID" ] || return 0
    local i kids
    kids=$(pgrep -P "$NGINX_PID" 2>/dev/null)
    kill -QUIT "$NGINX_PID" 2>/dev/null
    for i in $(seq 1 100); do
        kill -0 "$NGINX_PID" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$NGINX_PID" 2>/dev/null; then
        kids="$kids $(pgrep -P "$NGINX_PID" 2>/dev/null)"
        # shellcheck disable=SC2086 # a list of pids
        kill -9 "$NGINX_PID" $kids 2>/dev/null
    fi
    wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=""
}

# Requests in nginx's access log: all of them, or those of one protocol
# (HTTP/1.1, HTTP/2.0).
nginx_count() {
    if [ -n "${1:-}" ]; then
        awk -v p="$1" '$1 == p { n++ } END { print n + 0 }' "$NGINX_LOG"
    else
        awk 'END { print NR }' "$NGINX_LOG"
    fi
}

# ---- tmux: the dashboard driven as a person at a terminal would -------------
# tmux_lib NAME: a tmux server of the script's own, killed on exit (or
# "not ok - NAME: tmux is installed" and exit), and
#   tm ARGS...                  tmux on that server
#   screen SESSION              what the pane shows now
#   wait_for SESSION TEXT [S]   up to S seconds (10) for a fixed string on it
#   wait_for_re SESSION RE [S]  the same for an extended regular expression
tmux_lib() {
    command -v tmux >/dev/null || { not_ok "$1: tmux is installed"; exit 1; }
    TMUX_SOCK="hopper-test-$$"
    trap cleanup_tmux EXIT
}
tm() { tmux -L "$TMUX_SOCK" "$@"; }
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup_lib; }
screen() { tm capture-pane -p -t "$1"; }
# wait_screen GREP-FLAG SESSION PATTERN [SECONDS]: the two below.
wait_screen() {
    local i n=$(( ${4:-10} * 10 ))
    for i in $(seq 1 $n); do
        screen "$2" | grep -q"$1" -- "$3" && return 0
        sleep 0.1
    done
    echo "# waited for '$3'; the screen:"; screen "$2" | sed 's/^/# | /'
    return 1
}
wait_for() { wait_screen F "$@"; }     # SESSION TEXT [SECONDS]
wait_for_re() { wait_screen E "$@"; }  # SESSION REGEX [SECONDS]
