# The open model and stages, end to end against a real hopper-target: the
# arrivals on the clock equal the target rate, hopper's counts equal the
# server's, an arrival that finds no free user is dropped (and counted),
# never delayed, with workers the merged rate is the target, stages shape
# the users and the rate, and paced users get corrected latencies.
. "$(dirname "$0")/lib.sh"

# JSON numbers: jn FILE FILTER
jn() { jq -r "$2" "$1"; }

# ---- a steady rate: exact counts, the rate on the clock ---------------------
target_start || exit 1
hf=$(hopperfile open.hf <<EOF
host = $TARGET_URL
model = open
arrival-rate = 200/s
max-users = 50
[task status]
request = GET /status
[task by-id]
request = GET /api/id/tt0068646
EOF
)
hop "$T/out" -f "$hf" -t 4s --no-tui --workers 1 --json "$T/open.json"
target_stop
check "open: exits 0" [ "$HOP_RC" = 0 ]
total=$(summary_reqs "$T/out" Aggregated)
arr=$(jn "$T/open.json" .arrivals)
echo "# requests=$total arrivals=$arr dropped=$(jn "$T/open.json" .dropped_arrivals) server=$(target_total)"
check "open: the requests equal the server's" [ "$total" = "$(target_total)" ]
check "open: one request per arrival (one-step tasks)" [ "${total:-x}" = "${arr:-y}" ]
# 4 s at 200/s: 800 arrivals due in [0, 4 s); the stop may fall a tick late.
check "open: the arrivals are the rate times the run time (800, within 1%)" \
    [ "$arr" -ge 792 -a "$arr" -le 808 ]
check "open: nothing dropped with a free pool" [ "$(jn "$T/open.json" .dropped_arrivals)" = 0 ]
check "open: the JSON says open model" [ "$(jn "$T/open.json" .settings.model)" = open ]
check "open: latencies are corrected (intended starts)" [ "$(jn "$T/open.json" .latency_corrected)" = true ]
check "open: the schedule lag was measured for every arrival" \
    jqe '.arrivals > 0 and .schedule_lag.count == .arrivals' "$T/open.json"
check "open: the history carries arrivals per second" \
    jqe '[.history[] | select(.t >= 2 and .t <= 3) | .arrivals_per_s] | all(. >= 190 and . <= 210)' "$T/open.json"

# ---- a slow server and a small pool: dropped, not delayed -------------------
target_start --delay 200ms || exit 1
hf=$(hopperfile drop.hf <<EOF
host = $TARGET_URL
model = open
arrival-rate = 100/s
max-users = 4
[task status]
request = GET /status
EOF
)
hop "$T/out" -f "$hf" -t 3s --no-tui --workers 1 --json "$T/drop.json"
target_stop
total=$(summary_reqs "$T/out" Aggregated)
arr=$(jn "$T/drop.json" .arrivals)
drop=$(jn "$T/drop.json" .dropped_arrivals)
echo "# requests=$total arrivals=$arr dropped=$drop server=$(target_total)"
check "drop: the requests equal the server's" [ "$total" = "$(target_total)" ]
# 4 users, 200 ms each: 20 iterations a second of 100 arriving.
check "drop: at most 4 users ran (about 20/s of 100/s)" [ "$arr" -le 70 ]
check "drop: the rest were dropped and counted" [ "$drop" -ge 200 ]
check "drop: arrivals and dropped make the schedule (300 within 1%)" \
    [ $((arr + drop)) -ge 297 -a $((arr + drop)) -le 303 ]
# Dropped, never delayed: no send waited for a user, so the corrected
# latency is the raw one plus the generator's own lag (well under 200 ms).
check "drop: corrected p99 stays near the raw one (nothing waited for a user)" \
    jqe '(.aggregated.percentiles_ms["99"] - .aggregated.raw.percentiles_ms["99"]) < 50' "$T/drop.json"
check "drop: the summary says so" grep -qi 'dropped' "$T/out"

# ---- workers: the merged rate is the target -----------------------------------
target_start --workers 2 || exit 1
hf=$(hopperfile workers.hf <<EOF
host = $TARGET_URL
model = open
arrival-rate = 300/s
[task status]
request = GET /status
EOF
)
hop "$T/out" -f "$hf" -t 3s --no-tui --workers 3 --json "$T/workers.json"
target_stop
total=$(summary_reqs "$T/out" Aggregated)
arr=$(jn "$T/workers.json" .arrivals)
echo "# requests=$total arrivals=$arr server=$(target_total)"
check "workers: the requests equal the server's" [ "$total" = "$(target_total)" ]
check "workers: 3 workers make the one rate (900 within 1%)" [ "$arr" -ge 891 -a "$arr" -le 909 ]

