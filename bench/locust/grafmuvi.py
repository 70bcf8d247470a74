# bench/locust/grafmuvi.py: the tutorial's scenario (examples/grafmuvi.hopperfile)
# as a Locust file, for bench/run's locust-dist row:
#
#     LOCUST_BENCH_DUMP=FILE locust -f bench/locust/grafmuvi.py --master --headless \
#            --expect-workers 4 -u USERS -r RATE -t TIME -s 10 -H http://127.0.0.1:PORT
#     locust -f bench/locust/grafmuvi.py --worker       (four of them)
#
# The same three requests with equal weights, and the same think time
# (between 5 and 9 s after each task: about one request per user every 7 s).
# FastHttpUser (geventhttpclient, in Debian's python3-geventhttpclient) is
# Locust's faster client: the comparison gives Locust its best chance. Each
# user keeps one keep-alive connection, as hopper's users do.
#
# Locust 2.12.1 (Debian 12) has no --json, and its CSV files are flushed
# every 5 s and not at exit. With LOCUST_BENCH_DUMP=FILE the master (or a
# local run) writes, as it quits, what bench/run reads: the merged request
# and failure counts per row and the exact number of requests per second
# (keyed by the second a worker logged them, merged over the workers). It
# only reads the statistics; the load is the same without it.
import json
import os

import locust.runners
from locust import FastHttpUser, between, events, task
from locust.runners import LocalRunner, MasterRunner

# Debian 12's python3-locust 2.12.1-1 ships an empty version string
# (locust/_version.py: version = ''; `locust --version` prints "locust "),
# and a master refuses a worker whose hello carries an empty version: "An old
# (pre 2.0) worker tried to connect ... That's not going to work." Master and
# workers all load this file, so giving the runners one non-empty version
# lets the workers in; nothing else reads it.
if not locust.runners.__version__:
    locust.runners.__version__ = "2.12.1+debian-empty-version"


class Grafmuvi(FastHttpUser):
    wait_time = between(5, 9)

    @task(100)
    def status(self):
        self.client.get("/status")

    @task(100)
    def similar_by_id(self):
        self.client.get("/api/id/tt0068646")

    # The space goes as %20; the statistics row keeps the path as written,
    # as hopper's does (and as hopper-target's exit report prints it).
    @task(100)
    def similar_by_title(self):
        self.client.get("/api/title/The%20godfather/1972", name="/api/title/The godfather/1972")


_ENV = []


@events.init.add_listener
def _bench_env(environment, **_kw):
    _ENV.append(environment)


# "quit" fires last, after the final tables are printed: the figures are
# the ones those tables show.
@events.quit.add_listener
def _bench_dump(exit_code, **_kw):
    path = os.environ.get("LOCUST_BENCH_DUMP")
    if not path or not _ENV or not isinstance(_ENV[0].runner, (MasterRunner, LocalRunner)):
        return
    runner = _ENV[0].runner
    stats = runner.stats
    out = {
        "exit_code": exit_code,
        "requests": stats.total.num_requests,
        "failures": stats.total.num_failures,
        "rows": {f"{e.method} {e.name}": [e.num_requests, e.num_failures] for e in stats.entries.values()},
        "per_second": {str(k): v for k, v in sorted(stats.total.num_reqs_per_sec.items())},
        # The master's own "current" percentile: its last ~10 s (merged
        # worker reports; the percentile tables cover the whole run).
        "p99_last_10s_ms": stats.total.get_current_response_time_percentile(0.99)
        if stats.use_response_times_cache
        else None,
        # The most frequent errors, as Locust's error report prints them.
        "errors": {
            f"{e.method} {e.name}: {e.error}": e.occurrences
            for e in sorted(stats.errors.values(), key=lambda e: -e.occurrences)[:5]
        },
        "workers_missing_at_end": len(runner.clients.missing) if isinstance(runner, MasterRunner) else 0,
    }
    with open(path + ".tmp", "w") as f:
        json.dump(out, f)
    os.replace(path + ".tmp", path)
