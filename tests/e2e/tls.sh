# HTTPS and HTTP/2 when things go wrong (issue 12, "Reliability"): bad
# certificates, a client certificate the server requires, a handshake that
# stalls, plain HTTP on the TLS port, a close without close_notify, a
# renegotiation, a 1 MiB header block, HTTP/2 GOAWAY and RST_STREAM, --http2
# against a server without h2; and request counts against nginx. Each case
# runs with both HTTP clients (--http-client curl and native): a failure must
# be one error row with its clear text, every request counted and equal to
# what the server saw, within the timeout (no hang); what must pass, passes.
# A case a client cannot serve yet (hopper's own client without https://, an
# option not there yet) is reported as skipped with the reason, never passed.
#
# The servers: tests/tools/faultserver's tls-* modes (TLS with a certificate
# given to it, counts of connections, handshakes and requests), its silent
# mode (a handshake that stalls), hopper-target (plain, and --tls with its
# HTTP/2 faults once it has them) and nginx (lib.sh's nginx_start).
# Certificates: tests/tls/make-certs when it is there, else made here.
. "$(dirname "$0")/lib.sh"

. "$TOP/tests/tools/faultserver.sh"
# This script sets up TLS itself, case by case: lib.sh's TLS pass
# (HOPPER_TLS, which adds --tls to every target and --cacert to every run)
# does not apply here.
HOPPER_TLS=""
HOPPER_TLS_ARGS=""
TARGET_TLS_ARGS=()
cleanup_tls() {
    nginx_stop
    cleanup_faultserver
}
trap cleanup_tls EXIT

for tool in openssl jq nginx; do
    command -v "$tool" >/dev/null || { not_ok "tls: $tool is installed (make test-deps)"; exit 1; }
done
if [ ! -x "$FAULTSERVER" ]; then
    not_ok "tls: $FAULTSERVER is missing (make $FAULTSERVER)"
    exit 1
fi
CLIENTS="${TLS_CLIENTS:-curl native}"

check_all() { local n="$1"; shift; if eval "$1"; then ok "$n"; else not_ok "$n"; fi; }
jget() { jq -r "$2" "$1" 2>/dev/null; }
# The rows of the summary's error report ("N | METHOD NAME: ERROR").
error_rows() {
    awk '/^Error report/ { on = 1; next } on && /^Run: / { exit }
         on && /^[0-9]+ +\| / { print }' "$1"
}

# ---- certificates ----------------------------------------------------------------
# NAME.crt and NAME.key for: ca (the test CA), server (127.0.0.1 and
# localhost, signed by ca), expired (the same, expired), wronghost (only
# wrong.example), selfsigned, unknownca (signed by otherca, a CA nobody
# trusts) and client (a client certificate signed by ca).
C="$T/certs"
CERT_NAMES="ca server expired wronghost selfsigned unknownca client"
certs_complete() { local c; for c in $CERT_NAMES; do [ -s "$C/$c.crt" ] && [ -s "$C/$c.key" ] || return 1; done; }
make_certs_inline() {
    rm -rf "$C"; mkdir -p "$C"
    (
        set -e
        cd "$C"
        for ca in ca otherca; do
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hopper test $ca" \
                -keyout $ca.key -out $ca.crt \
                -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
        done
        leaf() { # NAME CA DAYS CN SAN USAGE
            openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$4" -keyout "$1.key" -out "$1.csr"
            printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=%s\n' "$5" "$6" >"$1.ext"
            openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days "$3" \
                -extfile "$1.ext" -out "$1.crt"
        }
        leaf server ca 2 localhost "IP:127.0.0.1,DNS:localhost" serverAuth
        # -days -1: not after is a day before not before, which is now.
        leaf expired ca -1 localhost "IP:127.0.0.1,DNS:localhost" serverAuth
        leaf wronghost ca 2 wrong.example "DNS:wrong.example" serverAuth
        leaf unknownca otherca 2 localhost "IP:127.0.0.1,DNS:localhost" serverAuth
        leaf client ca 2 "hopper test client" "DNS:client.example" clientAuth
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
            -keyout selfsigned.key -out selfsigned.crt -addext subjectAltName=IP:127.0.0.1,DNS:localhost
    ) >"$T/certs.log" 2>&1
}
if [ -x "$TOP/tests/tls/make-certs" ] && "$TOP/tests/tls/make-certs" "$C" >"$T/certs.log" 2>&1 && certs_complete; then
    echo "# certificates: tests/tls/make-certs"
