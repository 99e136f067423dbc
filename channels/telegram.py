"""Telegram adapter (python-telegram-bot 22).

    python -m channels.telegram            long polling (development)
    TELEGRAM_WEBHOOK_URL=https://host/telegram python -m channels.telegram
                                           webhook mode (production), secret-token checked

Text and commands go to the bot as the sender `telegram:<user id>`; its
replies come back as HTML-escaped messages (split at Telegram's 4096
characters) with recommendation buttons as inline keyboards, whose presses
are acknowledged and sent on as the button's payload. A typing indicator
shows while the bot thinks; an update delivered twice is handled once.
Different chats are served concurrently, each chat's updates in order.

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
import os
import weakref
from collections import OrderedDict
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable
from urllib.parse import urlparse

from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, MessageLimit, ParseMode
from telegram.ext import (Application, ApplicationHandlerStop, BaseUpdateProcessor, CallbackQueryHandler,
                          CommandHandler, ContextTypes, MessageHandler, TypeHandler, filters)

from channels.rasa_client import APOLOGY, BotUnavailable, Button, RasaClient

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REMEMBERED_UPDATES = 10_000
CONCURRENT_UPDATES = 32
COMMANDS = {"start": "/greet", "help": "/help", "forget": "/forget_me"}  # command -> bot payload


def sender_of(update: Update) -> str:
    return f"telegram:{update.effective_user.id}"


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break or space where possible."""
    pieces = []
    while len(text) > limit:
        cut = max(text.rfind("\n", 0, limit), text.rfind(" ", 0, limit))
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip()
    return pieces + [text] if text or not pieces else pieces


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """Two buttons per row; a payload longer than Telegram's 64-byte callback data is left out."""
    usable = [InlineKeyboardButton(b.title, callback_data=b.payload) for b in buttons
              if len(b.payload.encode()) <= 64]
    return InlineKeyboardMarkup([usable[i:i + 2] for i in range(0, len(usable), 2)]) if usable else None


async def relay(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Send `text` to the bot for this user and post its replies in the chat."""
    chat_id = update.effective_chat.id
    await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    try:
        replies = await context.bot_data["rasa"].send(sender_of(update), text)
    except BotUnavailable:
        await context.bot.send_message(chat_id, APOLOGY)
        return
    for reply in replies:
        pieces = split_text(reply.text)
        for number, piece in enumerate(pieces, start=1):
            markup = keyboard(reply.buttons) if number == len(pieces) else None
            await context.bot.send_message(chat_id, html.escape(piece) or "…", parse_mode=ParseMode.HTML,
                                           reply_markup=markup)


async def skip_duplicates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs first: an update id seen before stops here (webhooks may deliver twice)."""
    seen: OrderedDict = context.bot_data.setdefault("seen_updates", OrderedDict())
    if update.update_id in seen:
        log.info("skipping duplicate update %s", update.update_id)
        raise ApplicationHandlerStop
    seen[update.update_id] = True
    if len(seen) > REMEMBERED_UPDATES:
        seen.popitem(last=False)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await relay(update, context, update.message.text)


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    command = update.message.text.split()[0].lstrip("/").split("@")[0]
    await relay(update, context, COMMANDS[command])


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    await relay(update, context, query.data)


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


def build(token: str, rasa: RasaClient, api_url: str | None = None) -> Application:
    builder = Application.builder().token(token).concurrent_updates(OneChatAtATime())
    if api_url:
        builder = builder.base_url(f"{api_url.rstrip('/')}/bot").base_file_url(f"{api_url.rstrip('/')}/file/bot")
    application = builder.build()
    application.bot_data["rasa"] = rasa
    application.add_handler(TypeHandler(Update, skip_duplicates), group=-1)
    application.add_handler(CommandHandler(list(COMMANDS), on_command))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, on_text))
    application.add_handler(CallbackQueryHandler(on_button))
    return application


def webhook_app(application: Application, secret: str, path: str = "/telegram") -> web.Application:
    """The HTTP endpoint Telegram posts updates to; requests without the secret token get 403."""
    async def receive(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403, text="wrong secret token")
        try:
            update = Update.de_json(await request.json(), application.bot)
        except Exception:  # noqa: BLE001 (any malformed body)
            return web.Response(status=400, text="not a Telegram update")
        if update is None:
            return web.Response(status=400, text="not a Telegram update")
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
            await application.bot.set_webhook(webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES)
        else:
            await application.bot.delete_webhook()
            await application.updater.start_polling(poll_interval=0.0, timeout=poll_timeout,
                                                    allowed_updates=Update.ALL_TYPES)
        try:
            yield application
        finally:
            if runner is not None:
                await runner.cleanup()
            if application.updater.running:
                await application.updater.stop()
            await application.stop()


async def serve(rasa_url: str) -> None:
    token = os.environ["TELEGRAM_BOT_TOKEN"]
    listen, _, port = os.environ.get("TELEGRAM_LISTEN", "127.0.0.1:8443").partition(":")
    rasa = RasaClient(rasa_url)
    application = build(token, rasa, os.environ.get("TELEGRAM_API_URL"))
    try:
        async with running(application, os.environ.get("TELEGRAM_WEBHOOK_URL"),
                           os.environ.get("TELEGRAM_SECRET_TOKEN"), listen, int(port or 8443)):
            log.info("Telegram adapter running; Ctrl-C stops")
            await asyncio.Event().wait()
    finally:
        await rasa.close()


def main() -> None:
    from channels.launch import with_bot

    if not os.environ.get("TELEGRAM_BOT_TOKEN"):
        raise SystemExit("Set TELEGRAM_BOT_TOKEN (from @BotFather); see the README.")
    with_bot(serve)


if __name__ == "__main__":
    main()
