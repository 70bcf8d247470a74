# --metrics-listen, scraped by a real Prometheus (Debian's `prometheus`,
# installed by `make test-deps`): an ordinary timed run with
# --metrics-linger 3s, so that Prometheus (scrape interval 1 s) takes the
# final numbers after the run; PromQL's sum(hopper_requests_total) must equal
# hopper's own final count (its --json report) and the target's. Once with
# hopper's own client, once with --workers 2, once with libcurl. Also:
# promtool check metrics (Prometheus' linter) on each real scrape and on the
# unit test's exposition, the exposition as curl sees it (# TYPE lines, the
# summary, the histogram's +Inf bucket equal to the counter), 404 and 400
# answers, bad --metrics-listen values, a port in use stopping the run before
# anything is sent, a SIGTERM ending a linger at once, and q ending it after
# the dashboard (tmux).
. "$(dirname "$0")/lib.sh"

for tool in prometheus promtool curl jq tmux; do
    # `make test` installs these (TEST_DEB_PKGS): missing is a failure, not a skip.
    command -v "$tool" >/dev/null || { not_ok "metrics: $tool is installed (make test-deps)"; exit 1; }
done

PROM_PID=""
cleanup_metrics() {
    if [ -n "$PROM_PID" ]; then
        kill -TERM "$PROM_PID" 2>/dev/null
        for _ in $(seq 1 50); do kill -0 "$PROM_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$PROM_PID" 2>/dev/null
        wait "$PROM_PID" 2>/dev/null
    fi
    [ -n "${HOP_PID:-}" ] && kill -9 "$HOP_PID" 2>/dev/null
    [ -n "${TMUX_SOCK:-}" ] && tmux -L "$TMUX_SOCK" kill-server 2>/dev/null
    cleanup_lib
}
trap cleanup_metrics EXIT

# A loopback port nobody listens on, below the ephemeral range (so that no
# client's local port holds it meanwhile), not one of the ports given.
free_port() {
    local lo p
    lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
    [ "$lo" -gt 12000 ] || lo=32768
    while :; do
        p=$(( 10000 + RANDOM % (lo - 10000) ))
        case " $* " in *" $p "*) continue ;; esac
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
        echo "$p"
        return
    done
}

# ---- bad values: exit 2, naming the option ------------------------------------
hf=$(hopperfile nowhere.hopperfile <<EOF
host = http://127.0.0.1:1
[task status]
request = GET /status
EOF
)
for bad in 127.0.0.1 127.0.0.1:99999 :9646 localhost:9646 ::1:9646 '[::1]9646' 300.1.1.1:80; do
    hop "$T/bad" -f "$hf" --metrics-listen "$bad" -t 1s --headless
    if [ "$HOP_RC" = 2 ] && grep -q -- "--metrics-listen '" "$T/bad"; then
        ok "metrics: --metrics-listen '$bad' exits 2 naming the option"
    else
        not_ok "metrics: --metrics-listen '$bad' exits 2 naming the option" \
            "status $HOP_RC: $(head -c 300 "$T/bad")"
    fi
done

hop "$T/bad" -f "$hf" --metrics-linger 3s -t 1s --headless
# shellcheck disable=SC2016 # $1 and $2 are bash -c's
check "metrics: --metrics-linger without --metrics-listen exits 2 (got $HOP_RC)" \
    bash -c '[ "$1" = 2 ] && grep -q -- "--metrics-linger needs --metrics-listen" "$2"' _ "$HOP_RC" "$T/bad"
hop "$T/bad" -f "$hf" --metrics-listen 127.0.0.1:0 --metrics-linger 3x -t 1s --headless
# shellcheck disable=SC2016 # $1 and $2 are bash -c's
check "metrics: --metrics-linger 3x exits 2 naming the option (got $HOP_RC)" \
    bash -c '[ "$1" = 2 ] && grep -q -- "--metrics-linger .3x." "$2"' _ "$HOP_RC" "$T/bad"

