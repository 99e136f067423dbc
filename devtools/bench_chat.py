"""`make bench-chat`: message -> reply latency with N concurrent users over
Rasa's REST channel, this bot against a plain `rasa init` bot, in one run.

This bot runs as deployed on one machine: `rasa run` with the trained model
(models/rasa), the action server, a prefork Celery worker on a private
redis-server, SQLite feedback and tracker stores; once with one Rasa
server process, once with two sharing a Redis lock store (how Rasa scales
out; `--rasa-workers`). The plain bot is what
`rasa init` creates (DIET + TED, no custom actions, in-memory tracker
store), trained here. Each simulated user sends its script's messages one
after another, waiting for each reply; users run concurrently. Only one bot
runs at a time.

`--production` runs the production layout (two Rasa processes behind the router,
two interactive workers, Redis broker/results/lock store, PostgreSQL stores)
against the embedded default, 50 users x 20 realistic turns from the first
"Ready" (no warm-up), once without faults and once with an interactive worker
killed 20 s into the load (the launcher's supervision starts it again).
Fallbacks are counted by the action server (its Prometheus counter), feedback
rows in the store.

`--retrain` measures something else: the same bot on the embedded defaults
of `make serve` (filesystem broker, interactive and learning workers)
under 50 users x 20 turns of a realistic script (recommend, refine, more,
why, like, seen, not for me, rate, details, compare), once quietly and once
with a retrain forced just before the load; it reports latency of the
messages sent while the retrain ran, fallbacks to popular picks and errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
from tabulate import tabulate

from chatrec import settings
from chatrec.contracts import Intent, ReplyData, payload
from chatrec.reports import machine, percentile, write_section
from chatrec.settings import environment
from devtools.redis_server import RedisServer
from launcher.processes import free_port, free_ports_in_a_row
from launcher.stack import ROOT, Stack, child_environment, rasa, rasa_models, wait_for_http, write_endpoints
from recommender.storage import artifacts

OURS = ["hi", "recommend me a comedy", "from the 90s", "show me more", "why the second one?",
        "I like the first one", "what is Fargo about?", "Fargo or Heat, which is better?",
        "start over", "a thriller from the 80s", "more", "thanks"]
PLAIN = ["hi", "I am sad", "yes", "great", "are you a bot?", "bye", "hello", "not good", "no", "amazing"]
REALISTIC = ["hi", "recommend me a comedy", "from the 90s", "show me more", "why the second one?",
             "I like the first one", "seen the third one", "the fourth one is not for me",
             "the second one: 4 out of 5", "what is Fargo about?", "Fargo or Heat, which is better?",
             "start over", "a thriller from the 80s", "more", "why the first one?", "I love westerns",
             "recommend a western", "something like Toy Story", "I like the second one", "thanks"]
WARMUP_TURNS = 3


async def _user(session: aiohttp.ClientSession, url: str, sender: str, script: list[str], turns: int,
                latencies: list[float], errors: list[str], silent: list[str],
                timeline: list[tuple[float, float, bool]] | None = None) -> None:
    """One user's turns; `timeline` gets (sent at, ms, fell back) per message."""
    for turn in range(turns):
        started = time.perf_counter()
        text = script[turn % len(script)]
        fell_back = False
        try:
            async with session.post(url, json={"sender": sender, "message": text},
                                    timeout=aiohttp.ClientTimeout(total=120)) as response:
                body = await response.json()
                if response.status != 200:
                    errors.append(f"HTTP {response.status}: {str(body)[:80]}")
                elif not body:
                    silent.append(text)  # the bot chose not to answer (no error)
                else:
                    fell_back = any(data.fallback for data in map(ReplyData.of_message, body) if data)
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError) as error:
            errors.append(repr(error))
        latencies.append((time.perf_counter() - started) * 1000)
        if timeline is not None:
            timeline.append((time.time(), latencies[-1], fell_back))


async def _load(port: int, script: list[str], users: int, turns: int, tag: str) -> dict:
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    latencies: list[float] = []
    errors: list[str] = []
    silent: list[str] = []
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(_user(session, url, f"warm:{tag}:{u}", script, WARMUP_TURNS, [], [], [])
                               for u in range(users)))
        started = time.perf_counter()
        await asyncio.gather(*(
            _user(session, url, f"bench:{tag}:{u}", script, turns, latencies, errors, silent)
            for u in range(users)))
        seconds = time.perf_counter() - started
    latencies.sort()
    return {"users": users, "messages": len(latencies), "errors": len(errors), "error_samples": errors[:3],
            "no_reply": len(silent), "no_reply_to": sorted(set(silent)),
            "p50_ms": statistics.median(latencies), "p95_ms": percentile(latencies, 95),
            "throughput": len(latencies) / seconds}


