# Reports: Locust-compatible CSV, the JSON summary, the HTML report, the
# failure log and pass/fail checks, against a real server, on every way out.
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || { not_ok "reports: jq is installed (make test-deps)"; exit 1; }

# Locust's CSV headers, from Locust's own source and never from hopper's
# output: the lines below are copied verbatim from locustio/locust,
# locust/stats.py (commit 0070e8b309bfb3b50ec9be12f088d8e92032cdde: the
# module constant PERCENTILES_TO_REPORT, StatsCSV.__init__ and
# StatsCSVFileWriter.__init__; Locust's main.py passes PERCENTILES_TO_REPORT
# as percentiles_to_report). _failures.csv has the four columns of
# failures_columns, as in Debian's python3-locust 2.12.1 too
# (../shared/reference/locust.md, section 2.3). A header is the quoted names
# in order, with get_readable_percentiles(...) expanded as Locust does.
locust_stats_py() {
    cat <<'PY'
PERCENTILES_TO_REPORT = [0.50, 0.66, 0.75, 0.80, 0.90, 0.95, 0.98, 0.99, 0.999, 0.9999, 1.0]

        self.requests_csv_columns = [
            "Type",
            "Name",
            "Request Count",
            "Failure Count",
            "Median Response Time",
            "Average Response Time",
            "Min Response Time",
            "Max Response Time",
            "Average Content Size",
            "Requests/s",
            "Failures/s",
        ] + get_readable_percentiles(self.percentiles_to_report)

        self.failures_columns = [
            "Method",
            "Name",
            "Error",
            "Occurrences",
        ]

        self.exceptions_columns = [
            "Count",
            "Message",
            "Traceback",
            "Nodes",
        ]

        self.stats_history_csv_columns = [
            "Timestamp",
            "User Count",
            "Type",
            "Name",
            "Requests/s",
            "Failures/s",
            *get_readable_percentiles(self.percentiles_to_report),
            "Total Request Count",
            "Total Failure Count",
            "Total Median Response Time",
            "Total Average Response Time",
            "Total Min Response Time",
            "Total Max Response Time",
            "Total Average Content Size",
        ]
PY
}
# locust_header LIST -> the CSV header line of self.LIST above.
# get_readable_percentiles: f"{int(p * 100) if (p * 100).is_integer() else
# round(100 * p, 6)}%", i.e. 0.5 -> 50%, 0.999 -> 99.9%.
locust_header() {
    locust_stats_py | awk -v list="$1" '
        /^PERCENTILES_TO_REPORT = \[/ {
            s = $0; sub(/^[^[]*\[/, "", s); sub(/\].*/, "", s)
            n = split(s, p, /, */); pct = ""
            for (i = 1; i <= n; i++) {
                v = p[i] * 100
                if (v == int(v)) r = sprintf("%d", v)
                else { r = sprintf("%.6f", v); sub(/0+$/, "", r); sub(/\.$/, ".0", r) }
                pct = pct (i > 1 ? "," : "") r "%"
            }
        }
        $0 ~ "self\\." list " = \\[" { in_list = 1; out = ""; next }
        in_list && /get_readable_percentiles\(/ { out = out (out == "" ? "" : ",") pct }
        in_list && /^ *"/ { s = $0; sub(/^ *"/, "", s); sub(/",?$/, "", s); out = out (out == "" ? "" : ",") s }
        in_list && /^ *\]/ { print out; exit }'
}
LOCUST_STATS=$(locust_header requests_csv_columns)
LOCUST_HISTORY=$(locust_header stats_history_csv_columns)
LOCUST_FAILURES=$(locust_header failures_columns)
LOCUST_EXCEPTIONS=$(locust_header exceptions_columns)

target_start --fail-rate 0.1 || exit 1
hf=$(hopperfile reports <<EOF
host = $TARGET_URL
users = 10
spawn-rate = 100
wait = constant 5ms
header = Authorization: Bearer very-secret-token
header = X-Trace: visible
check = fail-ratio<50%
[task status]
request = GET /status
[task by-title]
request = GET /api/title/The godfather/1972
EOF
)
hop "$T/run.out" -f "$hf" -t 3s --no-tui --stop-timeout 5s --csv "$T/csv/sub/run" \
    --json "$T/run.json" --html "$T/run.html" --log-failures "$T/fail.jsonl" \
    --check 'p95<10s' --check '/status:requests>0'
target_stop
server=$(target_total)
check "reports: exit status 1 (requests failed, checks passed)" [ "$HOP_RC" = 1 ]

# CSV
check "csv: a missing folder in the prefix was created" [ -f "$T/csv/sub/run_stats.csv" ]
check "csv: _stats.csv has Locust's header" [ "$(head -n 1 "$T/csv/sub/run_stats.csv")" = "$LOCUST_STATS" ]
check "csv: _stats_history.csv has Locust's header" [ "$(head -n 1 "$T/csv/sub/run_stats_history.csv")" = "$LOCUST_HISTORY" ]
check "csv: _failures.csv has Locust's header" [ "$(head -n 1 "$T/csv/sub/run_failures.csv")" = "$LOCUST_FAILURES" ]
check "csv: _exceptions.csv is written with Locust's header" \
    [ "$(head -n 1 "$T/csv/sub/run_exceptions.csv" 2>/dev/null)" = "$LOCUST_EXCEPTIONS" ]
csv_total=$(awk -F, '$2 == "Aggregated" { print $3 }' "$T/csv/sub/run_stats.csv")
check "csv: the final Aggregated count equals the server's" [ "$csv_total" = "$server" ]
check "csv: and the summary's" [ "$csv_total" = "$(summary_reqs "$T/run.out" Aggregated)" ]
check "csv: a name with a space is one cell" grep -q '^GET,/api/title/The godfather/1972,' "$T/csv/sub/run_stats.csv"
check "csv: sub-millisecond precision (not Locust's integer buckets)" \
    bash -c "awk -F, 'NR == 2 { exit !(\$6 ~ /^[0-9]+\\.[0-9][0-9][0-9]\$/) }' '$T/csv/sub/run_stats.csv'"
rows=$(($(wc -l <"$T/csv/sub/run_stats_history.csv") - 1))
check "csv: about one history row per second" [ "$rows" -ge 2 -a "$rows" -le 5 ]
fails=$(awk -F, 'NR > 1 { n += $4 } END { print n + 0 }' "$T/csv/sub/run_failures.csv")
check "csv: failure occurrences add up to the failure count" \
    [ "$fails" = "$(awk -F, '$2 == "Aggregated" { print $4 }' "$T/csv/sub/run_stats.csv")" ]
check "csv: failures name the error" grep -q '^GET,/status,HTTP 500,' "$T/csv/sub/run_failures.csv"
check "csv: no _stats_raw.csv in a run without intended starts" [ ! -e "$T/csv/sub/run_stats_raw.csv" ]

# JSON
check "json: parses" jqe . "$T/run.json"
check "json: has a version" jqe '.version == 1' "$T/run.json"
check "json: Aggregated requests equal the server's" [ "$(jq .aggregated.requests "$T/run.json")" = "$server" ]
check "json: failures match the summary" [ "$(jq .aggregated.failures "$T/run.json")" = "$(summary_fails "$T/run.out" Aggregated)" ]
check "json: entries add up" [ "$(jq '[.entries[].requests] | add' "$T/run.json")" = "$server" ]
check "json: percentiles are there" jqe '.aggregated.percentiles_ms["99.9"] > 0' "$T/run.json"
check "json: history per second" jqe '(.history | length) >= 2' "$T/run.json"
check "json: the checks and the exit status" jqe '(.checks | length) == 3 and .result.checks_passed and .result.exit_status == 1' "$T/run.json"
check "json: settings" jqe '.settings.users == 10 and .settings.wait == "constant 5ms"' "$T/run.json"
check "json: the closed model, one latency" \
    jqe '.settings.model == "closed" and .settings.stages == [] and .latency_corrected == false and
         .schedule_lag == null and .aggregated.raw == null and .dropped_arrivals == 0' "$T/run.json"

# HTML
check "html: written" [ -s "$T/run.html" ]
check "html: three inline SVG charts" [ "$(grep -o '<svg' "$T/run.html" | wc -l)" -ge 3 ]
check "html: self-contained (no external scripts, styles or fonts)" \
    bash -c "! grep -Eiq '<script[^>]+src=|<link |@import|url\\(https?:' '$T/run.html'"
html_total=$(html_reqs "$T/run.html" Aggregated)
echo "# HTML Aggregated requests: ${html_total:-none}; server: $server"
check "html: the Aggregated request count equals the server's" [ "$html_total" = "$server" ]
check "html: per endpoint too" \
    [ "$(html_reqs "$T/run.html" /status)" = "$(target_count 'GET /status')" -a \
      "$(html_reqs "$T/run.html" "/api/title/The godfather/1972")" = "$(target_count 'GET /api/title/The godfather/1972')" ]
check "html: the percentile table's count agrees" [ "$(html_cell "$T/run.html" percentiles Aggregated Requests)" = "$server" ]

# Failure log
check "failure log: one line per failed request" [ "$(wc -l <"$T/fail.jsonl")" = "$fails" ]
check "failure log: every line is JSON" bash -c "jq -e . '$T/fail.jsonl' >/dev/null"
check "failure log: the status and the error" bash -c "head -n 1 '$T/fail.jsonl' | jq -e '.status == 500 and .error == \"HTTP 500\"' >/dev/null"
check "failure log: the Authorization value is redacted" bash -c "! grep -q very-secret-token '$T/fail.jsonl' && grep -q 'Authorization: \\[redacted\\]' '$T/fail.jsonl'"
check "failure log: other headers are kept" grep -q 'X-Trace: visible' "$T/fail.jsonl"
check "failure log: the start of the body" bash -c "head -n 1 '$T/fail.jsonl' | jq -e '.response_body | length > 0' >/dev/null"

# --log-secrets keeps them.
target_start --fail-rate 1 || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop "$T/secrets.out" -f "$hf" -t 1s --only-summary --log-failures "$T/secrets.jsonl" --log-secrets
target_stop
check "failure log: --log-secrets writes the value" grep -q 'very-secret-token' "$T/secrets.jsonl"
check "checks: a failed check exits 3" [ "$HOP_RC" = 3 ]
check "checks: the summary shows it failed with the measured value" grep -q '^FAIL  fail-ratio<50%  (measured 100.00%)' "$T/secrets.out"

# Checks that pass: exit 0 even though... nothing failed.
target_start || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop "$T/pass.out" -f "$hf" -t 1s --only-summary --check 'p99<5s' --check 'rps>1'
target_stop
check "checks: all passing exits 0" [ "$HOP_RC" = 0 ]
check "checks: the summary lists them" grep -q '^Checks: 3 of 3 passed' "$T/pass.out"
hop "$T/badcheck.out" -f "$hf" --check 'p95<300'
check "checks: a malformed check is a usage error (exit 2)" [ "$HOP_RC" = 2 ]
check "checks: and says why" grep -q 'needs a unit' "$T/badcheck.out"

# Files are complete on every way out: SIGTERM and SIGHUP mid-run.
for sig in TERM HUP; do
    target_start --delay 20ms || exit 1
    sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
    hop_bg "$T/$sig.out" -f "$hf" --no-tui --stop-timeout 5s --csv "$T/$sig" --json "$T/$sig.json" --html "$T/$sig.html"
    sleep 2.5
    kill -s "$sig" "$HOP_PID"
    hop_wait
    target_stop
    check "SIG$sig: JSON complete and equal to the server's count" [ "$(jq .aggregated.requests "$T/$sig.json")" = "$(target_total)" ]
    check "SIG$sig: CSV final row equals the server's count" \
        [ "$(awk -F, '$2 == "Aggregated" { print $3 }' "$T/${sig}_stats.csv")" = "$(target_total)" ]
    check "SIG$sig: HTML complete" grep -q '</html>' "$T/$sig.html"
    check "SIG$sig: HTML count equals the server's" [ "$(html_reqs "$T/$sig.html" Aggregated)" = "$(target_total)" ]
    check "SIG$sig: _exceptions.csv is written with Locust's header" \
        [ "$(head -n 1 "$T/${sig}_exceptions.csv" 2>/dev/null)" = "$LOCUST_EXCEPTIONS" ]
done

# Intended starts (the open model here): the Locust CSV carries the corrected
# times and _stats_raw.csv the raw ones, complete on SIGTERM like the others;
# every report has both, the schedule lag and the arrivals.
target_start --delay 20ms || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop_bg "$T/open.out" -f "$hf" --no-tui --stop-timeout 5s --arrival-rate 100/s --max-users 50 \
    --csv "$T/open" --json "$T/open.json" --html "$T/open.html"
sleep 2.5
kill -s TERM "$HOP_PID"
hop_wait
target_stop
check "open: _stats_raw.csv has Locust's header" [ "$(head -n 1 "$T/open_stats_raw.csv" 2>/dev/null)" = "$LOCUST_STATS" ]
check "open: _stats_raw.csv's final count equals the server's" \
    [ "$(awk -F, '$2 == "Aggregated" { print $3 }' "$T/open_stats_raw.csv" 2>/dev/null)" = "$(target_total)" ]
check "open: _stats.csv carries the corrected times (JSON's main fields)" \
    [ "$(awk -F, '$2 == "Aggregated" { print $19 }' "$T/open_stats.csv")" = \
      "$(jq -r '.aggregated.percentiles_ms["99"] | . * 1000 | round / 1000 | tostring' "$T/open.json" |
         awk '{ printf "%.3f", $1 }')" ]
check "open: _stats_raw.csv the raw ones (JSON's raw)" \
    [ "$(awk -F, '$2 == "Aggregated" { print $19 }' "$T/open_stats_raw.csv")" = \
      "$(jq -r '.aggregated.raw.percentiles_ms["99"] | . * 1000 | round / 1000 | tostring' "$T/open.json" |
         awk '{ printf "%.3f", $1 }')" ]
check "open: JSON says the times are corrected, and has the raw ones beside them" \
    jqe '.latency_corrected and .settings.model == "open" and .settings.arrival_rate == 100 and
         .settings.max_users == 50 and (.aggregated.raw.percentiles_ms | length) == 11' "$T/open.json"
check "open: corrected is never below raw (it is raw plus lateness)" \
    jqe '.aggregated as $a | [$a.percentiles_ms | keys[] | $a.percentiles_ms[.] >= $a.raw.percentiles_ms[.]] | all' "$T/open.json"
check "open: JSON has the schedule lag and the arrivals" \
    jqe '.schedule_lag.count > 0 and .arrivals >= .aggregated.requests and .dropped_arrivals >= 0 and
         (.history | map(has("arrivals_per_s") and has("lag_p99_ms") and has("p95_raw_ms")) | all)' "$T/open.json"
check "open: HTML complete, with the lag and the raw percentiles" \
    bash -c "grep -q '</html>' '$T/open.html' && grep -q 'id=\"lag\"' '$T/open.html' &&
             grep -q '<td class=\"l\">raw</td>' '$T/open.html'"
check "open: the summary shows both latencies and the arrivals" \
    bash -c "grep -q 'then raw (from the send)' '$T/open.out' && grep -q '^Open model: target 100/s' '$T/open.out'"

# A full disk at the end: the message names the report, the others are still
# written, and the exit status says a report is missing.
target_start || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
hop "$T/full.out" -f "$hf" -t 1s --only-summary --json /dev/full --csv "$T/full" --html "$T/full.html"
target_stop
check "disk full: exit status 4" [ "$HOP_RC" = 4 ]
check "disk full: the message names the report and the reason" grep -q 'json: the report could not be written completely: No space left on device' "$T/full.out"
check "disk full: the other reports are complete" bash -c "grep -q '</html>' '$T/full.html' && [ \"\$(awk -F, '\$2 == \"Aggregated\" { print \$3 }' '$T/full_stats.csv')\" = '$(target_total)' ]"
check "disk full: the HTML count equals the server's" [ "$(html_reqs "$T/full.html" Aggregated)" = "$(target_total)" ]
check "disk full: _exceptions.csv is written with Locust's header" \
    [ "$(head -n 1 "$T/full_exceptions.csv" 2>/dev/null)" = "$LOCUST_EXCEPTIONS" ]

# A file that cannot be written is an error before the test starts.
target_start || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
mkdir -p "$T/ro"
touch "$T/ro/blocker"
hop "$T/unwritable.out" -f "$hf" -t 1s --csv "$T/ro/blocker/x"
check "unwritable: exit 2" [ "$HOP_RC" = 2 ]
check "unwritable: the message names the file" grep -q "$T/ro/blocker/x_stats.csv" "$T/unwritable.out"
ln -s /etc/passwd-hopper-should-not-exist "$T/planted.json"
hop "$T/symlink.out" -f "$hf" -t 1s --json "$T/planted.json"
check "symlink: a planted link is refused (exit 2)" [ "$HOP_RC" = 2 ]
check "symlink: and said so" grep -q 'symbolic link' "$T/symlink.out"
target_stop
check "unwritable: nothing was sent" [ "$(target_total)" = 0 ]

target_start || exit 1
sed -i "s#^host = .*#host = $TARGET_URL#" "$hf"
timeout 30 "$HOPPER" -f "$hf" -t 1s --json - >"$T/stdout.json" 2>"$T/stdout.err" </dev/null
target_stop
check "json to stdout: the document is on stdout alone" jqe '.version == 1' "$T/stdout.json"
check "json to stdout: the summary went to stderr" grep -q '^=== hopper summary' "$T/stdout.err"
