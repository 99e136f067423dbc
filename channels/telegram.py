"""Telegram adapter (python-telegram-bot 22).

    python -m channels.telegram            long polling (development)
    TELEGRAM_WEBHOOK_URL=https://host/telegram python -m channels.telegram
                                           webhook mode (production), secret-token checked

Text and commands go to the bot as the sender `telegram:<user id>`; its
replies come back as HTML-escaped messages (split at Telegram's 4096
characters). A list (an item, a comparison) arrives as data
(chatrec/contracts.py `ReplyData`) and is rendered from its fields in the
reply's language: one message, each item a line, with a keyboard of
numbers, each opening that item's actions (channels/telegram_keyboards.py).
A press is acknowledged and sent on as the action's payload; a feedback
action is shown on the message (✓) and a second press of it is stored
once; a question ("why?") is never marked. A typing indicator shows while
the bot thinks; an update delivered twice is handled once. Different chats
are served concurrently, each chat's updates in order.

Buttons carry python-telegram-bot's arbitrary callback data. Its cache and
the updates handled are kept across restarts (PicklePersistence in
`.state/telegram/`, written when the adapter stops on Ctrl-C or SIGTERM),
so the buttons of lists shown before a deploy still work after it; a
button whose data is gone (dropped from the cache, or a file that could not
be read) is answered "this button has expired, ask me again".

Rate limits: python-telegram-bot's AIORateLimiter paces sends and retries a
429 after the `retry_after` Telegram asks for; network errors are retried
too; a message that still cannot be delivered is logged with its chat id
(never its text). Groups: the bot answers commands (`/start@botname`),
messages that mention it and replies to its messages, with the mention
stripped, as a reply to the person's message. Edited messages are ignored;
photos, stickers and other non-text messages get a one-line answer.

Environment: TELEGRAM_BOT_TOKEN (required), TELEGRAM_WEBHOOK_URL,
TELEGRAM_SECRET_TOKEN (required with a webhook), TELEGRAM_LISTEN
(127.0.0.1:8443), TELEGRAM_API_URL (another Bot API server, e.g. a local
one), CHATREC_RASA_URL (default: start the bot stack here too).
"""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import pickle
import re
import weakref
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

from aiohttp import web
from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatAction, ChatType, MessageLimit, ParseMode
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InvalidCallbackData,
    MessageHandler,
    PersistenceInput,
    PicklePersistence,
    TypeHandler,
    filters,
)

from channels import telegram_keyboards as keyboards
from channels import texts
from channels.rasa_client import BotUnavailable, RasaClient, Reply
from channels.recent import Recent
from channels.telegram_keyboards import Act, Back, OpenItem, Say, Shown
from chatrec import settings
from chatrec.contracts import Intent, ReplyKind, payload
from chatrec.language import Language, of_message

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REMEMBERED_UPDATES = 10_000
CONCURRENT_UPDATES = 32
COMMANDS = {"start": payload(Intent.GREET), "help": payload(Intent.HELP),  # command -> bot payload
            "forget": payload(Intent.FORGET_ME)}
SEND_ATTEMPTS = 4  # network errors; 429s are retried by the rate limiter
RATE_LIMIT_RETRIES = 5
Pressed = TypeVar("Pressed")


def language_of(update: Update, text: str = "") -> Language:
    """The person's language: what they wrote, else Telegram's guess from their app's language."""
    user = update.effective_user
    return of_message(text, getattr(user, "language_code", None))


def chat_of(update: Update) -> Chat:
    """The update's chat; the handlers that ask only get updates that have one."""
    if update.effective_chat is None:
        raise ValueError(f"update {update.update_id} has no chat")
    return update.effective_chat


def user_of(update: Update) -> User:
    """The person who sent the update; the handlers that ask only get updates that have one."""
    if update.effective_user is None:
        raise ValueError(f"update {update.update_id} has no sender")
    return update.effective_user


def message_of(update: Update) -> Message:
    """The update's new message; the handlers that ask only get updates that carry one."""
    if update.message is None:
        raise ValueError(f"update {update.update_id} carries no new message")
    return update.message


def text_of(update: Update) -> str:
    """The text of the update's new message (its handlers' filters only let text through)."""
    text = message_of(update).text
    if text is None:
        raise ValueError(f"update {update.update_id} carries no text")
    return text