def _measure(port: int, script: list[str], loads: list[int], turns: int, tag: str) -> list[dict]:
    return [asyncio.run(_load(port, script, users, turns, f"{tag}{users}")) for users in loads]


def bench_ours(folder: Path, loads: list[int], turns: int, workers: int = 1) -> list[dict]:
    """This bot; with `workers` > 1, that many Rasa server processes sharing a Redis lock store."""
    folder.mkdir(parents=True, exist_ok=True)
    redis = RedisServer(folder)
    redis.start()
    env = {"CHATREC_STATE_DIR": str(folder / "state"), "CHATREC_BROKER_URL": redis.url,
           "CHATREC_RASA_WORKERS": str(workers)}
    if workers > 1:
        env["CHATREC_LOCK_STORE_URL"] = f"redis://127.0.0.1:{redis.port}/2"
    stack = Stack(env, logs=folder / "logs", actions_port=free_port())
    try:
        with environment(env):
            endpoints, secrets = write_endpoints(stack.actions_port, folder)
        stack.start_workers(pool="prefork", concurrency=2)
        stack.start_actions()
        port = free_port()
        stack.start_server(rasa_models(), port, endpoints, secrets)
        stack.wait_for_workers()
        return _measure(port, OURS, loads, turns, "ours")
    finally:
        stack.stop()
        redis.stop()


def bench_plain(folder: Path, loads: list[int], turns: int) -> list[dict]:
    project = folder / "plain"
    project.mkdir()
    env = child_environment()
    subprocess.run(rasa("init", "--no-prompt", "--init-dir", str(project)), cwd=folder, env=env, check=True,
                   stdout=(folder / "plain-train.log").open("w"), stderr=subprocess.STDOUT)
    port = free_port()
    server = subprocess.Popen(rasa("run", "--enable-api", "--model", "models", "--port", str(port)),
                              cwd=project, env=env, stdout=(folder / "plain-rasa.log").open("w"),
                              stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/status", timeout=300, process=server)
        return _measure(port, PLAIN, loads, turns, "plain")
    finally:
        server.terminate()
        server.wait(timeout=30)


class RetrainWatch:
    """Polls the learning lease (recommender/training/learning.py): when a retrain held it."""

    def __init__(self, store) -> None:
        from recommender.training.learning import Learning

        self.state = Learning(store)
        self.spans: list[tuple[float, float | None]] = []  # (start, end); end None: still running
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            held = self.state.holder() is not None
            now = time.time()
            if held and (not self.spans or self.spans[-1][1] is not None):
                self.spans.append((now, None))
            elif not held and self.spans and self.spans[-1][1] is None:
                self.spans[-1] = (self.spans[-1][0], now)

    def start(self) -> RetrainWatch:
        self._thread.start()
        return self

    def running(self) -> bool:
        return bool(self.spans) and self.spans[-1][1] is None

    def during(self, at: float) -> bool:
        return any(start <= at <= (end or time.time()) for start, end in self.spans)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


async def _realistic_load(port: int, users: int, turns: int, tag: str) -> tuple[list, list[str]]:
    """(sent at, ms, fell back) per message, and the errors."""
    url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
    timeline: list[tuple[float, float, bool]] = []
    errors: list[str] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(_user(session, url, f"{tag}:{u}", REALISTIC, turns, [], errors, [], timeline)
                               for u in range(users)))
    return [(at - ms / 1000, ms, fell_back) for at, ms, fell_back in timeline], errors


def _summary(rows: list, errors: list[str]) -> dict:
    times = [ms for _, ms, _ in rows]
    return {"messages": len(times), "p50_ms": statistics.median(times), "p95_ms": percentile(times, 95),
            "fallbacks": sum(fell_back for _, _, fell_back in rows), "errors": len(errors),
            "error_samples": errors[:3]}


FEEDBACK_KINDS = ("like", "dislike", "seen", "rating")  # the script's feedback turns, as stored
FALLBACK_SAMPLES = ('chatrec_fallbacks_total{reason="popular"}',
                    'chatrec_fallbacks_total{reason="try_again"}',
                    'chatrec_fallbacks_total{reason="write_kept"}')


