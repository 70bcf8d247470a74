#!/usr/bin/env bash
# End-to-end tests of hopper-target's login flow (target_api): POST /login,
# the protected routes with the token as a Bearer header or as the session
# cookie, POST /logout; the JSON shapes (read with jq); and the exit report's
# per-route counts and token counters, which must equal what this script
# sent, request for request. Then the same with --workers 3, where a token
# one worker issued must be accepted, and after a logout refused, by all.
# Everything runs under `timeout`; no check has a timing upper bound.

# Re-run this script under a hard time limit of its own.
if [ -z "${TARGET_LOGIN_SH_TIMED:-}" ]; then
    export TARGET_LOGIN_SH_TIMED=1
    exec timeout -k 5 90 bash "$0" "$@"
fi

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
trap 'not_ok "target-login: script ran past its time limit"; exit 124' TERM

if [ ! -x "$HOPPER_TARGET" ]; then
    not_ok "target-login: binary exists" "$HOPPER_TARGET not built"
    exit 1
fi
if ! command -v jq >/dev/null; then
    not_ok "target-login: jq is installed" "make test-deps installs it"
    exit 1
fi

CURL=(curl -s --max-time 5)

# --- what the script sent, to compare with the report ------------------------
# SENT["METHOD PATH"] counts the requests sent to each route line; EXP_* what
# the login-flow counters must say. expect_reset starts over for a new target.
declare -A SENT
expect_reset() {
    SENT=()
    EXP_ISSUED=0 EXP_OK=0 EXP_BAD=0 EXP_LOGOUTS=0 EXP_REFUSED=0
}
# One request: what it must do to the counters (issued, refused, ok, bad,
# logout, or none) and its route line.
expect_one() {
    SENT["$2"]=$((${SENT["$2"]:-0} + 1))
    case "$1" in
    issued) EXP_ISSUED=$((EXP_ISSUED + 1)) ;;
    refused) EXP_REFUSED=$((EXP_REFUSED + 1)) ;;
    ok) EXP_OK=$((EXP_OK + 1)) ;;
    bad) EXP_BAD=$((EXP_BAD + 1)) ;;
    logout) EXP_OK=$((EXP_OK + 1)) EXP_LOGOUTS=$((EXP_LOGOUTS + 1)) ;;
    none) ;;
    *) echo "expect_one: unknown kind $1" >&2; exit 1 ;;
    esac
}

# api KIND METHOD PATH [CURL ARGS...]: one request on a connection of its own,
# recorded with expect_one. The status goes in $CODE, the body in $T/body
# (its size in $SIZE), the headers in $T/head. Not in a subshell, so that the
# record stays.
api() {
    local kind="$1" method="$2" path="$3"
    shift 3
    local how=(-X "$method")
    [ "$method" = GET ] && how=()
    [ "$method" = HEAD ] && how=(-I)
    expect_one "$kind" "$method ${path%%\?*}"
    read -r CODE SIZE < <("${CURL[@]}" "${how[@]}" -o "$T/body" -D "$T/head" -w '%{http_code} %{size_download}\n' \
        "$@" "$TARGET_URL$path")
}

# login USER PASSWORD: POST /login with a JSON body, as a well-behaved client.
login() {
    local kind=issued
    [ "$2" = "pass${1#user}" ] && [ "${1#user}" -ge 1 ] 2>/dev/null && [ "${1#user}" -le 50 ] || kind=refused
    api "$kind" POST /login -H 'Content-Type: application/json' \
        --data-binary "{\"user\": \"$1\", \"password\": \"$2\"}"
}

# A report value "NAME: N" (0 when the line is absent, as it is when the login
# flow was not used).
report_value() {
    local v
    v=$(sed -n "s/^$1: \([0-9]*\)\$/\1/p" "$TARGET_OUT")
    echo "${v:-0}"
}

