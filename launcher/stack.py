"""The whole bot on one machine: Celery workers (interactive and, at low CPU priority,
learning), the action server and Rasa (one process, or several behind the router).

    python -m launcher.stack shell          train what is missing, then talk in `rasa shell`
    python -m launcher.stack interactive    the same stack under `rasa interactive`
    python -m launcher.stack serve          Rasa's HTTP server (REST channel) for channels and tests;
                                            whatever exits is started again
    python -m launcher.stack train          train what is missing and migrate the feedback store
    python -m launcher.stack bot            one Rasa process only (a deployment's bot container)

Embedded defaults need no server: the Celery broker is the filesystem, the
feedback store and the tracker store are SQLite files under .state/, the
lock store is in memory. Configuration: chatrec/settings.py (the README's table).
Stopping the command stops every process it started.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import version as package_version
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlparse

import yaml
from sqlalchemy.engine import make_url

from bot import catalog_nlu
from chatrec import processes, settings
from chatrec.contracts import ReplyData, ReplyKind
from chatrec.processes import INTERACTIVE, LEARNING, LEARNING_NICE
from chatrec.settings import ROOT
from launcher.processes import Worker, child_setup, descendants, running
from recommender.data import load_dataset
from recommender.storage.feedback import FeedbackStore

BOT = ROOT / "bot"
CREDENTIALS = BOT / "credentials.yml"
TRACKER_PASSWORD_VARIABLE = "CHATREC_TRACKER_STORE_PASSWORD"
LOCK_PASSWORD_VARIABLE = "CHATREC_LOCK_STORE_PASSWORD"
SERVING = {"CHATREC_TORCH_THREADS": "1"}  # one message per forward pass: threads only contend
KEEP_RASA_MODELS = 3  # archives kept in models/rasa (about 80 MB each)
SUPERVISE_SECONDS = 1.0  # how often the launcher looks for a process that exited
READY_SECONDS = 2.0  # a start is ready once a recommendation comes back through every process this fast


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """What every process of the stack runs with: offline models, no library noise, the repo importable."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **settings.OFFLINE, **settings.QUIET,
            "OPENBLAS_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", **(extra or {})}


def tracker_store_config(url: str) -> tuple[dict, dict[str, str]]:
    """Rasa's endpoint entry for a SQLAlchemy URL, and the variables it reads (the password)."""
    parsed = make_url(url)
    config: dict = {"type": "bot.tracker_store.ConversationStore",
                    "dialect": parsed.get_backend_name(), "db": parsed.database}
    if parsed.host:
        config["url"] = parsed.host
    if parsed.port:
        config["port"] = parsed.port
    if parsed.username:
        config["username"] = parsed.username
    secrets = {}
    if parsed.password:
        config["password"] = f"${{{TRACKER_PASSWORD_VARIABLE}}}"  # never written to disk
        secrets[TRACKER_PASSWORD_VARIABLE] = str(parsed.password)
    return config, secrets


def lock_store_config(url: str) -> tuple[dict, dict[str, str]]:
    parsed = urlparse(url)
    if parsed.scheme not in ("redis", "rediss"):
        raise ValueError(f"CHATREC_LOCK_STORE_URL must be a redis:// URL, not {parsed.scheme}://")
    config = {"type": "bot.lock_store.AtomicRedisLockStore", "url": parsed.hostname or "localhost",
              "port": parsed.port or 6379, "db": int(parsed.path.strip("/") or 0),
              "use_ssl": parsed.scheme == "rediss"}
    secrets = {}
    if parsed.password:
        config["password"] = f"${{{LOCK_PASSWORD_VARIABLE}}}"
        secrets[LOCK_PASSWORD_VARIABLE] = parsed.password
    return config, secrets


