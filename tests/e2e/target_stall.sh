#!/usr/bin/env bash
# End-to-end tests of hopper-target --stall S --stall-every P: the real
# binary, driven by curl and by raw bytes over bash's /dev/tcp. The windows
# are read from the target's second line ("... the first at unix T") and
# the wall clock (date +%s.%N). A request sent inside a window must wait for
# its end (at least 60% of what was left of it: machines are noisy, and
# curl's own start is counted against us); one sent outside must be answered
# within a second. No check has a timing upper bound tighter than that, and
# the script runs under `timeout`.

# Re-run this script under a hard time limit of its own.
if [ -z "${TARGET_STALL_SH_TIMED:-}" ]; then
    export TARGET_STALL_SH_TIMED=1
    exec timeout -k 5 120 bash "$0" "$@"
fi

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'not_ok "target_stall: script ran past its time limit"; exit 124' TERM

if [ ! -x "$HOPPER_TARGET" ]; then
    not_ok "target_stall: binary exists" "$HOPPER_TARGET not built"
    exit 1
fi
# The checks below choose HTTP/1.1, HTTP/2 and TLS themselves: tests/run's
# TLS pass does not apply.
TARGET_TLS_ARGS=()
CURL=(curl -s --max-time 20)

now() { date +%s.%N; }
sleep_until() { # sleeps until the wall-clock time $1
    sleep "$(awk -v t="$1" -v n="$(now)" 'BEGIN { d = t - n; printf "%.3f", (d > 0 ? d : 0) }')"
}
plus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a + b }'; }
first_window() { sed -n 's/^stall .*, the first at unix \([0-9][0-9]*\.[0-9]*\)$/\1/p' "$TARGET_OUT" | head -n 1; }

# timed OUT ARGS...: one curl; OUT gets "SENT LATENCY CODE" (SENT is the
# wall clock just before curl starts, so a little early: that only makes
# the checks stricter).
timed() {
    local out="$1" t0; shift
    t0=$(now)
    "${CURL[@]}" -o /dev/null -w "$t0 %{time_total} %{http_code}\n" "$@" >"$out" 2>/dev/null ||
        echo "$t0 - failed" >"$out"
}