# Checks the stopped target's report against what was sent: every route line,
# the total, the line count and the five counters. NAME prefixes the checks.
check_report() {
    local name="$1" key bad="" total=0 lines
    for key in "${!SENT[@]}"; do
        total=$((total + SENT[$key]))
        [ "$(target_count "$key")" = "${SENT[$key]}" ] ||
            bad="$bad [$key: sent ${SENT[$key]}, server $(target_count "$key")]"
    done
    check "$name: each route line counts exactly what curl sent${bad:+:$bad}" [ -z "$bad" ]
    lines=$(grep -cE '^ *[0-9]+  ' "$TARGET_OUT")
    check "$name: one report line per route line sent (${#SENT[@]}, server $lines)" [ "$lines" = "${#SENT[@]}" ]
    check "$name: requests answered is the number sent ($total, server $(target_total))" \
        [ "$(target_total)" = "$total" ]
    check "$name: tokens issued = $EXP_ISSUED (server $(report_value "tokens issued"))" \
        [ "$(report_value "tokens issued")" = "$EXP_ISSUED" ]
    check "$name: token ok = $EXP_OK (server $(report_value "token ok"))" \
        [ "$(report_value "token ok")" = "$EXP_OK" ]
    check "$name: token bad = $EXP_BAD (server $(report_value "token bad"))" \
        [ "$(report_value "token bad")" = "$EXP_BAD" ]
    check "$name: logouts = $EXP_LOGOUTS (server $(report_value logouts))" \
        [ "$(report_value logouts)" = "$EXP_LOGOUTS" ]
    check "$name: logins refused = $EXP_REFUSED (server $(report_value "logins refused"))" \
        [ "$(report_value "logins refused")" = "$EXP_REFUSED" ]
}

header() { grep -i "^$1:" "$T/head" | head -n 1 | tr -d '\r'; }
# shellcheck disable=SC2016 # $e is jq's
is_error() { jqe --arg e "$1" '. == {"error": $e}' "$T/body"; }

# =============================================================================
# One process
# =============================================================================
expect_reset
target_start || exit 1

# --- login -------------------------------------------------------------------
login user001 pass001
check "login: user001/pass001 is 200" [ "$CODE" = 200 ]
check "login: the body is {\"token\": 32 hex, \"user\": \"user001\"}" \
    jqe '(keys == ["token", "user"]) and (.token | test("^[0-9a-f]{32}$")) and .user == "user001"' "$T/body"
TOK1=$(jq -r .token "$T/body")
check "login: Set-Cookie is session=<the token>; Path=/; HttpOnly" \
    [ "$(header Set-Cookie)" = "Set-Cookie: session=$TOK1; Path=/; HttpOnly" ]
check "login: the answer is application/json" [ "$(header Content-Type)" = "Content-Type: application/json" ]

login user001 pass001
TOK1B=$(jq -r .token "$T/body")
check "login: a second login of the same user gets another token" [ "$CODE" = 200 -a "$TOK1B" != "$TOK1" ]

# Members in the other order, with JSON whitespace; an escape is read (and
# makes a wrong password here: "pass/050").
api refused POST /login --data-binary '{"user": "user050", "password": "pass\/050"}'
check "login: an escaped string is read, not refused as malformed (401, not 400)" [ "$CODE" = 401 ]
api issued POST /login --data-binary $'\n{ "password" :\t"pass050"  ,\r\n"user":"user050" }\n'
check "login: user050 (the last account), members reversed, is 200" \
    [ "$CODE" = 200 -a "$(jq -r .user "$T/body")" = user050 ]
TOK50=$(jq -r .token "$T/body")

login user001 pass002
check "login: a wrong password is 401" [ "$CODE" = 401 ]
check "login: ... with the body {\"error\": \"bad credentials\"}" is_error "bad credentials"
login user051 pass051
check "login: user051 (no such account) is 401" [ "$CODE" = 401 ]
login user000 pass000
check "login: user000 is 401" [ "$CODE" = 401 ]
login USER001 pass001
check "login: user names are case-sensitive" [ "$CODE" = 401 ]

malformed() { # NAME BODY: 400 {"error": "malformed login body"}
    api refused POST /login --data-binary "$2"
    if [ "$CODE" = 400 ] && is_error "malformed login body"; then
        ok "login: $1 is 400 malformed login body"
    else
        not_ok "login: $1 is 400 malformed login body" "status $CODE: $(head -c 100 "$T/body")"
    fi
}
malformed "a body that is not JSON" 'user=user001&password=pass001'
malformed "an empty body" ''
malformed "a missing password" '{"user": "user001"}'
malformed "an extra member" '{"user": "user001", "password": "pass001", "remember": true}'
malformed "a member given twice" '{"user": "user001", "user": "user001"}'
malformed "a number for a string" '{"user": 1, "password": "pass001"}'
malformed "text after the object" '{"user": "user001", "password": "pass001"} x'
malformed "a \\u escape" '{"user": "user\u0030001", "password": "pass001"}'
malformed "an unterminated string" '{"user": "user001", "password": "pass001}'
malformed "single quotes" "{'user': 'user001', 'password': 'pass001'}"
malformed "a JSON array" '[{"user": "user001", "password": "pass001"}]'
malformed "a 65-byte user name" "{\"user\": \"$(printf 'u%.0s' $(seq 1 65))\", \"password\": \"pass001\"}"
long=$(printf ' %.0s' $(seq 1 600))
malformed "a body over 512 bytes (even if it is valid JSON)" "{\"user\": \"user001\",$long \"password\": \"pass001\"}"

