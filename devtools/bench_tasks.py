"""`make bench-tasks`: the recommend round trip through Celery and Redis
against the same call in-process.

A private redis-server and a prefork worker (one process per core) are
started for the run; the served model comes from `make train`. Callers are
separate processes (1, then 8 at once), each with its own Celery client,
asking `recommend` for people who stated a genre. In-process runs the
task's own function in this process: same store lookup, same model.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

from chatrec.reports import command_line, machine, percentile, write_section
from chatrec.settings import environment
from devtools.redis_server import RedisServer
from launcher.processes import Worker, caller_app

CALLS_PER_CALLER = 300
GENRES = ("Drama", "Comedy", "Action", "Thriller", "Romance")


def _summary(latencies: list[float], seconds: float) -> dict:
    latencies = sorted(latencies)
    return {"calls": len(latencies), "p50_ms": statistics.median(latencies),
            "p95_ms": percentile(latencies, 95),
            "throughput": len(latencies) / seconds}


def _caller(args: tuple[dict, int, int]) -> list[float]:
    env, caller, calls = args
    from recommender.tasks import client

    app = caller_app(env)
    times = []
    for i in range(calls):
        start = time.perf_counter()
        client.call("recommend", f"bench:{caller}:{i % 50}", 10, genres=[GENRES[i % len(GENRES)]], app=app)
        times.append((time.perf_counter() - start) * 1000)
    return times


def _through_celery(env: dict, callers: int) -> dict:
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(callers) as pool:
        results = pool.map(_caller, [(env, c, CALLS_PER_CALLER) for c in range(callers)])
    return _summary([t for r in results for t in r], time.perf_counter() - started)


def _in_process(env: dict) -> dict:
    with environment(env):
        from recommender.tasks import worker as tasks

        tasks.recommend("bench:warm", 10, genres=["Drama"])
        times = []
        started = time.perf_counter()
        for i in range(CALLS_PER_CALLER):
            start = time.perf_counter()
            answer = tasks.recommend(f"bench:local:{i % 50}", 10, genres=[GENRES[i % len(GENRES)]])
            assert answer["ok"], answer
            times.append((time.perf_counter() - start) * 1000)
        return _summary(times, time.perf_counter() - started)


def render(rows: dict, host: str, cores: int) -> str:
    table = [[name, r["calls"], f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}", f"{r['throughput']:.0f}"]
             for name, r in rows.items()]
    base = rows["in-process, 1 caller"]["p50_ms"]
    one = rows["Celery + Redis, 1 caller"]["p50_ms"]
    return "\n".join([
        f"Machine: {host}. Measured by `make bench-tasks` (`python -m devtools.bench_tasks`), one run: "
        f"a private redis-server, one prefork worker with {cores} processes, callers in separate processes; "
        "`recommend(identity, 10, genres=[...])` for people with no stored feedback (store lookup + fold-in "
        "+ scoring the whole catalog).", "",
        tabulate(table, headers=["path", "calls", "p50 ms", "p95 ms", "calls/s"], tablefmt="github"), "",
        f"The Celery round trip costs {one - base:.1f} ms over the in-process call at the median "
        f"({one / base:.1f}x) with one caller.",
    ])


def main(out: Path | None = None) -> str:
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as folder:
        redis = RedisServer(Path(folder))
        redis.start()
        env = {"CHATREC_BROKER_URL": redis.url, "CHATREC_STATE_DIR": f"{folder}/state",
               "CHATREC_DATABASE_URL": f"sqlite:///{folder}/state/feedback.sqlite3"}
        worker = Worker(env, Path(folder) / "worker.log", pool="prefork", concurrency=cores)
        worker.start().wait_ready()
        try:
            from recommender.tasks import client

            client.call("recommend", "bench:warm", 10, genres=["Drama"], app=caller_app(env), timeout=90)
            rows = {"in-process, 1 caller": _in_process(env),
                    "Celery + Redis, 1 caller": _through_celery(env, 1),
                    "Celery + Redis, 8 callers": _through_celery(env, 8)}
        finally:
            worker.stop()
            redis.stop()
    text = render(rows, machine(), cores)
    print(text)
    if out is not None:
        write_section(out, "tasks-bench", "Recommend through Celery (`make bench-tasks`)", text)
    return text


if __name__ == "__main__":
    args = command_line("python -m devtools.bench_tasks", __doc__).parse_args()
    main(out=args.doc)
