"""A local server that speaks Rasa's REST channel (POST /webhooks/rest/webhook) for adapter
tests that need no trained model: it records every message it is sent and answers with what
the test scripts, built by the action server's own reply code (actions/replies.py) and sent
as Rasa sends it: the text, then the custom JSON."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web

from actions import replies
from chatrec.language import of_message
from launcher.processes import free_port

# items as the recommender's tasks return them (recommender/tasks/worker.py `_item`)
FILMS = [{"id": "50", "title": "Star Wars", "year": 1977, "label": "Star Wars (1977)",
          "genres": ["Action", "Sci-Fi"]},
         {"id": "9", "title": "Godfather, The", "year": 1972, "label": "The Godfather (1972)",
          "genres": ["Crime", "Drama"]},
         {"id": "xx-" + "9" * 120, "title": "Some Film", "year": None, "label": "Some Film", "genres": []}]
CHINESE_WORDS = {"genres": {"Action": "动作", "Sci-Fi": "科幻", "Crime": "犯罪", "Drama": "剧情"}}


def rest_messages(sender: str, utterance: dict) -> list[dict]:
    """What Rasa's REST channel returns for one `utter_message(**utterance)`."""
    found = [{"recipient_id": sender, "text": utterance["text"]}] if utterance.get("text") else []
    if utterance.get("buttons"):
        found = [{**(found[0] if found else {"recipient_id": sender}), "buttons": utterance["buttons"]}]
    if utterance.get("json_message"):
        found.append({"recipient_id": sender, "custom": utterance["json_message"]})
    return found


def a_list(language: str) -> dict:
    """The list the action server would send, in `language`."""
    words = CHINESE_WORDS if language == "zh" else None
    header = replies.text(language, "recommend_header", request="films")
    return replies.rich("list", header, FILMS, replies.text(language, "list_footer"), language=language,
                        words=words)


def language_of(message: dict) -> str:
    """As the bot decides: the message's own language, else the platform's guess."""
    return of_message(message["message"], (message.get("metadata") or {}).get("language_code")).value


def lists_and_echoes(message: dict) -> dict:
    """The default script: a payload ("/...") is answered with its own text, anything else with
    a list of FILMS in the person's language."""
    if message["message"].startswith("/"):
        return {"text": f"got {message['message']}"}
    return a_list(language_of(message))


class FakeRasa:
    def __init__(self, script: Callable[[dict], dict] = lists_and_echoes) -> None:
        self.script = script
        self.port = free_port()
        self.received: list[dict] = []  # every message the adapter sent, as sent
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._webhook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def __aenter__(self) -> FakeRasa:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def said(self) -> list[str]:
        return [message["message"] for message in self.received]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[str]:
        """What the adapter said, once it said `count` messages."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} messages reached Rasa, expected {count}")
            await asyncio.sleep(0.05)
        return self.said()

    async def _webhook(self, request: web.Request) -> web.Response:
        message = await request.json()
        self.received.append(message)
        return web.json_response(rest_messages(message["sender"], self.script(message)))