api none GET /login
check "login: GET /login is 405 with Allow: POST" [ "$CODE" = 405 -a "$(header Allow)" = "Allow: POST" ]

# --- the protected routes ------------------------------------------------------
BEARER=(-H "Authorization: Bearer $TOK1")
api ok GET "/api/movies?page=2" "${BEARER[@]}"
check "movies: page 2 with a Bearer token is 200" [ "$CODE" = 200 ]
cp "$T/body" "$T/page2.json"
check "movies: the body is {\"page\": 2, \"items\": [10], \"total\": 1000}" \
    jqe 'keys == ["items", "page", "total"] and .page == 2 and .total == 1000 and (.items | length) == 10' "$T/page2.json"
check "movies: page 2 holds tt0000011 .. tt0000020, in order" \
    jqe '[.items[].id] == [range(11; 21) | "tt\(10000000 + . | tostring | .[1:])"]' "$T/page2.json"
check "movies: every item has a string title and a number year" \
    jqe 'all(.items[]; (.title | type) == "string" and (.title | length) > 0 and (.year | type) == "number")' \
    "$T/page2.json"
size=$(wc -c <"$T/page2.json")
check "movies: a page is about 1 KB ($size bytes)" [ "$size" -ge 800 -a "$size" -le 1500 ]
api ok GET "/api/movies?page=2" "${BEARER[@]}"
check "movies: the same page reads the same" cmp -s "$T/body" "$T/page2.json"
api ok GET /api/movies "${BEARER[@]}"
check "movies: no page= is page 1 (tt0000001 first)" jqe '.page == 1 and .items[0].id == "tt0000001"' "$T/body"
api ok GET "/api/movies?sort=x&page=100" "${BEARER[@]}"
check "movies: page 100 ends with tt0001000" jqe '.page == 100 and .items[9].id == "tt0001000"' "$T/body"
api ok GET "/api/movies?page=101" "${BEARER[@]}"
check "movies: page 101 is 200" [ "$CODE" = 200 ]
check "movies: ... with no items" jqe '.page == 101 and .items == [] and .total == 1000' "$T/body"
api ok GET "/api/movies?page=0" "${BEARER[@]}"
check "movies: page=0 is 400" [ "$CODE" = 400 ]
check "movies: ... with the body {\"error\": \"bad page\"}" is_error "bad page"
api ok GET "/api/movies?page=two" "${BEARER[@]}"
check "movies: page=two is 400" [ "$CODE" = 400 ]
api ok HEAD "/api/movies?page=3" "${BEARER[@]}"
check "movies: HEAD is 200 with a Content-Length and no body" \
    [ "$CODE" = 200 -a -n "$(header Content-Length)" -a "$SIZE" = 0 ]

# The session cookie instead of the header: first as the raw cookie, then
# through curl's cookie engine, from the Set-Cookie of a login.
api ok GET /api/movie/tt0000011 -b "session=$TOK1"
check "movie: GET /api/movie/tt0000011 with the session cookie is 200" [ "$CODE" = 200 ]
# shellcheck disable=SC2016 # $page is jq's
check "movie: the body is the same movie as on the page" \
    jqe --slurpfile page "$T/page2.json" '. == $page[0].items[0]' "$T/body"
check "movie: id, title and year" jqe '.id == "tt0000011" and (.title | type) == "string" and (.year | type) == "number"' \
    "$T/body"
api issued POST /login -c "$T/jar" --data-binary '{"user": "user002", "password": "pass002"}'
TOK2=$(jq -r .token "$T/body")
api ok GET /api/movie/tt0000500 -b "$T/jar"
check "movie: curl's cookie jar from the login's Set-Cookie is accepted" \
    [ "$CODE" = 200 -a "$(jq -r .id "$T/body")" = tt0000500 ]
