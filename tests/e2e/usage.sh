# Bad input never sends load: every bad hopperfile and command line gets a
# clear message (FILE:LINE: for the file) and exit status 2, and the server
# sees nothing.
. "$(dirname "$0")/lib.sh"

target_start || exit 1
n=0
bad=0
for f in "$TOP"/tests/bad/*.hopperfile; do
    n=$((n + 1))
    want_line=$(sed -n '1s/^# expect: \([0-9]*\): .*/\1/p' "$f")
    timeout -k 5 20 "$HOPPER" -f "$f" -H "$TARGET_URL" -t 2s --only-summary >"$T/bad.out" 2>&1 </dev/null
    rc=$?
    if [ "$rc" != 2 ] || ! grep -q "^hopper: $f:$want_line: " "$T/bad.out"; then
        bad=$((bad + 1))
        echo "# $(basename "$f"): exit $rc: $(head -c 300 "$T/bad.out")"
    fi
done
check "bad input: all $n corpus files exit 2 with FILE:LINE: message" [ "$bad" = 0 ]

usage_case() { # NAME EXPECTED-SUBSTRING ARGS...
    local name="$1" want="$2"; shift 2
    timeout -k 5 20 "$HOPPER" "$@" >"$T/usage.out" 2>&1 </dev/null
    local rc=$?
    if [ "$rc" = 2 ] && grep -qF -- "$want" "$T/usage.out"; then
        ok "usage: $name exits 2 with a message"
    else
        not_ok "usage: $name exits 2 with a message" "exit $rc: $(head -c 300 "$T/usage.out")"
    fi
}
good=$(hopperfile good <<EOF
host = $TARGET_URL
users = 2
[task status]
request = GET /status
EOF
)
nohost=$(hopperfile nohost <<EOF
[task status]
request = GET /status
EOF
)
usage_case "missing hopperfile" "$T/missing: cannot read" -f "$T/missing"
usage_case "default hopperfile missing" "hopperfile: cannot read" -t 1s
usage_case "-u garbage" "-u 'many'" -f "$good" -u many
usage_case "-r zero" "-r '0'" -f "$good" -r 0
usage_case "-t bad duration" "-t '5 minutes'" -f "$good" -t "5 minutes"
usage_case "-H bad URL" "-H 'localhost:8082'" -f "$good" -H localhost:8082
usage_case "unknown option" "unknown option --userz" -f "$good" --userz 5
usage_case "no host anywhere" "no host" -f "$nohost"
usage_case "bad --stop-timeout" "--stop-timeout" -f "$good" --stop-timeout never
usage_case "native client for user:password@" \
    "--http-client native: the host is not an http:// or https:// URL without user:password@" \
    -f "$good" -H https://u:p@127.0.0.1:1 --http-client native
usage_case "--key without --cert" "--key '$good': give the certificate it belongs to with --cert" \
    -f "$good" --key "$good"
usage_case "an unreadable --cacert" "the CA file '/nonexistent/ca.pem': No such file or directory" \
    -f "$good" --cacert /nonexistent/ca.pem
usage_case "a --cert that is no PEM" "the client certificate '$good': not a PEM file of that kind" \
    -f "$good" --cert "$good"
printf 'host = http://127.0.0.1:1\nprotocol = spdy\n[task t]\nrequest = GET /\n' >"$T/badproto"
usage_case "bad protocol" "protocol: 'spdy': use http/1.1 (the default) or http2" -f "$T/badproto"
usage_case "bad --http-client" "--http-client 'fast'" -f "$good" --http-client fast
usage_case "bad --workers" "--workers '0'" -f "$good" --workers 0
usage_case "bad --source-addrs" "--source-addrs: '10.0.0.300'" -f "$good" --source-addrs 10.0.0.300
# A --check on an endpoint the plan lacks is known when the plan is read: exit
# 2 at start with the plan's endpoints, no report file created, no load.
usage_case "--check on no endpoint" \
    "--check: check '/nope:p95<10ms': the plan has no endpoint '/nope' (its endpoints: GET /status)" \
    -f "$good" -t 2s --csv "$T/nope-check/run" --check '/nope:p95<10ms'
check "usage: a --check on no endpoint creates no report" [ ! -e "$T/nope-check" ]
usage_case "-H with a bad %-escape" "-H 'http://127.0.0.1:1/v%zz': a '%' must start a %XX escape" \
    -f "$good" -H 'http://127.0.0.1:1/v%zz'
# A FIFO as body-file: refused at once, not a hang at start (usage_case's
# timeout turns a hang into exit 124).
mkfifo "$T/body.fifo"
fifo_plan=$(hopperfile fifo <<EOF
host = $TARGET_URL
[task post]
request = POST /status
body-file = $T/body.fifo
EOF
)
usage_case "a FIFO as body-file" "body-file: '$T/body.fifo' is a FIFO (named pipe)" -f "$fifo_plan" -t 2s
# More users than open files: said plainly before starting.
( ulimit -n 256; timeout 20 "$HOPPER" -f "$good" -u 1000 --workers 1 -t 1s >"$T/fd.out" 2>&1 </dev/null; echo $? >"$T/fd.rc" )
check "usage: users beyond the open-file limit are refused before starting" \
    [ "$(cat "$T/fd.rc")" = 2 ]
check "usage: the message names the limit" grep -q 'may open only 256' "$T/fd.out"

timeout 10 "$HOPPER" --help >"$T/help.out" 2>&1
check "usage: --help exits 0 and lists -u" grep -q -- '--users' "$T/help.out"
timeout 10 "$HOPPER" --version >"$T/version.out" 2>&1
check "usage: --version names hopper" grep -q '^hopper ' "$T/version.out"

target_stop
check "bad input: the server saw no request at all" [ "$(target_total)" = 0 ]
