"""The README's run command (`python -m launcher.stack shell`) and `make interactive`
(`python -m launcher.stack interactive`), each in a pseudo-terminal as a person
runs them, on the tests' Rasa model and the embedded defaults (filesystem
broker, SQLite stores): a conversation in `rasa shell`, then `/stop` or a
closed terminal stops every process the command started."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shlex
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import psutil
import pytest
import requests

from launcher.processes import descendants, free_port, running
from launcher.stack import ROOT
from tests.chat import structured
from tests.recommender.conftest import promote_tiny_version

ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][A-Z0-9]|\r")


class Terminal:
    """A command running in a pseudo-terminal, with what it printed so far."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.master, replica = pty.openpty()
        fcntl.ioctl(replica, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 160, 0, 0))
        self.process = subprocess.Popen(command, stdin=replica, stdout=replica, stderr=replica, cwd=ROOT,
                                        env=env, start_new_session=True)
        os.close(replica)
        self.printed = ""

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.printed += ANSI.sub("", os.read(self.master, 65536).decode(errors="replace"))
            except OSError:  # the command exited and closed the terminal
                time.sleep(timeout)

    def wait_for(self, pattern: str, timeout: float = 300.0, start: int = 0) -> int:
        """Until `pattern` (a regex) is printed after position `start`; returns where it ends."""
        deadline = time.monotonic() + timeout
        while (found := re.search(pattern, self.printed[start:])) is None:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"no {pattern!r} in:\n{self.printed[-3000:]}")
            self._read(0.2)
        return start + found.end()

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def close(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        os.close(self.master)


def _alive(pids: set[int]) -> set[int]:
    return {pid for pid in pids if running(pid)}


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:120]
    except OSError:
        return f"{pid} (gone)"


def _stack(mode: str, tmp_path: Path, rasa_model: Path, movielens, pipe: bool = False) -> Terminal:
    promote_tiny_version(tmp_path / "models", movielens)
    env = {**os.environ, "CHATREC_STATE_DIR": str(tmp_path / "state"),
           "CHATREC_MODELS_DIR": str(tmp_path / "models"),
           "CHATREC_ACTIONS_PORT": str(free_port()), "TERM": "xterm", "PYTHONPATH": str(ROOT)}
    for name in ("CHATREC_BROKER_URL", "CHATREC_RESULT_BACKEND", "CHATREC_DATABASE_URL",
                 "CHATREC_TRACKER_STORE_URL", "CHATREC_LOCK_STORE_URL"):
        env.pop(name, None)  # the embedded defaults, as on a fresh machine
    command = [sys.executable, "-m", "launcher.stack", mode, "--model", str(rasa_model), "--port",
               str(free_port()), "--conversation-id", "shell:test"]
    if pipe:  # as in `make serve 2>&1 | tee serve.log`
        log = shlex.quote(str(tmp_path / "serve.log"))
        command = ["bash", "-c", f"{shlex.join(command)} 2>&1 | tee {log}"]
    return Terminal(command, env)


def _stops_everything(terminal: Terminal, started: set[int]) -> None:
    terminal.process.wait(timeout=60)
    deadline = time.monotonic() + 30
    while _alive(started) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(started), f"left running: {[_command(pid) for pid in _alive(started)]}"


def test_the_run_command_holds_a_conversation_and_stop_ends_everything(tmp_path, rasa_model, movielens):
    terminal = _stack("shell", tmp_path, rasa_model, movielens)
    try:
        at = terminal.wait_for(r"Type a message and press enter")
        started = descendants(terminal.process.pid)
        assert len(started) >= 3  # worker, action server, rasa shell
        terminal.type("recommend a comedy from the 90s")
        at = terminal.wait_for(r"\(199\d\)", timeout=120, start=at)  # a 90s title, answered by the worker
        terminal.type("why the first one?")
        terminal.wait_for(r"Why .+ \(199\d\)\?", timeout=120, start=at)
        assert "Custom json" not in terminal.printed  # the list's text, not its data for the adapters
        terminal.type("/stop")
        _stops_everything(terminal, started)
        assert (tmp_path / "state" / "tracker.sqlite3").is_file()  # the conversation, in embedded SQLite
    finally:
        terminal.close()


