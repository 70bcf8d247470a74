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

# The report lines of the form "N  METHOD PATH".
table_lines() { grep -cE '^ *[0-9]+  ' "$TARGET_OUT"; }

# Raw HTTP over /dev/tcp: sends $1 (printf format) in one write and prints
# everything the server sends until it closes the connection.
raw() {
    # shellcheck disable=SC2016 # the inner bash expands $1 and $2
    timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf "$2" >&3; cat <&3' \
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

target_stop_checked "routes"
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
target_stop_checked "keep-alive"
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
target_stop_checked "bodies"
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
target_stop_checked "http/1.0"
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
target_stop_checked "pipelining"
check "target: report counts pipelined requests" [ "$(target_count "GET /status")" = 101 -a "$(target_total)" = 104 ]

# --- delay --------------------------------------------------------------------
target_start --delay 100ms || exit 1
t=$("${CURL[@]}" -o /dev/null -w '%{time_total}' "$TARGET_URL/status")
check "target: --delay 100ms makes a request take at least 100ms ($t s)" \
    awk -v t="$t" 'BEGIN { exit !(t >= 0.1) }'
target_stop_checked "delay"
check "target: a delayed answer is counted" [ "$(target_count "GET /status")" = 1 ]

target_start --delay 1ms-30ms --seed 7 || exit 1
out=$(raw 'GET /api/id/a HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\nPOST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
check "target: pipelined answers with random delays stay in order" \
    [ "$(printf '%s' "$out" | statuses)" = "200 404 405 200 " ]
target_stop_checked "delay range"

# --- failures -------------------------------------------------------------------
target_start --fail-rate 1 || exit 1
"${CURL[@]}" -o "$T/500.json" -w '%{http_code}' "$TARGET_URL/status" >"$T/code"
check "target: --fail-rate 1 answers 500 with a JSON error" \
    [ "$(cat "$T/code")" = 500 -a "$(head -c 9 "$T/500.json")" = '{"error":' ]
target_stop_checked "fail-rate"
check "target: a 500 counts as answered" [ "$(target_count "GET /status")" = 1 -a "$(target_total)" = 1 ]

codes() { # the status codes of 20 requests with --fail-rate 0.5 --seed 42, into file $1
    target_start --fail-rate 0.5 --seed 42 || exit 1
    local urls=() _
    for _ in $(seq 1 20); do urls+=("$TARGET_URL/status"); done
    "${CURL[@]}" -o /dev/null -w '%{http_code} ' "${urls[@]}" >"$1"
    target_stop_checked "seed"
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
target_stop_checked "close-rate"
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
    target_stop_checked "ipv6"
    target_start --bind ::1 --workers 2 || exit 1
    body=$("${CURL[@]}" -g "http://[::1]:$TARGET_PORT/status")
    check "target: --workers 2 answers on ::1" [ "$body" = '{"status":"OK"}' ]
    target_stop_checked "ipv6 workers"
else
    skip_unavailable "target: --bind ::1" "no IPv6 loopback (::1) on this machine"
fi

# --- workers ---------------------------------------------------------------------
# --workers N forks N processes that share the port with SO_REUSEPORT; the
# parent prints one listening line and one merged report.
worker_pids() { pgrep -P "$TARGET_PID" | tr '\n' ' '; }
# Succeeds if none of the given pids is still running.
all_gone() { local p; for p in "$@"; do kill -0 "$p" 2>/dev/null && return 1; done; return 0; }
# "N" from each "  worker I: N connections accepted, ..." line, one a line.
worker_conns() { sed -n 's/^  worker [0-9]*: \([0-9]*\) connections accepted, .*/\1/p' "$TARGET_OUT"; }

target_start --workers 3 || exit 1
check "target: --workers 3 --port 0 prints the real port ($TARGET_PORT)" [ "$TARGET_PORT" -gt 0 ]
read -r -a pids <<<"$(worker_pids)"
check "target: --workers 3 runs three worker processes" [ "${#pids[@]}" = 3 ]
# 300 requests on 10 connections (one curl, one connection): 30 requests each,
# GET /status 10 times, /api/id/1..10 and /nope/C once each.
: >"$T/w.codes"
for c in $(seq 0 9); do
    args=()
    for r in $(seq 1 10); do
        args+=(-o /dev/null "$TARGET_URL/status" -o /dev/null "$TARGET_URL/api/id/$r"
               -o /dev/null "$TARGET_URL/nope/$c")
    done
    "${CURL[@]}" -w '%{http_code}\n' "${args[@]}" >>"$T/w.codes"
done
check "target: --workers 3 answers all 300 requests" \
    [ "$(grep -c '^200$' "$T/w.codes")" = 200 -a "$(grep -c '^404$' "$T/w.codes")" = 100 ]
target_stop_checked "workers"
check "target: --workers 3 exits 0 on SIGTERM and leaves no worker behind" all_gone "${pids[@]}"
check "target: merged report counts all 300 requests" [ "$(target_total)" = 300 ]
ok_paths=1
[ "$(target_count "GET /status")" = 100 ] || ok_paths=0
for r in $(seq 1 10); do [ "$(target_count "GET /api/id/$r")" = 10 ] || ok_paths=0; done
for c in $(seq 0 9); do [ "$(target_count "GET /nope/$c")" = 10 ] || ok_paths=0; done
check "target: merged report counts each path exactly" [ "$ok_paths" = 1 ]
check "target: merged report has one line per method and path (21)" [ "$(table_lines)" = 21 ]
check "target: merged report has no duplicate path lines" \
    [ -z "$(grep -E '^ *[0-9]+  ' "$TARGET_OUT" | sed 's/^ *[0-9]*  //' | sort | uniq -d)" ]
check "target: merged report says 10 connections accepted" grep -q '^connections accepted: 10$' "$TARGET_OUT"
check "target: merged report has one line per worker adding up to the total" \
    [ "$(worker_conns | wc -l)" = 3 -a "$(worker_conns | awk '{ n += $1 } END { print n }')" = 10 ]
check "target: one listening line, from the parent" [ "$(grep -c '^listening on' "$TARGET_OUT")" = 1 ]

# Connections are spread: 60 of them, two keep-alive requests each.
target_start --workers 3 || exit 1
read -r -a pids <<<"$(worker_pids)"
cpids=()
for _ in $(seq 1 60); do
    "${CURL[@]}" -o /dev/null -o /dev/null "$TARGET_URL/status" "$TARGET_URL/status" &
    cpids+=($!)
done
wait "${cpids[@]}"
kill -INT "$TARGET_PID" # a Ctrl-C stops it like SIGTERM
wait "$TARGET_PID"
rc=$?
TARGET_PID=""
check "target: --workers 3 exits 0 on SIGINT, nothing on stderr (status $rc)" [ "$rc" = 0 -a ! -s "$T/target.err" ]
check "target: ... and leaves no worker behind" all_gone "${pids[@]}"
check "target: 60 connections, 120 requests in the merged report" \
    [ "$(target_total)" = 120 -a -n "$(grep '^connections accepted: 60$' "$TARGET_OUT")" ]
check "target: more than one worker served ($(worker_conns | tr '\n' ' '))" \
    [ "$(worker_conns | awk '$1 > 0' | wc -l)" -ge 2 ]

# A worker that dies: the parent says so at once, serves on, and exits 1.
target_start --workers 3 || exit 1
read -r -a pids <<<"$(worker_pids)"
"${CURL[@]}" -o /dev/null "$TARGET_URL/status"
kill -9 "${pids[1]}"
for _ in $(seq 1 100); do grep -q 'killed by signal 9' "$T/target.err" && break; sleep 0.05; done
check "target: the parent reports a killed worker at once" \
    grep -q "^hopper-target: worker [0-9] (pid ${pids[1]}) was killed by signal 9" "$T/target.err"
body=$("${CURL[@]}" "$TARGET_URL/status")
check "target: the other workers still answer" [ "$body" = '{"status":"OK"}' ]
kill -TERM "$TARGET_PID"
wait "$TARGET_PID"
rc=$?
TARGET_PID=""
check "target: with a worker's counts missing, the exit status is 1 ($rc)" [ "$rc" = 1 ]
check "target: ... and stderr names the missing counts" \
    grep -q "counts of worker [0-9] (pid ${pids[1]}) are missing" "$T/target.err"
check "target: ... and the report says so too" \
    grep -q "^  worker [0-9]: counts missing: it was killed by signal 9" "$TARGET_OUT"
check "target: ... and no worker is left behind" all_gone "${pids[@]}"

# A worker stuck in its shutdown (stopped here with SIGSTOP): a second signal,
# a moment after the first, kills it and the parent exits 1.
target_start --workers 2 || exit 1
read -r -a pids <<<"$(worker_pids)"
kill -STOP "${pids[0]}"
kill -TERM "$TARGET_PID"
sleep 0.5
kill -TERM "$TARGET_PID"
wait "$TARGET_PID"
rc=$?
TARGET_PID=""
check "target: a second signal ends a stuck shutdown with status 1 ($rc)" \
    [ "$rc" = 1 -a -n "$(grep "counts of worker 0 (pid ${pids[0]}) are missing" "$T/target.err")" ]
check "target: ... and no worker is left behind" all_gone "${pids[@]}"
all_gone "${pids[@]}" || kill -9 "${pids[@]}" 2>/dev/null # do not leave a stopped one

# Dropped connections are added up too; --quiet prints only the listening line.
target_start --workers 2 --close-rate 1 || exit 1
for _ in 1 2 3 4; do "${CURL[@]}" -o /dev/null "$TARGET_URL/status"; done
target_stop_checked "workers close-rate"
check "target: merged report adds up dropped connections" \
    [ -n "$(grep '^connections dropped: 4$' "$TARGET_OUT")" -a "$(target_total)" = 0 ]
target_start --workers 2 --quiet || exit 1
"${CURL[@]}" -o /dev/null "$TARGET_URL/status"
target_stop_checked "workers quiet"
check "target: --workers 2 --quiet prints only the listening line" [ "$(wc -l <"$TARGET_OUT")" = 1 ]

# The port is checked before forking, also against another server with workers.
target_start --workers 2 || exit 1
timeout 5 "$HOPPER_TARGET" --workers 2 --port "$TARGET_PORT" >/dev/null 2>"$T/busy.err"
rc=$?
check "target: --workers on a port in use exits 1 with a message (status $rc)" \
    [ "$rc" = 1 -a -n "$(grep 'cannot listen' "$T/busy.err")" ]
target_stop_checked "workers port in use"

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
bad_option --workers --workers 0
bad_option --workers --workers 65
bad_option --workers --workers two

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
target_stop_checked "port in use"

check "target: every run exited 0 after SIGTERM, nothing on stderr${BAD_EXITS:+:$BAD_EXITS}" \
    [ -z "$BAD_EXITS" ]
