# Bad load shapes never send load: stages that do not parse, a zero or
# negative duration, a rate without a unit, the open model's keys in the
# closed model, stages in the wrong unit for the model, max-users below 1, in
# the hopperfile (FILE:LINE) or on the command line (the option): each gets
# its message and exit status 2, and the server sees nothing.
. "$(dirname "$0")/lib.sh"

target_start || exit 1

# shape_case NAME EXPECTED-MESSAGE ARGS...: hopper exits 2 and prints the
# message (exactly this text, after "hopper: ") on stderr.
shape_case() {
    local name="$1" want="$2"; shift 2
    # -t bounds a run that should not have started: it would send load,
    # which the closing check counts.
    timeout -k 5 20 "$HOPPER" -t 2s --only-summary "$@" >"$T/shape.out" 2>"$T/shape.err" </dev/null
    local rc=$?
    if [ "$rc" = 2 ] && grep -qxF -- "hopper: $want" "$T/shape.err"; then
        ok "shape: $name exits 2 with its message"
    else
        not_ok "shape: $name exits 2 with its message" \
            "exit $rc: $(head -c 400 "$T/shape.err" | tr '\n' ' ')"
    fi
}

# plan NAME: the lines on stdin after a host line and before one task, so
# that the shape keys under test start at line 2.
plan() {
    { echo "host = $TARGET_URL"; cat; printf '[task status]\nrequest = GET /status\n'; } >"$T/$1"
    echo "$T/$1"
}

p=$(plan unparsable <<<'stages = 30s:100, 5m')
shape_case "stages that do not parse" \
    "$p:2: stages: stage 2 '5m': expected DURATION:TARGET, such as 5m:100 or 5m:100/s" -f "$p"
p=$(plan zero <<<'stages = 30s:10, 0s:10')
shape_case "a zero duration" "$p:2: stages: stage 2 '0s:10': the duration must be greater than 0" \
    -f "$p"
p=$(plan negative <<<'stages = -30s:10')
shape_case "a negative duration" "$p:2: stages: stage 1 '-30s:10': '-30s': a duration cannot be negative" \
    -f "$p"
p=$(plan negative-target <<<'stages = 30s:-10')
shape_case "a negative target" "$p:2: stages: stage 1 '30s:-10': '-10': a target cannot be negative" \
    -f "$p"
p=$(plan mixed <<<'stages = 30s:10, 1m:20/s')
shape_case "users and rates mixed" \
    "$p:2: stages: stage 2 '1m:20/s' is in arrivals per second but stage 1 is in users: write every stage in one unit" \
    -f "$p"
p=$(printf 'model = open\narrival-rate = 200\n' | plan no-unit)
shape_case "a rate without a unit" "$p:3: arrival-rate: '200': a rate needs a unit: 200/s, 200/m or 200/h" \
    -f "$p"
p=$(printf 'model = open\nstages = 1m:0/s-20\n' | plan stage-no-unit)
shape_case "a stage's rate without a unit" \
    "$p:3: stages: stage 1 '1m:0/s-20': the rate '20' needs a unit (write FROM-TO/s, such as 0-500/s)" \
    -f "$p"
p=$(plan closed-rate <<<'arrival-rate = 200/s')
shape_case "arrival-rate in the closed model" \
    "$p:2: arrival-rate belongs to the open model: add 'model = open'" -f "$p"
p=$(plan closed-rate-stages <<<'stages = 1m:0-500/s, 5m:500/s')
shape_case "rate stages in the closed model" \
    "$p:2: stages: these are arrivals per second, which belong to the open model: add 'model = open' (the closed model's stages are users, such as 30s:100)" \
    -f "$p"
p=$(printf 'model = open\nstages = 30s:100\n' | plan open-users)
shape_case "user stages in the open model" \
    "$p:3: stages: these are users, but the open model's stages are arrival rates: give each a unit, such as 30s:100/s (or leave out 'model = open')" \
    -f "$p"
p=$(printf 'model = open\narrival-rate = 5/s\nmax-users = 0\n' | plan max-users-zero)
shape_case "max-users below 1" "$p:4: max-users: '0': must be at least 1" -f "$p"
p=$(plan closed-max-users <<<'max-users = 50')
shape_case "max-users in the closed model" \
    "$p:2: max-users belongs to the open model (the bound of its pool of users): add 'model = open'" \
    -f "$p"