def sender_of(update: Update) -> str:
    return f"telegram:{user_of(update).id}"


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break or space where possible."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip()
    return pieces + [text] if text or not pieces else pieces


def is_group(chat) -> bool:
    return chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


class AddressedToBot(filters.MessageFilter):
    """Everything in a private chat; in a group, messages that mention the bot or reply to it."""

    def filter(self, message: Message) -> bool:
        if not is_group(message.chat):
            return True
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        mention = f"@{bot.username}".lower()
        mentions = message.parse_entities([MessageEntity.MENTION]).values()
        return any(text.lower() == mention for text in mentions)


def without_mention(text: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def bold(text: str) -> str:
    return f"<b>{text}</b>"


def html_text(reply: Reply) -> str:
    """The reply in Telegram's HTML: text as it is; a list as its header, a line per item (from the
    item's fields, in the reply's language) and its footer."""
    data = reply.data
    if data.kind is ReplyKind.TEXT:
        return html.escape(data.text)
    lines = [bold(html.escape(data.header)),
             *(texts.item_line(item, data.language, html.escape, bold) for item in data.items)]
    return "\n".join(lines + ([html.escape(data.footer)] if data.footer else []))


def markup_for(reply: Reply) -> InlineKeyboardMarkup | None:
    """A reply with items gets their keyboard (the message's new Shown); plain text its buttons."""
    if reply.data.kind is ReplyKind.TEXT:
        return keyboards.plain(reply.buttons)
    return keyboards.for_reply(Shown(reply.data))


async def deliver(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str,
                  markup: InlineKeyboardMarkup | None = None, reply_to: int | None = None) -> Message | None:
    """Send one message, retrying network errors (the rate limiter retries 429s); a message that
    cannot be delivered is logged with its chat id, never its text."""
    for attempt in range(SEND_ATTEMPTS):
        try:
            replying = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
            return await context.bot.send_message(chat_id, text or "…", parse_mode=ParseMode.HTML,
                                                  reply_markup=markup, reply_parameters=replying)
        except RetryAfter as error:  # the rate limiter gave up: Telegram still says wait
            await asyncio.sleep(error.retry_after if isinstance(error.retry_after, (int, float))
                                else error.retry_after.total_seconds())
        except NetworkError as error:
            if attempt == SEND_ATTEMPTS - 1:
                log.error("could not deliver a message to chat %s: %s", chat_id, type(error).__name__)
                return None
            await asyncio.sleep(0.5 * 2 ** attempt)
        except TelegramError as error:
            log.error("could not deliver a message to chat %s: %s", chat_id, error)
            return None
    log.error("could not deliver a message to chat %s: still rate limited", chat_id)
    return None


async def relay(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Send `text` to the bot for this user and post its replies in the chat (in a group, as
    replies to the person's message)."""
    chat = chat_of(update)
    message = update.message
    reply_to = message.message_id if message is not None and is_group(chat) else None
    try:
        await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
    except TelegramError:
        pass  # only a courtesy
    user = update.effective_user
    try:
        replies = await rasa_of(context).send(sender_of(update), text, getattr(user, "language_code", None))
    except BotUnavailable:
        apology = html.escape(texts.text(language_of(update, text), "apology"), quote=False)
        await deliver(context, chat.id, apology, reply_to=reply_to)
        return
    for reply in replies:
        markup = markup_for(reply)
        pieces = split_text(html_text(reply))
        for number, piece in enumerate(pieces, start=1):
            await deliver(context, chat.id, piece, markup if number == len(pieces) else None, reply_to)


async def skip_duplicates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs first: an update id seen before stops here (webhooks may deliver twice)."""
    seen: Recent = context.bot_data.setdefault("seen_updates", Recent(REMEMBERED_UPDATES))
    if update.update_id in seen:
        log.info("skipping duplicate update %s", update.update_id)
        raise ApplicationHandlerStop
    seen[update.update_id] = True


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await relay(update, context, without_mention(text_of(update), context.bot.username))


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    command = text_of(update).split()[0].lstrip("/").split("@")[0]
    await relay(update, context, COMMANDS[command])


async def on_other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo, a sticker, a voice note...: say what the bot reads."""
    chat = chat_of(update)
    await deliver(context, chat.id, html.escape(texts.text(language_of(update), "text_only"), quote=False),
                  reply_to=message_of(update).message_id if is_group(chat) else None)


async def on_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.debug("ignoring an edited message in chat %s", chat_of(update).id)


def press_of(update: Update, kind: type[Pressed]) -> tuple[CallbackQuery, Pressed]:
    """The button press and its callback data, of the kind its handler's pattern lets through."""
    query = update.callback_query
    if query is None or not isinstance(query.data, kind):
        raise TypeError(f"not a press of {kind.__name__}")
    return query, query.data


async def on_open(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A number: show that item's actions."""
    query, pressed = press_of(update, OpenItem)
    await query.answer()
    await _edit_markup(query, keyboards.actions(pressed.shown, pressed.index))


async def on_back(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, pressed = press_of(update, Back)
    await query.answer()
    await _edit_markup(query, keyboards.numbers(pressed.shown))


async def on_act(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An item's action: feedback is shown on the message (once: the same choice again is only
    answered), then the payload goes to the bot."""
    query, pressed = press_of(update, Act)
    shown = pressed.shown
    if pressed.is_feedback and shown.chosen.get(pressed.index) == pressed.action.title:
        await query.answer(texts.text(shown.reply.language or language_of(update), "already_noted"))
        return
    await query.answer()
    if pressed.is_feedback:
        shown.chosen[pressed.index] = pressed.action.title
        await _edit_markup(query, keyboards.for_reply(shown))
    await relay(update, context, pressed.action.payload)


async def on_say(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of a plain reply: its payload goes to the bot."""
    query, pressed = press_of(update, Say)
    await query.answer()
    await relay(update, context, pressed.payload)


async def on_expired(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data is no longer kept: ask the person to ask again."""
    query, _ = press_of(update, InvalidCallbackData)
    log.info("a button had expired in chat %s", update.effective_chat.id if update.effective_chat else "?")
    await query.answer(texts.text(language_of(update), "button_expired"))


async def _edit_markup(query, markup: InlineKeyboardMarkup | None) -> None:
    try:
        await query.edit_message_reply_markup(reply_markup=markup)
    except TelegramError as error:  # "message is not modified", a deleted message...
        log.info("could not edit a keyboard in chat %s: %s", query.message.chat.id if query.message else "?",
                 type(error).__name__)


class OneChatAtATime(BaseUpdateProcessor):
    """Updates of different chats run concurrently; those of one chat in the order they came,
    so that a slow reply to one person does not hold up everyone else."""

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._chats: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    async def do_process_update(self, update: object, coroutine: Awaitable) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._chats.setdefault(chat.id, asyncio.Lock())
        async with lock:
            await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class RelayingApplication(Application):
    """python-telegram-bot's Application, holding the client of the bot it relays to
    (outside bot_data: bot_data is pickled, a client is not)."""

    def __init__(self, *, rasa: RasaClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rasa = rasa


def rasa_of(context: ContextTypes.DEFAULT_TYPE) -> RasaClient:
    """The client of the bot this adapter relays to, kept on its application."""
    application = context.application
    if not isinstance(application, RelayingApplication):
        raise TypeError("the adapter's application must come from build() (a RelayingApplication)")
    return application.rasa


def _set_aside_if_unreadable(kept: Path) -> None:
    """A kept-state file that cannot be read (cut short, from an older version) is renamed
    `*.unreadable` and the adapter starts without it: old buttons then say "expired"."""
    try:
        with kept.open("rb") as file:
            pickle.load(file)  # our own file, written by PicklePersistence on the way out
    except FileNotFoundError:
        return
    except Exception as error:  # whatever a broken pickle raises
        log.warning("could not read the kept Telegram state %s (%s); starting without it",
                    kept, type(error).__name__)
        kept.replace(kept.with_name(kept.name + ".unreadable"))


def build(token: str, rasa: RasaClient, api_url: str | None = None,
          kept: Path | None = None) -> RelayingApplication:
    """The adapter's application; `kept`: the file that keeps bot_data and the buttons' callback
    data across restarts."""
    builder = (Application.builder().application_class(RelayingApplication, {"rasa": rasa}).token(token)
               .concurrent_updates(OneChatAtATime())
               .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
               .arbitrary_callback_data(keyboards.KEYBOARDS))
    if api_url:
        api = api_url.rstrip("/")
        builder = builder.base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
    if kept is not None:
        _set_aside_if_unreadable(kept)
        kept_data = PersistenceInput(bot_data=True, chat_data=False, user_data=False, callback_data=True)
        builder = builder.persistence(PicklePersistence(kept, store_data=kept_data, on_flush=True))
    application = builder.build()
    if not isinstance(application, RelayingApplication):  # what application_class above asked for
        raise TypeError(f"expected a RelayingApplication, got {type(application).__name__}")
    new, addressed = filters.UpdateType.MESSAGE, AddressedToBot()
    application.add_handler(TypeHandler(Update, skip_duplicates), group=-1)
    application.add_handler(CommandHandler(list(COMMANDS), on_command, filters=new))
    application.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND & addressed, on_text))
    application.add_handler(MessageHandler(new & ~filters.TEXT & ~filters.StatusUpdate.ALL & addressed,
                                           on_other_message))
    application.add_handler(MessageHandler(filters.UpdateType.EDITED, on_edited))
    for pressed, handler in ((OpenItem, on_open), (Back, on_back), (Act, on_act), (Say, on_say),
                             (InvalidCallbackData, on_expired)):
        application.add_handler(CallbackQueryHandler(handler, pattern=pressed))
    return application


def webhook_app(application: Application, secret: str, path: str = "/telegram") -> web.Application:
    """The HTTP endpoint Telegram posts updates to; requests without the secret token get 403."""
    async def receive(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403, text="wrong secret token")
        try:
            update = Update.de_json(await request.json(), application.bot)
        except Exception:  # any malformed body
            return web.Response(status=400, text="not a Telegram update")
        if update is None:
            return web.Response(status=400, text="not a Telegram update")
        application.bot.insert_callback_data(update)  # a button's key -> its data, as polling does
        await application.update_queue.put(update)
        return web.Response(text="ok")

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post(path, receive)
    return app


@asynccontextmanager
async def running(application: Application, webhook_url: str | None = None, secret: str | None = None,
                  listen: str = "127.0.0.1", port: int = 8443,
                  poll_timeout: int = 10) -> AsyncIterator[Application]:
    """Run the adapter until the block ends: long polling, or a webhook when `webhook_url` is given."""
    async with application:
        await application.start()
        runner = None
        if webhook_url:
            if not secret:
                raise ValueError("a webhook needs TELEGRAM_SECRET_TOKEN")
            runner = web.AppRunner(webhook_app(application, secret, urlparse(webhook_url).path or "/"))
            await runner.setup()
            await web.TCPSite(runner, listen, port).start()
            await application.bot.set_webhook(webhook_url, secret_token=secret,
                                              allowed_updates=Update.ALL_TYPES)
        else:
            if application.updater is None:
                raise ValueError("long polling needs the application's updater")
            await application.bot.delete_webhook()
            await application.updater.start_polling(poll_interval=0.0, timeout=poll_timeout,
                                                    allowed_updates=Update.ALL_TYPES)
        try:
            yield application
        finally:
            if runner is not None:
                await runner.cleanup()
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            await application.stop()


async def serve(rasa_url: str) -> None:
    config = settings.current()
    listen, _, port = config.telegram_listen.partition(":")
    rasa = RasaClient(rasa_url)
    application = build(config.telegram_bot_token, rasa, config.telegram_api_url or None,
                        config.state_folder("telegram") / "bot_data.pickle")
    try:
        async with running(application, config.telegram_webhook_url or None,
                           config.telegram_secret_token or None, listen, int(port or 8443)):
            log.info("Telegram adapter running; Ctrl-C stops")
            await asyncio.Event().wait()
    finally:
        await rasa.close()


def main() -> None:
    from channels.launch import with_bot

    if not settings.current().telegram_bot_token:
        raise SystemExit("Set TELEGRAM_BOT_TOKEN (from @BotFather); see the README.")
    with_bot(serve)


if __name__ == "__main__":
    main()
