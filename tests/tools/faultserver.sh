# Shell helpers to run tests/tools/faultserver from an end-to-end script.
# Source it after tests/e2e/lib.sh; it gives:
#   fault_start MODE [ARGS...]   the server on a free loopback port; sets FS_PID,
#                                FS_PORT, FS_URL and FS_OUT (its report once stopped)
#   fault_stop                   SIGTERM it and wait; a non-zero exit is a failure
#   fs_count "requests seen"     a count from the stopped server's report
#   fs_seen "GET /x"             requests it saw with that request line
# and kills a server still running when the script exits.
FAULTSERVER="$BUILD/faultserver"
FS_PID=""

cleanup_faultserver() {
    [ -n "$FS_PID" ] && kill -9 "$FS_PID" 2>/dev/null
    cleanup_lib
}
trap cleanup_faultserver EXIT

fault_start() {
    FS_OUT="$T/fault-$1.out"
    : >"$FS_OUT" # before the server opens it: the loop below reads it at once
    FS_ERR="$T/fault-$1.err"
    "$FAULTSERVER" --port 0 --mode "$@" >"$FS_OUT" 2>"$FS_ERR" &
    FS_PID=$!
    FS_PORT=""
    local i
    for i in $(seq 1 100); do
        FS_PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$FS_OUT" | head -n 1)
        [ -n "$FS_PORT" ] && break
        sleep 0.05
    done
    if [ -z "$FS_PORT" ]; then
        echo "# faultserver did not start:"; sed 's/^/#   /' "$FS_ERR"
        kill -9 "$FS_PID" 2>/dev/null; wait "$FS_PID" 2>/dev/null; FS_PID=""
        return 1
    fi
    FS_URL="http://127.0.0.1:$FS_PORT"
}

fault_stop() {
    [ -n "$FS_PID" ] || return 0
    kill -TERM "$FS_PID" 2>/dev/null
    wait "$FS_PID" 2>/dev/null
    local rc=$?
    FS_PID=""
    if [ "$rc" != 0 ]; then
        not_ok "the fault server (${FS_OUT##*/fault-}) exited with status $rc"
        sed 's/^/#   /' "$FS_ERR"
    fi
}

fs_count() {
    sed -n "s/^$1: \([0-9]*\)$/\1/p" "$FS_OUT"
}

fs_seen() {
    awk -v want="$1" '$1 == "seen" { n = $2; $1 = ""; $2 = ""; sub(/^  /, "");
                                     if ($0 == want) { print n; found = 1 } }
                      END { if (!found) print 0 }' "$FS_OUT"
}