def test_interactive_mode_runs_on_the_same_stack_and_a_closed_terminal_stops_it(
    tmp_path, rasa_model, movielens
):
    terminal = _stack("interactive", tmp_path, rasa_model, movielens)
    try:
        terminal.wait_for(r"Your input ->")
        started = descendants(terminal.process.pid)
        commands = [_command(pid) for pid in started]
        assert any("rasa_sdk" in c for c in commands) and any("celery" in c for c in commands)
        # rasa interactive, and the visualisation server it forks (when port 5006 is free)
        assert sum("bot.rasa_cli interactive" in c for c in commands) >= 1
        terminal.process.send_signal(signal.SIGHUP)  # to the stack alone: it must stop what it started
        _stops_everything(terminal, started)
    finally:
        terminal.close()


@pytest.mark.parametrize("ending", ["ctrl-c through a pipe", "crash"])
def test_no_process_outlives_the_serve_launcher(tmp_path, rasa_model, movielens, ending):
    """Ctrl-C on `... serve 2>&1 | tee serve.log` (the pipe may close before the launcher is done),
    or the launcher killed outright: the workers, the action server and Rasa stop too."""
    terminal = _stack("serve", tmp_path, rasa_model, movielens, pipe=ending != "crash")
    try:
        terminal.wait_for(r"Rasa is listening on http://127.0.0.1:\d+ ")
        port = re.search(r"Rasa is listening on http://127.0.0.1:(\d+) ", terminal.printed).group(1)
        # ready means ready: the first message after it gets a real list, not the popular fallback
        first = requests.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook", timeout=60,
                              json={"sender": "test:first",
                                    "message": "recommend a comedy from the 90s"}).json()
        (listing,) = structured(first)
        assert len(listing["items"]) == 5 and not listing["fallback"]
        started = descendants(terminal.process.pid)
        commands = {pid: _command(pid) for pid in started}
        assert sum("celery" in c for c in commands.values()) >= 2
        assert any("rasa_sdk" in c for c in commands.values())
        if ending == "crash":
            terminal.process.kill()  # the launcher itself: no `finally` runs
        else:
            os.killpg(terminal.process.pid, signal.SIGINT)  # Ctrl-C: SIGINT to the whole foreground group
        _stops_everything(terminal, started)
    finally:
        terminal.close()


def test_the_serve_launcher_starts_again_a_process_that_died(tmp_path, rasa_model, movielens):
    terminal = _stack("serve", tmp_path, rasa_model, movielens)
    try:
        terminal.wait_for(r"Rasa is listening on http://127.0.0.1:\d+ ")
        port = re.search(r"Rasa is listening on http://127.0.0.1:(\d+) ", terminal.printed).group(1)
        (worker,) = [child.pid for child in psutil.Process(terminal.process.pid).children()
                     if "interactive" in child.cmdline()]
        for pid in [worker, *(child.pid for child in psutil.Process(worker).children(recursive=True))]:
            os.kill(pid, signal.SIGKILL)  # the interactive worker, lost outright
        terminal.wait_for(r"interactive worker 1 \(exit -9\) exited; started it again")
        deadline = time.monotonic() + 120
        while True:  # a recommendation again, from the worker started anew
            answer = requests.post(f"http://127.0.0.1:{port}/webhooks/rest/webhook", timeout=60,
                                   json={"sender": "test:again", "message": "recommend a comedy"}).json()
            if any(not data["fallback"] for data in structured(answer)):
                break
            assert time.monotonic() < deadline, "no recommendation from the restarted worker"
            time.sleep(1)
    finally:
        terminal.close()