def write_endpoints(actions_port: int | None = None,
                    folder: Path | None = None) -> tuple[Path, dict[str, str]]:
    """Write the endpoints file for this environment (the action server on this machine at
    `actions_port`, else CHATREC_ACTIONS_URL); returns it and the variables it needs."""
    config = settings.current()
    tracker, secrets = tracker_store_config(config.tracker_store_url)
    actions = f"http://127.0.0.1:{actions_port}/webhook" if actions_port else config.action_endpoint
    endpoints = {"action_endpoint": {"url": actions},
                 "tracker_store": tracker}
    if config.lock_store_url:
        endpoints["lock_store"], lock_secrets = lock_store_config(config.lock_store_url)
        secrets.update(lock_secrets)
    path = (folder or config.state_folder()) / "endpoints.yml"
    path.write_text(yaml.safe_dump(endpoints, sort_keys=False))
    return path, secrets


def rasa(*args: str) -> list[str]:
    """A `rasa` command line (bot/rasa_cli.py: Rasa's CLI with a speed fix)."""
    return [sys.executable, "-m", "bot.rasa_cli", *args]


def rasa_inputs_fingerprint(config: Path) -> str:
    """What a Rasa model is made from: its config, the domain and data folders (with the
    generated catalog files), our NLU components' code, and the Rasa version."""
    digest = hashlib.sha256(package_version("rasa").encode() + b"\0" + config.read_bytes())
    files = [*sorted((BOT / "domain").rglob("*")), *sorted((BOT / "data").rglob("*")),
             *sorted((BOT / "components").glob("*.py"))]
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def train_rasa(config: Path, out: Path, keep: int = KEEP_RASA_MODELS) -> Path:
    """Catalog NLU data (bot/catalog_nlu.py), then the Rasa model for these inputs: the one
    already in `out` when nothing changed, else `rasa train`. At most `keep` archives stay."""
    catalog_nlu.write(load_dataset(settings.current().dataset))
    name = f"chatrec-{rasa_inputs_fingerprint(config)}"
    model = out / f"{name}.tar.gz"
    if model.is_file():
        model.touch()  # the newest: what `rasa` picks from the folder
    else:
        subprocess.run(rasa("train", "--config", str(config), "--domain", str(BOT / "domain"),
                            "--data", str(BOT / "data"), "--out", str(out), "--fixed-model-name", name),
                       cwd=ROOT, env=child_environment(), check=True)
    archives = sorted(out.glob("*.tar.gz"), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in archives[keep:]:
        old.unlink(missing_ok=True)
    return model


def rasa_models() -> Path:
    """Where the Rasa model archives are kept: models/rasa under CHATREC_MODELS_DIR."""
    return settings.current().models_dir / "rasa"


def train_missing() -> Path:
    """Train the recommender and the Rasa model when they are missing or out of date, and bring
    the feedback store's schema up to date."""
    FeedbackStore(settings.current().database_url).migrate()
    subprocess.run([sys.executable, "-m", "recommender", "--dataset", settings.current().dataset,
                    "train", "--if-missing"], cwd=ROOT, env=child_environment(), check=True)
    return train_rasa(BOT / "config.yml", rasa_models())


def wait_for_http(url: str, timeout: float = 120.0, process: subprocess.Popen | None = None) -> None:
    """Until `url` answers 200; fails early when `process` has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            command = process.args
            if isinstance(command, (list, tuple)):
                command = command[:4]  # its first words are enough
            raise RuntimeError(f"{command!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class Serving(NamedTuple):
    """What Stack.start_server was given, to start a process again."""
    model: Path
    port: int
    endpoints: Path
    secrets: dict[str, str]


class Stack:
    """The workers, the action server and Rasa: one process each by default; with
    CHATREC_INTERACTIVE_WORKERS and CHATREC_RASA_WORKERS, several, Rasa's behind the router
    (launcher/router.py). `restart_dead()` starts again whatever has exited."""

    def __init__(self, env: dict[str, str] | None = None, logs: Path | None = None,
                 actions_port: int | None = None, bound: bool = False) -> None:
        self.env = child_environment(env)
        self.bound = bound  # children stop when this process is gone (the launcher; not tests)
        self.logs = logs or settings.current().state_folder() / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.config = settings.Settings.from_environ(self.env)  # what the children will read
        self.actions_port = actions_port or self.config.actions_port
        self.metrics_base = self.config.metrics_port_base
        self.worker: Worker | None = None  # the first interactive worker
        self.more_workers: list[Worker] = []  # CHATREC_INTERACTIVE_WORKERS beyond the first
        self.learner: Worker | None = None
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None  # the one Rasa process, or the router in front of several
        self.servers: dict[int, subprocess.Popen] = {}  # port -> Rasa process, behind the router
        self._serving: Serving | None = None  # set by start_server

    def metrics_port(self, offset: int) -> int | None:
        """0: action server, 1: interactive worker, 2: learning worker, 3...: more interactive
        workers (None: metrics off)."""
        return self.metrics_base + offset if self.metrics_base else None

    def start_workers(self, pool: str | None = None, concurrency: int = 1) -> None:
        """The interactive worker(s) and the learning worker."""
        self.start_interactive_worker(pool, concurrency)
        self.more_workers = [self._interactive(number, pool, concurrency).start()
                             for number in range(2, self.config.interactive_workers + 1)]
        self.learner = self._learning().start()

    def start_interactive_worker(self, pool: str | None = None, concurrency: int = 1) -> None:
        self.worker = self._interactive(1, pool, concurrency).start()

    def _interactive(self, number: int, pool: str | None = None, concurrency: int = 1) -> Worker:
        log = "worker" if number == 1 else f"worker-{number}"
        return Worker(self.env, self.logs / f"{log}.log", pool, concurrency, queue=INTERACTIVE,
                      metrics_port=self.metrics_port(1 if number == 1 else number + 1), bound=self.bound,
                      name=f"interactive worker {number}")

    def _learning(self) -> Worker:
        return Worker(self.env, self.logs / "learning-worker.log", queue=LEARNING, nice=LEARNING_NICE,
                      metrics_port=self.metrics_port(2), bound=self.bound)

    @property
    def workers(self) -> list[Worker]:
        return [worker for worker in (self.worker, *self.more_workers, self.learner) if worker is not None]

    def wait_for_workers(self, timeout: float = 120.0) -> None:
        for worker in self.workers:
            worker.wait_ready(timeout)

    def wait_ready(self, port: int, timeout: float = 300.0) -> float:
        """Until the workers beat and a recommendation comes back through Rasa (each process of
        several), the action server and the worker as a real list (not the popular fallback)
        within READY_SECONDS: a cold stack answers its first messages slowly, and people who
        start then would get fallbacks. Returns the last answer's seconds."""
        self.wait_for_workers(timeout)
        for backend in self.servers:
            warm_up(backend, timeout)
        return warm_up(port, timeout)

    def start_actions(self) -> None:
        port = self.metrics_port(0)
        self.actions = subprocess.Popen(
            processes.action_server(self.actions_port),
            cwd=ROOT, env={**self.env, "CHATREC_METRICS_PORT": str(port or 0)}, stdin=subprocess.DEVNULL,
            stdout=(self.logs / "actions.log").open("ab"), stderr=subprocess.STDOUT,
            preexec_fn=child_setup(self.bound))
        wait_for_http(f"http://127.0.0.1:{self.actions_port}/health", process=self.actions)

    def start_server(self, model: Path, port: int, endpoints: Path, secrets: dict[str, str]) -> None:
        """`rasa run` with the REST channel and the HTTP API on `port`, in the background. With
        CHATREC_RASA_WORKERS = n > 1: n Rasa processes on the next n ports, and the router on
        `port` in front of them, which keeps each conversation on one process."""
        self._serving = Serving(model, port, endpoints, secrets)
        count = self.config.rasa_workers
        if count == 1:
            self.rasa = self._rasa_process(port, "rasa.log")
            wait_for_http(f"http://127.0.0.1:{port}/status", timeout=300, process=self.rasa)
            return
        if not self.config.lock_store_url:
            raise SystemExit(f"{settings.variable('rasa_workers')}={count} needs a Redis lock store: set "
                             f"{settings.variable('lock_store_url')}=redis://host:6379/2")
        self.servers = {backend: self._rasa_process(backend, f"rasa-{number}.log")
                        for number, backend in enumerate(range(port + 1, port + count + 1), start=1)}
        for backend, process in self.servers.items():
            wait_for_http(f"http://127.0.0.1:{backend}/status", timeout=300, process=process)
        self.rasa = self._router_process(port)
        wait_for_http(f"http://127.0.0.1:{port}/health", process=self.rasa)

    def _rasa_process(self, port: int, log: str) -> subprocess.Popen:
        model, _, endpoints, secrets = self._served()
        return subprocess.Popen(
            processes.rasa_server(model, endpoints, port, CREDENTIALS),
            cwd=ROOT, env={**self.env, **SERVING, "SANIC_WORKERS": "1", **secrets}, stdin=subprocess.DEVNULL,
            stdout=(self.logs / log).open("ab"), stderr=subprocess.STDOUT,
            preexec_fn=child_setup(self.bound))

    def _served(self) -> Serving:
        if self._serving is None:
            raise RuntimeError("start_server has not run yet")
        return self._serving

    def _router_process(self, port: int) -> subprocess.Popen:
        return subprocess.Popen(
            processes.router(port, [f"http://127.0.0.1:{backend}" for backend in self.servers]),
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=(self.logs / "router.log").open("ab"),
            stderr=subprocess.STDOUT, preexec_fn=child_setup(self.bound))

    def restart_dead(self) -> list[str]:
        """Start again every process of the stack that has exited; returns what was restarted.
        (A platform restarts containers; on one machine the launcher does.)"""
        restarted = []
        for worker in self.workers:
            if worker.process is not None and worker.process.poll() is not None:
                restarted.append(f"{worker.name} (exit {worker.process.returncode})")
                worker.start()
        if self.actions is not None and self.actions.poll() is not None:
            restarted.append(f"the action server (exit {self.actions.returncode})")
            self.start_actions()
        for backend, process in list(self.servers.items()):
            if process.poll() is not None:
                restarted.append(f"the Rasa process on port {backend} (exit {process.returncode})")
                number = backend - self._served().port
                self.servers[backend] = self._rasa_process(backend, f"rasa-{number}.log")
        if self.rasa is not None and self.rasa.poll() is not None and self._serving is not None:
            port = self._serving.port
            server = "the router" if self.servers else "Rasa"
            restarted.append(f"{server} on port {port} (exit {self.rasa.returncode})")
            self.rasa = self._router_process(port) if self.servers else self._rasa_process(port, "rasa.log")
        return restarted

    def stop_server(self) -> None:
        _stop(self.rasa)
        self.rasa = None
        for process in self.servers.values():
            _stop(process)
        self.servers = {}

    def stop(self) -> None:
        self.stop_server()
        _stop(self.actions)
        self.actions = None
        for worker in self.workers:
            worker.stop()
        self.worker, self.more_workers, self.learner = None, [], None


def warm_up(port: int, timeout: float = 300.0) -> float:
    """Ask for the catalog's example request, as a new person (one short conversation per start,
    under a sender id of its own), until it is answered with a list within READY_SECONDS."""
    sender = f"chatrec:warm-up:{int(time.time())}"
    deadline = time.monotonic() + timeout
    while True:
        took = recommendation_seconds(port, sender)
        if took is not None and took < READY_SECONDS:
            return took
        if time.monotonic() > deadline:
            raise TimeoutError(f"no recommendation within {READY_SECONDS} s after {timeout} s; see the logs")
        time.sleep(0.2)


def recommendation_seconds(port: int, sender: str) -> float | None:
    """Seconds until Rasa on `port` answered the catalog's example request with a real list (not
    the popular fallback); None when it did not."""
    example = catalog_nlu.catalog_domain(load_dataset(settings.current().dataset))["slots"]["example_request"]
    message = json.dumps({"sender": sender, "message": f"recommend {example['initial_value']}"}).encode()
    started = time.monotonic()
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/webhooks/rest/webhook", message,
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            replies = json.load(response)
    except OSError:
        return None
    found = [data for data in map(ReplyData.of_message, replies) if data is not None]
    if any(data.kind is ReplyKind.LIST and not data.fallback for data in found):
        return time.monotonic() - started
    return None


def supervise(stack: Stack) -> None:
    """Keep the stack running: whatever exits is started again (until the launcher stops)."""
    while True:
        for what in stack.restart_dead():
            print(f"{what} exited; started it again (logs: {stack.logs})", file=sys.stderr, flush=True)
        time.sleep(SUPERVISE_SECONDS)


def _stop(process: subprocess.Popen | None) -> None:
    """Stop `process` and whatever it started (`rasa interactive` forks a visualisation server)."""
    if process is None:
        return
    below = descendants(process.pid)
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for pid in below:  # orphans now: not ours to wait for
        if running(pid):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in below) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in below:
        if running(pid):
            os.kill(pid, signal.SIGKILL)


