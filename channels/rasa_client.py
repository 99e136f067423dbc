"""The one client both adapters use to reach the bot: Rasa's REST webhook,
with timeouts, and one error for "the bot cannot answer right now". Replies
come back as the data the action server sent (chatrec/contracts.py
`ReplyData`), or as plain text with buttons."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx

from chatrec import settings
from chatrec.contracts import SENDER_HEADER, ReplyAction, ReplyData, ReplyKind

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000  # longer messages are cut before they reach the NLU


@dataclass(frozen=True)
class Reply:
    """One message of the bot: its data (a list, an item, a comparison or text: ReplyData), and
    for a plain Rasa response (one of the domain's, such as the "forget me?" question) its buttons."""
    data: ReplyData
    buttons: tuple[ReplyAction, ...] = ()


def plain(text: str, buttons: tuple[ReplyAction, ...] = (), language: str = "") -> Reply:
    """A reply that is only text, perhaps with buttons."""
    return Reply(ReplyData(ReplyKind.TEXT, text, language=language), buttons)


def _buttons(message: dict) -> tuple[ReplyAction, ...]:
    return tuple(ReplyAction.from_json(button) for button in message.get("buttons") or ())


def replies_from(messages: list[dict]) -> list[Reply]:
    """Rasa's REST messages as replies. A message of actions/replies.py arrives as its text, then
    its data (Rasa's custom JSON): the two become one reply."""
    found: list[Reply] = []
    for message in messages:
        data = ReplyData.of_message(message)
        if data is not None:
            last = found[-1] if found else None
            if last is not None and last.data.kind is ReplyKind.TEXT and last.data.text == data.text:
                found.pop()
            found.append(Reply(data))
        elif message.get("text") or message.get("buttons"):
            found.append(plain(message.get("text") or "", _buttons(message)))
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
        message: dict[str, str | dict[str, str]] = {"sender": sender, "message": text[:MAX_MESSAGE_CHARS]}
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
