#!/usr/bin/env bash
# End-to-end tests of hopper-target: the real binary on a loopback port, driven
# by curl and by raw bytes over bash's /dev/tcp (for pipelining). Every request
# has a time limit and the whole script runs under `timeout`, so a hung server
# fails the suite instead of stalling it. No test has a timing upper bound.

# Re-run this script under a hard time limit of its own.
if [ -z "${TARGET_SH_TIMED:-}" ]; then
    export TARGET_SH_TIMED=1
    exec timeout -k 5 60 bash "$0" "$@"
fi

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# On the time limit, say so, and exit so that lib.sh's EXIT trap kills the target.
trap 'not_ok "target: script ran past its time limit"; exit 124' TERM

if [ ! -x "$HOPPER_TARGET" ]; then
    not_ok "target: binary exists" "$HOPPER_TARGET not built"
    exit 1
fi

CURL=(curl -s --max-time 5)
BAD_EXITS="" # targets that did not exit 0 with an empty stderr

# Stops the target like target_stop, and remembers a bad exit (non-zero
# status, or anything on stderr, where sanitizer reports go).
stop() {
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

# The report lines of the form "N  METHOD PATH".
table_lines() { grep -cE '^ *[0-9]+  ' "$TARGET_OUT"; }

# Raw HTTP over /dev/tcp: sends $1 (printf format) in one write and prints
# everything the server sends until it closes the connection.
raw() {
    # shellcheck disable=SC2016 # the inner bash expands $1 and $2
    timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf "$2" >&3; cat <&3' \
        raw "$TARGET_PORT" "$1"
}

# Status lines of a raw exchange, in order, on one line.
statuses() { grep -ao 'HTTP/1.1 [0-9][0-9][0-9]' | awk '{ printf "%s ", $2 }'; }

# --- routes and the exit report ----------------------------------------------
target_start || exit 1

body=$("${CURL[@]}" "$TARGET_URL/status")
check "target: /status body is {\"status\":\"OK\"}" [ "$body" = '{"status":"OK"}' ]

ctype=$("${CURL[@]}" -o /dev/null -w '%{content_type}' "$TARGET_URL/status")
check "target: /status is application/json" [ "$ctype" = "application/json" ]

"${CURL[@]}" -o "$T/movies.json" "$TARGET_URL/api/id/tt0068646"
size=$(wc -c <"$T/movies.json")
first=$(head -c 2 "$T/movies.json")
last=$(tail -c 2 "$T/movies.json")
check "target: /api/id is a JSON list of about 1 KB ($size bytes)" \
    [ "$size" -ge 700 -a "$size" -le 1500 -a "$first" = '[{' -a "$last" = '}]' ]
check "target: /api/id lists movies" grep -q '"title":"[A-Z]' "$T/movies.json"

"${CURL[@]}" -o "$T/id2.json" "$TARGET_URL/api/id/tt0068646"
check "target: the same id gets the same list" cmp -s "$T/movies.json" "$T/id2.json"

code=$("${CURL[@]}" -o "$T/title.json" -w '%{http_code}' "$TARGET_URL/api/title/The%20godfather/1972?page=1")
check "target: /api/title/The%20godfather/1972 answers 200 with a list" \
    [ "$code" = 200 -a "$(head -c 2 "$T/title.json")" = '[{' ]

code=$("${CURL[@]}" -o "$T/404.json" -w '%{http_code}' "$TARGET_URL/nope")
check "target: unknown path is 404 with a JSON body" [ "$code" = 404 -a "$(head -c 1 "$T/404.json")" = '{' ]

"${CURL[@]}" -D "$T/405.h" -o /dev/null -X POST -d 'x=1' "$TARGET_URL/status"
check "target: POST /status is 405" grep -q '^HTTP/1.1 405' "$T/405.h"
check "target: 405 says Allow: GET, HEAD" grep -qi '^Allow: GET, HEAD' "$T/405.h"

"${CURL[@]}" -I -o "$T/head.h" "$TARGET_URL/status"
check "target: HEAD /status is 200 with Content-Length 15" \
    grep -qi '^Content-Length: 15' "$T/head.h"

stop "routes"
check "target: report total counts every answered request" [ "$(target_total)" = 8 ]
check "target: report counts GET /status" [ "$(target_count "GET /status")" = 2 ]
check "target: report counts GET /api/id/tt0068646" [ "$(target_count "GET /api/id/tt0068646")" = 2 ]
check "target: report counts the title under its decoded path" \
    [ "$(target_count "GET /api/title/The godfather/1972")" = 1 ]
check "target: report counts 404s and 405s" \
    [ "$(target_count "GET /nope")" = 1 -a "$(target_count "POST /status")" = 1 ]
check "target: report counts HEAD apart from GET" [ "$(target_count "HEAD /status")" = 1 ]
check "target: report has exactly one line per method and path" [ "$(table_lines)" = 6 ]
check "target: report lines are sorted by path, then method" \
    [ "$(grep -E '^ *[0-9]+  ' "$TARGET_OUT" | sed 's/^ *[0-9]*  //' | tr '\n' '|')" = \
      "GET /api/id/tt0068646|GET /api/title/The godfather/1972|GET /nope|GET /status|HEAD /status|POST /status|" ]
check "target: report says connections accepted" grep -q '^connections accepted: [0-9]' "$TARGET_OUT"
check "target: report has no dropped line without --close-rate" \
    bash -c "! grep -q '^connections dropped' '$TARGET_OUT'"

# --- keep-alive, HTTP/1.0, request bodies --------------------------------------
target_start || exit 1
"${CURL[@]}" "$TARGET_URL/status" "$TARGET_URL/api/id/tt0068646" "$TARGET_URL/status" >/dev/null
stop "keep-alive"
check "target: one curl with several URLs reuses one connection" \
    grep -q '^connections accepted: 1$' "$TARGET_OUT"
check "target: ... and answers each of them" \
    [ "$(target_count "GET /status")" = 2 -a "$(target_total)" = 3 ]

target_start || exit 1
# A chunked body and a Content-Length body are read and skipped; the
# connection stays usable for the request that follows.
"${CURL[@]}" -o /dev/null -H 'Transfer-Encoding: chunked' -d 'some body' "$TARGET_URL/status" \
    --next -s --max-time 5 -o /dev/null -d 'a=1&b=2' "$TARGET_URL/api/id/x" \
    --next -s --max-time 5 -o /dev/null "$TARGET_URL/status"
stop "bodies"
check "target: requests with bodies are answered on the same connection" \
    [ "$(target_count "POST /status")" = 1 -a "$(target_count "POST /api/id/x")" = 1 -a \
      "$(target_count "GET /status")" = 1 -a "$(target_total)" = 3 -a \
      -n "$(grep '^connections accepted: 1$' "$TARGET_OUT")" ]

target_start || exit 1
out=$(raw 'GET /status HTTP/1.0\r\n\r\n')
check "target: HTTP/1.0 gets an answer and the connection closed" \
    [ "$(printf '%s' "$out" | statuses)" = "200 " ]
out=$(raw 'GET /status HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /status HTTP/1.0\r\n\r\n')
check "target: HTTP/1.0 keep-alive is honoured" \
    [ "$(printf '%s' "$out" | statuses)" = "200 200 " -a "$(printf '%s' "$out" | grep -ci '^Connection: keep-alive')" = 1 ]
out=$(raw 'GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
check "target: Connection: close is honoured" grep -qi '^Connection: close' <<<"$out"
out=$(raw 'GARBAGE\r\n\r\n')
check "target: a malformed request gets 400" [ "$(printf '%s' "$out" | statuses)" = "400 " ]
stop "http/1.0"
check "target: report counts the malformed request apart" grep -q '^ *1  malformed$' "$TARGET_OUT"

# --- pipelining -----------------------------------------------------------------
target_start || exit 1
out=$(raw 'GET /status HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nHEAD /status HTTP/1.1\r\nHost: x\r\n\r\nGET /api/id/tt0068646 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
check "target: pipelined requests are answered in order" \
    [ "$(printf '%s' "$out" | statuses)" = "200 404 200 200 " ]
check "target: a pipelined HEAD answer has no body" \
    [ "$(printf '%s' "$out" | grep -o '{"status":"OK"}' | wc -l)" = 1 ]
req=""
for _ in $(seq 1 99); do req="${req}GET /status HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"; done
req="${req}GET /status HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
n=$(raw "$req" | grep -ao 'HTTP/1.1 200' | wc -l)
check "target: 100 pipelined requests in one write get 100 answers" [ "$n" = 100 ]
stop "pipelining"
check "target: report counts pipelined requests" [ "$(target_count "GET /status")" = 101 -a "$(target_total)" = 104 ]

# --- delay --------------------------------------------------------------------
target_start --delay 100ms || exit 1
t=$("${CURL[@]}" -o /dev/null -w '%{time_total}' "$TARGET_URL/status")
check "target: --delay 100ms makes a request take at least 100ms ($t s)" \
    awk -v t="$t" 'BEGIN { exit !(t >= 0.1) }'
stop "delay"
check "target: a delayed answer is counted" [ "$(target_count "GET /status")" = 1 ]

target_start --delay 1ms-30ms --seed 7 || exit 1
out=$(raw 'GET /api/id/a HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nPOST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
check "target: pipelined answers with random delays stay in order" \
    [ "$(printf '%s' "$out" | statuses)" = "200 404 405 200 " ]
stop "delay range"

# --- failures -------------------------------------------------------------------
target_start --fail-rate 1 || exit 1
"${CURL[@]}" -o "$T/500.json" -w '%{http_code}' "$TARGET_URL/status" >"$T/code"
check "target: --fail-rate 1 answers 500 with a JSON error" \
    [ "$(cat "$T/code")" = 500 -a "$(head -c 9 "$T/500.json")" = '{"error":' ]
stop "fail-rate"
check "target: a 500 counts as answered" [ "$(target_count "GET /status")" = 1 -a "$(target_total)" = 1 ]

codes() { # the status codes of 20 requests with --fail-rate 0.5 --seed 42, into file $1
    target_start --fail-rate 0.5 --seed 42 || exit 1
    local urls=() _
    for _ in $(seq 1 20); do urls+=("$TARGET_URL/status"); done
    "${CURL[@]}" -o /dev/null -w '%{http_code} ' "${urls[@]}" >"$1"
    stop "seed"
}
codes "$T/codes.a"
codes "$T/codes.b"
a=$(cat "$T/codes.a")
b=$(cat "$T/codes.b")
check "target: --seed makes --fail-rate repeatable" [ "$a" = "$b" ]
check "target: --fail-rate 0.5 mixes 200 and 500" \
    bash -c "[[ '$a' == *200* && '$a' == *500* ]]"

target_start --close-rate 1 || exit 1
"${CURL[@]}" -o /dev/null "$TARGET_URL/status"
rc=$?
check "target: --close-rate 1 closes without an answer (curl status $rc)" [ "$rc" = 52 ]
stop "close-rate"
check "target: report counts the dropped connection" \
    grep -q '^connections dropped: 1$' "$TARGET_OUT"
check "target: a dropped request is not counted as answered" [ "$(target_total)" = 0 ]

# --- IPv6 ------------------------------------------------------------------------
if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
    target_start --bind ::1 || exit 1
    check "target: --bind ::1 prints listening on [::1]:PORT" \
        grep -q "^listening on \[::1\]:$TARGET_PORT\$" "$TARGET_OUT"
    body=$("${CURL[@]}" -g "http://[::1]:$TARGET_PORT/status")
    check "target: answers on ::1" [ "$body" = '{"status":"OK"}' ]
    stop "ipv6"
else
    ok "target: --bind ::1 # SKIP no IPv6 loopback"
fi

# --- options --------------------------------------------------------------------
bad_option() { # name args...: exits 2 and names the option on stderr
    local name="$1"; shift
    timeout 5 "$HOPPER_TARGET" "$@" >/dev/null 2>"$T/opt.err"
    local rc=$?
    if [ "$rc" = 2 ] && grep -q -- "$name" "$T/opt.err"; then
        ok "target: $* exits 2 naming the problem"
    else
        not_ok "target: $* exits 2 naming the problem" "status $rc: $(head -c 200 "$T/opt.err")"
    fi
}
bad_option --port --port abc
bad_option --port --port 70000
bad_option --bind --bind not-an-address
bad_option --delay --delay 5parsecs
bad_option --delay --delay 30ms-10ms
bad_option --fail-rate --fail-rate 1.5
bad_option --close-rate --close-rate -0.1
bad_option --seed --seed x
bad_option --bogus --bogus
bad_option --port --port

timeout 5 "$HOPPER_TARGET" --help >"$T/help" 2>&1
check "target: --help exits 0 and lists the options" \
    [ $? = 0 -a -n "$(grep -- '--close-rate' "$T/help")" ]
timeout 5 "$HOPPER_TARGET" --version >"$T/version" 2>&1
check "target: --version exits 0" [ $? = 0 -a -n "$(grep '^hopper-target ' "$T/version")" ]

target_start || exit 1
timeout 5 "$HOPPER_TARGET" --port "$TARGET_PORT" >/dev/null 2>"$T/busy.err"
rc=$?
check "target: a port in use exits 1 with a message (status $rc)" \
    [ "$rc" = 1 -a -n "$(grep 'cannot listen' "$T/busy.err")" ]
stop "port in use"

check "target: every run exited 0 after SIGTERM, nothing on stderr${BAD_EXITS:+:$BAD_EXITS}" \
    [ -z "$BAD_EXITS" ]