api ok GET /api/movie/tt0000500 -b "a=1; session=$TOK2; b=2"
check "movie: the session cookie among others" [ "$CODE" = 200 ]
api ok GET /api/movie/tt0000500 -H "authorization: bearer $TOK2"
check "movie: the Bearer scheme in any case" [ "$CODE" = 200 ]
api ok GET /api/movie/tt0000500 -H "Authorization: Basic dXNlcjpwYXNz" -b "session=$TOK2"
check "movie: another Authorization scheme falls back to the cookie" [ "$CODE" = 200 ]
api bad GET /api/movie/tt0000500 -H "Authorization: Bearer 0123456789abcdef0123456789abcdef" -b "session=$TOK2"
check "movie: a Bearer token, when given, is the one checked (a bad one is 401 despite the cookie)" [ "$CODE" = 401 ]

api ok GET /api/movie/tt0001001 "${BEARER[@]}"
check "movie: tt0001001 (past the last) is 404" [ "$CODE" = 404 ]
check "movie: ... with the body {\"error\": \"no such movie\"}" is_error "no such movie"
api ok GET /api/movie/x "${BEARER[@]}"
check "movie: an id of another form is 404" [ "$CODE" = 404 ]

api ok POST /api/movie/tt0000011/rating "${BEARER[@]}" -H 'Content-Type: application/json' \
    --data-binary '{"stars": 4, "request": "9b2f"}'
check "rating: POST /api/movie/tt0000011/rating is 201" [ "$CODE" = 201 ]
check "rating: ... with the body {\"ok\": true, \"id\": \"tt0000011\"}" jqe '. == {"ok": true, "id": "tt0000011"}' "$T/body"
api ok POST /api/movie/tt0000012/rating -b "session=$TOK1"
check "rating: with the cookie and no body at all, 201" [ "$CODE" = 201 ]
api none GET /api/movie/tt0000011/rating "${BEARER[@]}"
check "rating: GET is 405 Allow: POST (the token is not looked at)" \
    [ "$CODE" = 405 -a "$(header Allow)" = "Allow: POST" ]
api none POST /api/movies "${BEARER[@]}" -d x
check "movies: POST is 405 Allow: GET, HEAD" [ "$CODE" = 405 -a "$(header Allow)" = "Allow: GET, HEAD" ]

# --- no valid token ----------------------------------------------------------------
no_token() { # NAME CURL-ARGS...: 401 {"error": "no valid token"} with WWW-Authenticate: Bearer
    local name="$1"
    shift
    api bad GET /api/movies "$@"
    if [ "$CODE" = 401 ] && is_error "no valid token" && [ "$(header WWW-Authenticate)" = "WWW-Authenticate: Bearer" ]; then
        ok "no token: $name is 401 no valid token"
    else
        not_ok "no token: $name is 401 no valid token" "status $CODE: $(head -c 100 "$T/body")"
    fi
}
no_token "no token at all"
no_token "a made-up token" -H "Authorization: Bearer 0123456789abcdef0123456789abcdef"
flipped="${TOK1:0:31}$(tr '0-9a-f' '1-9a-f0' <<<"${TOK1:31:1}")"
no_token "the token with its last digit changed" -H "Authorization: Bearer $flipped"
no_token "the token in upper case" -H "Authorization: Bearer ${TOK1^^}"
no_token "the token cut short" -b "session=${TOK1:0:31}"
no_token "the token with a byte more" -b "session=${TOK1}0"
no_token "an empty session cookie" -b "session="
api bad GET /api/movie/tt0001001
check "no token: the token is checked before the id (401, not 404)" [ "$CODE" = 401 ]
api bad POST /api/movie/tt0000011/rating -d '{}'
check "no token: rating without a token is 401" [ "$CODE" = 401 ]

# --- logout ------------------------------------------------------------------------
api logout POST /logout "${BEARER[@]}"
check "logout: POST /logout is 200" [ "$CODE" = 200 ]
check "logout: ... with the body {\"ok\": true}" jqe '. == {"ok": true}' "$T/body"
check "logout: the session cookie is cleared" \
    [ "$(header Set-Cookie)" = "Set-Cookie: session=; Path=/; HttpOnly; Max-Age=0" ]
api bad GET /api/movies "${BEARER[@]}"
check "logout: the token is refused afterwards, as a Bearer token" [ "$CODE" = 401 ]
api bad GET /api/movies -b "session=$TOK1"
check "logout: ... and as the cookie" [ "$CODE" = 401 ]
api bad POST /logout "${BEARER[@]}"
check "logout: a second logout of it is 401" [ "$CODE" = 401 ]
api ok GET /api/movies -H "Authorization: Bearer $TOK1B"
check "logout: the same user's other token still works" [ "$CODE" = 200 ]
api ok GET /api/movies -H "Authorization: Bearer $TOK50"
check "logout: another user's token still works" [ "$CODE" = 200 ]
api none GET /logout
check "logout: GET /logout is 405" [ "$CODE" = 405 ]

