#!/usr/bin/env bash
# End-to-end tests of hopper-target over TLS and HTTP/2: the real binary on a
# loopback port with certificates from tests/tls/make-certs, driven by curl,
# h2load and nghttp (Debian: curl, nghttp2-client). Each check compares what
# a client saw with the target's exit report (h2load's "N succeeded" with
# "requests answered: N", and so on). Every client call has a time limit and
# the script runs under `timeout`; no check has a timing upper bound.

# Re-run this script under a hard time limit of its own.
if [ -z "${TARGET_TLS_SH_TIMED:-}" ]; then
    export TARGET_TLS_SH_TIMED=1
    exec timeout -k 5 180 bash "$0" "$@"
fi

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'not_ok "target_tls: script ran past its time limit"; exit 124' TERM

if [ ! -x "$HOPPER_TARGET" ]; then
    not_ok "target_tls: binary exists" "$HOPPER_TARGET not built"
    exit 1
fi
missing=""
for tool in curl h2load nghttp openssl; do
    command -v "$tool" >/dev/null || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    # `make test` installs these (TEST_DEB_PKGS): missing is a failure, not a skip.
    not_ok "target_tls: tools installed" "missing:$missing (apt-get install curl nghttp2-client openssl)"
    exit 1
fi

# --- the certificates ---------------------------------------------------------
C="$T/certs"
CERTS=(ca.crt ca.key server.crt server.key selfsigned.crt selfsigned.key expired.crt expired.key
       wronghost.crt wronghost.key otherca.crt unknownca.crt unknownca.key client.crt client.key)
"$TOP/tests/tls/make-certs" "$C" >"$T/certs.out" 2>&1
rc=$?
all=true
for f in "${CERTS[@]}"; do [ -s "$C/$f" ] || all=false; done
check "make-certs: makes every file, quietly (status $rc, output: $(head -c 200 "$T/certs.out"))" \
    [ "$rc" = 0 -a "$all" = true -a ! -s "$T/certs.out" ]
before=$(cat "$C/server.crt" "$C/ca.crt" | md5sum)
"$TOP/tests/tls/make-certs" "$C" >"$T/certs2.out" 2>&1
check "make-certs: a second run keeps what is there" \
    [ "$?" = 0 -a "$before" = "$(cat "$C/server.crt" "$C/ca.crt" | md5sum)" ]
check "make-certs: server.crt verifies against ca.crt for 127.0.0.1" \
    bash -c "openssl verify -CAfile '$C/ca.crt' -verify_ip 127.0.0.1 '$C/server.crt' >/dev/null 2>&1"
check "make-certs: expired.crt has expired" \
    bash -c "openssl verify -CAfile '$C/ca.crt' '$C/expired.crt' 2>&1 | grep -q 'has expired'"
check "make-certs: wronghost.crt does not name 127.0.0.1" \
    bash -c "! openssl verify -CAfile '$C/ca.crt' -verify_ip 127.0.0.1 '$C/wronghost.crt' >/dev/null 2>&1"
check "make-certs: unknownca.crt and selfsigned.crt do not verify against ca.crt" \
    bash -c "! openssl verify -CAfile '$C/ca.crt' '$C/unknownca.crt' >/dev/null 2>&1 &&
             ! openssl verify -CAfile '$C/ca.crt' '$C/selfsigned.crt' >/dev/null 2>&1"
check "make-certs: client.crt is for client authentication" \
    bash -c "openssl x509 -in '$C/client.crt' -noout -ext extendedKeyUsage | grep -q 'Client Authentication'"

CURL=(curl -s --max-time 5 --cacert "$C/ca.crt")
TLS=(--tls "$C/server.crt" "$C/server.key")

# h2load's counts: h2load_field OUT succeeded|failed|errored
h2load_field() { sed -n "s/^requests: .* \([0-9][0-9]*\) $2.*/\1/p" "$1" | head -n 1; }
h2load_run() { # OUT ARGS...
    local out="$1"; shift
    timeout -k 2 30 h2load "$@" >"$out" 2>&1
}
target_reset_count() { sed -n 's/^requests reset: \([0-9]*\)$/\1/p' "$TARGET_OUT"; }
target_dropped() { sed -n 's/^connections dropped: \([0-9]*\)$/\1/p' "$TARGET_OUT"; }
target_accepted() { sed -n 's/^connections accepted: \([0-9]*\)$/\1/p' "$TARGET_OUT"; }

