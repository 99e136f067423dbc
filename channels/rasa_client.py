"""The one client both adapters use to reach the bot: Rasa's REST webhook,
with timeouts, and one error for "the bot cannot answer right now"."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx

from chatrec import settings
from chatrec.contracts import SENDER_HEADER

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000  # longer messages are cut before they reach the NLU


@dataclass(frozen=True)
class Button:
    title: str
    payload: str


@dataclass(frozen=True)
class Item:
    """One item of a list the bot sent, with what a person can do about it."""
    id: str
    label: str
    line: str  # "2. Fargo (1996) — Crime, Drama"
    actions: tuple[Button, ...]


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    kind: str = "text"  # or "list", "item", "compare": render `header`, `items`, `footer`
    header: str = ""
    items: tuple[Item, ...] = ()
    footer: str = ""
    language: str = ""  # what the bot answered in ("en", "zh"), when it said


def _structured(data: dict) -> Reply:
    """A list (or item, comparison) the bot sent as data (actions/replies.py `rich`)."""
    items = tuple(Item(str(i["id"]), i["label"], i["line"],
                       tuple(Button(b["title"], b["payload"]) for b in i.get("actions") or []))
                  for i in data.get("items") or [])
    return Reply(data.get("text", ""), kind=data.get("kind", "list"), header=data.get("header", ""),
                 items=items, footer=data.get("footer", ""), language=data.get("language", ""))


def replies_from(messages: list[dict]) -> list[Reply]:
    """Rasa's REST messages as replies. A structured message arrives as its text, then its data
    (Rasa's custom JSON): the two become one reply."""
    found: list[Reply] = []
    for message in messages:
        data = (message.get("custom") or {}).get("chatrec")
        if data:
            if found and found[-1].kind == "text" and found[-1].text == data.get("text"):
                found.pop()
            found.append(_structured(data))
        elif message.get("text") or message.get("buttons"):
            found.append(Reply(message.get("text") or "",
                               tuple(Button(b["title"], b["payload"]) for b in message.get("buttons") or [])))
    return found


class BotUnavailable(Exception):
    """Rasa did not answer (down, timed out, or answered with an error)."""


def rasa_url() -> str:
    return settings.current().rasa_address


class RasaClient:
    def __init__(self, url: str | None = None, timeout: float = 30.0) -> None:
        self.url = (url or rasa_url()).rstrip("/")
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=3.0))

    async def send(self, sender: str, text: str, language_code: str | None = None) -> list[Reply]:
        """The bot's replies to one message from `sender`; `language_code` is the platform's guess
        of the person's language, which the bot uses when the message shows none."""
        message = {"sender": sender, "message": text[:MAX_MESSAGE_CHARS]}
        if language_code:
            message["metadata"] = {"language_code": language_code}
        try:
            response = await self._http.post(f"{self.url}/webhooks/rest/webhook", json=message,
                                              headers={SENDER_HEADER: sender})
            response.raise_for_status()
            messages = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("the bot did not answer: %s", type(error).__name__)
            raise BotUnavailable(str(error)) from error
        return replies_from(messages)

    async def close(self) -> None:
        await self._http.aclose()
