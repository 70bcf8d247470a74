# A hostile server side: hopper against tests/tools/faultserver (one way of
# misbehaving per --mode) and against a hopper-target killed in the middle of
# a run. Each fault must end as a counted failure with a clear error text,
# within the request timeout, with hopper's counts equal to the server's; a
# legal but unfriendly server (closing after every answer, a 100 MiB body,
# redirects, cookies) must not fail at all; text from the server never
# reaches a report or the screen unsanitised. Run once per HTTP client.
. "$(dirname "$0")/lib.sh"

. "$TOP/tests/tools/faultserver.sh"
if [ ! -x "$FAULTSERVER" ]; then
    not_ok "faults: $FAULTSERVER is missing (make $FAULTSERVER)"
    exit 1
fi
CLIENT="${HOPPER_CLIENT:-native}"
echo "# client: $CLIENT"

TLS_PID=""
cleanup_faults() {
    [ -n "$TLS_PID" ] && kill -9 "$TLS_PID" 2>/dev/null
    cleanup_faultserver
}
trap cleanup_faults EXIT

# check_all NAME 'SHELL CONDITION': ok if the condition (several tests joined
# with && or ||, evaluated here) holds.
check_all() { local n="$1"; shift; if eval "$1"; then ok "$n"; else not_ok "$n"; fi; }

# A number (or string) from a JSON report: jget FILE FILTER.
jget() { jq -r "$2" "$1" 2>/dev/null; }

# The rows of the summary's error report ("N | METHOD NAME: ERROR").
error_rows() {
    awk '/^Error report/ { on = 1; next } on && /^Run: / { exit }
         on && /^[0-9]+ +\| / { print }' "$1"
}