# --- HTTP/1.1 over TLS --------------------------------------------------------
target_start "${TLS[@]}" || exit 1
S="https://127.0.0.1:$TARGET_PORT"
# One curl, five URLs: keep-alive over one TLS connection.
urls=()
for u in status status api/id/tt0068646 api/title/Heat/1995 nope; do urls+=(-o /dev/null "$S/$u"); done
out=$("${CURL[@]}" --http1.1 -w '%{http_version} %{http_code}\n' "${urls[@]}")
check "tls h1: five requests on one connection, HTTP/1.1 (got: $(echo $out))" \
    [ "$out" = "$(printf '1.1 200\n1.1 200\n1.1 200\n1.1 200\n1.1 404')" ]
body=$("${CURL[@]}" --http1.1 "$S/status")
check "tls h1: /status body" [ "$body" = '{"status":"OK"}' ]
h2load_run "$T/h1.out" --h1 -n 1000 -c 10 "$S/status"
h1_ok=$(h2load_field "$T/h1.out" succeeded)
check "tls h1: h2load --h1 -n 1000 -c 10: all succeeded (got ${h1_ok:-none})" [ "${h1_ok:-0}" = 1000 ]
target_stop_checked "tls h1"
check "tls h1: target counted 1003 GET /status (got $(target_count "GET /status"))" \
    [ "$(target_count "GET /status")" = 1003 ]
check "tls h1: target counted the other routes once each" \
    [ "$(target_count "GET /api/id/tt0068646")" = 1 -a "$(target_count "GET /api/title/Heat/1995")" = 1 \
      -a "$(target_count "GET /nope")" = 1 ]
check "tls h1: connections accepted = 1 (curl, kept alive) + 10 (h2load) + 1 (got $(target_accepted))" \
    [ "$(target_accepted)" = 12 ]

# --- HTTP/2 over TLS (ALPN) ---------------------------------------------------
target_start "${TLS[@]}" || exit 1
S="https://127.0.0.1:$TARGET_PORT"
out=$("${CURL[@]}" --http2 -w '%{http_version} %{http_code}' -o "$T/h2.body" "$S/api/id/tt0068646")
check "tls h2: curl --http2 gets HTTP/2 by ALPN (got: $out)" [ "$out" = "2 200" ]
check "tls h2: the body is the movie list" grep -q '"similarity":0.9' "$T/h2.body"
"${CURL[@]}" --http2 -i -X POST "$S/status" >"$T/h2-405" 2>&1
check "tls h2: POST /status is 405 with allow: GET, HEAD" \
    bash -c "grep -q '^HTTP/2 405' '$T/h2-405' && grep -qi '^allow: GET, HEAD' '$T/h2-405'"
"${CURL[@]}" --http2 -I "$S/status" >"$T/h2-head" 2>&1
check "tls h2: HEAD /status has content-length 15 and no connection header" \
    bash -c "grep -qi '^content-length: 15' '$T/h2-head' && ! grep -qi '^connection:' '$T/h2-head'"
h2load_run "$T/h2.out" -n 1000 -c 10 "$S/status"
h2_ok=$(h2load_field "$T/h2.out" succeeded)
check "tls h2: h2load -n 1000 -c 10 speaks h2 and all succeeded (got ${h2_ok:-none})" \
    bash -c "grep -q 'Application protocol: h2' '$T/h2.out' && [ '${h2_ok:-0}' = 1000 ]"
h2load_run "$T/h2m.out" -n 2000 -c 4 -m 20 "$S/api/id/tt0099685"
h2m_ok=$(h2load_field "$T/h2m.out" succeeded)
check "tls h2: h2load -m 20 (multiplexed): all succeeded (got ${h2m_ok:-none})" [ "${h2m_ok:-0}" = 2000 ]
target_stop_checked "tls h2"
check "tls h2: target counts equal h2load's (GET /status $(target_count "GET /status"), movie $(target_count "GET /api/id/tt0099685"))" \
    [ "$(target_count "GET /status")" = 1000 -a "$(target_count "GET /api/id/tt0099685")" = 2000 \
      -a "$(target_count "POST /status")" = 1 -a "$(target_count "HEAD /status")" = 1 ]

