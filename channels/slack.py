"""Slack adapter (slack-bolt, asyncio).

    python -m channels.slack               HTTP Events API on SLACK_LISTEN (production)
    SLACK_APP_TOKEN=xapp-... python -m channels.slack
                                           Socket Mode (development: no public URL)

Direct messages (in their thread, if any), @-mentions in channels
(answered in the thread) and follow-ups in a channel thread the bot has
answered in go to the bot as the sender `slack:<team>:<user>`, as plain
words: Slack's escaping and mention/link markup are undone first. Replies
come back as Block Kit: a list (an item, a comparison) arrives as data
(chatrec/contracts.py `ReplyData`) and is one message with a section per
item, rendered from its fields in the reply's language, and its actions. A
press is sent on as the button's payload; a feedback press is shown on the
message in place of the item's buttons (a second press of the same choice
is stored once), a question ("why?") is not. Bolt verifies the signing
secret (401 for a forged request), answers url_verification, acknowledges
within Slack's 3 seconds and does the work afterwards, and ignores the
app's own messages. A retried delivery
(X-Slack-Retry-Num, same event id) is answered once. slack_sdk retries
HTTP 429 after Slack's Retry-After and retries connection errors; a message
that still cannot be delivered is logged with its channel (never its text).
The App Home tab shows a short help.

Environment: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (required),
SLACK_APP_TOKEN (Socket Mode), SLACK_LISTEN (127.0.0.1:3000), SLACK_API_URL
(another Web API server, e.g. a local one), CHATREC_RASA_URL (default:
start the bot stack here too).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from channels import texts
from channels.rasa_client import BotUnavailable, RasaClient, Reply, plain
from channels.recent import Recent
from chatrec import settings
from chatrec.contracts import ActionKind, ReplyAction, ReplyKind, action_kind
from chatrec.language import of_message
from chatrec.settings import variable

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
BUTTON_ACTION = re.compile(r"^chatrec_(?P<kind>[a-z]+)_\d+$")  # chatrec_feedback_0, chatrec_question_3
REMEMBERED_EVENTS = 10_000
SECTION_LIMIT = 3000  # characters of text in one section block
RETRIES = 5
HOME_HELP = ("*Chat-Rec* recommends from its catalog and learns from what you tell it.\n"
             "Send me a direct message, or mention me in a channel: ask for a recommendation, name something "
             "you liked (\"something like ...\"), then \"more\", \"why the second one?\", \"seen it\", "
             "\"help\" or \"delete my data\".\n"
             "也可以用中文和我聊：“推荐一部九十年代的喜剧电影”、“换一批”、“为什么推荐第二部？”、“删除我的数据”。")
# Slack's markup in user text: <@U123|name>, <!here>, <#C123|general>, <https://x|label>, <https://x>
MARKUP = re.compile(r"<([@#!])?([^>|]*)(?:\|([^>]*))?>")


def escape(text: str) -> str:
    """Slack's mrkdwn escaping: &, < and > are control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain_words(text: str) -> str:
    """What a person typed, as plain words: mentions and broadcasts dropped, channel and link
    labels kept, Slack's &amp; &lt; &gt; undone."""
    def word(match: re.Match) -> str:
        sigil, target, label = match.groups()
        if sigil in ("@", "!"):
            return " "
        if sigil == "#":
            return f"#{label}" if label else " "
        return label or target

    text = MARKUP.sub(word, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def bold(markup: str) -> str:
    return f"*{markup}*"


def _sections(markup: str) -> list[dict]:
    """Sections of mrkdwn (already escaped), 3000 characters each."""
    markup = markup or " "
    return [{"type": "section", "text": {"type": "mrkdwn", "text": markup[i:i + SECTION_LIMIT]}}
            for i in range(0, len(markup), SECTION_LIMIT)]


def _actions(buttons: tuple[ReplyAction, ...], block_id: str | None = None) -> dict:
    """An actions block; each button's action_id says its kind (chatrec_feedback_0, chatrec_question_3)."""
    block = {"type": "actions", "elements": [
        {"type": "button", "action_id": f"chatrec_{button.kind.value}_{number}", "value": button.payload,
         "text": {"type": "plain_text", "text": button.title, "emoji": True}}
        for number, button in enumerate(buttons)]}
    if block_id:
        block["block_id"] = block_id
    return block


def blocks(reply: Reply) -> list[dict]:
    """Text as sections then its buttons; a list (an item, a comparison) as its header, then a
    section per item (from its fields, in the reply's language) with its actions, then its footer."""
    data = reply.data
    if data.kind is ReplyKind.TEXT:
        return _sections(escape(data.text)) + ([_actions(reply.buttons)] if reply.buttons else [])
    found = _sections(bold(escape(data.header)))
    for number, item in enumerate(data.items):
        found += _sections(texts.item_line(item, data.language, escape, bold))
        if item.actions:
            found.append(_actions(item.actions, f"item_{number}"))
    if data.footer:
        found.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape(data.footer)}]})
    return found