# ---- IPv6, port 0: hopper names the port it got -------------------------------
target_start || exit 1
hf=$(hopperfile v6.hopperfile <<EOF
host = $TARGET_URL
wait = constant 50ms
[task status]
request = GET /status
EOF
)
hop_bg "$T/v6.out" -f "$hf" -u 1 -r 10 -t 50s --headless --metrics-listen '[::1]:0'
v6url=""
for _ in $(seq 1 100); do
    v6url=$(sed -n 's/^hopper: metrics: serving \(http:\/\/\[::1\]:[1-9][0-9]*\/metrics\)$/\1/p' "$T/v6.out")
    [ -n "$v6url" ] && break
    kill -0 "$HOP_PID" 2>/dev/null || break
    sleep 0.05
done
if [ -z "$v6url" ] && grep -Eq 'not an address of this machine|Address family not supported' "$T/v6.out"; then
    skip_unavailable "metrics: --metrics-listen [::1]:0" "no IPv6 loopback (::1) on this machine"
    hop_wait
else
    check "metrics: --metrics-listen [::1]:0 names its URL ($v6url)" [ -n "$v6url" ]
    code=$(curl -s -g -o "$T/v6.metrics" -w '%{http_code}' --max-time 5 "$v6url")
    check "metrics: GET over IPv6 is 200 (got $code)" [ "$code" = 200 ]
    check "metrics: ... with the exposition" grep -q '^hopper_requests_total{method="GET",name="/status"} ' "$T/v6.metrics"
    kill -TERM "$HOP_PID"
    hop_wait
    check "metrics: the IPv6 run ends cleanly (status $HOP_RC)" [ "$HOP_RC" = 0 ]
fi
target_stop

# ---- Prometheus, its own instance ------------------------------------------------
V_NAMES=(native workers curl)
V_ARGS=("" "--workers 2" "--http-client curl")
MPORTS=()
for _ in "${V_NAMES[@]}"; do MPORTS+=("$(free_port "${MPORTS[@]}")"); done
targets=$(printf "'127.0.0.1:%s', " "${MPORTS[@]}")
mkdir -p "$T/prom"
cat >"$T/prom.yml" <<EOF
# tests/e2e/metrics.sh
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: hopper
    static_configs:
      - targets: [${targets%, }]
EOF
started=""
for _ in 1 2 3 4 5; do
    PROM_PORT=$(free_port "${MPORTS[@]}")
    prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
        --web.listen-address="127.0.0.1:$PROM_PORT" >"$T/prom.log" 2>&1 </dev/null &
    PROM_PID=$!
    for _ in $(seq 1 300); do
        kill -0 "$PROM_PID" 2>/dev/null || break
        if curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1; then started=1; break; fi
        sleep 0.1
    done
    [ -n "$started" ] && break
    kill -9 "$PROM_PID" 2>/dev/null; wait "$PROM_PID" 2>/dev/null; PROM_PID=""
    grep -q 'address already in use' "$T/prom.log" || break
done
if [ -z "$started" ]; then
    not_ok "metrics: prometheus starts" "$(tail -n 5 "$T/prom.log" | tr '\n' ' ')"
    exit 1
fi
echo "# prometheus $(prometheus --version 2>&1 | head -n 1 | awk '{ print $3 }') on 127.0.0.1:$PROM_PORT"

# A latency in seconds, above 0 and at most the last bound (60 s).
in_seconds() { [ -n "$1" ] && fcmp "$1" '>' 0 && fcmp "$1" '<=' 60; }

# promql QUERY: the first result's value ("" when there is none).
promql() {
    curl -s --max-time 5 --get --data-urlencode "query=$1" \
        "http://127.0.0.1:$PROM_PORT/api/v1/query" | jq -r '.data.result[0].value[1] // empty'
}