# --- h2c: HTTP/2 with prior knowledge on the plain port -----------------------
target_start || exit 1
P="http://127.0.0.1:$TARGET_PORT"
out=$(curl -s --max-time 5 --http2-prior-knowledge -w ' %{http_version}' "$P/status")
check "h2c: curl --http2-prior-knowledge gets HTTP/2 (got: $out)" [ "$out" = '{"status":"OK"} 2' ]
out=$(curl -s --max-time 5 --http1.1 -w ' %{http_version}' "$P/status")
check "h2c: the same port still speaks HTTP/1.1 (got: $out)" [ "$out" = '{"status":"OK"} 1.1' ]
h2load_run "$T/h2c.out" -n 1000 -c 10 "$P/status"
h2c_ok=$(h2load_field "$T/h2c.out" succeeded)
check "h2c: h2load (h2c) -n 1000 -c 10: all succeeded (got ${h2c_ok:-none})" \
    bash -c "grep -q 'Application protocol: h2c' '$T/h2c.out' && [ '${h2c_ok:-0}' = 1000 ]"
target_stop_checked "h2c"
check "h2c: target counted 1002 GET /status (got $(target_count "GET /status"))" \
    [ "$(target_count "GET /status")" = 1002 ]

# --- the login flow over HTTP/2 -----------------------------------------------
target_start "${TLS[@]}" || exit 1
S="https://127.0.0.1:$TARGET_PORT"
login=$("${CURL[@]}" --http2 -X POST -H 'Content-Type: application/json' \
        -d '{"user": "user007", "password": "pass007"}' "$S/login")
token=$(sed -n 's/.*"token": "\([0-9a-f]\{32\}\)".*/\1/p' <<<"$login")
check "h2 login: POST /login gives a token (got: $login)" [ -n "$token" ]
page=$("${CURL[@]}" --http2 -w ' %{http_code}' -H "Authorization: Bearer $token" "$S/api/movies?page=3")
check "h2 login: the bearer token opens /api/movies?page=3" \
    bash -c "grep -q '\"page\": 3' <<<'$page' && grep -q ' 200\$' <<<'$page'"
