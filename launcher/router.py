"""One address in front of several Rasa processes, each conversation always on the same one.

A person's messages must be processed in order, once. Rasa keeps a
conversation in memory while it processes a turn, so two processes that take
turns of one person at the same time would each see half of it. The router
sends every request of a sender to one Rasa process, chosen by rendezvous
hashing of the sender id over the processes that are up: when a process dies,
only its own conversations move (to the next process in their order), and
they come back when it does. The conversation itself lives in the tracker
store, so it continues where it was. (Two messages that still reach two
processes at once, e.g. around a failover, wait for each other in the lock
store: bot/lock_store.py.)

The sender is the `X-Chatrec-Sender` header (the adapters set it; nginx can
hash on it too, see deploy/nginx.conf), else the REST body's "sender", else
the conversation id in `/conversations/<id>/...`.

    python -m launcher.router --port 5005 --backend http://127.0.0.1:5101 --backend http://127.0.0.1:5102

GET /health: the router is alive. GET /ready: at least one Rasa process answers.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import time
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from chatrec.contracts import SENDER_HEADER

log = logging.getLogger(__name__)

RETRY_DOWN_AFTER = 3.0  # seconds before a process that refused a connection is tried again
TURN_TIMEOUT = 120.0  # seconds a Rasa process may take to answer one message
FORWARDED_HEADERS = ("Content-Type", "Authorization", SENDER_HEADER)


def sender_of(request: web.Request, body: bytes) -> str:
    """Whose conversation a request belongs to ("" when it is nobody's: /status, /version)."""
    if request.headers.get(SENDER_HEADER):
        return request.headers[SENDER_HEADER]
    parts = request.path.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "conversations":
        return parts[1]
    try:
        sender = json.loads(body).get("sender") if body else None
    except (ValueError, AttributeError):
        sender = None
    return str(sender) if sender is not None else ""


def rendezvous(backends: list[str], sender: str) -> list[str]:
    """`backends` in this sender's order of preference (highest random weight first)."""
    def weight(backend: str) -> bytes:
        return hashlib.sha256(f"{backend}\0{sender}".encode()).digest()
    return sorted(backends, key=weight, reverse=True)


@dataclass
class Router:
    backends: list[str]
    down_until: dict[str, float] = field(default_factory=dict)
    session: aiohttp.ClientSession | None = None  # opened with the server (`serve`)

    @property
    def http(self) -> aiohttp.ClientSession:
        if self.session is None:
            raise RuntimeError("the router's HTTP session opens when its server starts")
        return self.session

    def candidates(self, sender: str) -> list[str]:
        """The sender's order, processes recently found down last (tried only if all others fail)."""
        now = time.monotonic()
        ordered = rendezvous(self.backends, sender)
        return sorted(ordered, key=lambda backend: self.down_until.get(backend, 0.0) > now)

    async def forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        sender = sender_of(request, body)
        headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
        for backend in self.candidates(sender):
            try:
                async with self.http.request(request.method, backend + request.path_qs, data=body,
                                                headers=headers) as answer:
                    payload = await answer.read()
                    self.down_until.pop(backend, None)
                    return web.Response(status=answer.status, body=payload,
                                        content_type=answer.content_type or "application/json")
            except aiohttp.ClientConnectorError:  # nothing listens there: nothing was processed
                self.down_until[backend] = time.monotonic() + RETRY_DOWN_AFTER
                log.warning("Rasa process %s refused a connection; trying the next", backend)
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                # it took the message and died or hung: the turn may have run, so it is not sent twice
                self.down_until[backend] = time.monotonic() + RETRY_DOWN_AFTER
                log.warning("Rasa process %s failed during a turn: %s", backend, type(error).__name__)
                return web.json_response({"error": "bot_process_failed", "retry": True}, status=502)
        return web.json_response({"error": "no_bot_process", "retry": True}, status=503)

    async def health(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "backends": len(self.backends)})

    async def ready(self, _: web.Request) -> web.Response:
        """200 when at least one Rasa process answers its /status."""
        async def up(backend: str) -> bool:
            timeout = aiohttp.ClientTimeout(total=3)
            try:
                async with self.http.get(f"{backend}/status", timeout=timeout) as answer:
                    return answer.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                return False

        states = await asyncio.gather(*(up(backend) for backend in self.backends))
        return web.json_response({"up": sum(states), "backends": len(self.backends)},
                                 status=200 if any(states) else 503)


def application(backends: list[str]) -> web.Application:
    router = Router([backend.rstrip("/") for backend in backends])

    async def session(app: web.Application):
        # a connection per request: a process that died is then a refused connection (try the next),
        # never a stale kept-alive one that looks like a turn that failed half-way
        router.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TURN_TIMEOUT, connect=2),
                                               connector=aiohttp.TCPConnector(force_close=True, limit=0))
        yield
        await router.session.close()

    app = web.Application(client_max_size=1024 * 1024)
    app.cleanup_ctx.append(session)
    app.router.add_get("/health", router.health)
    app.router.add_get("/ready", router.ready)
    app.router.add_route("*", "/{path:.*}", router.forward)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m launcher.router", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--backend", action="append", required=True, help="a Rasa process's URL (repeat)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    web.run_app(application(args.backend), host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