# ---- Poisson arrivals, from the command line, over two workers ------------------
target_start || exit 1
hf=$(hopperfile plain.hf <<EOF
host = $TARGET_URL
[task status]
request = GET /status
EOF
)
hop "$T/out" -f "$hf" --arrival-rate 500/s --arrivals poisson -t 4s --no-tui --workers 2 --json "$T/poisson.json"
target_stop
arr=$(jn "$T/poisson.json" .arrivals)
echo "# poisson: arrivals=$arr (expected 2000, sd 45) server=$(target_total)"
check "poisson: the requests equal the server's" [ "$(summary_reqs "$T/out" Aggregated)" = "$(target_total)" ]
check "poisson: the count is the rate's within 5 sd (2000 +- 225)" [ "$arr" -ge 1775 -a "$arr" -le 2225 ]
check "poisson: the JSON says so" [ "$(jn "$T/poisson.json" .settings.arrivals)" = poisson ]
check "poisson: per second counts vary (not the even schedule)" \
    jqe '[.history[] | select(.t >= 1 and .t <= 4) | .arrivals_per_s] | (max - min) >= 5' "$T/poisson.json"

# ---- stages in the open model -------------------------------------------------
target_start || exit 1
hf=$(hopperfile ostages.hf <<EOF
host = $TARGET_URL
model = open
stages = 2s:0-100/s, 2s:100/s
[task status]
request = GET /status
EOF
)
hop "$T/out" -f "$hf" --no-tui --workers 1 --json "$T/ostages.json"
target_stop
arr=$(jn "$T/ostages.json" .arrivals)
echo "# arrivals=$arr (expected 100 + 200) run=$(jn "$T/ostages.json" .duration_s)"
check "open stages: the run time is the stages' sum" jqe '.duration_s >= 3.9 and .duration_s < 5' "$T/ostages.json"
check "open stages: arrivals follow the line (a ramp of 100, then 200)" [ "$arr" -ge 294 -a "$arr" -le 306 ]
check "open stages: the requests equal the server's" [ "$(summary_reqs "$T/out" Aggregated)" = "$(target_total)" ]
check "open stages: the second stage is marked" jqe '[.events[] | select(.kind == "stage")] | length == 1' "$T/ostages.json"

# ---- stages in the closed model ----------------------------------------------
target_start || exit 1
hf=$(hopperfile cstages.hf <<EOF
host = $TARGET_URL
stages = 2s:20, 2s:20, 1s:4
wait = constant 100ms
[task status]
request = GET /status
EOF
)
# -t beyond the stages: the last stage's end holds.
hop "$T/out" -f "$hf" -t 7s --no-tui --workers 1 --json "$T/cstages.json"
target_stop
echo "# users by second: $(jq -c '[.history[] | .users]' "$T/cstages.json")"
check "closed stages: users ramp to 20 and peak there" [ "$(jn "$T/cstages.json" .peak_users)" = 20 ]
check "closed stages: halfway up the first stage, about half the users" \
    jqe '[.history[] | select(.t == 1) | .users] | .[0] >= 8 and .[0] <= 12' "$T/cstages.json"
check "closed stages: the last stage brings them down to 4, which holds after it" \
    jqe '[.history[] | select(.t == 6) | .users] | .[0] == 4' "$T/cstages.json"
check "closed stages: -t wins over the stages' sum" jqe '.duration_s >= 6.9 and .duration_s < 8' "$T/cstages.json"
check "closed stages: one latency (no intended starts)" [ "$(jn "$T/cstages.json" .latency_corrected)" = false ]
check "closed stages: the requests equal the server's" [ "$(summary_reqs "$T/out" Aggregated)" = "$(target_total)" ]

# ---- paced users: corrected latency counts the overrun ------------------------
target_start --delay 300ms || exit 1
hf=$(hopperfile paced.hf <<EOF
host = $TARGET_URL
users = 2
spawn-rate = 100
wait = throughput 10
[task status]
request = GET /status
EOF
)
hop "$T/out" -f "$hf" -t 3s --no-tui --workers 1 --json "$T/paced.json"
target_stop
echo "# p50 corrected=$(jn "$T/paced.json" '.aggregated.median_ms') raw=$(jn "$T/paced.json" '.aggregated.raw.median_ms')"
check "paced: the JSON has both latencies" [ "$(jn "$T/paced.json" .latency_corrected)" = true ]
# Each 300 ms request overran the 100 ms pacing: the next started 200 ms
# after it was due, so corrected = raw + 200 ms from the second on.
check "paced: corrected median is the raw one plus the 200 ms overrun" \
    jqe '(.aggregated.median_ms - .aggregated.raw.median_ms) >= 150 and (.aggregated.median_ms - .aggregated.raw.median_ms) <= 260' "$T/paced.json"
check "paced: the requests equal the server's" [ "$(summary_reqs "$T/out" Aggregated)" = "$(target_total)" ]

# ---- every way of stopping keeps the counts exact -----------------------------
for sig in TERM INT HUP; do
    target_start --delay 50ms || exit 1
    hf=$(hopperfile sig.hf <<EOF
host = $TARGET_URL
model = open
arrival-rate = 300/s
[task status]
request = GET /status
EOF
)
    hop_bg "$T/out" -f "$hf" --no-tui --workers 2 --json "$T/sig.json"
    sleep 1.5
    kill -"$sig" "$HOP_PID"
    hop_wait
    target_stop
    check "SIG$sig: the requests equal the server's" [ "$(summary_reqs "$T/out" Aggregated)" = "$(target_total)" ]
    check "SIG$sig: the JSON was written with the arrivals" jqe '.arrivals > 100' "$T/sig.json"
done