p=$(plan closed-arrivals <<<'arrivals = poisson')
shape_case "arrivals in the closed model" \
    "$p:2: arrivals belongs to the open model: add 'model = open'" -f "$p"
p=$(printf 'users = 5\nstages = 1m:10\n' | plan users-and-stages)
shape_case "users and stages in the closed model" \
    "$p:3: users (line 2) and stages (line 3): in the closed model the stages set the number of users; leave users out" \
    -f "$p"
p=$(printf 'model = open\narrival-rate = 5/s\nstages = 1m:5/s\n' | plan rate-and-stages)
shape_case "arrival-rate and rate stages" \
    "$p:4: arrival-rate (line 3) and stages (line 4): give one (stages set the arrival rate over time)" \
    -f "$p"
p=$(plan open-no-rate <<<'model = open')
shape_case "the open model without a rate" \
    "$p:2: the open model needs an arrival rate: add 'arrival-rate = 200/s' or 'stages = ...' in arrivals per second (or give --arrival-rate or --stages)" \
    -f "$p"
p=$(plan model-typo <<<'model = opne')
shape_case "an unknown model" \
    "$p:2: model: 'opne': use closed (the default: users that each wait for their answer) or open (arrivals at a rate)" \
    -f "$p"

# The same rules on the command line, naming the option.
good=$(plan good </dev/null)
closed_stages=$(plan closed-stages <<<'stages = 1s:1, 1s:1')
shape_case "--arrival-rate without a unit" \
    "--arrival-rate: '200': a rate needs a unit: 200/s, 200/m or 200/h" -f "$good" --arrival-rate 200
shape_case "--arrival-rate of 0" "--arrival-rate: '0/s': the rate must be greater than 0" \
    -f "$good" --arrival-rate 0/s
shape_case "--stages that do not parse" \
    "--stages: stage 1 '1m': expected DURATION:TARGET, such as 5m:100 or 5m:100/s" -f "$good" --stages 1m
shape_case "--stages with a zero duration" \
    "--stages: stage 2 '0s:5': the duration must be greater than 0" -f "$good" --stages '30s:100, 0s:5'
shape_case "--stages with a negative duration" \
    "--stages: stage 1 '-5s:5': '-5s': a duration cannot be negative" -f "$good" --stages=-5s:5
shape_case "--model closed with --arrival-rate" \
    "--arrival-rate belongs to the open model, not to --model closed" \
    -f "$good" --model closed --arrival-rate 5/s
shape_case "--max-users 0" "--max-users '0': expected a whole number of users from 1 to 10000000" \
    -f "$good" --max-users 0
shape_case "--max-users in the closed model" \
    "--max-users belongs to the open model (the bound of its pool of users): add --model open or --arrival-rate" \
    -f "$good" --max-users 5
shape_case "--arrivals in the closed model" \
    "--arrivals belongs to the open model: add --model open or --arrival-rate" -f "$good" --arrivals poisson
shape_case "--stages in users for the open model" \
    "--stages: these are users, but the open model's stages are arrival rates: give each a unit, such as 30s:100/s" \
    -f "$good" --model open --stages 1m:5
shape_case "--stages in rates for the closed model" \
    "--stages: these are arrivals per second, which belong to the open model: add --model open (the closed model's stages are users, such as 30s:100)" \
    -f "$good" --stages 1m:5/s
shape_case "-u with --stages" \
    "-u and --stages: in the closed model the stages set the number of users; leave -u out" \
    -f "$good" -u 5 --stages 1m:5
shape_case "-r with the plan's stages" \
    "-r: the stages of $closed_stages set how fast users start and stop in the closed model; leave -r out (or give -u for a steady number of users)" \
    -f "$closed_stages" -r 3
shape_case "--model open without a rate" \
    "--model open: the open model needs an arrival rate: give --arrival-rate RATE or --stages LIST (such as 200/s or 1m:0-100/s)" \
    -f "$good" --model open
shape_case "--arrivals unknown" "--arrivals 'burst': expected even or poisson" \
    -f "$good" --arrival-rate 1/s --arrivals burst

timeout 10 "$HOPPER" --help >"$T/help.out" 2>&1
check "shape: --help lists the load-shape options" \
    grep -q -- '--arrival-rate RATE' "$T/help.out"

target_stop
check "shape: the server saw no request at all" [ "$(target_total)" = 0 ]
