"""A local server that speaks the Slack Web API methods the adapter uses
(auth.test, chat.postMessage, chat.update, views.publish,
apps.connections.open), recording every call and answering HTTP 429 with
Retry-After where a test asks for it;
helpers that send signed Events API and interactivity requests the way Slack
does; and a Socket Mode WebSocket that delivers the same payloads in
envelopes and records the app's acknowledgements."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from launcher.processes import free_port

TEAM, BOT_USER = "T0TEST", "U0BOT"


class FakeSlack:
    def __init__(self, signing_secret: str) -> None:
        self.signer = SignatureVerifier(signing_secret)
        self.port = free_port()
        self.calls: list[tuple[str, dict]] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.socket: web.WebSocketResponse | None = None  # the app's Socket Mode connection
        self.acks: set[str] = set()  # envelope ids the app acknowledged
        self.too_many: dict[str, set[int]] = {}  # method -> which attempts (1-based) get a 429
        self._attempts: dict[str, int] = {}

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()

    def posted(self, method: str = "chat.postMessage") -> list[dict]:
        """Calls of `method` that were answered (not refused with a 429)."""
        return [params for name, params in self.calls if name == method and not params.get("_refused")]

    async def wait_for_posts(self, count: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.posted()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.posted())} messages posted, expected {count}")
            await asyncio.sleep(0.05)
        return self.posted()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = dict(await request.post())
        self.calls.append((method, params))
        self._attempts[method] = self._attempts.get(method, 0) + 1
        if self._attempts[method] in self.too_many.get(method, set()):
            params["_refused"] = True
            return web.json_response({"ok": False, "error": "ratelimited"}, status=429,
                                     headers={"Retry-After": "1"})
        if method in ("chat.update", "views.publish"):
            return web.json_response({"ok": True, "channel": params.get("channel"), "ts": params.get("ts")})
        if method == "auth.test":
            return web.json_response({"ok": True, "url": "https://test.slack.com/", "team": "Test",
                                      "user": "chatrec", "team_id": TEAM, "user_id": BOT_USER,
                                      "bot_id": "B0BOT", "is_enterprise_install": False})
        if method == "chat.postMessage":
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            params["ts"] = ts
            return web.json_response({"ok": True, "channel": params["channel"], "ts": ts,
                                      "message": {"type": "message", "text": params.get("text"), "ts": ts,
                                                  "user": BOT_USER, "bot_id": "B0BOT"}})
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"})
        return web.json_response({"ok": False, "error": "unknown_method"})

    # ---- Socket Mode ----------------------------------------------------------
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        await socket.send_json({"type": "hello", "num_connections": 1,
                                "connection_info": {"app_id": "A0APP"}, "debug_info": {"host": "fake"}})
        self.socket = socket
        async for message in socket:
            if message.type == aiohttp.WSMsgType.TEXT:
                self.acks.add(json.loads(message.data).get("envelope_id"))
        return socket

    async def wait_for_socket(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.socket is None:
            if time.monotonic() > deadline:
                raise AssertionError("the app never opened its Socket Mode connection")
            await asyncio.sleep(0.05)

    async def deliver(self, kind: str, payload: dict, timeout: float = 3.0) -> float:
        """Send one envelope over the socket; seconds until the app acknowledged it."""
        envelope_id = str(uuid.uuid4())
        started = time.monotonic()
        await self.socket.send_json({"envelope_id": envelope_id, "type": kind, "payload": payload,
                                     "accepts_response_payload": False, "retry_attempt": 0,
                                     "retry_reason": ""})
        while envelope_id not in self.acks:
            if time.monotonic() - started > timeout:
                raise AssertionError(f"envelope {envelope_id} ({kind}) not acknowledged within {timeout} s")
            await asyncio.sleep(0.01)
        return time.monotonic() - started

    # ---- requests Slack sends to the app -------------------------------------
    def signed_headers(self, body: str, content_type: str, forged: bool = False) -> dict:
        timestamp = str(int(time.time()))
        signature = self.signer.generate_signature(timestamp=timestamp, body=body)
        if forged:
            signature = signature[:-4] + "0000"
        return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature,
                "Content-Type": content_type}

    async def send_event(self, url: str, event: dict, event_id: str, retry: int | None = None,
                         forged: bool = False) -> Answer:
        body = json.dumps(event_callback(event, event_id))
        headers = self.signed_headers(body, "application/json", forged)
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        return await self._post(url, body, headers)

    async def press_button(self, url: str, user: str, channel: str, button: dict,
                           thread_ts: str | None = None, message: dict | None = None) -> Answer:
        """Press `button` of `message` (a chat.postMessage call's parameters)."""
        body = urlencode({"payload": json.dumps(block_actions(user, channel, button, thread_ts, message))})
        return await self._post(url, body, self.signed_headers(body, "application/x-www-form-urlencoded"))

    async def url_verification(self, url: str, challenge: str) -> Answer:
        body = json.dumps({"token": "legacy", "challenge": challenge, "type": "url_verification"})
        return await self._post(url, body, self.signed_headers(body, "application/json"))

    @staticmethod
    async def _post(url: str, body: str, headers: dict) -> Answer:
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=body.encode(), headers=headers) as response:
                return Answer(response.status, await response.text())


def event_callback(event: dict, event_id: str) -> dict:
    """What Slack sends for a subscribed event (Events API body, Socket Mode payload)."""
    return {"token": "legacy", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback",
            "event": event, "event_id": event_id, "event_time": int(time.time())}


def block_actions(user: str, channel: str, button: dict, thread_ts: str | None = None,
                  message: dict | None = None) -> dict:
    """What Slack sends when a person presses a button of a message."""
    message = message or {}
    block_id = next((block.get("block_id", "b1") for block in message.get("blocks", [])
                     if block["type"] == "actions" and button in block["elements"]), "b1")
    return {"type": "block_actions", "user": {"id": user, "team_id": TEAM}, "team": {"id": TEAM},
            "api_app_id": "A0APP", "token": "legacy", "trigger_id": "1.2.3",
            "response_url": "https://hooks.slack.invalid/actions/1",
            "channel": {"id": channel}, "container": {"type": "message", "channel_id": channel},
            "message": {"type": "message", "ts": message.get("ts", "1.000001"),
                        "text": message.get("text", "x"), "blocks": message.get("blocks", []),
                        **({"thread_ts": thread_ts} if thread_ts else {})},
            "actions": [{"type": "button", "action_id": button["action_id"], "block_id": block_id,
                         "value": button["value"], "text": button["text"], "action_ts": "1.1"}]}


@dataclass(frozen=True)
class Answer:
    """What the app answered to one request."""
    status: int
    text: str