# --- keep-alive and pipelining ------------------------------------------------------
"${CURL[@]}" -o /dev/null -o /dev/null -o /dev/null -H "Authorization: Bearer $TOK2" \
    "$TARGET_URL/api/movies?page=5" "$TARGET_URL/api/movie/tt0000042" "$TARGET_URL/api/movies?page=6"
expect_one ok "GET /api/movies"
expect_one ok "GET /api/movie/tt0000042"
expect_one ok "GET /api/movies"

# Raw HTTP over /dev/tcp: sends $1 (printf format) in one write, or with
# raw_file the file $1, and prints all the server sends until it closes.
raw() {
    # shellcheck disable=SC2016 # the inner bash expands $1 and $2
    timeout 20 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; printf "$2" >&3; cat <&3' \
        raw "$TARGET_PORT" "$1"
}
raw_file() { # waits a second before reading, so that the answers pile up
    # shellcheck disable=SC2016 # the inner bash expands $1 and $2
    timeout 30 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1; cat "$2" >&3; sleep 1; cat <&3' \
        raw "$TARGET_PORT" "$1"
}

# Answers made per request, queued behind each other: 8000 pipelined page
# requests (0.8 MB) written before the client reads anything, so about 9 MB
# of answers must wait in the server. Past what the socket buffers hold
# (about 4 MB here) the kernel takes a batch only in part, and the rest, cut
# in the middle of an answer, goes through the server's uv_write path, whose
# buffers must stay alive until it is done (ASan builds check that).
PIPELINED=8000
{
    for i in $(seq 1 $((PIPELINED - 1))); do
        printf 'GET /api/movies?page=%d HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n' \
            $((i % 100 + 1)) "$TOK2"
    done
    printf 'POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\nConnection: close\r\n\r\n'
    printf '{"user": "user003", "password": "pass003"}'
} >"$T/pipelined.req"
for i in $(seq 1 $((PIPELINED - 1))); do expect_one ok "GET /api/movies"; done
expect_one issued "POST /login"
raw_file "$T/pipelined.req" >"$T/pipelined"
# Answers follow each other on one line (a body ends without a newline).
n=$(grep -ao 'HTTP/1.1 [0-9]*' "$T/pipelined" | grep -c ' 200$')
check "pipelining: $PIPELINED pipelined answers made per request all come back ($n)" [ "$n" = "$PIPELINED" ]
check "pipelining: ... each page whole and in order" \
    [ "$(grep -ao '"page": [0-9]*, "items": \[[^]]*\], "total": 1000}' "$T/pipelined" |
         sed 's/^"page": \([0-9]*\),.*/\1/' | tr '\n' ,)" = \
      "$(for i in $(seq 1 $((PIPELINED - 1))); do printf '%s,' $((i % 100 + 1)); done)" ]
check "pipelining: ... the login last, with its token" grep -aq '"user": "user003"}$' "$T/pipelined"

# Pipelined with random delays: answers wait on timers while earlier ones
# are being written.
target_stop_checked "login flow"
check_report "report"
check "report: the token lines come after connections accepted, before the table" \
    [ "$(sed -n '4,8s/:.*//p' "$TARGET_OUT" | tr '\n' ',')" = \
      "tokens issued,token ok,token bad,logouts,logins refused," ]

expect_reset
target_start --delay 1ms-3ms --seed 5 || exit 1
login user004 pass004
TOK4=$(jq -r .token "$T/body")
req=""
for i in $(seq 1 20); do
    req="${req}GET /api/movie/tt00000$((i + 10)) HTTP/1.1\\r\\nHost: x\\r\\nCookie: session=$TOK4\\r\\n\\r\\n"
    expect_one ok "GET /api/movie/tt00000$((i + 10))"