def fallbacks_so_far(metrics_port: int) -> float:
    """Answers given without the recommender, counted by the action server."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as page:
        lines = page.read().decode().splitlines()
    return sum(float(line.split()[-1]) for line in lines if line.startswith(FALLBACK_SAMPLES))


def feedback_rows(database_url: str, prefix: str) -> int:
    import sqlalchemy

    engine = sqlalchemy.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text(
            "SELECT count(*) FROM feedback_events e JOIN chat_users u ON u.id = e.user_id "
            "WHERE u.identity LIKE :prefix AND e.kind IN :kinds").bindparams(
                sqlalchemy.bindparam("kinds", expanding=True)),
            {"prefix": f"{prefix}%", "kinds": list(FEEDBACK_KINDS)}).scalar()
    engine.dispose()
    return rows


def kill_tree(pid: int) -> None:
    """SIGKILL a process and everything below it (a machine lost, not a clean stop)."""
    import os
    import signal

    import psutil

    for each in [pid, *(child.pid for child in psutil.Process(pid).children(recursive=True))]:
        try:
            os.kill(each, signal.SIGKILL)
        except ProcessLookupError:
            pass


def production_environment(redis_port: int, tracker_url: str, feedback_url: str) -> dict[str, str]:
    """The documented production variables, on a private Redis and throwaway databases."""
    base = f"redis://127.0.0.1:{redis_port}"
    return {"CHATREC_BROKER_URL": f"{base}/0", "CHATREC_RESULT_BACKEND": f"{base}/1",
            "CHATREC_LOCK_STORE_URL": f"{base}/2", "CHATREC_DATABASE_URL": feedback_url,
            "CHATREC_TRACKER_STORE_URL": tracker_url, "CHATREC_RASA_WORKERS": "2",
            "CHATREC_INTERACTIVE_WORKERS": "2"}


def _fresh_start_load(folder: Path, env: dict[str, str], users: int, turns: int,
                      kill_after: float | None) -> dict:
    """Start the stack as `make serve` does, then `users` people at once from the first "Ready";
    optionally SIGKILL the first interactive worker `kill_after` seconds into the load."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {"CHATREC_STATE_DIR": str(folder / "state"),
           "CHATREC_METRICS_PORT_BASE": str(free_ports_in_a_row(4)),
           "CHATREC_RETRAIN_AFTER": "1000000", **env}
    stack = Stack(env, logs=folder / "logs", actions_port=free_port())
    stop = threading.Event()

    def supervise() -> None:  # what the launcher does while it serves
        while not stop.wait(1.0):
            stack.restart_dead()

    supervisor = threading.Thread(target=supervise, daemon=True)
    try:
        with environment(env):
            endpoints, secrets = write_endpoints(stack.actions_port, folder)
            database = settings.current().database_url
        rasa_workers = stack.config.rasa_workers
        port = free_port() if rasa_workers == 1 else free_ports_in_a_row(rasa_workers + 1)
        stack.start_workers()
        stack.start_actions()
        stack.start_server(rasa_models(), port, endpoints, secrets)
        stack.wait_ready(port)
        metrics_port = stack.metrics_port(0)
        if metrics_port is None:
            raise RuntimeError("the benchmark needs the action server's metrics (CHATREC_METRICS_PORT_BASE)")
        if stack.worker is None:
            raise RuntimeError("the stack started no interactive worker")
        before = fallbacks_so_far(metrics_port)
        supervisor.start()
        killed: list[float] = []
        victim = stack.worker.started.pid

        def kill() -> None:
            killed.append(time.perf_counter())
            kill_tree(victim)

        if kill_after is not None:
            killer = threading.Timer(kill_after, kill)
            killer.start()
        started = time.perf_counter()
        rows, errors = asyncio.run(_realistic_load(port, users, turns, f"bench:{folder.name}"))
        seconds = time.perf_counter() - started
        if kill_after is not None:
            killer.cancel()
        result = _summary(rows, errors)
        result["worker killed at s"] = round(killed[0] - started, 1) if killed else None
        result.update(throughput=len(rows) / seconds, seconds=seconds,
                      fallbacks=fallbacks_so_far(metrics_port) - before,
                      feedback_rows=feedback_rows(database, f"bench:{folder.name}"))
        return result
    finally:
        stop.set()
        if supervisor.is_alive():
            supervisor.join()  # no restart races the stop
        stack.stop()


