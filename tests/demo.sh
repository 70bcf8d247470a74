#!/usr/bin/env bash
# `make demo`: starts hopper-target on a free loopback port, runs the
# tutorial's scenario (examples/grafmuvi.hopperfile) against it with a short
# ramp, then stops the target and compares its count with hopper's.
#
#   SCENARIO picks another plan: a name in examples/ ("login-flow" runs
#   examples/login-flow.hopperfile: users log in from a CSV, browse with
#   their token, rate movies and log out) or a path.
#   DEMO_USERS (default 200; 20 for login-flow, whose CSV has 50 accounts),
#   DEMO_RATE (20), DEMO_TIME (30s) change the run.
set -u
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"
scenario="${SCENARIO:-grafmuvi}"
plan="$scenario"
[ -f "$plan" ] || plan="examples/$scenario.hopperfile"
if [ ! -f "$plan" ]; then
    echo "demo: no scenario '$scenario' (try SCENARIO=login-flow, or a hopperfile's path)"
    exit 2
fi
default_users=200
case "$plan" in *login-flow.hopperfile) default_users=20 ;; esac
users="${DEMO_USERS:-$default_users}"
rate="${DEMO_RATE:-20}"
time="${DEMO_TIME:-30s}"
out="$(mktemp -d "${TMPDIR:-/tmp}/hopper-demo.XXXXXX")"
trap 'kill "$tpid" 2>/dev/null; rm -rf "$out"' EXIT

"$BUILD/hopper-target" --port 0 >"$out/target.out" 2>&1 &
tpid=$!
for _ in $(seq 1 100); do
    port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$out/target.out")
    [ -n "$port" ] && break
    sleep 0.05
done
if [ -z "${port:-}" ]; then
    echo "demo: hopper-target did not start:"; cat "$out/target.out"; exit 1
fi
echo "demo: hopper-target (the movie API) listens on 127.0.0.1:$port"
echo "demo: $users users at $rate per second for $time, scenario $plan"
echo

"$BUILD/hopper" -f "$plan" -H "http://127.0.0.1:$port" \
    -u "$users" -r "$rate" -t "$time" --stop-timeout 10s "$@"
rc=$?

kill -TERM "$tpid"
wait "$tpid" 2>/dev/null
echo
echo "demo: what the server saw:"
sed -n '/^requests answered/,$p' "$out/target.out" | sed 's/^/  /'
exit $rc
