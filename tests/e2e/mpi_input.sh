# An MPI run's bad input and what it divides (issue 15): a bad hostfile, a
# host that cannot be reached, a rank that cannot read the plan or reads
# another one, other options or another hopper version on a rank, --mpi
# with one process: a message naming the rank and host (or FILE:LINE), exit
# 2, and a hopper-target that saw nothing. Per-host --source-addrs: each
# worker process of each rank connects from its own addresses (ss shows
# it). Unique data rows and {{seq}} divided across ranks, checked on the
# target's counts. A hopper built without MPI says so and runs as before.
# Ranks run on loopback over MPI's TCP transport (the environment below).
. "$(dirname "$0")/lib.sh"

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=tcp,self OMPI_MCA_pml=ob1 \
       OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo OMPI_MCA_rmaps_base_oversubscribe=1

# Under make test-asan: Open MPI never frees thousands of its allocations by
# design, and LeakSanitizer then spends minutes at every MPI process's exit.
# Address errors and UBSan still fail the run.
[ "${HOPPER_SANITIZED:-0}" = 1 ] && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

HOST=$(hostname)
NOMPI_BUILD="$BUILD-nompi"
BUILT_NOMPI=""
cleanup_mpi_input() {
    [ -n "$BUILT_NOMPI" ] && rm -rf "$NOMPI_BUILD"
    cleanup_lib
}
trap cleanup_mpi_input EXIT

# MPI here: mpirun, and a hopper linked with libmpi. In CI both are
# installed (make deps), so their absence is a failure there, not a skip.
have_mpi=""
why_not=""
if ! command -v mpirun >/dev/null 2>&1; then
    why_not="no mpirun (openmpi-bin; make deps installs it)"
elif ! ldd "$HOPPER" 2>/dev/null | grep -q 'libmpi'; then
    why_not="$HOPPER was built without MPI (no pkg-config ompi-c; make deps installs libopenmpi-dev)"
else
    have_mpi=1
fi
if [ -z "$have_mpi" ]; then
    if [ "${CI:-}" = true ]; then
        not_ok "mpi_input: MPI is installed in CI" "$why_not"
    else
        skip_unavailable "mpi_input: the MPI checks" "$why_not"
    fi
fi

# Runs a command with a bound (it only catches hangs): run_bounded OUT SECONDS CMD...
# (stdout+stderr in OUT, the exit status in RUN_RC; 124 or 137 when it was killed).
run_bounded() {
    local out="$1" limit="$2"; shift 2
    timeout -k 5 "$limit" "$@" >"$out" 2>&1 </dev/null
    RUN_RC=$?
}