def bench_production(folder: Path, users: int, turns: int, kill_after: float) -> dict[str, dict]:
    from devtools.postgres import postgres_database

    results = {"embedded default (`make serve`)":
               _fresh_start_load(folder / "embedded", {}, users, turns, None)}
    for name, kill in (("production layout", None),
                       (f"production layout, a worker killed {kill_after:g} s in", kill_after)):
        redis = RedisServer(folder)
        redis.start()
        try:
            with postgres_database() as tracker_url, postgres_database() as feedback_url:
                env = production_environment(redis.port, tracker_url, feedback_url)
                results[name] = _fresh_start_load(folder / ("killed" if kill else "production"), env, users,
                                                  turns, kill)
        finally:
            redis.stop()
    return results


def production_report(results: dict[str, dict], users: int, turns: int) -> str:
    rows = [[name, r["messages"], f"{r['throughput']:.1f}", f"{r['p50_ms']:.0f}", f"{r['p95_ms']:.0f}",
             f"{r['fallbacks']:.0f}", r["errors"], r["feedback_rows"],
             "" if r["worker killed at s"] is None
             else f"{r['worker killed at s']:g} s of {r['seconds']:.0f} s"]
            for name, r in results.items()]
    return (f"Machine: {machine()}. One run of `make bench-chat-production`: each stack started as "
            f"`make serve` starts it, then {users} people x {turns} turns of the realistic script at once, "
            "from the first \"Ready\" (no warm-up). Embedded default: filesystem broker, SQLite stores, one "
            "Rasa process, one interactive worker. Production layout (the README's variables): 2 Rasa "
            "processes behind the router, 2 interactive workers, the learning worker, the action server, a "
            "private redis-server (broker, results, lock store), PostgreSQL feedback and tracker stores. In "
            "the third run the first interactive worker (all its processes) gets SIGKILL during the load; "
            "the launcher's supervision starts it again. *fallbacks*: answers the action server gave without "
            "the recommender (popular picks, \"try again\", feedback kept for later), from its Prometheus "
            "counter; *feedback rows*: the script's like / seen / not-for-me / rating turns stored, by their "
            "event ids (the script has 5 per 20 turns; its last \"I like the second one\" follows a list of "
            "one film and is answered with \"which one do you mean?\", so 4 per person are stored): the same "
            "count with and without the kill means no feedback was lost or stored twice.\n\n"
            + tabulate(rows, headers=["stack", "messages", "messages/s", "p50 ms", "p95 ms", "fallbacks",
                                      "errors", "feedback rows", "worker killed"], tablefmt="github") + "\n")


def bench_retrain(folder: Path, users: int, turns: int) -> dict:
    """The embedded `make serve` stack; quiet load, then the same load while a forced retrain runs."""
    from launcher.processes import caller_app
    from recommender.storage.feedback import FeedbackStore

    folder.mkdir(parents=True, exist_ok=True)
    models = folder / "models"  # a copy: the forced retrain may promote a version
    shutil.copytree(artifacts.models_dir() / settings.current().dataset, models / settings.current().dataset,
                    ignore=shutil.ignore_patterns("decisions.jsonl"))
    env = {"CHATREC_STATE_DIR": str(folder / "state"), "CHATREC_MODELS_DIR": str(models),
           "CHATREC_METRICS_PORT_BASE": "0", "CHATREC_RETRAIN_AFTER": "1000000"}
    stack = Stack(env, logs=folder / "logs", actions_port=free_port())
    results: dict[str, Any] = {}
    try:
        with environment(env):
            endpoints, secrets = write_endpoints(stack.actions_port, folder)
            store = FeedbackStore(settings.current().database_url)
            store.migrate()
            app = caller_app(env)
        stack.start_workers()
        stack.start_actions()
        port = free_port()
        stack.start_server(rasa_models(), port, endpoints, secrets)
        stack.wait_for_workers()
        asyncio.run(_realistic_load(port, users, WARMUP_TURNS, "warm"))
        results["no retrain"] = _summary(*asyncio.run(_realistic_load(port, users, turns, "quiet")))
        watch = RetrainWatch(store).start()
        app.send_task("chatrec.retrain", kwargs={"force": True})
        deadline = time.monotonic() + 120
        while not watch.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        loaded, errors = asyncio.run(_realistic_load(port, users, turns, "retrain"))
        results["retrain covered the whole load"] = watch.running()
        watch.stop()
        results["retrain running"] = _summary([row for row in loaded if watch.during(row[0])], errors)
        results["retrain spans"] = watch.spans
        return results
    finally:
        stack.stop()


