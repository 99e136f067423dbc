"""A local server that speaks the Telegram Bot API methods the adapter uses
(getMe, getUpdates, setWebhook, deleteWebhook, sendMessage, sendChatAction,
answerCallbackQuery), recording every call. python-telegram-bot reaches it
through its base-URL setting."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

from aiohttp import web

from recommender.localstack import free_port

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Chat-Rec", "username": "chatrec_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}


class FakeTelegram:
    def __init__(self, token: str) -> None:
        self.token = token
        self.port = free_port()
        self.calls: list[tuple[str, dict]] = []
        self.updates: list[dict] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.webhook: dict | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()

    # ---- what a test does -------------------------------------------------
    def text_update(self, user_id: int, text: str, update_id: int | None = None) -> dict:
        """An update with a private-chat text message (queued for getUpdates)."""
        update = {"update_id": update_id or next(self._update_ids), "message": self._message(user_id, text)}
        if text.startswith("/"):
            update["message"]["entities"] = [{"type": "bot_command", "offset": 0,
                                              "length": len(text.split()[0])}]
        self.updates.append(update)
        return update

    def button_update(self, user_id: int, data: str) -> dict:
        update = {"update_id": next(self._update_ids), "callback_query": {
            "id": f"cq{next(self._message_ids)}", "from": self._user(user_id), "chat_instance": "ci1",
            "data": data, "message": {**self._message(BOT_USER["id"], "a recommendation"),
                                      "chat": {"id": user_id, "type": "private"}, "from": BOT_USER}}}
        self.updates.append(update)
        return update

    def sent(self, method: str) -> list[dict]:
        return [params for name, params in self.calls if name == method]

    async def wait_for(self, method: str, count: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.sent(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} called {len(self.sent(method))} times, expected {count}: "
                                     f"{[c[0] for c in self.calls]}")
            await asyncio.sleep(0.05)
        return self.sent(method)

    # ---- the API ------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params = dict(await request.post()) if request.body_exists else {}
        if request.content_type == "application/json":
            params = await request.json()
        params = {k: _decoded(v) for k, v in params.items()}
        self.calls.append((method, params))
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.json_response({"ok": True, "result": await handler(params)})

    async def _getMe(self, params: dict) -> dict:
        return BOT_USER

    async def _getUpdates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        self.updates = [u for u in self.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        while not self.updates and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return list(self.updates)

    async def _setWebhook(self, params: dict) -> bool:
        self.webhook = params
        return True

    async def _deleteWebhook(self, params: dict) -> bool:
        self.webhook = None
        return True

    async def _sendChatAction(self, params: dict) -> bool:
        return True

    async def _answerCallbackQuery(self, params: dict) -> bool:
        return True

    async def _sendMessage(self, params: dict) -> dict:
        return {**self._message(BOT_USER["id"], params["text"]), "from": BOT_USER,
                "chat": {"id": int(params["chat_id"]), "type": "private"}}

    def _user(self, user_id: int) -> dict:
        return {"id": user_id, "is_bot": False, "first_name": "Tester", "language_code": "en"}

    def _message(self, user_id: int, text: str) -> dict:
        return {"message_id": next(self._message_ids), "date": int(time.time()), "text": text,
                "from": self._user(user_id), "chat": {"id": user_id, "type": "private"}}


def _decoded(value: object) -> object:
    """PTB sends nested objects (reply_markup, allowed_updates) as JSON strings."""
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
