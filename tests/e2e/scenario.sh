# Scenarios against a real hopper-target: users that log in (on-start), carry
# the token the server issued, read data files, take values from responses
# and log out (on-stop). Every count is the server's own; run once with each
# HTTP client (tests/run).
. "$(dirname "$0")/lib.sh"

# The sum of the target's counts over "METHOD PATH" lines starting so.
target_sum() {
    awk -v want="$1" '
        /^ *[0-9]+  / { n = $1; sub(/^ *[0-9]+  /, ""); if (index($0, want) == 1) s += n }
        END { print s + 0 }' "$TARGET_OUT"
}
# A figure of the target's login report ("tokens issued: N").
target_figure() {
    sed -n "s/^$1: \\([0-9]*\\)\$/\\1/p" "$TARGET_OUT"
}
# How many distinct "METHOD PATH" lines start so, and whether each was seen once.
target_distinct() {
    awk -v want="$1" '/^ *[0-9]+  / { n = $1; sub(/^ *[0-9]+  /, ""); if (index($0, want) == 1) c++ } END { print c + 0 }' "$TARGET_OUT"
}
target_max() {
    awk -v want="$1" '/^ *[0-9]+  / { n = $1; sub(/^ *[0-9]+  /, ""); if (index($0, want) == 1 && n > m) m = n } END { print m + 0 }' "$TARGET_OUT"
}

# ---- the login-flow example, as shipped, with two workers ---------------------
cp "$TOP/examples/login-flow.hopperfile" "$TOP/examples/accounts.csv" "$T/"
target_start || exit 1
hop "$T/flow" -f "$T/login-flow.hopperfile" -H "$TARGET_URL" -u 20 -r 50 -t 4s --workers 2 \
    --only-summary --stop-timeout 10s
target_stop
total=$(summary_reqs "$T/flow" Aggregated)
login=$(summary_reqs "$T/flow" "[on-start] /login")
logout=$(summary_reqs "$T/flow" "[on-stop] /logout")
browse=$(summary_reqs "$T/flow" "/api/movies?page={{rand.int 1 20}}")
list=$(summary_reqs "$T/flow" "/api/movies (rate)")
movie=$(summary_reqs "$T/flow" "/api/movie/[id]")
rating=$(summary_reqs "$T/flow" "/api/movie/[id]/rating")
echo "# hopper: total=$total login=$login logout=$logout browse=$browse list=$list movie=$movie rating=$rating"
echo "# server: $(target_total) issued=$(target_figure 'tokens issued') ok=$(target_figure 'token ok') bad=$(target_figure 'token bad') logouts=$(target_figure logouts)"
check "flow: exits 0, no failures" [ "$HOP_RC" = 0 ]
check "flow: some load went out" [ "${total:-0}" -gt 60 ]
check "flow: Aggregated equals the server's total" [ "$total" = "$(target_total)" ]
check "flow: every user logged in once ([on-start] row = POST /login = 20)" \
    [ "$login" = 20 -a "$(target_count 'POST /login')" = 20 ]
check "flow: the server issued one token per user" [ "$(target_figure 'tokens issued')" = 20 ]
check "flow: every user logged out in [on-stop], within the drain" \
    [ "$logout" = 20 -a "$(target_count 'POST /logout')" = 20 -a "$(target_figure logouts)" = 20 ]
check "flow: every request after the login carried a token the server issued" \
    [ "$(target_figure 'token ok')" = $((total - login)) -a "$(target_figure 'token bad')" = 0 ]
check "flow: list rows equal the server's GET /api/movies" \
    [ $((browse + list)) = "$(target_count 'GET /api/movies')" ]
check "flow: the extracted IDs went out (GET /api/movie/ID)" \
    [ "$movie" = "$(target_sum 'GET /api/movie/tt')" -a "${movie:-0}" -gt 0 ]
check "flow: ratings equal the server's POST .../rating" \
    [ "$rating" = "$(target_sum 'POST /api/movie/tt')" ]
check "flow: rows are named by the step, not the rendered URL (one row per step)" \
    [ "$(grep -c '/api/movie/tt' "$T/flow")" = 0 ]
check "flow: no failures" grep -q '^no failures$' "$T/flow"

