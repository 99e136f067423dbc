"""A local server that speaks the Telegram Bot API methods the adapter uses
(getMe, getUpdates, setWebhook, deleteWebhook, sendMessage, sendChatAction,
answerCallbackQuery, editMessageReplyMarkup), recording every call; it can
answer HTTP 429 with `retry_after` as Telegram does, and deliver private,
group, edited and non-text messages. python-telegram-bot reaches it through
its base-URL setting."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

from aiohttp import web

from launcher.processes import free_port

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
        self.too_many: dict[str, set[int]] = {}  # method -> which attempts (1-based) get a 429
        self.cut_off: dict[str, set[int]] = {}  # method -> which attempts lose their connection
        self._attempts: dict[str, int] = {}
        self.languages: dict[int, str] = {}  # user id -> the language_code of their app (default "en")

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

    def button_update(self, user_id: int, data: str, message_id: int = 1, chat_id: int | None = None) -> dict:
        query_id = f"cq{next(self._message_ids)}"  # drawn before the message's id
        chat = {"id": chat_id or user_id, "type": "private" if chat_id is None else "supergroup"}
        message = {**self._message(BOT_USER["id"], "a recommendation"), "message_id": message_id,
                   "chat": chat, "from": BOT_USER}
        update = {"update_id": next(self._update_ids), "callback_query": {
            "id": query_id, "from": self._user(user_id), "chat_instance": "ci1", "data": data,
            "message": message}}
        self.updates.append(update)
        return update

    def group_update(self, user_id: int, chat_id: int, text: str, reply_to_bot: bool = False) -> dict:
        """A text message in a group; `@botname` and `/command@botname` carry their entities."""
        chat = {"id": chat_id, "type": "supergroup", "title": "Films"}
        message = {**self._message(user_id, text), "chat": chat}
        entities = []
        for word in text.split():
            offset = text.index(word)
            if word.startswith("@"):
                entities.append({"type": "mention", "offset": offset, "length": len(word)})
            elif word.startswith("/") and offset == 0:
                entities.append({"type": "bot_command", "offset": 0, "length": len(word)})
        if entities:
            message["entities"] = entities
        if reply_to_bot:
            message["reply_to_message"] = {**self._message(BOT_USER["id"], "earlier"), "from": BOT_USER,
                                           "chat": message["chat"]}
        update = {"update_id": next(self._update_ids), "message": message}
        self.updates.append(update)
        return update

    def edited_update(self, user_id: int, text: str) -> dict:
        update = {"update_id": next(self._update_ids),
                  "edited_message": {**self._message(user_id, text), "edit_date": int(time.time())}}
        self.updates.append(update)
        return update

    def sticker_update(self, user_id: int) -> dict:
        message = self._message(user_id, "")
        del message["text"]
        message["sticker"] = {"file_id": "st1", "file_unique_id": "u1", "type": "regular", "width": 512,
                              "height": 512, "is_animated": False, "is_video": False, "emoji": "🎬"}
        update = {"update_id": next(self._update_ids), "message": message}
        self.updates.append(update)
        return update

    def sent(self, method: str) -> list[dict]:
        """Calls of `method` that were answered (not refused with a 429)."""
        return [params for name, params in self.calls if name == method and not params.get("_refused")]

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
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"},
                                     status=401)
        method = request.match_info["method"]
        params = dict(await request.post()) if request.body_exists else {}
        if request.content_type == "application/json":
            params = await request.json()
        params = {k: _decoded(v) for k, v in params.items()}
        self.calls.append((method, params))
        self._attempts[method] = self._attempts.get(method, 0) + 1
        if self._attempts[method] in self.cut_off.get(method, set()):
            params["_refused"] = True
            request.transport.close()  # a network error for the client
            return web.Response(status=500)
        if self._attempts[method] in self.too_many.get(method, set()):
            params["_refused"] = True
            return web.json_response({"ok": False, "error_code": 429, "parameters": {"retry_after": 1},
                                      "description": "Too Many Requests: retry after 1"}, status=429)
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
        chat_id = int(params["chat_id"])
        return {**self._message(BOT_USER["id"], params["text"]), "from": BOT_USER,
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}}

    async def _editMessageReplyMarkup(self, params: dict) -> bool:
        return True

    def _user(self, user_id: int) -> dict:
        return {"id": user_id, "is_bot": False, "first_name": "Tester",
                "language_code": self.languages.get(user_id, "en")}

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
