"""Slack adapter (slack-bolt, asyncio).

    python -m channels.slack               HTTP Events API on SLACK_LISTEN (production)
    SLACK_APP_TOKEN=xapp-... python -m channels.slack
                                           Socket Mode (development: no public URL)

Direct messages and @-mentions in channels (answered in the thread) go to
the bot as the sender `slack:<team>:<user>`; replies come back as Block Kit
sections, recommendation buttons as an actions block whose presses are sent
on as the button's payload. Bolt verifies the signing secret (401 for a
forged request), answers url_verification, acknowledges within Slack's 3
seconds and does the work afterwards, and ignores the app's own messages.
A retried delivery (X-Slack-Retry-Num, same event id) is answered once.

Environment: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (required),
SLACK_APP_TOKEN (Socket Mode), SLACK_LISTEN (127.0.0.1:3000), SLACK_API_URL
(another Web API server, e.g. a local one), CHATREC_RASA_URL (default:
start the bot stack here too).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections import OrderedDict
from contextlib import asynccontextmanager
from typing import AsyncIterator

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from channels.rasa_client import APOLOGY, BotUnavailable, RasaClient, Reply

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
BUTTON_ACTION = re.compile(r"^chatrec_button_\d+$")
MENTION = re.compile(r"<@[A-Z0-9]+>")
REMEMBERED_EVENTS = 10_000
SECTION_LIMIT = 3000  # characters of text in one section block


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blocks(reply: Reply) -> list[dict]:
    """A section per 3000 characters of text, then the buttons as one actions block."""
    text = escape(reply.text) or " "
    found: list[dict] = [{"type": "section", "text": {"type": "mrkdwn", "text": text[i:i + SECTION_LIMIT]}}
                         for i in range(0, len(text), SECTION_LIMIT)]
    if reply.buttons:
        found.append({"type": "actions", "elements": [
            {"type": "button", "action_id": f"chatrec_button_{number}", "value": button.payload,
             "text": {"type": "plain_text", "text": button.title, "emoji": True}}
            for number, button in enumerate(reply.buttons)]})
    return found


class Deliveries:
    """Event ids already handled: Slack retries a delivery it thinks failed."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, bool] = OrderedDict()

    def first_time(self, event_id: str | None) -> bool:
        if not event_id:
            return True
        if event_id in self._seen:
            log.info("skipping a repeated delivery of event %s", event_id)
            return False
        self._seen[event_id] = True
        if len(self._seen) > REMEMBERED_EVENTS:
            self._seen.popitem(last=False)
        return True


async def relay(client: AsyncWebClient, rasa: RasaClient, team: str, user: str, channel: str, text: str,
                thread_ts: str | None = None) -> None:
    """Send `text` to the bot for this user and post its replies (in the thread, if any)."""
    try:
        replies = await rasa.send(f"slack:{team}:{user}", text)
    except BotUnavailable:
        replies = [Reply(APOLOGY)]
    for reply in replies:
        await client.chat_postMessage(channel=channel, text=reply.text or " ", blocks=blocks(reply),
                                      thread_ts=thread_ts)


def build(token: str, signing_secret: str, rasa: RasaClient, api_url: str | None = None) -> AsyncApp:
    client = AsyncWebClient(token=token, base_url=api_url or AsyncWebClient.BASE_URL)
    app = AsyncApp(client=client, signing_secret=signing_secret)
    deliveries = Deliveries()

    @app.event("message")
    async def on_direct_message(event: dict, body: dict, client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, other bots: nothing to answer
        if deliveries.first_time(body.get("event_id")):
            await relay(client, rasa, body.get("team_id", ""), event["user"], event["channel"],
                        event.get("text", ""))

    @app.event("app_mention")
    async def on_mention(event: dict, body: dict, client: AsyncWebClient) -> None:
        if event.get("bot_id") or not deliveries.first_time(body.get("event_id")):
            return
        text = MENTION.sub("", event.get("text", "")).strip()
        await relay(client, rasa, body.get("team_id", ""), event["user"], event["channel"], text,
                    thread_ts=event.get("thread_ts") or event["ts"])

    @app.action(BUTTON_ACTION)
    async def on_button(ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        await ack()
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
        message = body.get("message") or {}
        await relay(client, rasa, team, body["user"]["id"], body["channel"]["id"], action["value"],
                    thread_ts=message.get("thread_ts"))

    return app


@asynccontextmanager
async def serving_http(app: AsyncApp, listen: str = "127.0.0.1", port: int = 3000) -> AsyncIterator[str]:
    """Bolt's Events API and interactivity endpoint over HTTP; yields its URL."""
    runner = web.AppRunner(app.web_app(path=EVENTS_PATH, port=port))
    await runner.setup()
    await web.TCPSite(runner, listen, port).start()
    try:
        yield f"http://{listen}:{port}{EVENTS_PATH}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def serving_socket_mode(app: AsyncApp, app_token: str) -> AsyncIterator[None]:
    """Bolt over Slack's Socket Mode WebSocket (development: no public URL needed)."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(app, app_token)
    await handler.connect_async()
    try:
        yield
    finally:
        await handler.close_async()


async def serve(rasa_url: str) -> None:
    rasa = RasaClient(rasa_url)
    app = build(os.environ["SLACK_BOT_TOKEN"], os.environ["SLACK_SIGNING_SECRET"], rasa,
                os.environ.get("SLACK_API_URL"))
    try:
        if os.environ.get("SLACK_APP_TOKEN"):
            async with serving_socket_mode(app, os.environ["SLACK_APP_TOKEN"]):
                log.info("Slack adapter in Socket Mode; Ctrl-C stops")
                await asyncio.Event().wait()
        else:
            listen, _, port = os.environ.get("SLACK_LISTEN", "127.0.0.1:3000").partition(":")
            async with serving_http(app, listen, int(port or 3000)) as url:
                log.info("Slack adapter listening on %s; Ctrl-C stops", url)
                await asyncio.Event().wait()
    finally:
        await rasa.close()


def main() -> None:
    from channels.launch import with_bot

    missing = [v for v in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET") if not os.environ.get(v)]
    if missing:
        raise SystemExit(f"Set {' and '.join(missing)} (from your Slack app's settings); see the README.")
    with_bot(serve)


if __name__ == "__main__":
    main()