def retrain_report(results: dict, users: int, turns: int) -> str:
    quiet, busy = results["no retrain"], results["retrain running"]
    rows = [[name, r["messages"], f"{r['p50_ms']:.0f}", f"{r['p95_ms']:.0f}", r["fallbacks"], r["errors"]]
            for name, r in (("no retrain", quiet), ("a retrain running (learning worker, nice 19)", busy))]
    rows.append(["**p95 ratio, retraining / quiet**", "", "",
                 f"**{busy['p95_ms'] / quiet['p95_ms']:.2f}×**", "", ""])
    covered = ("yes" if results["retrain covered the whole load"]
               else "no (only messages sent while it ran are counted)")
    return (f"Machine: {machine()}. One run of `make bench-chat-retrain`: the embedded `make serve` stack "
            "(filesystem broker, SQLite stores, one interactive worker, one learning worker at nice 19, the "
            f"action server, one Rasa process), {users} users x {turns} turns of a realistic script "
            "(recommend, refine, more, why, like, seen, not for me, rate, details, compare, a stated taste) "
            f"after {WARMUP_TURNS} warm-up turns. First with no retrain, then with a retrain of the served "
            "model (forced, started just before the load) running on the learning worker. "
            f"The retrain ran during the whole second load: {covered}. *fallbacks*: replies with popular "
            "picks or \"try again\" because no worker answered in time.\n\n"
            + tabulate(rows, headers=["load", "messages", "p50 ms", "p95 ms", "fallbacks", "errors"],
                       tablefmt="github") + "\n")


def _list_turn(tracker, turn: int) -> None:
    """The events of one recommendation turn: message, action, five items with buttons and a footer."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

    buttons = [{"title": t, "payload": payload(Intent.FEEDBACK_POSITIVE, str(turn))} for t in "ABCD"]
    tracker.update(UserUttered(f"a comedy, please ({turn})",
                               {"name": "request_recommendation", "confidence": 0.99},
                               [{"entity": "genre", "value": "Comedy", "start": 2, "end": 8}]))
    tracker.update(ActionExecuted("action_recommend"))
    for item in range(5):
        tracker.update(BotUttered(f"{item + 1}. A movie ({1990 + item})", {"buttons": buttons}))
    tracker.update(BotUttered("Ask me why, or say what you think."))
    tracker.update(SlotSet("last_list", [str(i) for i in range(5)]))
    tracker.update(ActionExecuted("action_listen"))


def bench_tracker_store(folder: Path, lengths: tuple[int, ...] = (10, 30, 60),
                        repeats: int = 30) -> list[list]:
    """Median ms to retrieve and save one conversation of `lengths` turns: Rasa's SQL store
    against ours (bot/tracker_store.py) on SQLite."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from bot.tracker_store import ConversationStore
    from launcher.stack import BOT

    domain = Domain.load(str(BOT / "domain"))
    rows = []
    for turns in lengths:
        database = str(folder / f"trackers-{turns}.sqlite3")
        ours, rasas = ConversationStore(domain, dialect="sqlite", db=database), SQLTrackerStore(
            domain, dialect="sqlite", db=database)
        tracker = asyncio.run(ours.create_tracker("bench"))
        for turn in range(turns):
            _list_turn(tracker, turn)
        asyncio.run(ours.save(tracker))
        row: list[int | str] = [turns, len(tracker.events)]
        for store in (rasas, ours):
            times = []
            for _ in range(repeats):
                started = time.perf_counter()
                asyncio.run(store.save(asyncio.run(store.retrieve("bench"))))
                times.append((time.perf_counter() - started) * 1000)
            row.append(f"{statistics.median(times):.1f}")
        rows.append(row + [f"{float(row[2]) / float(row[3]):.1f}×"])
    return rows


def _row(name: str, result: dict) -> list:
    return [name, result["users"], result["messages"], f"{result['p50_ms']:.0f}", f"{result['p95_ms']:.0f}",
            f"{result['throughput']:.1f}", result["errors"], result["no_reply"]]