def pressed_kind(action: dict) -> ActionKind:
    """Feedback or a question, as the button's action_id says (a button posted before action ids
    said it: as its payload's intent says)."""
    said = BUTTON_ACTION.match(action.get("action_id") or "")
    try:
        return ActionKind(said["kind"] if said else "")
    except ValueError:
        return action_kind(action.get("value") or "")


def marked(message_blocks: list[dict], block_id: str, choice: str) -> list[dict]:
    """The message's blocks with one item's buttons replaced by the choice made."""
    mark = {"type": "context", "block_id": block_id,
            "elements": [{"type": "mrkdwn", "text": f"✓ {escape(choice)}"}]}
    return [mark if block.get("block_id") == block_id else block for block in message_blocks]


class Deliveries:
    """Keys already handled: event ids (Slack retries a delivery it thinks failed), button
    presses on a message, threads the bot answered in."""

    def __init__(self) -> None:
        self._seen = Recent(REMEMBERED_EVENTS)

    def __contains__(self, key: str) -> bool:
        return key in self._seen

    def first_time(self, event_id: str | None) -> bool:
        if not event_id:
            return True
        if event_id in self._seen:
            log.info("skipping a repeated delivery of %s", event_id)
            return False
        self._seen[event_id] = True
        return True


async def relay(client: AsyncWebClient, rasa: RasaClient, team: str, user: str, channel: str, text: str,
                thread_ts: str | None = None) -> None:
    """Send `text` to the bot for this user and post its replies (in the thread, if any)."""
    try:
        replies = await rasa.send(f"slack:{team}:{user}", text)
    except BotUnavailable:
        replies = [plain(texts.text(of_message(text), "apology"))]
    for reply in replies:
        try:
            await client.chat_postMessage(channel=channel, text=escape(reply.data.text) or " ",
                                          blocks=blocks(reply), thread_ts=thread_ts)
        except (SlackApiError, SlackClientError, OSError) as error:
            log.error("could not deliver a message to channel %s: %s", channel, _reason(error))


async def mark_choice(client: AsyncWebClient, channel: str, message: dict, block_id: str,
                      choice: str) -> None:
    """Show the choice made in place of that item's buttons."""
    try:
        await client.chat_update(channel=channel, ts=message["ts"], text=escape(message.get("text") or " "),
                                 blocks=marked(message["blocks"], block_id, choice))
    except (SlackApiError, SlackClientError, OSError) as error:
        log.info("could not mark the choice in channel %s: %s", channel, _reason(error))


def _reason(error: Exception) -> str:
    if isinstance(error, SlackApiError):
        return str(error.response.get("error"))
    return type(error).__name__


def web_client(token: str, api_url: str | None = None) -> AsyncWebClient:
    """The Web API client: 429s retried after Retry-After, connection errors retried."""
    client = AsyncWebClient(token=token, base_url=api_url or AsyncWebClient.BASE_URL,
                            retry_handlers=[AsyncConnectionErrorRetryHandler(max_retry_count=RETRIES)])
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=RETRIES))
    return client


