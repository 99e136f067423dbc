"""A local server that speaks the Slack Web API methods the adapter uses
(auth.test, chat.postMessage), recording every call, plus helpers that send
signed Events API and interactivity requests the way Slack does."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from recommender.localstack import free_port

TEAM, BOT_USER = "T0TEST", "U0BOT"


class FakeSlack:
    def __init__(self, signing_secret: str) -> None:
        self.signer = SignatureVerifier(signing_secret)
        self.port = free_port()
        self.calls: list[tuple[str, dict]] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()

    def posted(self) -> list[dict]:
        return [params for method, params in self.calls if method == "chat.postMessage"]

    async def wait_for_posts(self, count: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.posted()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.posted())} messages posted, expected {count}")
            await asyncio.sleep(0.05)
        return self.posted()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await request.json() if request.content_type == "application/json" else dict(await request.post())
        self.calls.append((method, params))
        if method == "auth.test":
            return web.json_response({"ok": True, "url": "https://test.slack.com/", "team": "Test",
                                      "user": "chatrec", "team_id": TEAM, "user_id": BOT_USER,
                                      "bot_id": "B0BOT", "is_enterprise_install": False})
        if method == "chat.postMessage":
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            return web.json_response({"ok": True, "channel": params["channel"], "ts": ts,
                                      "message": {"type": "message", "text": params.get("text"), "ts": ts,
                                                  "user": BOT_USER, "bot_id": "B0BOT"}})
        return web.json_response({"ok": False, "error": "unknown_method"})

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
        body = json.dumps({"token": "legacy", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback",
                           "event": event, "event_id": event_id, "event_time": int(time.time())})
        headers = self.signed_headers(body, "application/json", forged)
        if retry is not None:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        return await self._post(url, body, headers)

    async def press_button(self, url: str, user: str, channel: str, button: dict,
                           thread_ts: str | None = None) -> Answer:
        payload = {"type": "block_actions", "user": {"id": user, "team_id": TEAM}, "team": {"id": TEAM},
                   "api_app_id": "A0APP", "token": "legacy", "trigger_id": "1.2.3", "response_url": url,
                   "channel": {"id": channel}, "container": {"type": "message", "channel_id": channel},
                   "message": {"type": "message", "ts": "1.000001", "text": "x",
                               **({"thread_ts": thread_ts} if thread_ts else {})},
                   "actions": [{"type": "button", "action_id": button["action_id"], "block_id": "b1",
                                "value": button["value"], "text": button["text"], "action_ts": "1.1"}]}
        body = urlencode({"payload": json.dumps(payload)})
        return await self._post(url, body, self.signed_headers(body, "application/x-www-form-urlencoded"))

    async def url_verification(self, url: str, challenge: str) -> Answer:
        body = json.dumps({"token": "legacy", "challenge": challenge, "type": "url_verification"})
        return await self._post(url, body, self.signed_headers(body, "application/json"))

    @staticmethod
    async def _post(url: str, body: str, headers: dict) -> Answer:
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=body.encode(), headers=headers) as response:
                return Answer(response.status, await response.text())


@dataclass(frozen=True)
class Answer:
    """What the app answered to one request."""
    status: int
    text: str