# ---- a port in use: exit 2, nothing sent -------------------------------------
target_start || exit 1
hf=$(hopperfile inuse.hopperfile <<EOF
host = $TARGET_URL
[task status]
request = GET /status
EOF
)
for w in 1 2; do
    hop "$T/inuse-$w" -f "$hf" -u 5 -r 50 -t 3s --headless --workers "$w" \
        --metrics-listen "127.0.0.1:$PROM_PORT"
    echo "# --workers $w: $(head -c 300 "$T/inuse-$w")"
    check "metrics: a port in use exits 2 (--workers $w)" [ "$HOP_RC" = 2 ]
    check "metrics: a port in use is named with the option (--workers $w)" \
        grep -q -- "^hopper: --metrics-listen 127.0.0.1:$PROM_PORT: cannot listen: the address is in use" "$T/inuse-$w"
done
target_stop
check "metrics: a port in use: nothing was sent (the target counted 0)" [ "$(target_total)" = 0 ]

# ---- served during the stop's drain -------------------------------------------
# Every answer takes 4 s: after SIGTERM the requests in flight finish (the
# drain), and /metrics answers meanwhile, with the stopping state.
target_start --delay 4s || exit 1
hf=$(hopperfile slow.hopperfile <<EOF
host = $TARGET_URL
[task status]
request = GET /status
EOF
)
dp=$(free_port "${MPORTS[@]}" "$PROM_PORT")
hop_bg "$T/drain.out" -f "$hf" -u 3 -r 100 -t 50s --headless --only-summary --metrics-listen "127.0.0.1:$dp"
for _ in $(seq 1 100); do
    curl -s --max-time 2 "http://127.0.0.1:$dp/metrics" >"$T/drain.metrics" 2>/dev/null
    grep -q '^hopper_in_flight 3$' "$T/drain.metrics" && break
    sleep 0.1
done
kill -TERM "$HOP_PID"
stopping=""
for _ in $(seq 1 100); do
    curl -s --max-time 2 "http://127.0.0.1:$dp/metrics" >"$T/drain.metrics" 2>/dev/null
    if grep -q '^hopper_run_state{state="stopping"} 1$' "$T/drain.metrics"; then stopping=1; break; fi
    sleep 0.1
done
check "metrics: /metrics answers during the stop's drain, with the stopping state" [ -n "$stopping" ]
check "metrics: ... and the requests still in flight" grep -q '^hopper_in_flight [1-9]' "$T/drain.metrics"
hop_wait
target_stop
check "metrics: the drained run ends cleanly (status $HOP_RC)" [ "$HOP_RC" = 0 ]
check "metrics: the drained requests are counted (the target's $(target_total))" \
    grep -q "^Run: .*, $(target_total) requests (0 failed)" "$T/drain.out"