else
    make_certs_inline
    echo "# certificates: made here (tests/tls/make-certs is not there, or made other names)"
fi
if ! certs_complete; then
    not_ok "tls: the test certificates are made" "$(tail -n 5 "$T/certs.log" | tr '\n' ' ')"
    exit 1
fi
check "tls: the expired certificate is expired" \
    bash -c "openssl verify -CAfile '$C/ca.crt' '$C/expired.crt' 2>&1 | grep -q 'certificate has expired'"

# ---- what this hopper and hopper-target can do -------------------------------------
HELP=$("$HOPPER" --help 2>&1)
TARGET_HELP=$("$HOPPER_TARGET" --help 2>&1)
has_opt() { grep -q -- "$1\b" <<<"$HELP"; }
# need_opt NAME OPTION...: NAME fails (returns 1) when hopper lacks one: every
# option here is hopper's, so a missing one is a defect, not a reason to skip.
need_opt() {
    local n="$1" o; shift
    for o in "$@"; do
        has_opt "$o" || { not_ok "$n" "hopper has no $o"; return 1; }
    done
}

# Does hopper's own client serve https://? One short run against a tls-ok
# server: refused at the start (exit status 2) means no, and every native
# case then fails (it must: hopper's own client serves https://).
NATIVE_HTTPS=no
NATIVE_WHY="hopper's own client does not serve https://"
if fault_start tls-ok --cert "$C/server.crt" --key "$C/server.key"; then
    hf=$(hopperfile probe.hop <<EOF
host = https://127.0.0.1:$FS_PORT
users = 1
[task x]
request = GET /probe
EOF
)
    HOPPER_CLIENT=native hop "$T/probe.out" -f "$hf" -t 1s --only-summary --insecure
    fault_stop
    if [ "$HOP_RC" != 2 ]; then
        NATIVE_HTTPS=yes
    else
        NATIVE_WHY="$NATIVE_WHY ($(grep -m1 'hopper:' "$T/probe.out" | cut -c1-120))"
    fi
fi
echo "# own client serves https://: $NATIVE_HTTPS"

# client_can NAME CLIENT: NAME fails (returns 1) when CLIENT cannot run it.
client_can() {
    if [ "$2" = native ] && [ "$NATIVE_HTTPS" != yes ]; then
        not_ok "$1" "$NATIVE_WHY"
        return 1
    fi
    return 0
}

# How the client trusts the test CA: --cacert when hopper has it.
trust_ca() { if has_opt --cacert; then echo --cacert "$C/ca.crt"; else echo --insecure; fi; }