# waited NAME OUT END [DELAY]: the request of OUT, sent inside a window
# ending at END, was answered 200 no sooner than DELAY (the --delay, 0 by
# default) plus 60% of what was left of the window once that delay was up.
waited() {
    local name="$1" out="$2" end="$3" delay="${4:-0}" why
    why=$(awk -v end="$end" -v delay="$delay" '
        { sent = $1; lat = $2; code = $3 }
        END {
            left = end - (sent + delay)
            if (code != 200) { printf "status %s", code; exit }
            if (left < 0.5) { printf "sent too late to tell (%.3f s of the window left)", left; exit }
            if (lat < delay + 0.6 * left) printf "answered after %.3f s, %.3f s of the window were left", lat, left
        }' "$out")
    check "target_stall: $name waits for the window's end${why:+ ($why)}" [ -z "$why" ]
}

# at_once NAME OUT: answered 200 within a second.
at_once() {
    local why
    why=$(awk '{ if ($3 != 200) printf "status %s", $3; else if ($2 >= 1.0) printf "took %.3f s", $2 }' "$2")
    check "target_stall: $1 is answered at once${why:+ ($why)}" [ -z "$why" ]
}

# outside NAME FIRST: there is still more than a second before the first window.
outside() {
    check "target_stall: $1 (more than a second before the first window)" \
        awk -v f="$2" -v n="$(now)" 'BEGIN { exit !(f - n > 1.0) }'
}

# --- HTTP/1.1, h2c and a kept-alive connection ------------------------------------
# Windows of 2 s at the end of each 5 s: [3 s, 5 s) after start, [8 s, 10 s), ...
target_start --stall 2s --stall-every 5s || exit 1
F=$(first_window)
check "target_stall: the second line gives the schedule ($(sed -n 2p "$TARGET_OUT"))" \
    bash -c "sed -n 2p '$TARGET_OUT' | grep -qE '^stall 2\.000 s every 5\.000 s, the first at unix [0-9]+\.[0-9]{6}$'"
if [ -z "$F" ]; then
    not_ok "target_stall: no schedule line" "$(head -c 300 "$TARGET_OUT")"
    exit 1
fi
check "target_stall: the first window begins P - S after start" \
    awk -v f="$F" -v n="$(now)" 'BEGIN { exit !(f - n > 2.0 && f - n <= 3.0) }'
outside "a request before the first window" "$F"
timed "$T/before" "$TARGET_URL/status"
at_once "a request before the first window" "$T/before"

# A connection made (and used) before the window, written to inside it.
len=$("${CURL[@]}" -i "$TARGET_URL/status" | wc -c) # the answer's exact size
REQ='GET /status HTTP/1.1\r\nHost: x\r\n\r\n'
exec 3<>"/dev/tcp/127.0.0.1/$TARGET_PORT"
printf "$REQ" >&3
IFS= read -r -t 5 -N "$len" resp <&3
check "target_stall: the kept connection is answered before the window" [ "${resp:0:12}" = "HTTP/1.1 200" ]
kept() { # OUT: one request on fd 3, timed like `timed`
    local t0 t1 r=""
    t0=$(now)
    printf "$REQ" >&3
    IFS= read -r -t 15 -N "$len" r <&3
    t1=$(now)
    awk -v a="$t0" -v b="$t1" -v ok="${r:0:12}" \
        'BEGIN { printf "%s %.6f %s\n", a, b - a, ok == "HTTP/1.1 200" ? 200 : "none" }' >"$1"
}

sleep_until "$(plus "$F" 0.3)"
timed "$T/h1" "$TARGET_URL/status" &
p1=$!
timed "$T/h2c" --http2-prior-knowledge "$TARGET_URL/status" &
p2=$!
kept "$T/kept" &
p3=$!
wait "$p1" "$p2" "$p3"
END=$(plus "$F" 2)
waited "a new HTTP/1.1 connection in the window" "$T/h1" "$END"
waited "an h2c request in the window" "$T/h2c" "$END"
waited "a kept-alive connection written to in the window" "$T/kept" "$END"

sleep_until "$(plus "$F" 2.3)"
timed "$T/after" "$TARGET_URL/status"
at_once "a request after the window" "$T/after"
kept "$T/kept2"
at_once "the kept-alive connection after the window" "$T/kept2"
exec 3>&-
target_stop_checked "stall"
# 1 before, the size probe, 1 on the kept connection, 3 in the window, 2 after.
check "target_stall: every request is counted once, exactly (8: $(target_count "GET /status"), total $(target_total))" \
    [ "$(target_count "GET /status")" = 8 -a "$(target_total)" = 8 ]

# --- TLS, HTTP/2 over TLS, two workers ------------------------------------------
# Sixteen connections in the window: that both workers got some is then
# all but certain (the kernel hashes each to one), and the report shows it.
C="$T/certs"
if ! "$TOP/tests/tls/make-certs" "$C" >"$T/certs.out" 2>&1; then
    not_ok "target_stall: make-certs" "$(head -c 300 "$T/certs.out")"
    exit 1
fi
TLS_CURL=(--cacert "$C/ca.crt")
target_start --workers 2 --tls "$C/server.crt" "$C/server.key" --stall 2s --stall-every 4s || exit 1
URL="https://127.0.0.1:$TARGET_PORT"
F=$(first_window)
check "target_stall: --workers 2 prints one schedule line" [ "$(grep -c '^stall ' "$TARGET_OUT")" = 1 ]
outside "a TLS request before the first window" "$F"
timed "$T/tls-before" "${TLS_CURL[@]}" "$URL/status"
at_once "a TLS request before the first window" "$T/tls-before"
sleep_until "$(plus "$F" 0.3)"
pids=()
for i in $(seq 1 16); do
    if [ $((i % 2)) = 0 ]; then proto=--http2; else proto=--http1.1; fi
    timed "$T/tls-$i" "${TLS_CURL[@]}" "$proto" "$URL/status" &
    pids+=($!)
done
wait "${pids[@]}"
END=$(plus "$F" 2)
bad=""
for i in $(seq 1 16); do
    why=$(awk -v end="$END" '{ left = end - $1; if ($3 != 200 || left < 0.5 || $2 < 0.6 * left) print $0 }' "$T/tls-$i")
    [ -z "$why" ] || bad="$bad [$i: $why]"
done
check "target_stall: 16 TLS connections (HTTP/1.1 and HTTP/2) in the window, on 2 workers, all wait${bad:+:$bad}" \
    [ -z "$bad" ]
target_stop_checked "stall workers tls"
check "target_stall: --workers counts all 17 requests" \
    [ "$(target_count "GET /status")" = 17 -a "$(target_total)" = 17 ]
check "target_stall: both workers served ($(sed -n 's/^  worker \([0-9]\): \([0-9]*\) conn.*/\1:\2/p' "$TARGET_OUT" | tr '\n' ' '))" \
    [ "$(sed -n 's/^  worker [0-9]*: \([0-9]*\) connections accepted, .*/\1/p' "$TARGET_OUT" | awk '$1 > 0' | wc -l)" = 2 ]

# --- --delay: an answer due inside the window waits for its end ----------------
# Window [2 s, 4 s) after start; sent 0.5 s before it, due 0.5 s into it.
target_start --delay 1s --stall 2s --stall-every 4s || exit 1
F=$(first_window)
sleep_until "$(plus "$F" -0.5)"
timed "$T/d-h1" "$TARGET_URL/status" &
p1=$!
timed "$T/d-h2c" --http2-prior-knowledge "$TARGET_URL/status" &
p2=$!
wait "$p1" "$p2"
END=$(plus "$F" 2)
waited "an HTTP/1.1 answer delayed into the window" "$T/d-h1" "$END" 1
waited "an h2c answer delayed into the window" "$T/d-h2c" "$END" 1
target_stop_checked "stall delay"
check "target_stall: the delayed answers are counted (2)" [ "$(target_total)" = 2 ]

# --- a stop signal is not held up by a stall ----------------------------------
# A 20 s window from 1 s after start; SIGTERM half a second into it.
target_start --workers 2 --stall 20s --stall-every 21s || exit 1
F=$(first_window)
sleep_until "$(plus "$F" 0.5)"
"${CURL[@]}" -o /dev/null "$TARGET_URL/status" 2>/dev/null &
held=$!
sleep 0.2
t0=$SECONDS
target_stop_checked "stop in a stall"
took=$((SECONDS - t0))
check "target_stall: SIGTERM in a 20 s window stops --workers 2 at once (${took} s), status 0" \
    [ "$took" -le 10 ]
wait "$held" 2>/dev/null
check "target_stall: ... and prints its report" grep -q '^requests answered: 0$' "$TARGET_OUT"

# --quiet: the listening line only.
target_start --quiet --stall 1s --stall-every 2s || exit 1
target_stop_checked "stall quiet"
check "target_stall: --quiet prints only the listening line" [ "$(wc -l <"$TARGET_OUT")" = 1 ]

# --- options ---------------------------------------------------------------------
bad_option() { # text args...: exits 2 and says text on stderr
    local text="$1"; shift
    timeout 5 "$HOPPER_TARGET" --port 0 "$@" >/dev/null 2>"$T/opt.err"
    local rc=$?
    if [ "$rc" = 2 ] && grep -q -- "$text" "$T/opt.err"; then
        ok "target_stall: $* exits 2 naming the problem"
    else
        not_ok "target_stall: $* exits 2 naming the problem" "status $rc: $(head -c 200 "$T/opt.err")"
    fi
}
bad_option "--stall needs --stall-every" --stall 1s
bad_option "--stall-every needs --stall" --stall-every 10s
bad_option "--stall: '0': must be more than 0" --stall 0 --stall-every 10s
bad_option "--stall-every: '0s': must be more than 0" --stall 1s --stall-every 0s
bad_option "shorter than the period" --stall 10s --stall-every 10s
bad_option "shorter than the period" --stall 11s --stall-every 10s
bad_option "--stall: '1parsec': unknown unit" --stall 1parsec --stall-every 10s
bad_option "--stall: '1s-2s': one duration, not a range" --stall 1s-2s --stall-every 10s
bad_option "--stall: '-1s': a duration cannot be negative" --stall -1s --stall-every 10s
bad_option "--stall-every: '2h'" --stall 1s --stall-every 2h
bad_option "--stall-every: '3601s': longer than an hour" --stall 1s --stall-every 3601s
bad_option "option '--stall' needs a value" --stall

check "target_stall: every run exited 0 after SIGTERM, nothing on stderr${BAD_EXITS:+:$BAD_EXITS}" \
    [ -z "$BAD_EXITS" ]