# ---- the scrape test, per variant ------------------------------------------------
# A name with a double quote and a backslash: escaped by hopper, read back
# by Prometheus.
odd='say "hi" \ back'
odd_promql='say \"hi\" \\ back'
for i in "${!V_NAMES[@]}"; do
    v=${V_NAMES[$i]}
    mp=${MPORTS[$i]}
    inst="127.0.0.1:$mp"
    url="http://$inst/metrics"
    target_start || exit 1
    hf=$(hopperfile "$v.hopperfile" <<EOF
host = $TARGET_URL
wait = constant 20ms
[task status]
weight = 2
request = GET /status
[task odd]
request = GET /api/id/tt0068646
name = $odd
EOF
)
    # An ordinary timed run; then --metrics-linger keeps the final numbers
    # at /metrics for 3 s (three of Prometheus' scrape intervals), after the
    # summary and the --json report.
    # shellcheck disable=SC2086 # the variant's options are words
    hop_bg "$T/$v.out" -f "$hf" -u 10 -r 10 -t 4s --headless --only-summary \
        --json "$T/$v.json" --metrics-listen "$inst" --metrics-linger 3s ${V_ARGS[$i]}
    lingering=""
    for _ in $(seq 1 300); do
        if grep -q "^hopper: metrics: serving the final numbers at $url for 3s more (a signal ends it)$" "$T/$v.out"; then
            lingering=1
            break
        fi
        kill -0 "$HOP_PID" 2>/dev/null || break
        sleep 0.05
    done
    curl -s --max-time 2 "$url" >"$T/$v.metrics" 2>/dev/null
    check "metrics $v: after the run, hopper says it serves the final numbers for 3s" [ -n "$lingering" ]
    # What curl sees during the linger: the final numbers, the report
    # already written.
    check "metrics $v: the lingering /metrics says the run is done" \
        grep -q '^hopper_run_state{state="done"} 1$' "$T/$v.metrics"
    check "metrics $v: the summary and the --json report come before the linger" \
        jqe '.aggregated.requests > 0' "$T/$v.json"
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$inst/nope")
    check "metrics $v: another path is 404 (got $code)" [ "$code" = 404 ]
    bad_answer=$(exec 3<>"/dev/tcp/127.0.0.1/$mp"; printf 'nonsense\r\n\r\n' >&3; timeout 2 head -n 1 <&3)
    check "metrics $v: a bad request is 400" [ "${bad_answer%$'\r'}" = "HTTP/1.1 400 Bad Request" ]
    hop_wait
    target_stop
    check "metrics $v: hopper ends cleanly after the linger (status $HOP_RC)" [ "$HOP_RC" = 0 ]
    check "metrics $v: it said so once" [ "$(grep -c 'serving the final numbers' "$T/$v.out")" = 1 ]
    # promtool, Prometheus' own linter, on a real scrape: no problems at all.
    promtool check metrics <"$T/$v.metrics" >"$T/$v.promtool" 2>&1
    prc=$?
    check "metrics $v: promtool check metrics finds no problem (status $prc)" \
        [ "$prc" = 0 -a ! -s "$T/$v.promtool" ]
    if [ -s "$T/$v.promtool" ]; then sed 's/^/# | /' "$T/$v.promtool"; fi
    check "metrics $v: /metrics has # TYPE lines" \
        grep -q '^# TYPE hopper_request_duration_seconds histogram$' "$T/$v.metrics"
    check "metrics $v: /metrics has the counter's # TYPE" \
        grep -q '^# TYPE hopper_requests_total counter$' "$T/$v.metrics"
    check "metrics $v: the quantiles are a summary" \
        grep -q '^# TYPE hopper_request_latency_seconds summary$' "$T/$v.metrics"
    c_status=$(sed -n 's/^hopper_requests_total{method="GET",name="\/status"} //p' "$T/$v.metrics")
    c_inf=$(sed -n 's/^hopper_request_duration_seconds_bucket{method="GET",name="\/status",le="+Inf"} //p' "$T/$v.metrics")
    check "metrics $v: curl: the +Inf bucket equals hopper_requests_total ($c_inf, $c_status)" \
        [ -n "$c_status" -a "$c_inf" = "$c_status" ]
    case "$v" in
        workers) check "metrics $v: each worker's CPU is exported" \
                     grep -q '^hopper_cpu_ratio{process="worker2"} ' "$T/$v.metrics" ;;
        curl) check "metrics $v: the run used libcurl" \
                  grep -q '^hopper_info{version="[^"]*",client="libcurl' "$T/$v.metrics" ;;
        *) check "metrics $v: the run used hopper's own client" \
               grep -q '^hopper_info{version="[^"]*",client="native' "$T/$v.metrics" ;;
    esac
    # Prometheus took a sample of the done state, which only the linger
    # serves (hopper is gone now: last_over_time reads past the staleness
    # marker of the failed scrapes).
    scraped=""
    for _ in $(seq 1 50); do
        [ "$(promql "max_over_time(hopper_run_state{instance=\"$inst\",state=\"done\"}[5m])")" = 1 ] && { scraped=1; break; }
        sleep 0.2
    done
    check "metrics $v: prometheus scraped the final numbers during the linger" [ -n "$scraped" ]
    last() { promql "sum(last_over_time($1[5m]))"; }
    prom_total=$(last "hopper_requests_total{instance=\"$inst\"}")
    prom_status=$(last "hopper_requests_total{instance=\"$inst\",name=\"/status\"}")
    prom_odd=$(last "hopper_requests_total{instance=\"$inst\",name=\"$odd_promql\"}")
    prom_inf=$(last "hopper_request_duration_seconds_bucket{instance=\"$inst\",name=\"/status\",le=\"+Inf\"}")
    prom_ok=$(last "hopper_responses_total{instance=\"$inst\",code=\"200\"}")
    prom_count=$(last "hopper_aggregated_latency_seconds_count{instance=\"$inst\"}")
    prom_p99=$(promql "histogram_quantile(0.99, sum by (le) (last_over_time(hopper_request_duration_seconds_bucket{instance=\"$inst\"}[5m])))")
    prom_sp99=$(promql "last_over_time(hopper_aggregated_latency_seconds{instance=\"$inst\",quantile=\"0.99\"}[5m])")
    json_total=$(jq -r '.aggregated.requests' "$T/$v.json" 2>/dev/null)
    target_all=$(target_total)
    echo "# $v: prometheus $prom_total, hopper --json $json_total, target $target_all;" \
         "/status $prom_status (+Inf $prom_inf), odd $prom_odd, 200s $prom_ok, p99 ${prom_p99}s, summary p99 ${prom_sp99}s"
    check "metrics $v: some load was sent" [ "${json_total:-0}" -gt 50 ]
    check "metrics $v: PromQL sum(hopper_requests_total) equals hopper's final count" \
        [ "$prom_total" = "$json_total" ]
    check "metrics $v: ... and the target's" [ "$prom_total" = "$target_all" ]
    check "metrics $v: PromQL /status equals the target's" \
        [ "$prom_status" = "$(target_count 'GET /status')" ]
    check "metrics $v: PromQL reads the escaped name back, equal to the target's" \
        [ "$prom_odd" = "$(target_count 'GET /api/id/tt0068646')" ]
    check "metrics $v: PromQL: the +Inf bucket equals the counter" [ "$prom_inf" = "$prom_status" ]
    check "metrics $v: PromQL: the 200 responses equal the total (no failures)" \
        [ "$prom_ok" = "$target_all" ]
    check "metrics $v: PromQL: the Aggregated summary's count equals the target's" \
        [ "$prom_count" = "$target_all" ]
    check "metrics $v: PromQL: histogram_quantile works on the buckets" in_seconds "$prom_p99"
    check "metrics $v: PromQL: the summary's p99 is a latency" in_seconds "$prom_sp99"
done

# ---- the linger ends at a signal -------------------------------------------------
# A linger of 5 minutes: SIGTERM ends it at once, with the run's status (the
# watchdog of hop_bg, 60 s, would kill a hopper that lingered on: 137).
target_start || exit 1
hf=$(hopperfile linger.hopperfile <<EOF
host = $TARGET_URL
wait = constant 50ms
[task status]
request = GET /status
EOF
)
lp=$(free_port "${MPORTS[@]}" "$PROM_PORT")
hop_bg "$T/linger.out" -f "$hf" -u 2 -r 10 -t 1s --headless --only-summary \
    --metrics-listen "127.0.0.1:$lp" --metrics-linger 5m
lingering=""
for _ in $(seq 1 300); do
    grep -q '^hopper: metrics: serving the final numbers at .* for 5m more' "$T/linger.out" && { lingering=1; break; }
    kill -0 "$HOP_PID" 2>/dev/null || break
    sleep 0.05
done
check "metrics: --metrics-linger 5m: hopper lingers after the run" [ -n "$lingering" ]
check "metrics: ... the summary came first" grep -q '^=== hopper summary' "$T/linger.out"
curl -s --max-time 2 "http://127.0.0.1:$lp/metrics" >"$T/linger.metrics" 2>/dev/null
kill -TERM "$HOP_PID"
hop_wait
target_stop
check "metrics: ... /metrics serves the final count (the target's $(target_total))" \
    grep -q "^hopper_requests_total{method=\"GET\",name=\"/status\"} $(target_total)$" "$T/linger.metrics"
check "metrics: SIGTERM during the linger ends it with the run's status (got $HOP_RC)" [ "$HOP_RC" = 0 ]
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$lp/metrics")
check "metrics: ... and nothing listens any more (got $code)" [ "$code" = 000 ]

# ---- the linger after the dashboard: q ends it -----------------------------------
command -v tmux >/dev/null || { not_ok "metrics: tmux is installed (make test-deps)"; exit 1; }
TMUX_SOCK="hopper-metrics-$$"
tm() { tmux -L "$TMUX_SOCK" "$@"; }
target_start || exit 1
hf=$(hopperfile dash.hopperfile <<EOF
host = $TARGET_URL
wait = constant 50ms
[task status]
request = GET /status
EOF
)
dp2=$(free_port "${MPORTS[@]}" "$PROM_PORT" "$lp")
tm new-session -d -s keep "sleep 600"
tm new-session -d -s dash -x 120 -y 40 \
    "env LANG=C.UTF-8 TERM=tmux-256color $HOPPER -f $hf -u 2 -r 10 -t 2s --metrics-listen 127.0.0.1:$dp2 --metrics-linger 5m; echo EXIT=\$?; stty -a | tr ' ;' '\n\n' | grep -xE -- '-?(icanon|echo)' | tr '\n' ' '; echo; sleep 60"
dash_screen() { tm capture-pane -p -S -300 -t dash; }
seen=""
for _ in $(seq 1 300); do
    dash_screen | grep -q 'serving the final numbers at .* for 5m more (q or Ctrl-C ends it)' && { seen=1; break; }
    sleep 0.1
done
check "metrics: with the dashboard, the linger comes after it (q or Ctrl-C ends it)" [ -n "$seen" ]
check "metrics: ... after the summary" bash -c "printf '%s\n' \"\$1\" | awk '/^=== hopper summary/ { s = 1 } s && /serving the final numbers/ { f = 1 } END { exit !f }'" _ "$(dash_screen)"
curl -s --max-time 2 "http://127.0.0.1:$dp2/metrics" >"$T/dash.metrics" 2>/dev/null
check "metrics: ... /metrics still answers, with the done state" \
    grep -q '^hopper_run_state{state="done"} 1$' "$T/dash.metrics"
tm send-keys -t dash q
exited=""
for _ in $(seq 1 300); do
    dash_screen | grep -q '^EXIT=0' && { exited=1; break; }
    sleep 0.1
done
check "metrics: q during the linger ends it, status 0" [ -n "$exited" ]
[ -n "$exited" ] || dash_screen | grep -v '^$' | tail -5 | sed 's/^/# | /'
for _ in $(seq 1 50); do dash_screen | grep -q 'icanon' && break; sleep 0.1; done
check "metrics: ... the terminal is restored (icanon echo)" \
    bash -c "printf '%s\n' \"\$1\" | grep -q 'icanon echo'" _ "$(dash_screen)"
tm kill-server 2>/dev/null
target_stop

# ---- promtool on the unit test's exposition (every family, crafted) --------------
if [ -x "$BUILD/tests/test_metrics" ]; then
    TEST_METRICS_DUMP="$T/unit.metrics" "$BUILD/tests/test_metrics" >/dev/null 2>&1
    promtool check metrics <"$T/unit.metrics" >"$T/unit.promtool" 2>&1
    prc=$?
    check "metrics: promtool check metrics on the unit test's exposition (status $prc)" \
        [ -s "$T/unit.metrics" -a "$prc" = 0 -a ! -s "$T/unit.promtool" ]
    if [ -s "$T/unit.promtool" ]; then sed 's/^/# | /' "$T/unit.promtool"; fi
else
    not_ok "metrics: $BUILD/tests/test_metrics is built (make test-e2e builds it)"
fi
