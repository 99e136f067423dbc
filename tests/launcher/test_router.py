"""The router keeps each conversation on one Rasa process and moves only the conversations of a
process that is down (real HTTP: the router process in front of two small aiohttp servers)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
from aiohttp import web

from chatrec.contracts import SENDER_HEADER
from chatrec.processes import router
from launcher.processes import free_port, wait_for_port
from launcher.router import rendezvous
from launcher.stack import ROOT


class Backend:
    """An HTTP server that answers every request with its own name (where the router sent it)."""

    def __init__(self, name: str) -> None:
        self.name, self.port = name, free_port()
        self._runner: web.AppRunner | None = None
        self._loop = None

    def start(self) -> Backend:
        async def answer(request: web.Request) -> web.Response:
            body = await request.read()
            return web.json_response({"backend": self.name, "path": request.path_qs, "bytes": len(body)})

        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            app = web.Application()
            app.router.add_route("*", "/{path:.*}", answer)
            self._runner = web.AppRunner(app)
            self._loop.run_until_complete(self._runner.setup())
            self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        if self._runner is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture()
def routed() -> Iterator[tuple[str, dict[str, Backend]]]:
    backends = {name: Backend(name).start() for name in ("a", "b")}
    port = free_port()
    process = subprocess.Popen(router(port, [b.url for b in backends.values()]), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    yield f"http://127.0.0.1:{port}", backends
    process.terminate()
    process.wait(10)
    for backend in backends.values():
        backend.stop()


def say(url: str, sender: str) -> str:
    answer = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": "hi"},
                           timeout=10)
    answer.raise_for_status()
    return answer.json()["backend"]


def test_every_request_of_a_sender_reaches_the_same_process(routed) -> None:
    url, backends = routed
    senders = [f"person-{n}" for n in range(40)]
    first = {sender: say(url, sender) for sender in senders}
    assert all(say(url, sender) == first[sender] for sender in senders for _ in range(3))
    assert set(Counter(first.values())) == {"a", "b"}, "conversations are spread over both processes"
    by_name = {b.url: name for name, b in backends.items()}
    assert all(first[s] == by_name[rendezvous([b.url for b in backends.values()], s)[0]] for s in senders)
    # the sender in a header or in the path of Rasa's HTTP API goes to the same place as in the body
    person = senders[0]
    header = requests.post(f"{url}/webhooks/rest/webhook", data=b"{}", headers={SENDER_HEADER: person},
                           timeout=10)
    tracker = requests.get(f"{url}/conversations/{person}/tracker", timeout=10)
    assert header.json()["backend"] == tracker.json()["backend"] == first[person]
    assert tracker.json()["path"] == f"/conversations/{person}/tracker"


def test_only_the_conversations_of_a_process_that_is_down_move(routed) -> None:
    url, backends = routed
    senders = [f"person-{n}" for n in range(40)]
    before = {sender: say(url, sender) for sender in senders}
    backends["a"].stop()
    after = {sender: say(url, sender) for sender in senders}
    assert all(after[s] == "b" for s in senders), "a's conversations continue on b"
    assert all(after[s] == before[s] for s in senders if before[s] == "b"), "b's stay where they were"


def test_health_ready_and_no_process_up(routed) -> None:
    url, backends = routed
    assert requests.get(f"{url}/health", timeout=5).status_code == 200
    assert requests.get(f"{url}/ready", timeout=5).json() == {"up": 2, "backends": 2}
    for backend in backends.values():
        backend.stop()
    assert requests.get(f"{url}/ready", timeout=5).status_code == 503
    answer = requests.post(f"{url}/webhooks/rest/webhook", json={"sender": "x", "message": "hi"}, timeout=10)
    assert answer.status_code == 503 and answer.json() == {"error": "no_bot_process", "retry": True}


def test_the_router_command_runs_from_the_environment() -> None:
    environment = {"CHATREC_RASA_BACKENDS": "", "PATH": "/usr/bin:/bin"}
    missing = subprocess.run([sys.executable, "-m", "chatrec", "router"], cwd=ROOT, env=environment,
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode != 0 and "CHATREC_RASA_BACKENDS" in missing.stderr