def report(ours: dict[int, list[dict]], plain: list[dict], turns: int, stores: list[list]) -> str:
    """`ours`: results per number of Rasa server processes."""
    rows = []
    for index, theirs in enumerate(plain):
        for workers, results in ours.items():
            name = f"Chat-Rec, {workers} Rasa process{'es' if workers > 1 else ''}"
            rows.append(_row(name, results[index]))
        rows.append(_row("plain `rasa init` bot (DIET + TED), 1 process", theirs))
        for workers, results in ours.items():
            rows.append([f"**p95 ratio, Chat-Rec with {workers} / plain**", theirs["users"], "", "",
                         f"**{results[index]['p95_ms'] / theirs['p95_ms']:.2f}×**", "", "", ""])
    table = tabulate(rows, headers=["bot", "users", "messages", "p50 ms", "p95 ms", "messages/s", "errors",
                                    "no reply"], tablefmt="github")
    silent = ", ".join(repr(t) for t in plain[0]["no_reply_to"][:3]) or "none"
    return (f"Machine: {machine()}. One run of `make bench-chat`; each user sends {turns} messages after "
            f"{WARMUP_TURNS} warm-up turns, waiting for each reply; latency is POST to reply on Rasa's "
            "REST channel. Chat-Rec ran as deployed on one machine: BERT NLU, the action server, a "
            "2-process prefork Celery worker on a private redis-server, SQLite feedback and tracker stores "
            "(with 2 Rasa processes: `SANIC_WORKERS=2` and a Redis lock store). The plain bot ran as "
            "`rasa init` makes it: one process, in-memory tracker store, no custom actions. Everything, the "
            "load generator included, shares the 2 cores. The scripts differ (each bot's own intents). "
            "*errors*: HTTP or connection failures; *no reply*: an empty answer (the plain bot has none "
            f"for some turns of its script: {silent}).\n\n{table}\n\n"
            "Tracker store, one conversation on SQLite, median of 30 retrieve + save cycles (what each "
            "message costs the Rasa process), Rasa's `SQLTrackerStore` against ours (`bot/tracker_store.py`):"
            "\n\n" + tabulate(stores, headers=["turns", "events", "Rasa's ms", "ours ms", "ratio"],
                                tablefmt="github") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_chat")
    parser.add_argument("--users", type=int, nargs="+", default=[4, 16])
    parser.add_argument("--turns", type=int, default=48, help="messages per user")
    parser.add_argument("--rasa-workers", type=int, nargs="+", default=[1, 2],
                        help="Chat-Rec runs, one per number of Rasa server processes")
    parser.add_argument("--retrain", action="store_true",
                        help="only the retrain-under-load run (--users 50 --turns 20 by default)")
    parser.add_argument("--production", action="store_true",
                        help="only the production layout against the embedded default, with a worker killed "
                             "(--users 50 --turns 20 by default)")
    parser.add_argument("--kill-after", type=float, default=20.0, help="seconds into the load (--production)")
    args = parser.parse_args()
    if not any(rasa_models().glob("*.tar.gz")):
        sys.exit("no trained bot: run `make train` first")
    folder = settings.current().state_folder() / "bench-chat"  # logs stay here for a look afterwards
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    users = args.users[0] if args.users != [4, 16] else 50
    turns = args.turns if args.turns != 48 else 20
    if args.production:
        results = bench_production(folder / "production", users, turns, args.kill_after)
        text = production_report(results, users, turns)
        print(text)
        (ROOT / "reports").mkdir(exist_ok=True)
        (ROOT / "reports" / "bench-chat-production.json").write_text(json.dumps(results, indent=2))
        write_section(ROOT / "docs" / "benchmarks.md", "chat-production",
                      "The production layout under load, a worker killed (`make bench-chat-production`)",
                      text)
        return
    if args.retrain:
        results = bench_retrain(folder / "retrain", users, turns)
        text = retrain_report(results, users, turns)
        print(text)
        (ROOT / "reports").mkdir(exist_ok=True)
        (ROOT / "reports" / "bench-chat-retrain.json").write_text(json.dumps(results, indent=2))
        write_section(ROOT / "docs" / "benchmarks.md", "chat-retrain",
                      "Chat while the model retrains (`make bench-chat-retrain`)", text)
        return
    plain = bench_plain(folder, args.users, args.turns)
    ours = {workers: bench_ours(folder / f"ours-{workers}", args.users, args.turns, workers)
            for workers in args.rasa_workers}
    text = report(ours, plain, args.turns, bench_tracker_store(folder))
    print(text)
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "bench-chat.json").write_text(json.dumps({"ours": ours, "plain": plain}, indent=2))
    write_section(ROOT / "docs" / "benchmarks.md", "chat-load",
                  "Chat: concurrent users (`make bench-chat`)", text)


if __name__ == "__main__":
    main()