# ---- one run and its checks ---------------------------------------------------------
# tls_hop NAME CLIENT URL PATH USERS [HOPPER ARGS...]: USERS users doing GET
# PATH with 100 ms between requests, timeout 1s, for 2 s; a stop timeout lets
# the requests in flight end (and count). Sets OUT, REQS, FAILS, MAXMS, TOOK
# and RUN_PATH.
tls_hop() {
    local name="$1" client="$2" url="$3" path="$4" users="$5" hf start
    shift 5
    hf=$(hopperfile "$name.hop" <<EOF
host = $url
users = $users
spawn-rate = 100
wait = constant 100ms
timeout = 1s
[task x]
request = GET $path
EOF
)
    start=$SECONDS
    HOPPER_CLIENT="$client" hop "$T/$name.out" -f "$hf" -t 2s --only-summary --stop-timeout 5s \
        --json "$T/$name.json" "$@"
    TOOK=$((SECONDS - start))
    OUT="$T/$name.out"
    RUN_PATH="$path"
    REQS=$(jget "$T/$name.json" '.aggregated.requests')
    FAILS=$(jget "$T/$name.json" '.aggregated.failures')
    MAXMS=$(jget "$T/$name.json" '.aggregated.max_ms')
    echo "# $name ($client): rc=$HOP_RC reqs=$REQS fails=$FAILS max=${MAXMS}ms took=${TOOK}s"
    error_rows "$OUT" | sed 's/^/#   /'
    [ -s "$T/$name.json" ] || sed 's/^/#   | /' "$OUT" | tail -n 15
}