# Every hopper process this script started is gone (ranks included): the
# executables of this script's hoppers whose command line or working folder
# is under $T.
leftovers() {
    local p exe args cwd
    for p in /proc/[0-9]*; do
        exe=$(readlink -f "$p/exe" 2>/dev/null) || continue
        case "$exe" in "$(readlink -f "$HOPPER")" | "$T"/* | "$NOMPI_BUILD"/*) ;; *) continue ;; esac
        args=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)
        cwd=$(readlink -f "$p/cwd" 2>/dev/null)
        case "$args $cwd/" in *"$T"/*) echo "${p#/proc/}: $args" ;; esac
    done
}

# One bad input: its own hopper-target, the command (which names
# $TARGET_URL through the word TARGET), exit 2, a "hopper: " line with WANT
# in it, and nothing sent. bad_case NAME WANT SECONDS CMD...
bad_case() {
    local name="$1" want="$2" limit="$3"; shift 3
    local args=() a
    target_start || { not_ok "$name" "hopper-target did not start"; return; }
    for a in "$@"; do [ "$a" = TARGET ] && args+=("$TARGET_URL") || args+=("$a"); done
    run_bounded "$T/bad.out" "$limit" "${args[@]}"
    target_stop
    local sent
    sent=$(target_total)
    if [ "$RUN_RC" = 2 ] && grep '^hopper: ' "$T/bad.out" | grep -qF -- "$want" && [ "${sent:-x}" = 0 ]; then
        ok "$name"
    else
        local what="exit $RUN_RC"
        case "$RUN_RC" in 124 | 137) what="still running after ${limit} s (killed)" ;; esac
        not_ok "$name" "$what, the target answered ${sent:-?} requests; wanted exit 2 and a line 'hopper: ...$want...'"
        head -n 12 "$T/bad.out" | sed 's/^/#   /'
    fi
}

# The target's figures: the sum, the number of distinct paths and the
# largest count of the "METHOD PATH" lines that start so.
target_sum() {
    awk -v want="$1" '/^ *[0-9]+  / { n = $1; sub(/^ *[0-9]+  /, ""); if (index($0, want) == 1) s += n }
                      END { print s + 0 }' "$TARGET_OUT"
}
target_distinct() {
    awk -v want="$1" '/^ *[0-9]+  / { sub(/^ *[0-9]+  /, ""); if (index($0, want) == 1) c++ }
                      END { print c + 0 }' "$TARGET_OUT"
}
target_max() {
    awk -v want="$1" '/^ *[0-9]+  / { n = $1; sub(/^ *[0-9]+  /, ""); if (index($0, want) == 1 && n > m) m = n }
                      END { print m + 0 }' "$TARGET_OUT"
}

plan=$(hopperfile plan.hopper <<EOF
users = 4
spawn-rate = 100
wait = constant 10ms
[task status]
request = GET /status
EOF
)

if [ -n "$have_mpi" ]; then
    common=(-H TARGET -t 2s --no-tui --only-summary)

    # ---- the hostfile and the options of --ranks ---------------------------
    bad_case "hostfile: a missing file exits 2" "--hostfile $T/nohosts: No such file or directory" 30 \
        "$HOPPER" --ranks 2 --hostfile "$T/nohosts" -f "$plan" "${common[@]}"
    printf '# the hosts\nlocalhost slots=x\n' >"$T/hosts.bad"
    bad_case "hostfile: a bad line is named FILE:LINE" "$T/hosts.bad:2: 'slots=x': expected slots=N" 30 \
        "$HOPPER" --ranks 2 --hostfile "$T/hosts.bad" -f "$plan" "${common[@]}"
    printf 'localhost slots=2\n' >"$T/hosts.ok"
    bad_case "hostfile: --hostfile without --ranks" "--hostfile needs --ranks N" 30 \
        "$HOPPER" --hostfile "$T/hosts.ok" -f "$plan" "${common[@]}"
    bad_case "ranks: --mpi with --ranks" "--mpi and --ranks do not go together" 30 \
        "$HOPPER" --mpi --ranks 2 -f "$plan" "${common[@]}"
    bad_case "ranks: --ranks 0" "--ranks '0': expected a number from 1" 30 \
        "$HOPPER" --ranks 0 -f "$plan" "${common[@]}"
    # A host that cannot be reached: Open MPI's ssh fails at once ("Could
    # not resolve hostname") but its spawn waits for ever; hopper's
    # --spawn-timeout says so and leaves.
    printf 'nonexistent.invalid slots=2\n' >"$T/hosts.nx"
    bad_case "hostfile: a host that cannot be reached exits 2 (spawn failure, bounded)" \
        "MPI did not start the 2 ranks within 5 s on the hosts of $T/hosts.nx" 30 \
        "$HOPPER" --ranks 2 --hostfile "$T/hosts.nx" --spawn-timeout 5s -f "$plan" "${common[@]}"
    bad_case "ranks: --spawn-timeout without --ranks" "--spawn-timeout needs --ranks N" 30 \
        "$HOPPER" --spawn-timeout 5s -f "$plan" "${common[@]}"
    bad_case "launcher: --mpi with a single process" "--mpi: this MPI job has 1 process; it needs 2 or more" 30 \
        mpirun -np 1 "$HOPPER" --mpi -f "$plan" "${common[@]}"

    # ---- the launcher form, each rank in a folder of its own (MPMD) ---------
    # mpirun -np 1 --wdir A hopper ... : -np 2 --wdir B hopper ...: the
    # conductor (MPI rank 0) in A, ranks 1 and 2 in B. Messages name a rank by
    # MPI's number (what mpirun and ps show).
    mkdir -p "$T/A" "$T/B"
    { echo id; for i in $(seq 1 10); do printf 'r%02d\n' "$i"; done; } >"$T/A/ids.csv"
    cat >"$T/A/plan.hopper" <<EOF
users = 4
spawn-rate = 100
wait = constant 10ms
[data ids]
file = ids.csv
order = unique
per = iteration
[task one]
request = GET /api/id/{{ids.id}}
EOF
    mpmd() { # CONDUCTOR-DIR USERS-DIR [USER-OPTION...]: the two groups' command lines
        local a="$1" b="$2"; shift 2
        MPMD=(mpirun -np 1 --wdir "$a" "$HOPPER" --mpi -f plan.hopper "${common[@]}"
              : -np 2 --wdir "$b" "$HOPPER" --mpi -f plan.hopper "${common[@]}" "$@")
    }
    mpmd "$T/A" "$T/B"
    bad_case "launcher: a rank that cannot read the plan is named with its host" \
        "rank 1 on host $HOST: plan.hopper: cannot read" 60 "${MPMD[@]}"
    mpmd "$T/B" "$T/A"
    bad_case "launcher: a conductor that cannot read the plan exits 2, the ranks leave" \
        "plan.hopper: cannot read" 60 "${MPMD[@]}"
    cp "$T/A/plan.hopper" "$T/B/plan.hopper"
    mpmd "$T/A" "$T/B"
    bad_case "launcher: a rank that cannot read a data file is named with its host" \
        "rank 1 on host $HOST: plan.hopper:5: data 'ids': ids.csv: cannot open it" 60 "${MPMD[@]}"
    sed 's/^r10$/r99/' "$T/A/ids.csv" >"$T/B/ids.csv"
    bad_case "launcher: a rank with another data file" "rank 1 on host $HOST read another plan" 60 "${MPMD[@]}"
    cp "$T/A/ids.csv" "$T/B/ids.csv"
    sed -i 's/^users = 4$/users = 5/' "$T/B/plan.hopper"
    bad_case "launcher: a rank with another plan" "rank 1 on host $HOST read another plan" 60 "${MPMD[@]}"
    cp "$T/A/plan.hopper" "$T/B/plan.hopper"
    # Two groups of the same folder: MPI ranks 0, 1 as given, rank 2 with
    # something of its own.
    MPMD=(mpirun -np 2 --wdir "$T/A" "$HOPPER" --mpi -f plan.hopper "${common[@]}"
          : -np 1 --wdir "$T/A" "$HOPPER" --mpi -f plan.hopper "${common[@]}" -u 3)
    bad_case "launcher: a rank with other options" "rank 2 on host $HOST was started with other options" 60 \
        "${MPMD[@]}"
    # Another version: a copy whose version text is another of the same
    # length. The compiler writes the hello's copy of "0.1.0" as immediates
    # ("0.1." in a movl, "0" and its NUL in a movw) besides the string that
    # --version prints, so the copy replaces the version's first four bytes
    # wherever they are ("0.1." -> "1.2."): both then say "1.2.0".
    ver=$("$HOPPER" --version | awk 'NR == 1 { print $2 }')
    cp "$HOPPER" "$T/hopper-other"
    V="$ver" perl -0777 -pi -e '
        my $v4 = substr($ENV{V}, 0, 4); (my $n4 = $v4) =~ tr/0-9/1-90/; s/\Q$v4\E/$n4/g' "$T/hopper-other"
    other_ver=$("$T/hopper-other" --version 2>&1 | awk 'NR == 1 { print $2 }')
    echo "# version: $ver; the copy's: ${other_ver:-?}"
    check "version: the copy says it is another hopper version of the same length" \
        [ -n "$other_ver" -a "$other_ver" != "$ver" -a "${#other_ver}" = "${#ver}" ]
    MPMD=(mpirun -np 2 --wdir "$T/A" "$HOPPER" --mpi -f plan.hopper "${common[@]}"
          : -np 1 --wdir "$T/A" "$T/hopper-other" --mpi -f plan.hopper "${common[@]}")
    bad_case "launcher: a rank with another hopper version" \
        "rank 2 on host $HOST runs hopper $other_ver (cluster protocol" 60 "${MPMD[@]}"

    # ---- per-host --source-addrs ---------------------------------------------
    sa_plan=$(hopperfile sa.hopper <<EOF
users = 8
spawn-rate = 100
wait = constant 20ms
[task status]
request = GET /status
EOF
)
    # The established connections to the target now: "ADDRESS PID" lines.
    conns() {
        ss -Htnp state established "( dport = :$TARGET_PORT )" 2>/dev/null |
            awk '{ a = $3; sub(/:[0-9]+$/, "", a); if (match($0, /pid=[0-9]+/)) print a, substr($0, RSTART + 4, RLENGTH - 4) }'
    }
    # source_case NAME SPEC: 4 ranks of 1 worker, 8 users; while they run,
    # 4 source addresses in use, 4 worker processes, each address used by
    # one process only (and each process using one address); the counts
    # equal the target's.
    source_case() {
        local name="$1" spec="$2" i snap
        target_start || { not_ok "$name" "hopper-target did not start"; return; }
        hop_bg "$T/sa.out" --ranks 4 --workers 1 --source-addrs "$spec" -f "$sa_plan" -H "$TARGET_URL" \
            -t 4s --no-tui --only-summary --stop-timeout 5s
        snap=""
        for i in $(seq 1 150); do     # until all 8 users are connected (a bound, not a timing)
            snap=$(conns)
            [ "$(printf '%s\n' "$snap" | grep -c .)" -ge 8 ] && break
            kill -0 "$HOP_PID" 2>/dev/null || break
            sleep 0.1
        done
        # The processes holding them are hopper's (its ranks' workers), while they run.
        local addrs pids pairs bad_pid=0 p
        pids=$(printf '%s\n' "$snap" | awk 'NF { print $2 }' | sort -u)
        for p in $pids; do
            [ "$(readlink -f "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$HOPPER")" ] || bad_pid=$((bad_pid + 1))
        done
        hop_wait
        target_stop
        printf '%s\n' "$snap" | sort | uniq -c | sed 's/^/# connections per address and pid: /'
        addrs=$(printf '%s\n' "$snap" | awk 'NF { print $1 }' | sort -u | paste -sd, -)
        pairs=$(printf '%s\n' "$snap" | awk 'NF' | sort -u | grep -c .)
        echo "# $name: addresses $addrs; pids $(echo "$pids" | paste -sd, -); address-pid pairs $pairs"
        check "$name: exit 0" [ "$HOP_RC" = 0 ]
        local n_conns n_pids total reqs accepted
        n_conns=$(printf '%s\n' "$snap" | grep -c .)
        n_pids=$(echo "$pids" | grep -c .)
        check "$name: 8 connections from 127.0.0.1-127.0.0.4, each address used by exactly one worker process" \
            [ "$n_conns" = 8 -a "$addrs" = "127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4" -a "$n_pids" = 4 \
              -a "$pairs" = 4 -a "$bad_pid" = 0 ]
        total=$(target_total)
        reqs=$(summary_reqs "$T/sa.out" Aggregated)
        accepted=$(sed -n 's/^connections accepted: //p' "$TARGET_OUT")
        echo "# $name: hopper $reqs, target $total, connections accepted $accepted"
        check "$name: counts equal the target's (8 connections accepted)" \
            [ "$reqs" = "$total" -a "${total:-0}" -gt 0 -a "$accepted" = 8 ]
    }
    source_case "source-addrs: per host ($HOST=LIST)" "$HOST=127.0.0.1-127.0.0.4"
    source_case "source-addrs: a plain list" "127.0.0.1-127.0.0.4"
    bad_case "source-addrs: a host with no list exits 2" \
        "host $HOST: --source-addrs names no addresses for host $HOST" 60 \
        "$HOPPER" --ranks 4 --source-addrs "otherhost=127.0.0.1" -f "$sa_plan" "${common[@]}"
    bad_case "source-addrs: 2 addresses for 4 ranks on one host exits 2" \
        "--source-addrs gives host $HOST 2 addresses for 4 ranks: each needs one at least" 60 \
        "$HOPPER" --ranks 4 --source-addrs "$HOST=127.0.0.1-127.0.0.2" -f "$sa_plan" "${common[@]}"

    # ---- unique data rows and {{seq}} across ranks ------------------------------
    # per = user, as many rows as users: each user's one request (the wait
    # is 10 minutes) carries its row, so the target sees every row exactly
    # once when no two users, on any rank or worker, got the same row, and
    # no user is left without one.
    { echo id; for i in $(seq 1 10); do printf 'r%02d\n' "$i"; done; } >"$T/rows.csv"
    pu_plan=$(hopperfile peruser.hopper <<EOF
users = 10
spawn-rate = 100
wait = constant 10m
[data ids]
file = rows.csv
order = unique
per = user
[task one]
request = GET /api/id/{{ids.id}}
name = /api/id/[row]
EOF
)
    for w in 1 2; do
        target_start || exit 1
        hop "$T/pu$w.out" --ranks 3 --workers "$w" -f "$pu_plan" -H "$TARGET_URL" -t 2s --no-tui --only-summary \
            --stop-timeout 5s
        target_stop
        echo "# per user, 3 ranks x $w workers: hopper=$(summary_reqs "$T/pu$w.out" "/api/id/[row]") server: sum=$(target_sum 'GET /api/id/r') distinct=$(target_distinct 'GET /api/id/r') max=$(target_max 'GET /api/id/r')"
        sum=$(target_sum 'GET /api/id/r') distinct=$(target_distinct 'GET /api/id/r') max=$(target_max 'GET /api/id/r')
        check "unique per user, 3 ranks x $w workers: 10 rows to 10 users, each row on one user only" \
            [ "$HOP_RC" = 0 -a "$sum" = 10 -a "$distinct" = 10 -a "$max" = 1 ]
        check "unique per user, 3 ranks x $w workers: no rank ran out of rows" \
            bash -c "! grep -q 'handed out every row' '$T/pu$w.out'"
        check "unique per user, 3 ranks x $w workers: hopper's count equals the target's" \
            [ "$(summary_reqs "$T/pu$w.out" "/api/id/[row]")" = "$(target_total)" ]
    done
    # per = iteration: 300 rows, each handed out once across 3 ranks of 2
    # workers; the run stops by itself when they run out.
    { echo id; for i in $(seq 1 300); do printf 'u%03d\n' "$i"; done; } >"$T/many.csv"
    pi_plan=$(hopperfile periter.hopper <<EOF
users = 6
spawn-rate = 100
wait = constant 0
[data ids]
file = many.csv
order = unique
per = iteration
[task one]
request = GET /api/id/{{ids.id}}
name = /api/id/[row]
EOF
)
    target_start || exit 1
    hop "$T/pi.out" --ranks 3 --workers 2 -f "$pi_plan" -H "$TARGET_URL" -t 30s --no-tui --only-summary --stop-timeout 5s
    target_stop
    echo "# per iteration: hopper=$(summary_reqs "$T/pi.out" "/api/id/[row]") server: sum=$(target_sum 'GET /api/id/u') distinct=$(target_distinct 'GET /api/id/u') max=$(target_max 'GET /api/id/u')"
    sum=$(target_sum 'GET /api/id/u') distinct=$(target_distinct 'GET /api/id/u') max=$(target_max 'GET /api/id/u')
    check "unique per iteration, 3 ranks x 2 workers: every row went out exactly once" \
        [ "$sum" = 300 -a "$distinct" = 300 -a "$max" = 1 ]
    check "unique per iteration: hopper's count equals the target's" [ "$(summary_reqs "$T/pi.out" "/api/id/[row]")" = 300 ]
    check "unique per iteration: the test stopped by itself when the rows ran out" \
        grep -q 'handed out every row: stopping the test' "$T/pi.out"
    # {{seq}}: each number once in the run, whatever rank drew it.
    seq_plan=$(hopperfile seq.hopper <<EOF
users = 3
spawn-rate = 100
wait = constant 10ms
[task seq]
request = GET /api/title/s{{seq}}
name = seq
EOF
)
    target_start || exit 1
    hop "$T/seq.out" --ranks 3 -f "$seq_plan" -H "$TARGET_URL" -t 2s --no-tui --only-summary
    target_stop
    echo "# seq: hopper=$(summary_reqs "$T/seq.out" seq) server: sum=$(target_sum 'GET /api/title/s') distinct=$(target_distinct 'GET /api/title/s') max=$(target_max 'GET /api/title/s')"
    sum=$(target_sum 'GET /api/title/s') max=$(target_max 'GET /api/title/s')
    check "seq: {{seq}} is unique across 3 ranks (each number once at the target)" \
        [ "$max" = 1 -a "$sum" -gt 30 ]
    check "seq: hopper's count equals the target's" \
        [ "$(summary_reqs "$T/seq.out" seq)" = "$(target_total)" ]

    left=$(leftovers)
    [ -n "$left" ] && printf '%s\n' "$left" | sed 's/^/# still running: /'
    check "no hopper rank of this script is left running" [ -z "$left" ]
fi

# ---- built without MPI ------------------------------------------------------
# The hopper under test when it has no MPI; otherwise one built so (make
# with MPI_PKG= : 17 s on 2 idle cores here, 90 s while other builds ran),
# removed at the end unless it was there before.
if [ -z "$have_mpi" ] && [ -x "$HOPPER" ] && ! ldd "$HOPPER" | grep -q libmpi; then
    NOMPI="$HOPPER"
else
    NOMPI="$NOMPI_BUILD/hopper"
    [ -e "$NOMPI_BUILD" ] || BUILT_NOMPI=1   # removed at the end unless it was there before
    start=$SECONDS
    if make -C "$TOP" BUILD="$NOMPI_BUILD" MPI_PKG= -j2 "$NOMPI_BUILD/hopper" >"$T/nompi-build.log" 2>&1; then
        echo "# built $NOMPI in $((SECONDS - start)) s"
    else
        tail -n 20 "$T/nompi-build.log" | sed 's/^/#   /'
    fi
fi
nompi_ok() { [ -x "$NOMPI" ] && ! ldd "$NOMPI" | grep -q libmpi; }
check "nompi: hopper builds without MPI (MPI_PKG=) and is not linked with it" nompi_ok
if [ -x "$NOMPI" ]; then
    bad_case "nompi: --ranks exits 2 saying how to get MPI" "this hopper was built without MPI: install" 30 \
        "$NOMPI" --ranks 2 -f "$plan" -H TARGET -t 2s --no-tui
    bad_case "nompi: --mpi exits 2 saying how to get MPI" "this hopper was built without MPI" 30 \
        "$NOMPI" --mpi -f "$plan" -H TARGET -t 2s --no-tui
    target_start || exit 1
    run_bounded "$T/nompi.out" 60 "$NOMPI" -f "$plan" -H "$TARGET_URL" -t 2s --workers 2 --no-tui --only-summary
    target_stop
    check "nompi: a plain run exits 0" [ "$RUN_RC" = 0 ]
    total=$(target_total) reqs=$(summary_reqs "$T/nompi.out" Aggregated)
    echo "# nompi plain run: hopper $reqs, target $total"
    check "nompi: a plain run's counts equal the target's" [ "$reqs" = "$total" -a "${total:-0}" -gt 0 ]
fi
