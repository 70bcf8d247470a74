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

target_start() {
    TARGET_OUT="$T/target.out"
    : >"$TARGET_OUT"
    "$HOPPER_TARGET" --port 0 "$@" >"$TARGET_OUT" 2>"$T/target.err" &
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
    TARGET_URL="http://127.0.0.1:$TARGET_PORT"
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
    timeout -k 5 "$limit" $HOPPER_WRAP "$HOPPER" ${HOPPER_CLIENT:+--http-client "$HOPPER_CLIENT"} "$@" >"$out" 2>&1 </dev/null
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
    "$HOPPER" ${HOPPER_CLIENT:+--http-client "$HOPPER_CLIENT"} "$@" >"$out" 2>&1 </dev/null &
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