def serve_one(port: int, model: Path | None = None) -> None:
    """`chatrec bot`: this process becomes one Rasa server (a deployment's bot container), on the
    newest trained model; the action server and the stores come from the environment."""
    archives = sorted(rasa_models().glob("*.tar.gz"), key=lambda path: path.stat().st_mtime)
    model = model or (archives[-1] if archives else None)
    if model is None:
        sys.exit(f"no trained Rasa model in {rasa_models()}: run `chatrec train` first")
    endpoints, secrets = write_endpoints()
    command = processes.rasa_server(model, endpoints, port, CREDENTIALS)
    os.chdir(ROOT)
    os.execve(command[0], command, child_environment({**SERVING, "SANIC_WORKERS": "1", **secrets}))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m launcher.stack", description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["shell", "interactive", "serve", "train", "bot"])
    parser.add_argument("--port", type=int, default=settings.current().rasa_port)
    parser.add_argument("--conversation-id", default=f"shell:{getpass.getuser()}",
                        help="who you are in `shell` mode (your feedback is kept under this id)")
    parser.add_argument("--model", type=Path,
                        help="a trained Rasa model (file or folder) to use "
                             "instead of training what is missing")
    args = parser.parse_args()
    if args.mode == "bot":
        serve_one(args.port, args.model)
    model = args.model or train_missing()
    if args.mode == "train":
        return
    stack = Stack(bound=True)  # whatever ends this process, its children stop too
    endpoints, secrets = write_endpoints(stack.actions_port)
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):  # `finally` below stops the children
        signal.signal(stop_signal, lambda *_: sys.exit(0))
    try:
        stack.start_workers()
        stack.start_actions()
        if args.mode == "serve":
            stack.start_server(model, args.port, endpoints, secrets)
            stack.wait_ready(args.port)
            processes = f" ({len(stack.servers)} Rasa processes behind the router)" if stack.servers else ""
            print(f"Ready (a recommendation came back at normal speed): Rasa is listening on "
                  f"http://127.0.0.1:{args.port}{processes} (REST: /webhooks/rest/webhook); Ctrl-C stops.",
                  flush=True)
            supervise(stack)
        else:  # shell or interactive, in the foreground
            extra = (["--conversation-id", args.conversation_id] if args.mode == "shell" else
                     ["--config", str(BOT / "config.yml"), "--domain", str(BOT / "domain"),
                      "--data", str(BOT / "data")])
            stack.rasa = subprocess.Popen(
                rasa(args.mode, "--model", str(model), "--endpoints", str(endpoints),
                     "--port", str(args.port), *extra),
                cwd=ROOT, env={**stack.env, **SERVING, **secrets}, preexec_fn=child_setup(True))
            stack.rasa.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