# utime + stime (clock ticks) of a process and its children (workers).
cpu_ticks() {
    local total=0 p v
    for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
        v=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# The highest VmHWM (kB) of a process and its children, sampled every 100 ms
# until it exits or SECONDS pass: watch_rss PID SECONDS.
watch_rss() {
    local pid="$1" end=$((SECONDS + $2)) max=0 p v
    while [ $SECONDS -lt $end ] && grep -q '^State:[[:space:]]*[^Z]' "/proc/$pid/status" 2>/dev/null; do
        for p in "$pid" $(pgrep -P "$pid" 2>/dev/null); do
            v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
            [ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
        done
        sleep 0.1
    done
    echo "$max"
}

# The plan of most sections: USERS users waiting WAIT between requests,
# timeout TIMEOUT, one GET /x task against the fault server:
#   plan NAME USERS WAIT TIMEOUT
plan() {
    hopperfile "$1" <<EOF
host = $FS_URL
users = $2
spawn-rate = 100
wait = constant $3
timeout = $4
[task x]
request = GET /x
EOF
}

# One fault that every request must fail with: fault_fails MODE ERROR
# MIN_MS MAX_MS. Three users, 2 s, timeout 1s; --stop-timeout lets the
# requests in flight at the stop end (by the fault or the timeout) and count,
# so hopper's count must equal the requests the server saw. Each request must
# end between MIN_MS and MAX_MS (MAX_MS: the timeout plus slack).
fault_fails() {
    local mode="$1" error="$2" min_ms="$3" max_ms="$4"
    local n="faults: $mode"
    fault_start "$mode" || { not_ok "$n: the fault server starts"; return; }
    local hf
    hf=$(plan "$mode" 3 100ms 1s)
    local start=$SECONDS
    hop "$T/$mode.out" -f "$hf" -t 2s --only-summary --stop-timeout 5s --json "$T/$mode.json"
    local took=$((SECONDS - start))
    fault_stop
    local reqs fails maxms seen
    reqs=$(jget "$T/$mode.json" '.aggregated.requests')
    fails=$(jget "$T/$mode.json" '.aggregated.failures')
    maxms=$(jget "$T/$mode.json" '.aggregated.max_ms')
    seen=$(fs_count "requests seen")
    echo "# $mode: rc=$HOP_RC hopper reqs=$reqs fails=$fails max=${maxms}ms took=${took}s; server saw $seen" \
         "on $(fs_count "connections accepted") connections"
    error_rows "$T/$mode.out" | sed 's/^/#   /'
    check "$n: exit status 1" [ "$HOP_RC" = 1 ]
    check "$n: requests were sent" [ "${reqs:-0}" -gt 0 ]
    check "$n: every request failed" [ "${fails:-x}" = "${reqs:-y}" ]
    check "$n: one error row, '$error', with every failure" \
        [ "$(error_rows "$T/$mode.out")" = "$(printf '%-14s | GET /x: %s' "$fails" "$error")" ]
    check "$n: hopper's count equals the requests the server saw" [ "${reqs:-x}" = "$seen" ]
    check_all "$n: each request ended in ${min_ms}-${max_ms} ms" \
        'fcmp "${maxms:-1e9}" "<=" "$max_ms" && fcmp "${maxms:-0}" ">=" "$min_ms"'
    check "$n: the run ended in time (${took}s)" [ "$took" -le 6 ]
}

# ---- faults that fail every request ------------------------------------------

# Accepts and reads, never answers: the timeout, at 1 s.
fault_fails silent "timeout after 1s" 1000 2500
# Headers, 10 bytes of 100, then nothing.
fault_fails stall-body "timeout after 1s" 1000 2500
# One byte a second of 20: the timeout is for the whole request.
fault_fails trickle "timeout after 1s" 1000 2500
fault_fails bad-status "malformed response" 0 2500
fault_fails bad-chunked "malformed response" 0 2500
# Content-Length 1000, 10 bytes, close.
fault_fails lying-length "connection closed mid-body" 0 2500
# 100 bytes of 1000, then (200 ms later) an RST.
fault_fails reset-mid-body "connection reset" 150 2500

# ---- a server that closes after every answer: legal, nothing fails -----------
# No wait between requests, so that a user's next request often races the
# server's FIN: a request sent on a connection the server had already closed
# (nothing of it was read) must go again on a new one, not fail.
for mode in close-always close-unannounced; do
    n="faults: $mode"
    fault_start "$mode" || { not_ok "$n: the fault server starts"; continue; }
    hf=$(plan "$mode" 4 0 1s)
    hop "$T/$mode.out" -f "$hf" -t 1s --workers 1 --only-summary --stop-timeout 5s --json "$T/$mode.json"
    fault_stop
    reqs=$(jget "$T/$mode.json" '.aggregated.requests')
    fails=$(jget "$T/$mode.json" '.aggregated.failures')
    seen=$(fs_count "requests seen")
    conns=$(fs_count "connections accepted")
    echo "# $mode: rc=$HOP_RC hopper reqs=$reqs fails=$fails; server saw $seen on $conns connections"
    error_rows "$T/$mode.out" | sed 's/^/#   /'
    check "$n: requests were sent" [ "${reqs:-0}" -gt 50 ]
    check "$n: a new connection per request" [ "${conns:-x}" = "$seen" ]
    if [ "${HOPPER_CLIENT:-native}" = curl ] && [ "$mode" = close-unannounced ]; then
        # libcurl 7.88 retries a request whose reused connection turns out to
        # be closed only when the read sees an orderly end; when the closed
        # socket answers with a reset it reports the failure instead (a few
        # in ten thousand here). hopper's own client retries both. Allowed
        # here, counted honestly: those requests never reached the server.
        check "$n: at most 1% failed (libcurl's reset race)" [ $(( ${fails:-1} * 100 )) -le "${reqs:-0}" ]
        check "$n: hopper's count minus those equals the server's" [ $(( ${reqs:-0} - ${fails:-0} )) = "$seen" ]
    else
        check "$n: exit status 0" [ "$HOP_RC" = 0 ]
        check "$n: no request failed (a closed connection is opened again)" [ "${fails:-x}" = 0 ]
        check "$n: hopper's count equals the requests the server saw" [ "${reqs:-x}" = "$seen" ]
    fi
done

# ---- a 100 MiB body: a success counted by its size, never held in memory ------
n="faults: big-body"
if fault_start big-body; then
    hf=$(plan big-body 2 100ms 10s)
    hop_bg "$T/big.out" -f "$hf" -t 3s --only-summary --stop-timeout 10s --json "$T/big.json"
    rss=$(watch_rss "$HOP_PID" 20)
    hop_wait
    fault_stop
    reqs=$(jget "$T/big.json" '.aggregated.requests')
    fails=$(jget "$T/big.json" '.aggregated.failures')
    size=$(jget "$T/big.json" '.aggregated.avg_content_size')
    bytes=$(jget "$T/big.json" '.aggregated.content_bytes')
    seen=$(fs_count "requests seen")
    echo "# big-body: rc=$HOP_RC reqs=$reqs fails=$fails avg size=$size bytes=$bytes peak RSS=${rss} kB; server saw $seen"
    error_rows "$T/big.out" | sed 's/^/#   /'
    check "$n: exit status 0" [ "$HOP_RC" = 0 ]
    check "$n: some bodies were received" [ "${reqs:-0}" -ge 2 ]
    check "$n: no request failed" [ "${fails:-x}" = 0 ]
    check_all "$n: the average size is 100 MiB" 'fcmp "${size:-0}" ">=" 104857600 && fcmp "${size:-0}" "<=" 104857600'
    check "$n: every byte was counted" [ "${bytes:-x}" = $((${reqs:-0} * 104857600)) ]
    check "$n: hopper's count equals the requests the server saw" [ "${reqs:-x}" = "$seen" ]
    check "$n: peak RSS under 100 MB (${rss} kB): the body is not held" [ "$rss" -gt 0 -a "$rss" -lt 102400 ]
else
    not_ok "$n: the fault server starts"
fi

# ---- redirects: followed up to 10, counted under the first URL ----------------
n="faults: redirect"
if fault_start redirect; then
    hf=$(hopperfile redirect <<EOF
host = $FS_URL
users = 4
spawn-rate = 100
wait = constant 100ms
timeout = 2s
[task start]
request = GET /start
[task loop]
request = GET /loop
EOF
)
    hop "$T/redirect.out" -f "$hf" -t 2s --only-summary --stop-timeout 5s --json "$T/redirect.json"
    fault_stop
    start=$(jget "$T/redirect.json" '[.entries[] | select(.name == "/start")][0].requests')
    start_fails=$(jget "$T/redirect.json" '[.entries[] | select(.name == "/start")][0].failures')
    loop=$(jget "$T/redirect.json" '[.entries[] | select(.name == "/loop")][0].requests')
    loop_fails=$(jget "$T/redirect.json" '[.entries[] | select(.name == "/loop")][0].failures')
    names=$(jget "$T/redirect.json" '[.entries[].name] | sort | join(",")')
    echo "# redirect: rc=$HOP_RC rows=$names /start=$start ($start_fails failed) /loop=$loop ($loop_fails failed);" \
         "server: /start=$(fs_seen "GET /start") /step1=$(fs_seen "GET /step1") /final=$(fs_seen "GET /final")" \
         "/loop=$(fs_seen "GET /loop")"
    error_rows "$T/redirect.out" | sed 's/^/#   /'
    check "$n: exit status 1 (the loop fails)" [ "$HOP_RC" = 1 ]
    check "$n: rows only for the first URLs" [ "$names" = "/loop,/start" ]
    check_all "$n: the chain /start -> /step1 -> /final passes" '[ "${start:-0}" -gt 0 ] && [ "$start_fails" = 0 ]'
    check_all "$n: each chain was followed to its end once" \
        '[ "$(fs_seen "GET /start")" = "$start" ] && [ "$(fs_seen "GET /step1")" = "$start" ] &&
         [ "$(fs_seen "GET /final")" = "$start" ]'
    check_all "$n: the loop fails every time" '[ "${loop:-0}" -gt 0 ] && [ "$loop_fails" = "$loop" ]'
    check "$n: the loop's error is 'too many redirects'" \
        grep -Eq "^$loop_fails +\| GET /loop: too many redirects$" "$T/redirect.out"
    check "$n: the loop was followed 10 times (11 requests each)" [ "$(fs_seen "GET /loop")" = $((${loop:-0} * 11)) ]
else
    not_ok "$n: the fault server starts"
fi

# ---- cookies: each user keeps its own session --------------------------------
n="faults: cookies"
if fault_start cookies; then
    hf=$(plan cookies 10 50ms 1s)
    hop "$T/cookies.out" -f "$hf" -t 2s --only-summary --stop-timeout 5s --json "$T/cookies.json"
    fault_stop
    reqs=$(jget "$T/cookies.json" '.aggregated.requests')
    fails=$(jget "$T/cookies.json" '.aggregated.failures')
    echo "# cookies: rc=$HOP_RC reqs=$reqs fails=$fails; server: seen $(fs_count "requests seen")," \
         "401s $(fs_count unauthorized), sessions $(fs_count "sessions issued")," \
         "connections $(fs_count "connections accepted")"
    error_rows "$T/cookies.out" | sed 's/^/#   /'
    check "$n: exit status 0" [ "$HOP_RC" = 0 ]
    check "$n: requests were sent" [ "${reqs:-0}" -gt 100 ]
    check_all "$n: no 401: every user sent back its own cookie" '[ "$(fs_count unauthorized)" = 0 ] && [ "$fails" = 0 ]'
    check "$n: one session per user" [ "$(fs_count "sessions issued")" = 10 ]
    check "$n: hopper's count equals the requests the server saw" [ "${reqs:-x}" = "$(fs_count "requests seen")" ]
else
    not_ok "$n: the fault server starts"
fi

# ---- slow to accept (full backlog): connect timeouts fail, nothing hangs -------
n="faults: backlog"
if fault_start backlog --accept 1; then
    hf=$(plan backlog 8 100ms 1s)
    start=$SECONDS
    hop "$T/backlog.out" -f "$hf" -t 3s --only-summary --stop-timeout 5s --json "$T/backlog.json"
    took=$((SECONDS - start))
    fault_stop
    reqs=$(jget "$T/backlog.json" '.aggregated.requests')
    fails=$(jget "$T/backlog.json" '.aggregated.failures')
    maxms=$(jget "$T/backlog.json" '.aggregated.max_ms')
    echo "# backlog: rc=$HOP_RC reqs=$reqs fails=$fails max=${maxms}ms took=${took}s;" \
         "server: seen $(fs_count "requests seen") on $(fs_count "connections accepted") connections"
    error_rows "$T/backlog.out" | sed 's/^/#   /'
    check "$n: exit status 1" [ "$HOP_RC" = 1 ]
    check "$n: the users left waiting failed" [ "${fails:-0}" -ge 7 ]
    check "$n: the failures are timeouts, in one row" \
        [ "$(error_rows "$T/backlog.out")" = "$(printf '%-14s | GET /x: %s' "$fails" "timeout after 1s")" ]
    check_all "$n: the accepted user's requests passed, as the server counted them" \
        '[ $((${reqs:-0} - ${fails:-0})) -gt 0 ] && [ $((reqs - fails)) = "$(fs_count "requests seen")" ]'
    check "$n: no request outlived its timeout" fcmp "${maxms:-1e9}" "<=" 2500
    check "$n: the run ended in time (${took}s)" [ "$took" -le 7 ]
else
    not_ok "$n: the fault server starts"
fi

# ---- the server killed mid-run, restarted on the same port ---------------------
# 20 users at 2 requests a second each; kill -9 at 2 s, down for 3 s, back
# until 10 s. While it is down each user must keep its wait (no hot retry: few
# attempts, low CPU) and the refusals must be one error row; after the
# restart requests must pass again at once.
n="faults: server killed"
: >"$T/target.out" # lib.sh's target_start reads it before the target opens it
if target_start; then
    port=$TARGET_PORT
    hf=$(hopperfile killed <<EOF
host = $TARGET_URL
users = 20
spawn-rate = 100
wait = constant 500ms
timeout = 1s
[task status]
request = GET /status
EOF
)
    hop_bg "$T/killed.out" -f "$hf" -t 10s --only-summary --stop-timeout 5s --json "$T/killed.json"
    sleep 2
    kill -9 "$TARGET_PID"
    wait "$TARGET_PID" 2>/dev/null
    TARGET_PID=""
    ticks0=$(cpu_ticks "$HOP_PID")
    sleep 3
    ticks1=$(cpu_ticks "$HOP_PID")
    # The same port again; a few tries in case it is briefly unavailable.
    for try in 1 2 3 4 5 6 7 8 9 10; do
        "$HOPPER_TARGET" --port "$port" >"$T/target2.out" 2>"$T/target2.err" &
        TARGET_PID=$!
        for i in $(seq 1 20); do
            grep -q '^listening on' "$T/target2.out" && break 2
            kill -0 "$TARGET_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -9 "$TARGET_PID" 2>/dev/null
        wait "$TARGET_PID" 2>/dev/null
        TARGET_PID=""
        sleep 0.2
    done
    hop_wait
    TARGET_OUT="$T/target2.out"
    target_stop
    hz=$(getconf CLK_TCK)
    cpu_pct=$(( (ticks1 - ticks0) * 100 / (3 * hz) ))
    reqs=$(jget "$T/killed.json" '.aggregated.requests')
    fails=$(jget "$T/killed.json" '.aggregated.failures')
    refused=$(jget "$T/killed.json" '[.failures[] | select(.error == "connection refused")] | length')
    refused_n=$(jget "$T/killed.json" '[.failures[] | select(.error == "connection refused") | .occurrences] | add // 0')
    rows=$(jget "$T/killed.json" '.failures | length')
    after=$(target_total)
    echo "# server killed: rc=$HOP_RC reqs=$reqs fails=$fails refused=$refused_n in $refused row(s), $rows error row(s);" \
         "CPU while down ${cpu_pct}% of a core; restarted target answered ${after:-nothing} (try $try)"
    error_rows "$T/killed.out" | sed 's/^/#   /'
    check "$n: the target came back on port $port" [ -n "$after" ]
    check_all "$n: hopper ran to the end (exit status 1)" \
        '[ "$HOP_RC" = 1 ] && fcmp "$(jget "$T/killed.json" .duration_s)" ">=" 9.5 && grep -q "^Run: " "$T/killed.out"'
    check "$n: the refusals are one error row" [ "$refused" = 1 ]
    check "$n: no other error row than the refusals" [ "$rows" = 1 ]
    # 20 users, one try per 500 ms wait, for 3 s: about 120 (a hot loop makes thousands).
    check "$n: users kept their wait while it was down ($refused_n refusals)" \
        [ "${refused_n:-0}" -ge 40 -a "${refused_n:-0}" -le 250 ]
    check "$n: hopper's CPU stayed low while it was down (${cpu_pct}%)" [ "$cpu_pct" -lt 30 ]
    # Up for the last 5 s at up to 40 requests a second: every one of the 20
    # users got through again (a loaded machine restarts the target slower,
    # so no tighter bound on how soon).
    check "$n: requests passed again after the restart (${after:-0})" [ "${after:-0}" -ge 20 ]
else
    not_ok "$n: hopper-target starts"
fi

# ---- a host name that does not resolve (.invalid never does) -------------------
n="faults: DNS"
hf=$(hopperfile dns <<EOF
host = http://no-such-host.invalid:8082
users = 2
spawn-rate = 100
wait = constant 200ms
timeout = 1s
[task x]
request = GET /x
EOF
)
start=$SECONDS
hop "$T/dns.out" -f "$hf" -t 2s --only-summary --stop-timeout 5s
took=$((SECONDS - start))
echo "# DNS: rc=$HOP_RC took=${took}s"
sed 's/^/#   /' "$T/dns.out" | grep -v '^#   *$' | tail -n 8
check "$n: exit status 1 (failed requests, as in Locust)" [ "$HOP_RC" = 1 ]
check_all "$n: the failures are one row, 'cannot resolve host'" \
    '[ "$(error_rows "$T/dns.out" | grep -c "GET /x: cannot resolve host")" = 1 ] &&
     [ "$(error_rows "$T/dns.out" | wc -l)" = 1 ]'
check "$n: the run ended in time (${took}s)" [ "$took" -le 6 ]

# ---- TLS with a self-signed certificate ---------------------------------------
# Verification is on by default (the error names the fix), --insecure skips it.
# openssl s_server -www answers every request with a status page.
n="faults: TLS"
if ! command -v openssl >/dev/null; then
    not_ok "$n (openssl is not installed)"
elif ! "$HOPPER" --help | grep -q -- '--insecure'; then
    not_ok "$n (--insecure not implemented)"
else
    openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -days 1 \
        -keyout "$T/tls.key" -out "$T/tls.crt" >/dev/null 2>&1
    # A free port: ask a fault server for one, then hand it to s_server.
    tls_port=""
    for try in 1 2 3 4 5; do
        fault_start ok && p=$FS_PORT && fault_stop
        openssl s_server -accept "127.0.0.1:$p" -cert "$T/tls.crt" -key "$T/tls.key" -www -quiet \
            </dev/null >"$T/tls.out" 2>&1 &
        TLS_PID=$!
        for i in $(seq 1 40); do
            if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then tls_port=$p; break 2; fi
            kill -0 "$TLS_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill -9 "$TLS_PID" 2>/dev/null; wait "$TLS_PID" 2>/dev/null; TLS_PID=""
    done
    if [ -z "$tls_port" ]; then
        not_ok "$n: openssl s_server starts"; sed 's/^/#   /' "$T/tls.out"
    else
        hf=$(hopperfile tls <<EOF
host = https://127.0.0.1:$tls_port
users = 1
spawn-rate = 100
wait = constant 200ms
timeout = 2s
[task x]
request = GET /x
EOF
)
        hop "$T/tls-verify.out" -f "$hf" -t 2s --only-summary --stop-timeout 5s --json "$T/tls-verify.json"
        echo "# TLS verified: rc=$HOP_RC"
        error_rows "$T/tls-verify.out" | sed 's/^/#   /'
        reqs=$(jget "$T/tls-verify.json" '.aggregated.requests')
        fails=$(jget "$T/tls-verify.json" '.aggregated.failures')
        check "$n: a self-signed certificate fails by default (exit status 1)" [ "$HOP_RC" = 1 ]
        check_all "$n: every request failed" '[ "${reqs:-0}" -gt 0 ] && [ "$fails" = "$reqs" ]'
        check "$n: the error says the certificate is not trusted and names --insecure" \
            [ "$(error_rows "$T/tls-verify.out")" = \
              "$(printf '%-14s | GET /x: %s' "$fails" "TLS certificate not trusted: self-signed certificate (--insecure skips the check)")" ]
        hop "$T/tls-insecure.out" -f "$hf" -t 2s --only-summary --stop-timeout 5s --insecure --json "$T/tls-insecure.json"
        reqs=$(jget "$T/tls-insecure.json" '.aggregated.requests')
        fails=$(jget "$T/tls-insecure.json" '.aggregated.failures')
        echo "# TLS --insecure: rc=$HOP_RC reqs=$reqs fails=$fails"
        error_rows "$T/tls-insecure.out" | sed 's/^/#   /'
        check "$n: --insecure passes (exit status 0)" [ "$HOP_RC" = 0 ]
        check_all "$n: --insecure: requests passed" '[ "${reqs:-0}" -gt 0 ] && [ "$fails" = 0 ]'
    fi
    [ -n "$TLS_PID" ] && { kill -TERM "$TLS_PID" 2>/dev/null; wait "$TLS_PID" 2>/dev/null; TLS_PID=""; }
fi

# ---- text from the server is sanitised everywhere ------------------------------
# /error: a 500 whose reason phrase carries a <script> tag and the C1 escape
# CSI (U+009B, in UTF-8 and as a raw byte), whose body carries ESC and BEL
# sequences (clear the screen, set the window title); /redirect: a redirect
# to another origin with the same in its Location (the native client names
# it in its error); /bad-reason, /bad-header: ESC and BEL in the reason
# phrase itself, in a header value.
n="faults: control-chars"
if fault_start control-chars; then
    hf=$(hopperfile control <<EOF
host = $FS_URL
users = 3
spawn-rate = 100
wait = constant 100ms
timeout = 1s
[task error]
request = GET /error
[task redirect]
request = GET /redirect
[task bad-reason]
request = GET /bad-reason
[task bad-header]
request = GET /bad-header
EOF
)
    r="$T/ctl"
    hop "$r.out" -f "$hf" -t 2s --no-tui --print-interval 500ms --stop-timeout 5s \
        --json "$r.json" --csv "$r" --html "$r.html" --log-failures "$r.failures.jsonl"
    fault_stop
    echo "# control-chars: rc=$HOP_RC"
    error_rows "$r.out" | LC_ALL=C sed 's/[^[:print:]]/?/g; s/^/#   /'
    check "$n: exit status 1" [ "$HOP_RC" = 1 ]
    check "$n: /error counted as HTTP 500" grep -Eq '^[0-9]+ +\| GET /error: HTTP 500$' "$r.out"
    # ESC and BEL in the reason phrase: the status is sound, both clients
    # report it. In a header value they break HTTP's grammar: hopper's own
    # client refuses the response (as its parser must), libcurl is lenient
    # and reports the status; the one documented difference (hopper(1)).
    check "$n: /bad-reason counted as HTTP 500" grep -Eq "^[0-9]+ +\| GET /bad-reason: HTTP 500\$" "$r.out"
    if [ "${HOPPER_CLIENT:-native}" = curl ]; then
        check "$n: /bad-header counted as HTTP 500 by libcurl" grep -Eq "^[0-9]+ +\| GET /bad-header: HTTP 500\$" "$r.out"
    else
        check "$n: /bad-header refused by hopper's client" grep -Eq "^[0-9]+ +\| GET /bad-header: malformed response\$" "$r.out"
    fi
    check "$n: the failures were logged" [ -s "$r.failures.jsonl" ]
    for f in out json _failures.csv _stats.csv _stats_history.csv html failures.jsonl; do
        case "$f" in _*) file="$r$f" ;; *) file="$r.$f" ;; esac
        check_all "$n: no ESC or BEL byte in the ${f#_}" \
            '[ -s "$file" ] && ! LC_ALL=C grep -q "$(printf "[\033\007]")" "$file"'
    done
    # The C1 CSI (U+009B) starts an escape sequence as ESC [ does; as a raw
    # byte it is not even UTF-8. The JSON report shows it as ?, so should
    # the terminal and the CSV (cat to a terminal).
    for file in "$r.out" "${r}_failures.csv"; do
        check_all "$n: no C1 escape (CSI) in ${file##*/ctl}" \
            '! LC_ALL=C grep -q -e "$(printf "\302\233")" -e "$(printf "\233")2J" "$file"'
    done
    check_all "$n: the HTML has no live <script> from the server" '! grep -qi "<script>alert" "$r.html"'
    check "$n: the JSON report parses" jqe . "$r.json"
    check "$n: every failure log line parses" jqe -s 'length > 0' "$r.failures.jsonl"
    check "$n: the failure log keeps the body, escaped" \
        jqe -s 'any(.[]; (.response_body // "") | contains("\u001b[2J"))' "$r.failures.jsonl"
else
    not_ok "$n: the fault server starts"
fi