# ---- unique rows: each handed out once across two workers; the test stops -----
{
    echo "id"
    for i in $(seq 1 300); do printf 'u%03d\n' "$i"; done
} >"$T/ids.csv"
hf=$(hopperfile unique.hopperfile <<EOF
host = http://127.0.0.1:1
users = 6
spawn-rate = 100
wait = constant 0
[data ids]
file = ids.csv
order = unique
per = iteration
[task one]
request = GET /api/id/{{ids.id}}
name = /api/id/[row]
EOF
)
target_start || exit 1
hop "$T/unique" -f "$hf" -H "$TARGET_URL" --workers 2 -t 30s --only-summary --stop-timeout 10s
target_stop
reqs=$(summary_reqs "$T/unique" "/api/id/[row]")
echo "# unique: hopper=$reqs server=$(target_sum 'GET /api/id/u') distinct=$(target_distinct 'GET /api/id/u') max=$(target_max 'GET /api/id/u')"
check "unique: every row went out exactly once across two workers" \
    [ "$(target_sum 'GET /api/id/u')" = 300 -a "$(target_distinct 'GET /api/id/u')" = 300 -a "$(target_max 'GET /api/id/u')" = 1 ]
check "unique: hopper's count equals the server's" [ "$reqs" = 300 ]
check "unique: the test stopped by itself when the rows ran out" \
    grep -q 'handed out every row: stopping the test' "$T/unique"
check "unique: the summary says the data ran out" grep -q '^Data: a data file with order = unique ran out' "$T/unique"
check "unique: no user counted as failing to start" bash -c "! grep -q 'could not be started' '$T/unique'"

# ---- {{seq}}, {{user.id}}, --var, env: values filled in as the plan says -------
# (hopper-target counts up to 4096 distinct paths: a short wait keeps under.)
hf=$(hopperfile fill.hopperfile <<EOF
users = 4
spawn-rate = 100
wait = constant 10ms
var = prefix v
[task fill]
request = GET /api/title/{{prefix}}{{seq}}/{{user.id}}-{{env.HOPPER_TEST_SUFFIX}}
name = fill
EOF
)
target_start || exit 1
HOPPER_TEST_SUFFIX=z hop "$T/fill" -f "$hf" -H "$TARGET_URL" --workers 2 -t 2s --only-summary \
    --var prefix=w
target_stop
reqs=$(summary_reqs "$T/fill" fill)
echo "# fill: hopper=$reqs server=$(target_sum 'GET /api/title/w') total=$(target_total)"
check "fill: hopper's count equals the server's" \
    [ "$reqs" = "$(target_sum 'GET /api/title/w')" -a "$reqs" = "$(target_total)" -a "${reqs:-0}" -gt 20 ]
check "fill: --var won over the plan's var" [ "$(target_sum 'GET /api/title/v')" = 0 ]
check "fill: {{seq}} is unique across workers (each title once)" [ "$(target_max 'GET /api/title/w')" = 1 ]
check "fill: {{user.id}} numbers the 4 users 1..4 across workers, env filled in" \
    [ "$(sed -n 's/^ *[0-9]*  GET \/api\/title\/w[0-9]*\/\([0-9]*\)-z$/\1/p' "$TARGET_OUT" | sort -un | tr '\n' ' ')" = "1 2 3 4 " ]

# ---- a login kept by the session cookie; a step that fails ends the iteration ---
hf=$(hopperfile cookie.hopperfile <<EOF
users = 3
spawn-rate = 100
wait = constant 10ms
[on-start]
request = POST /login
body = {"user": "user00{{user.id}}", "password": "pass00{{user.id}}"}
expect-json = \$.user exists
[task list]
request = GET /api/movies?page=2
extract = first json \$.items[0].id
expect-json = \$.page == 2
request = GET /api/movie/{{first}}
expect-header = Content-Type: json
extract = missing json \$.nothing.here
request = GET /api/movie/never
EOF
)
target_start || exit 1
hop "$T/cookie" -f "$hf" -H "$TARGET_URL" -t 2s --only-summary --stop-timeout 10s
target_stop
lists=$(summary_reqs "$T/cookie" "/api/movies?page=2")
movies=$(summary_reqs "$T/cookie" "/api/movie/{{first}}")
mfails=$(summary_fails "$T/cookie" "/api/movie/{{first}}")
echo "# cookie: lists=$lists movies=$movies fails=$mfails ok=$(target_figure 'token ok') bad=$(target_figure 'token bad')"
check "cookie: the login's session cookie carried every later request" \
    [ "$(target_figure 'token bad')" = 0 -a "$(target_figure 'token ok')" = $((lists + movies)) ]
