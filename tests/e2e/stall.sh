# Coordinated omission, measured: hopper-target --stall freezes every answer
# for 1 s at the end of every 6 s (a server paused, as in wrk2's
# demonstration), and the latencies hopper reports match what that pattern
# predicts.
#
# - The open model sends each arrival on time, stall or not: an arrival due
#   d seconds into a stall window waits for its end, so its corrected
#   latency is 1 s - d. The test works out that prediction for every
#   arrival of the run (the run's start from the JSON report, the windows
#   from the schedule the target prints) and compares the p99. Sent on time,
#   the arrivals' raw latency sees the stall as well: raw and corrected agree.
# - Paced users (wait = throughput) are the closed model with a schedule:
#   each one's request caught by the stall holds back its next, which goes
#   out after the stall, late by about the stall. Raw latency, measured from
#   that late send, misses it (coordinated omission); the corrected one, from
#   when the request was due, shows it. With 10 users at 20/s each over 8 s
#   (one window inside the run), one request per user is caught (0.7% of
#   them: raw p99 stays normal) and two per user see the stall when
#   corrected (1.4%: corrected p99 near 1 s).
. "$(dirname "$0")/lib.sh"

jn() { jq -r "$2" "$1"; }

# ---- the open model -----------------------------------------------------------
target_start --stall 1s --stall-every 6s || exit 1
check "stall: the target prints its schedule" grep -q '^stall 1.000 s every 6.000 s' "$TARGET_OUT"
first=$(sed -n 's/^stall .* the first at unix \([0-9.]*\)$/\1/p' "$TARGET_OUT")
hf=$(hopperfile open.hf <<EOF
host = $TARGET_URL
model = open
arrival-rate = 200/s
[task status]
request = GET /status
EOF
)
hop "$T/out" -f "$hf" -t 8s --no-tui --workers 1 --json "$T/open.json"
target_stop
arr=$(jn "$T/open.json" .arrivals)
start=$(jq -r '.start | (sub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) + ((capture("\\.(?<ms>[0-9]+)Z$").ms | tonumber) / 1000)' "$T/open.json")
p99=$(jn "$T/open.json" '.aggregated.percentiles_ms["99"]')
raw99=$(jn "$T/open.json" '.aggregated.raw.percentiles_ms["99"]')
# Arrival k is due at start + k/200; inside a window [first + j*6, + 1 s) it
# waits for the window's end. The p99 of those waits, by nearest rank.
pred=$(awk -v n="$arr" -v start="$start" -v first="$first" 'BEGIN {
        for (k = 0; k < n; k++) { rel = start + k / 200 - first; j = int(rel / 6); if (rel < 0) j--
                                  d = rel - j * 6; print (d >= 0 && d < 1) ? (1 - d) * 1000 : 0 } }' |
       sort -n | awk -v n="$arr" 'NR == int(n * 0.99 + 0.999999) { printf "%.0f", $1 }')
echo "# open model: $arr arrivals from unix $start, windows from $first; corrected p99 ${p99} ms, raw p99 ${raw99} ms; predicted ${pred} ms"
check "stall/open: the requests equal the server's" [ "$(summary_reqs "$T/out" Aggregated)" = "$(target_total)" ]
check "stall/open: nothing dropped (the pool grew through the stall)" [ "$(jn "$T/open.json" .dropped_arrivals)" = 0 ]
check "stall/open: the prediction is about the stall (a window fell in the run)" fcmp "${pred:-0}" '>=' 500
check "stall/open: corrected p99 is the predicted one (within 15%)" \
    fcmp "$p99" '>=' "$(awk -v p="${pred:-0}" 'BEGIN { print p * 0.85 }')"
check "stall/open: ... and not above it" fcmp "$p99" '<=' "$(awk -v p="${pred:-0}" 'BEGIN { print p * 1.15 + 20 }')"
check "stall/open: raw p99 sees the stall as well (sent on time)" \
    fcmp "$raw99" '>=' "$(awk -v p="$p99" 'BEGIN { print p * 0.85 }')"
check "stall/open: the generator kept its schedule (lag p99 under 50 ms)" \
    jqe '.schedule_lag.p99_ms < 50' "$T/open.json"

# ---- paced users: coordinated omission shows raw vs corrected ---------------------
# 8 s from a start within 3 s of the target's hold exactly the window [5 s, 6 s).
target_start --stall 1s --stall-every 6s || exit 1
hf=$(hopperfile paced.hf <<EOF
host = $TARGET_URL
users = 10
spawn-rate = 1000
wait = throughput 20
[task status]
request = GET /status
EOF
)
hop "$T/out" -f "$hf" -t 8s --no-tui --workers 1 --json "$T/paced.json"
target_stop
p99=$(jn "$T/paced.json" '.aggregated.percentiles_ms["99"]')
raw99=$(jn "$T/paced.json" '.aggregated.raw.percentiles_ms["99"]')
rawmax=$(jn "$T/paced.json" '.aggregated.raw.max_ms')
echo "# paced users: corrected p99 ${p99} ms, raw p99 ${raw99} ms, raw max ${rawmax} ms"
check "stall/paced: the requests equal the server's" [ "$(summary_reqs "$T/out" Aggregated)" = "$(target_total)" ]
check "stall/paced: the stall was there (raw max near 1 s)" fcmp "$rawmax" '>=' 700
check "stall/paced: raw p99 stays at the normal latency (under 50 ms)" fcmp "$raw99" '<' 50
check "stall/paced: corrected p99 is close to the stall (over 700 ms)" fcmp "$p99" '>=' 700
check "stall/paced: the summary shows both" grep -qi 'raw' "$T/out"