# row_matches MODE TEXT: the error report is one row, for every failure,
# whose error is TEXT (MODE "is") or matches the extended regex TEXT (MODE
# "like", anchored at both ends).
row_matches() {
    local rows n err
    rows=$(error_rows "$OUT")
    [ -n "$rows" ] && [ "$(wc -l <<<"$rows")" = 1 ] || return 1
    n=$(sed 's/ *|.*//' <<<"$rows")
    err=${rows#*| GET "$RUN_PATH": }
    [ "$n" = "$FAILS" ] && [ "$err" != "$rows" ] || return 1
    if [ "$1" = is ]; then [ "$err" = "$2" ]; else [[ $err =~ ^($2)$ ]]; fi
}

# expect_fail NAME MODE TEXT SERVER_COUNT [MIN_MS MAX_MS]: every request
# failed with one error row (row_matches MODE TEXT), as many as the server
# saw, each within MIN_MS..MAX_MS (default 0..2500: the timeout plus slack),
# and the run ended in time.
expect_fail() {
    local n="$1" mode="$2" text="$3" seen="$4" min_ms="${5:-0}" max_ms="${6:-2500}"
    check "$n: exit status 1" [ "$HOP_RC" = 1 ]
    check "$n: requests were sent" [ "${REQS:-0}" -gt 0 ]
    check "$n: every request failed" [ "${FAILS:-x}" = "${REQS:-y}" ]
    check "$n: one error row: $text" row_matches "$mode" "$text"
    check "$n: hopper's count ($REQS) equals the server's ($seen)" [ "${REQS:-x}" = "$seen" ]
    check_all "$n: each request ended in ${min_ms}-${max_ms} ms (${MAXMS} ms)" \
        'fcmp "${MAXMS:-1e9}" "<=" "$max_ms" && fcmp "${MAXMS:-0}" ">=" "$min_ms"'
    check "$n: the run ended in time (${TOOK}s)" [ "$TOOK" -le 6 ]
}

# expect_pass NAME SERVER_COUNT: every request passed, as many as the server
# answered.
expect_pass() {
    local n="$1" seen="$2"
    check "$n: exit status 0" [ "$HOP_RC" = 0 ]
    check_all "$n: requests were sent, none failed" '[ "${REQS:-0}" -gt 0 ] && [ "$FAILS" = 0 ]'
    check "$n: hopper's count ($REQS) equals the server's ($seen)" [ "${REQS:-x}" = "$seen" ]
    check "$n: the run ended in time (${TOOK}s)" [ "$TOOK" -le 6 ]
}

# tls_server MODE CERT [FAULTSERVER ARGS...]: faultserver in a tls-* mode
# with CERT.crt and CERT.key; sets URL.
tls_server() {
    local mode="$1" cert="$2"
    shift 2
    fault_start "$mode" --cert "$C/$cert.crt" --key "$C/$cert.key" "$@" || return 1
    URL="https://127.0.0.1:$FS_PORT"
}

# ---- certificates that must not be trusted -------------------------------------------
# Verification is on by default; each failure names what is wrong and the way
# out (--insecure), which then passes. No request reaches the server (libcurl
# checks the host name once the handshake is done, OpenSSL during it).
#   bad_cert LABEL CERT REASON NEEDS_CACERT
bad_cert() {
    local label="$1" cert="$2" reason="$3" needs_ca="$4" client n trust
    for client in $CLIENTS; do
        n="tls: $label certificate ($client)"
        client_can "$n" "$client" || continue
        trust=""
        if [ "$needs_ca" = yes ]; then
            # Only a trusted chain gets as far as this check.
            need_opt "$n" --cacert || continue
        fi
        has_opt --cacert && trust="--cacert $C/ca.crt"
        tls_server tls-ok "$cert" || { not_ok "$n: the fault server starts"; continue; }
        # shellcheck disable=SC2086 # two words or none
        tls_hop "$label-$client" "$client" "$URL" /x 3 $trust
        fault_stop
        expect_fail "$n" is "TLS certificate not trusted: $reason (--insecure skips the check)" \
            "$(fs_count "connections accepted")"
        check "$n: the server read no request" [ "$(fs_count "requests seen")" = 0 ]

        n="tls: $label certificate with --insecure ($client)"
        tls_server tls-ok "$cert" || { not_ok "$n: the fault server starts"; continue; }
        # shellcheck disable=SC2086
        tls_hop "$label-insecure-$client" "$client" "$URL" /x 3 $trust --insecure
        fault_stop
        expect_pass "$n" "$(fs_count "requests seen")"
    done
}
bad_cert expired expired "certificate has expired" yes
bad_cert self-signed selfsigned "self-signed certificate" no
bad_cert wrong-host wronghost "host name mismatch" yes
bad_cert unknown-CA unknownca "unknown issuer" no

# The good certificate, trusted through --cacert, verification on.
for client in $CLIENTS; do
    n="tls: --cacert trusts the test CA ($client)"
    client_can "$n" "$client" || continue
    need_opt "$n" --cacert || continue
    tls_server tls-ok server || { not_ok "$n: the fault server starts"; continue; }
    tls_hop "cacert-$client" "$client" "$URL" /x 3 --cacert "$C/ca.crt"
    fault_stop
    expect_pass "$n" "$(fs_count "requests seen")"
    check "$n: one handshake per user (keep-alive)" [ "$(fs_count handshakes)" = 3 ]
done

# ---- a client certificate the server requires ------------------------------------------
# TLS 1.2: the server's refusal is part of the handshake. TLS 1.3: the client
# has finished its side when the alert comes, so either kind is clear enough.
for client in $CLIENTS; do
    for v in 1.2 1.3; do
        n="tls: client certificate required, TLS $v ($client)"
        client_can "$n" "$client" || continue
        need_opt "$n" --cert --key --cacert || continue
        args=(--client-ca "$C/ca.crt"); [ "$v" = 1.2 ] && args+=(--tls12)
        tls_server tls-ok server "${args[@]}" || { not_ok "$n: the fault server starts"; continue; }
        tls_hop "clientcert-none-$v-$client" "$client" "$URL" /x 3 --cacert "$C/ca.crt"
        fault_stop
        if [ "$v" = 1.2 ]; then
            expect_fail "$n: without --cert" is "TLS handshake failed: sslv3 alert handshake failure" \
                "$(fs_count "connections accepted")"
        elif [ "$client" = curl ]; then
            # TLS 1.3: the server's alert comes after libcurl's handshake is
            # done, as a read error without errno, which libcurl's client maps
            # to a malformed response (a known difference, hopper(1)).
            expect_fail "$n: without --cert" is "malformed response" "$(fs_count "connections accepted")"
        else
            expect_fail "$n: without --cert" is "TLS error: tlsv13 alert certificate required" \
                "$(fs_count "connections accepted")"
        fi
        check "$n: without --cert: the server read no request" [ "$(fs_count "requests seen")" = 0 ]
        tls_server tls-ok server "${args[@]}" || { not_ok "$n: the fault server starts"; continue; }
        tls_hop "clientcert-$v-$client" "$client" "$URL" /x 3 --cacert "$C/ca.crt" \
            --cert "$C/client.crt" --key "$C/client.key"
        fault_stop
        expect_pass "$n: with --cert and --key" "$(fs_count "requests seen")"
    done
done

# ---- a handshake that stalls -------------------------------------------------------------
# faultserver's silent mode reads the ClientHello and never answers: the
# request's timeout, one new connection per request.
for client in $CLIENTS; do
    n="tls: stalled handshake ($client)"
    client_can "$n" "$client" || continue
    fault_start silent || { not_ok "$n: the fault server starts"; continue; }
    tls_hop "stall-$client" "$client" "https://127.0.0.1:$FS_PORT" /x 3 --insecure
    fault_stop
    expect_fail "$n" is "timeout after 1s" "$(fs_count "connections accepted")" 1000 2500
    check "$n: the server saw no request" [ "$(fs_count "requests seen")" = 0 ]
done

# ---- plain HTTP on the TLS port ------------------------------------------------------------
# https:// to hopper-target's plain port: it answers the ClientHello as a bad
# HTTP request.
for client in $CLIENTS; do
    n="tls: plain HTTP on the TLS port ($client)"
    client_can "$n" "$client" || continue
    : >"$T/target.out"
    target_start || { not_ok "$n: hopper-target starts"; continue; }
    tls_hop "plain-$client" "$client" "https://127.0.0.1:$TARGET_PORT" /status 3 --insecure
    target_stop
    conns=$(sed -n 's/^connections accepted: \([0-9]*\)$/\1/p' "$TARGET_OUT")
    expect_fail "$n" is "TLS handshake failed: wrong version number" "$conns"
    check "$n: the target read each ClientHello as a malformed request" [ "$(target_count malformed)" = "${REQS:-x}" ]
done

# ---- a close without close_notify ----------------------------------------------------------
# A body delimited by the end of the connection, and the connection closed
# without close_notify: the body may have been cut, and hopper's own client
# says so. libcurl (7.88, OpenSSL 3) reads such an end as the end of the body
# (it sets SSL_OP_IGNORE_UNEXPECTED_EOF), so with it the requests pass. A
# response with Content-Length is complete whatever the close: it passes.
for client in $CLIENTS; do
    n="tls: close without close_notify ($client)"
    client_can "$n" "$client" || continue
    tls_server tls-no-close-notify server || { not_ok "$n: the fault server starts"; continue; }
    tls_hop "nocn-$client" "$client" "$URL" /x 3 --insecure
    fault_stop
    if [ "$client" = curl ]; then
        expect_pass "$n: libcurl cannot tell" "$(fs_count "requests seen")"
    else
        expect_fail "$n" is "TLS connection closed without close_notify" "$(fs_count "requests seen")"
    fi
    n="tls: close without close_notify after Content-Length ($client)"
    tls_server tls-no-close-notify server || { not_ok "$n: the fault server starts"; continue; }
    tls_hop "nocn-length-$client" "$client" "$URL" /length 3 --insecure
    fault_stop
    expect_pass "$n" "$(fs_count "requests seen")"
done

# ---- renegotiation --------------------------------------------------------------------------
# TLS 1.2; the server asks for a new handshake after each request. libcurl
# (OpenSSL's default) renegotiates and gets its answer; hopper's own client
# refuses (no_renegotiation), the server ends the connection with a fatal
# alert: a TLS error, at once, not a timeout.
for client in $CLIENTS; do
    n="tls: renegotiation ($client)"
    client_can "$n" "$client" || continue
    tls_server tls-renegotiate server || { not_ok "$n: the fault server starts"; continue; }
    tls_hop "reneg-$client" "$client" "$URL" /x 3 --insecure
    fault_stop
    done_n=$(fs_count renegotiations); refused_n=$(fs_count "renegotiations refused")
    echo "# renegotiations: $done_n done, $refused_n refused"
    if [ "$client" = curl ]; then
        expect_pass "$n: libcurl renegotiates" "$(fs_count "requests seen")"
        check "$n: one renegotiation per request" [ "$done_n" = "${REQS:-x}" ]
    else
        expect_fail "$n" is "TLS error: sslv3 alert handshake failure" "$(fs_count "requests seen")" 0 900
        check_all "$n: refused, every time" '[ "$refused_n" = "${REQS:-x}" ] && [ "$done_n" = 0 ]'
    fi
done

# ---- a 1 MiB header block ----------------------------------------------------------------------
for client in $CLIENTS; do
    n="tls: 1 MiB header block ($client)"
    client_can "$n" "$client" || continue
    tls_server tls-huge-header server || { not_ok "$n: the fault server starts"; continue; }
    tls_hop "huge-$client" "$client" "$URL" /x 3 --insecure
    fault_stop
    expect_fail "$n" is "malformed response" "$(fs_count "requests seen")"
done

# ---- HTTP/2 ---------------------------------------------------------------------------------------
# --http2 against a server whose ALPN has only http/1.1 (faultserver's tls
# modes never choose h2): a failure of its own kind. hopper's own client
# sends nothing; libcurl falls back to HTTP/1.1 and sends the request, which
# hopper then counts as that failure (hopper(1), --http-client).
for client in $CLIENTS; do
    n="tls: --http2 without h2 on the server ($client)"
    client_can "$n" "$client" || continue
    need_opt "$n" --http2 || continue
    tls_server tls-ok server || { not_ok "$n: the fault server starts"; continue; }
    tls_hop "noh2-$client" "$client" "$URL" /x 3 --insecure --http2
    fault_stop
    if [ "$client" = curl ]; then
        expect_fail "$n" is "the server does not speak HTTP/2 (ALPN chose http/1.1)" "$(fs_count "requests seen")"
    else
        expect_fail "$n" is "the server does not speak HTTP/2 (ALPN chose http/1.1)" "$(fs_count "connections accepted")"
        check "$n: no HTTP/1.1 request was sent" [ "$(fs_count "requests seen")" = 0 ]
    fi
done

# hopper-target --tls with its HTTP/2 faults: RST_STREAM instead of an answer
# for a share of the requests; GOAWAY after N requests on a connection (the
# requests it names as processed are answered; later ones refused, and a
# client may send those again on a new connection).
h2_target_can() { # NAME FLAG
    if ! grep -q -- '--tls\b' <<<"$TARGET_HELP"; then not_ok "$1" "hopper-target has no --tls"; return 1; fi
    if ! grep -q -- "$2\b" <<<"$TARGET_HELP"; then not_ok "$1" "hopper-target has no $2"; return 1; fi
}
for client in $CLIENTS; do
    n="tls: HTTP/2 RST_STREAM ($client)"
    if client_can "$n" "$client" && need_opt "$n" --http2 && h2_target_can "$n" --h2-rst-rate; then
        : >"$T/target.out"
        if target_start --tls "$C/server.crt" "$C/server.key" --h2-rst-rate 0.3 --seed 7; then
            tls_hop "rst-$client" "$client" "https://127.0.0.1:$TARGET_PORT" /status 3 --cacert "$C/ca.crt" --http2
            target_stop
            reset=$(sed -n 's/^requests reset: \([0-9]*\)$/\1/p' "$TARGET_OUT")
            answered=$(target_total)
            echo "# target: answered $answered, reset ${reset:-0}"
            check "$n: exit status 1" [ "$HOP_RC" = 1 ]
            check_all "$n: some requests passed, some failed" '[ "${FAILS:-0}" -gt 0 ] && [ "$FAILS" -lt "${REQS:-0}" ]'
            # libcurl does not tell the reset's code.
            want="HTTP/2 stream reset by the server: INTERNAL_ERROR"
            [ "$client" = curl ] && want="HTTP/2 stream reset by the server"
            check "$n: one error row: $want" row_matches is "$want"
            check "$n: failures ($FAILS) equal the target's resets (${reset:-0})" [ "${FAILS:-x}" = "${reset:-0}" ]
            check "$n: passes ($((${REQS:-0} - ${FAILS:-0}))) equal the target's answers ($answered)" \
                [ "$((${REQS:-0} - ${FAILS:-0}))" = "$answered" ]
            check "$n: the run ended in time (${TOOK}s)" [ "$TOOK" -le 6 ]
        else
            not_ok "$n: hopper-target --tls starts"
        fi
    fi
    n="tls: HTTP/2 GOAWAY ($client)"
    if client_can "$n" "$client" && need_opt "$n" --http2 && h2_target_can "$n" --h2-goaway; then
        : >"$T/target.out"
        if target_start --tls "$C/server.crt" "$C/server.key" --h2-goaway 5; then
            tls_hop "goaway-$client" "$client" "https://127.0.0.1:$TARGET_PORT" /status 3 --cacert "$C/ca.crt" --http2
            target_stop
            answered=$(target_total)
            conns=$(sed -n 's/^connections accepted: \([0-9]*\)$/\1/p' "$TARGET_OUT")
            echo "# target: answered $answered on $conns connections"
            check_all "$n: requests were sent" '[ "${REQS:-0}" -gt 10 ]'
            check "$n: passes ($((${REQS:-0} - ${FAILS:-0}))) equal the target's answers ($answered)" \
                [ "$((${REQS:-0} - ${FAILS:-0}))" = "$answered" ]
            check_all "$n: a new connection after each GOAWAY (5 requests each)" \
                '[ "${conns:-0}" -ge $(( (answered + 4) / 5 )) ]'
            check_all "$n: any failure is the GOAWAY's kind" \
                '[ "${FAILS:-x}" = 0 ] || row_matches like "HTTP/2 connection ended by the server \\(GOAWAY: [A-Z_]+\\)"'
            check "$n: the run ended in time (${TOOK}s)" [ "$TOOK" -le 6 ]
        else
            not_ok "$n: hopper-target --tls starts"
        fi
    fi
done

# ---- counts against nginx ---------------------------------------------------------------------------
# A server that is not ours: hopper's request count equals nginx's access
# log, HTTP/1.1 and HTTP/2 (by ALPN on the same listener), each request
# logged with the protocol hopper was asked to speak.
for client in $CLIENTS; do
    for proto in HTTP/1.1 HTTP/2.0; do
        n="tls: nginx counts, $proto ($client)"
        client_can "$n" "$client" || continue
        extra=()
        if [ "$proto" = HTTP/2.0 ]; then need_opt "$n" --http2 || continue; extra=(--http2); fi
        # shellcheck disable=SC2207
        extra+=($(trust_ca))
        nginx_start "$C/server.crt" "$C/server.key" || { not_ok "$n: nginx starts"; continue; }
        tls_hop "nginx-${proto#HTTP/}-$client" "$client" "$NGINX_URL" /ok 5 "${extra[@]}"
        nginx_stop
        check "$n: exit status 0" [ "$HOP_RC" = 0 ]
        check_all "$n: requests were sent, none failed" '[ "${REQS:-0}" -gt 20 ] && [ "$FAILS" = 0 ]'
        check "$n: hopper's count ($REQS) equals nginx's access log ($(nginx_count))" [ "${REQS:-x}" = "$(nginx_count)" ]
        check "$n: every request was $proto ($(nginx_count "$proto"))" [ "$(nginx_count "$proto")" = "$(nginx_count)" ]
    done
done