def build(token: str, signing_secret: str, rasa: RasaClient, api_url: str | None = None) -> AsyncApp:
    app = AsyncApp(client=web_client(token, api_url), signing_secret=signing_secret)
    deliveries = Deliveries()

    @app.event("message")
    async def on_message(event: dict, body: dict, client: AsyncWebClient, context) -> None:
        if event.get("subtype") or event.get("bot_id"):
            return  # edits, joins, other bots: nothing to answer
        thread = event.get("thread_ts")
        if event.get("channel_type") != "im":
            mentioned = f"<@{context.bot_user_id}>" in event.get("text", "")
            if not thread or mentioned or f"thread:{event['channel']}:{thread}" not in deliveries:
                return  # channel chatter, or a mention (answered by on_mention)
        if deliveries.first_time(body.get("event_id")):
            await relay(client, rasa, body.get("team_id", ""), event["user"], event["channel"],
                        plain_words(event.get("text", "")), thread_ts=thread)

    @app.event("app_mention")
    async def on_mention(event: dict, body: dict, client: AsyncWebClient) -> None:
        if event.get("bot_id") or not deliveries.first_time(body.get("event_id")):
            return
        thread = event.get("thread_ts") or event["ts"]
        deliveries.first_time(f"thread:{event['channel']}:{thread}")  # follow-ups there need no mention
        await relay(client, rasa, body.get("team_id", ""), event["user"], event["channel"],
                    plain_words(event.get("text", "")), thread_ts=thread)

    @app.action(BUTTON_ACTION)
    async def on_button(ack, body: dict, action: dict, client: AsyncWebClient) -> None:
        message = body.get("message") or {}
        channel = body["channel"]["id"]
        feedback = pressed_kind(action) is ActionKind.FEEDBACK  # a question ("why?") may be asked again
        press = f"press:{channel}:{message.get('ts')}:{action.get('block_id')}:{action['value']}"
        await ack()
        if feedback and not deliveries.first_time(press):
            return  # the same choice again: stored once
        block_id = action.get("block_id") or ""
        if feedback and block_id.startswith("item_") and message.get("blocks"):
            await mark_choice(client, channel, message, block_id, action["text"]["text"])
        team = (body.get("team") or {}).get("id") or body["user"].get("team_id", "")
        await relay(client, rasa, team, body["user"]["id"], channel, action["value"],
                    thread_ts=message.get("thread_ts"))

    @app.event("app_home_opened")
    async def on_home(event: dict, client: AsyncWebClient) -> None:
        if event.get("tab") not in (None, "home"):
            return
        try:
            help_section = {"type": "section", "text": {"type": "mrkdwn", "text": HOME_HELP}}
            home = {"type": "home", "blocks": [help_section]}
            await client.views_publish(user_id=event["user"], view=home)
        except (SlackApiError, SlackClientError, OSError) as error:
            log.error("could not publish the home tab: %s", _reason(error))

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
    config = settings.current()
    app = build(config.slack_bot_token, config.slack_signing_secret, rasa, config.slack_api_url or None)
    try:
        if config.slack_app_token:
            async with serving_socket_mode(app, config.slack_app_token):
                log.info("Slack adapter in Socket Mode; Ctrl-C stops")
                await asyncio.Event().wait()
        else:
            listen, _, port = config.slack_listen.partition(":")
            async with serving_http(app, listen, int(port or 3000)) as url:
                log.info("Slack adapter listening on %s; Ctrl-C stops", url)
                await asyncio.Event().wait()
    finally:
        await rasa.close()


def main() -> None:
    from channels.launch import with_bot

    config = settings.current()
    required = ("slack_bot_token", "slack_signing_secret")
    missing = [variable(name) for name in required if not getattr(config, name)]
    if missing:
        raise SystemExit(f"Set {' and '.join(missing)} (from your Slack app's settings); see the README.")
    with_bot(serve)


if __name__ == "__main__":
    main()