movie=$("${CURL[@]}" --http2 -w ' %{http_code}' -b "a=1; session=$token" "$S/api/movie/tt0000042")
check "h2 login: the session cookie opens /api/movie/tt0000042 (got: ${movie: -3})" [ "${movie: -3}" = 200 ]
bad=$("${CURL[@]}" --http2 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer 0123" "$S/api/movies")
check "h2 login: a bad token is 401 (got $bad)" [ "$bad" = 401 ]
out=$("${CURL[@]}" --http2 -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" "$S/logout")
after=$("${CURL[@]}" --http2 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$S/api/movies")
check "h2 login: logout is 200, then the token is refused (got $out, $after)" [ "$out" = 200 -a "$after" = 401 ]
target_stop_checked "h2 login"
check "h2 login: target's login-flow counters" \
    bash -c "grep -qx 'tokens issued: 1' '$TARGET_OUT' && grep -qx 'token ok: 3' '$TARGET_OUT' &&
             grep -qx 'token bad: 2' '$TARGET_OUT' && grep -qx 'logouts: 1' '$TARGET_OUT'"

# --- --workers 2 with TLS -----------------------------------------------------
target_start --workers 2 "${TLS[@]}" || exit 1
S="https://127.0.0.1:$TARGET_PORT"
h2load_run "$T/w2.out" -n 1000 -c 10 "$S/status"
h2load_run "$T/w1.out" --h1 -n 1000 -c 10 "$S/api/id/tt1"
w2_ok=$(h2load_field "$T/w2.out" succeeded)
w1_ok=$(h2load_field "$T/w1.out" succeeded)
target_stop_checked "workers tls"
check "workers tls: h2 and h1 all succeeded (got ${w2_ok:-none}, ${w1_ok:-none})" \
    [ "${w2_ok:-0}" = 1000 -a "${w1_ok:-0}" = 1000 ]
check "workers tls: merged report counts equal (got $(target_count "GET /status"), $(target_count "GET /api/id/tt1"))" \
    [ "$(target_count "GET /status")" = 1000 -a "$(target_count "GET /api/id/tt1")" = 1000 ]

# --- fault modes --------------------------------------------------------------
# GOAWAY after 3 requests: nghttp sees it; h2load's clients, which do not
# reconnect, each get exactly 3 answers.
target_start "${TLS[@]}" --h2-goaway 3 || exit 1
S="https://127.0.0.1:$TARGET_PORT"
timeout 10 nghttp -v -n "$S/api/id/1" "$S/api/id/2" "$S/api/id/3" "$S/api/id/4" "$S/api/id/5" >"$T/goaway.nghttp" 2>&1
# nghttp's requests are its HEADERS frames (its first streams are idle ones
# for priorities, so the ids do not start at 1).
third=$(sed -n 's/.*send HEADERS frame <.*stream_id=\([0-9]*\)>.*/\1/p' "$T/goaway.nghttp" | sed -n 3p)
check "h2-goaway: nghttp sees GOAWAY NO_ERROR naming the third request's stream (${third:-none})" \
    bash -c "grep -A1 'recv GOAWAY' '$T/goaway.nghttp' | grep -q 'last_stream_id=${third:-x}, error_code=NO_ERROR'"
check "h2-goaway: the later streams are refused" grep -q 'REFUSED_STREAM' "$T/goaway.nghttp"
h2load_run "$T/goaway.out" -n 100 -c 2 "$S/status"
g_ok=$(h2load_field "$T/goaway.out" succeeded)
target_stop_checked "h2-goaway"
check "h2-goaway: h2load -c 2 got 2 x 3 answers (got ${g_ok:-none})" [ "${g_ok:-0}" = 6 ]
check "h2-goaway: target answered 3 + 6 (got $(target_total))" [ "$(target_total)" = 9 ]

target_start "${TLS[@]}" --h2-rst-rate 0.3 --seed 7 || exit 1
S="https://127.0.0.1:$TARGET_PORT"
h2load_run "$T/rst.out" -n 1000 -c 10 "$S/status"
r_ok=$(h2load_field "$T/rst.out" succeeded)
r_failed=$(h2load_field "$T/rst.out" failed)
target_stop_checked "h2-rst-rate"
check "h2-rst-rate: some reset, some answered (h2load: ${r_ok:-none} succeeded, ${r_failed:-none} failed)" \
    [ "${r_ok:-0}" -gt 0 -a "${r_failed:-0}" -gt 0 -a "$((${r_ok:-0} + ${r_failed:-0}))" = 1000 ]
check "h2-rst-rate: target's reset = h2load's failed, answered = succeeded (reset $(target_reset_count), answered $(target_total))" \
    [ "$(target_reset_count)" = "${r_failed:-x}" -a "$(target_total)" = "${r_ok:-x}" ]

target_start "${TLS[@]}" --fail-rate 0.2 --seed 3 || exit 1
S="https://127.0.0.1:$TARGET_PORT"
h2load_run "$T/fail.out" -n 1000 -c 10 "$S/status"
f_5xx=$(sed -n 's/^status codes: .* \([0-9][0-9]*\) 5xx$/\1/p' "$T/fail.out")
f_done=$(h2load_field "$T/fail.out" done)
target_stop_checked "h2 fail-rate"
check "h2 fail-rate: some 500s, every request answered and counted (5xx ${f_5xx:-none}, done ${f_done:-none}, answered $(target_total))" \
    [ "${f_5xx:-0}" -gt 0 -a "${f_done:-0}" = 1000 -a "$(target_total)" = 1000 ]

target_start "${TLS[@]}" --delay 2ms-10ms || exit 1
S="https://127.0.0.1:$TARGET_PORT"
h2load_run "$T/delay.out" -n 400 -c 4 -m 10 "$S/status"
d_ok=$(h2load_field "$T/delay.out" succeeded)
target_stop_checked "h2 delay"
check "h2 delay: multiplexed delayed answers all arrive and count (${d_ok:-none}, $(target_total))" \
    [ "${d_ok:-0}" = 400 -a "$(target_total)" = 400 ]

# close-rate on HTTP/2: GOAWAY, then close; what h2load got is what was answered.
target_start "${TLS[@]}" --close-rate 0.05 --seed 5 || exit 1
S="https://127.0.0.1:$TARGET_PORT"
h2load_run "$T/close.out" -n 1000 -c 10 "$S/status"
c_ok=$(h2load_field "$T/close.out" succeeded)
target_stop_checked "h2 close-rate"
check "h2 close-rate: connections dropped, answered = h2load's succeeded (${c_ok:-none}, $(target_total), dropped $(target_dropped))" \
    [ "$(target_dropped)" -gt 0 -a "$(target_total)" = "${c_ok:-x}" ]

# close_notify: by default the server's close of a TLS connection (here
# --close-rate 1, every request) carries one; --tls-no-close-notify not.
target_start "${TLS[@]}" --close-rate 1 || exit 1
"${CURL[@]}" -v --http1.1 "https://127.0.0.1:$TARGET_PORT/status" >"$T/notify.on" 2>&1
target_stop_checked "close_notify"
target_start "${TLS[@]}" --close-rate 1 --tls-no-close-notify || exit 1
"${CURL[@]}" -v --http1.1 "https://127.0.0.1:$TARGET_PORT/status" >"$T/notify.off" 2>&1
target_stop_checked "tls-no-close-notify"
check "close_notify: sent by default when the server closes" grep -q '(IN), TLS alert, close notify' "$T/notify.on"
check "close_notify: not sent with --tls-no-close-notify" \
    bash -c "grep -q 'Empty reply' '$T/notify.off' && ! grep -q '(IN), TLS alert, close notify' '$T/notify.off'"

# --- what is not TLS on the TLS port ------------------------------------------
target_start "${TLS[@]}" || exit 1
S="https://127.0.0.1:$TARGET_PORT"
curl -s --max-time 5 "http://127.0.0.1:$TARGET_PORT/status" >"$T/plain.body" 2>&1
plain_rc=$?
timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"; printf "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" >&3; cat <&3 >/dev/null' \
    x "$TARGET_PORT"
after=$("${CURL[@]}" --http2 "$S/status")
target_stop_checked "plain on tls"
check "plain on tls: a plain-HTTP client gets no answer (curl status $plain_rc)" \
    [ "$plain_rc" -ne 0 -a ! -s "$T/plain.body" ]
check "plain on tls: the target serves on afterwards (got: $after)" [ "$after" = '{"status":"OK"}' ]
check "plain on tls: nothing counted but the one good request (got $(target_total))" [ "$(target_total)" = 1 ]

# --- bad --tls arguments: a clear message naming the file, status 2 -------------
tls_opt() { # NAME EXPECTED-TEXT ARGS...
    local name="$1" want="$2"; shift 2
    timeout 5 "$HOPPER_TARGET" --port 0 "$@" >"$T/opt.out" 2>"$T/opt.err"
    local rc=$?
    if [ "$rc" = 2 ] && grep -qF -- "$want" "$T/opt.err" && ! grep -q '^listening' "$T/opt.out"; then
        ok "options: $name"
    else
        not_ok "options: $name" "status $rc, stderr: $(head -c 300 "$T/opt.err")"
    fi
}
tls_opt "--tls with a missing certificate names it" "$T/no-such.crt" --tls "$T/no-such.crt" "$C/server.key"
tls_opt "--tls with a missing key names it" "$T/no-such.key" --tls "$C/server.crt" "$T/no-such.key"
tls_opt "--tls with a key that is not the certificate's names the key" "$C/client.key" --tls "$C/server.crt" "$C/client.key"
tls_opt "--tls with a key as the certificate names it" "$C/server.key" --tls "$C/server.key" "$C/server.key"
tls_opt "--tls with one file" "--tls needs two files" --tls "$C/server.crt"
tls_opt "--tls-no-close-notify without --tls" "needs --tls" --tls-no-close-notify
tls_opt "--h2-goaway 0" "--h2-goaway" --h2-goaway 0
tls_opt "--h2-rst-rate 2" "--h2-rst-rate" --h2-rst-rate 2
timeout 5 "$HOPPER_TARGET" --help >"$T/help" 2>&1
check "options: --help names --tls, --h2-goaway, --h2-rst-rate, --tls-no-close-notify" \
    bash -c "grep -q -- '--tls CERT KEY' '$T/help' && grep -q -- '--h2-goaway N' '$T/help' &&
             grep -q -- '--h2-rst-rate F' '$T/help' && grep -q -- '--tls-no-close-notify' '$T/help'"

check "target_tls: every run exited 0 after SIGTERM, nothing on stderr${BAD_EXITS:+:$BAD_EXITS}" \
    [ -z "$BAD_EXITS" ]