done
req="${req}POST /logout HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer $TOK4\\r\\nContent-Length: 0\\r\\n\\r\\n"
expect_one logout "POST /logout"
req="${req}GET /api/movie/tt0000011 HTTP/1.1\\r\\nHost: x\\r\\nCookie: session=$TOK4\\r\\nConnection: close\\r\\n\\r\\n"
expect_one bad "GET /api/movie/tt0000011"
out=$(raw "$req")
check "delay: pipelined delayed answers are whole and in order, then the logout takes effect" \
    [ "$(grep -ao '"id": "tt[0-9]*"' <<<"$out" | tr -d '"' | awk '{ printf "%s,", $2 }')" = \
      "$(for i in $(seq 11 30); do printf 'tt00000%s,' "$i"; done)" -a \
      "$(grep -ao 'HTTP/1.1 [0-9]*' <<<"$out" | awk '{ printf "%s ", $2 }' | sed 's/ $//')" = \
      "$(printf '200 %.0s' $(seq 1 21))401" ]
target_stop_checked "delay"
check_report "delay report"

# A run that never touches the login flow has no token lines; --fail-rate
# answers 500 before the token is looked at, so a 500 counts nothing.
expect_reset
target_start --fail-rate 1 || exit 1
login user001 pass001
check "fail-rate: --fail-rate 1 answers /login 500" [ "$CODE" = 500 ]
target_stop_checked "fail-rate"
check "fail-rate: a 500 counts no token event, so the report has no token lines" \
    bash -c "! grep -q '^tokens issued' '$TARGET_OUT'"
check "fail-rate: ... but the request is counted" [ "$(target_count "POST /login")" = 1 ]

# =============================================================================
# --workers 3: the tokens are shared
# =============================================================================
# Each request below is a curl of its own, so a connection of its own, which
# the kernel hands to any of the three workers: a token is issued by one
# worker and used with, most of the time, another. 30 logins, then each
# token used twice; then 10 logouts, after which each of those 10 tokens is
# tried on 3 new connections and must be refused by every worker.
expect_reset
target_start --workers 3 || exit 1
tokens=()
codes=""
for i in $(seq 1 30); do
    u=$(printf 'user%03d' "$i")
    login "$u" "pass${u#user}"
    codes="$codes$CODE "
    tokens+=("$(jq -r .token "$T/body")")
done
check "workers: 30 logins on 30 connections are 200" [ "$codes" = "$(printf '200 %.0s' $(seq 1 30))" ]
check "workers: 30 different tokens" [ "$(printf '%s\n' "${tokens[@]}" | sort -u | grep -c '^[0-9a-f]\{32\}$')" = 30 ]
codes=""
for i in $(seq 0 29); do
    api ok GET "/api/movies?page=$((i + 1))" -H "Authorization: Bearer ${tokens[$i]}"
    codes="$codes$CODE "
    api ok GET "/api/movie/tt00000$((i + 10))" -b "session=${tokens[$i]}"
    codes="$codes$CODE "
done
check "workers: each token is accepted on other connections, whichever worker has them" \
    [ "$codes" = "$(printf '200 %.0s' $(seq 1 60))" ]
for i in $(seq 0 9); do
    api logout POST /logout -H "Authorization: Bearer ${tokens[$i]}"
done
codes=""
for i in $(seq 0 9); do
    for _ in 1 2 3; do
        api bad GET /api/movies -H "Authorization: Bearer ${tokens[$i]}"
        codes="$codes$CODE "
    done
done
check "workers: a logged-out token is refused by every worker (30 tries)" \
    [ "$codes" = "$(printf '401 %.0s' $(seq 1 30))" ]
codes=""
for i in $(seq 10 29); do
    api ok POST "/api/movie/tt00000$((i + 10))/rating" -b "session=${tokens[$i]}" -d '{"stars": 5}'
    codes="$codes$CODE "
done
check "workers: the other 20 tokens still work" [ "$codes" = "$(printf '201 %.0s' $(seq 1 20))" ]
target_stop_checked "workers"
check_report "workers report"
served=$(sed -n 's/^  worker [0-9]*: \([0-9]*\) connections accepted, .*/\1/p' "$TARGET_OUT" | awk '$1 > 0' | wc -l)
check "workers: more than one worker served, so tokens crossed workers ($served served)" [ "$served" -ge 2 ]

# --- help --------------------------------------------------------------------------
timeout 5 "$HOPPER_TARGET" --help >"$T/help" 2>&1
check "help: --help lists the login routes and the accounts" \
    [ -n "$(grep 'POST /login' "$T/help")" -a -n "$(grep 'user001 .. user050' "$T/help")" -a \
      -n "$(grep 'pass001 .. pass050' "$T/help")" ]

check "target-login: every run exited 0 after SIGTERM, nothing on stderr${BAD_EXITS:+:$BAD_EXITS}" \
    [ -z "$BAD_EXITS" ]