check "cookie: the extracted ID is the list's first (tt0000011 on page 2)" \
    [ "$(target_count 'GET /api/movie/tt0000011')" = "$movies" -a "${movies:-0}" -gt 0 ]
check "cookie: a missing JSON field fails its request, counted, with the reason" \
    [ "$mfails" = "$movies" ]
check "cookie: the failure names the path" grep -q 'no \$.nothing.here in the response' "$T/cookie"
check "cookie: a failed step ends the iteration (the next step never went out)" \
    [ "$(target_count 'GET /api/movie/never')" = 0 ]
check "cookie: counts equal the server's" [ "$(summary_reqs "$T/cookie" Aggregated)" = "$(target_total)" ]

# ---- an on-start that fails: users are not logged in and run no task -----------
hf=$(hopperfile badlogin.hopperfile <<EOF
users = 3
spawn-rate = 100
wait = constant 200ms
[on-start]
request = POST /login
body = {"user": "nobody", "password": "x"}
extract = token json \$.token
[task list]
request = GET /api/movies?page=1
header = Authorization: Bearer {{token}}
[on-stop]
request = POST /logout
header = Authorization: Bearer {{token}}
EOF
)
target_start || exit 1
hop "$T/badlogin" -f "$hf" -H "$TARGET_URL" -t 2s --no-tui --print-interval 1s --stop-timeout 10s
target_stop
check "badlogin: exit status 1 (the logins failed)" [ "$HOP_RC" = 1 ]
check "badlogin: only logins went out, each retried after the wait" \
    [ "$(target_total)" = "$(target_count 'POST /login')" -a "$(target_count 'POST /login')" -ge 6 ]
check "badlogin: the status line shows the users not logged in" grep -q '3 not logged in' "$T/badlogin"
check "badlogin: the summary says how many were not logged in" \
    grep -q '3 users were not logged in at the stop' "$T/badlogin"
check "badlogin: the login failures name HTTP 401" grep -q 'POST \[on-start\] /login: HTTP 401' "$T/badlogin"

# ---- bad input: FILE:LINE and exit 2, before any load ---------------------------
bad_case() { # NAME WANT PLAN-TEXT [ARGS...]
    local name="$1" want="$2" text="$3"; shift 3
    printf '%s\n' "$text" >"$T/bad.hopperfile"
    hop "$T/bad.out" -f "$T/bad.hopperfile" -H http://127.0.0.1:1 -t 1s --no-tui "$@"
    check "bad input: $name: exit 2 with FILE:LINE" \
        bash -c "[ $HOP_RC = 2 ] && grep -qF -- \"\$1\" '$T/bad.out'" _ "$T/bad.hopperfile:$want"
}
bad_case "unknown variable" "3: {{tokn}}: unknown variable (did you mean 'token'?)" \
    "[task a]
request = GET /
header = X: {{tokn}}
extract = token header X-Id"
bad_case "bad filter" "2: request: " "[task a]
request = GET /{{user.id|urlx}}"
bad_case "bad JSON path" "3: extract: " "[task a]
request = GET /
extract = x json items[0]"
bad_case "bad regex" "3: extract: " "[task a]
request = GET /
extract = x regex (unclosed"
bad_case "missing data file" "3: data 'd': " "[data d]
order = unique
file = nowhere.csv
[task a]
request = GET /{{d.x}}"
printf 'a,b\n1,2\n3\n' >"$T/short.csv"
bad_case "a short CSV row" "2: data 'd': $T/short.csv:3: " "[data d]
file = short.csv
[task a]
request = GET /{{d.a}}"
printf 'a,b\n1,2\n' >"$T/good.csv"
bad_case "a column the file lacks" "4: {{d.c}}: data 'd' (line 1) has no column 'c'" "[data d]
file = good.csv
[task a]
request = GET /{{d.c}}"
printf 'a\n1\n2\n' >"$T/two.csv"
bad_case "unique data with more users than rows (-u)" "1: data 'd' has 2 rows" "[data d]
file = two.csv
order = unique
[task a]
request = GET /{{d.a}}" -u 3
bad_case "a step key before any request" "2: 'header' belongs to a request" "[task a]
header = X: 1
request = GET /"
