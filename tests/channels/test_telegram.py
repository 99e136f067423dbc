"""The Telegram adapter against a local Bot API server and the real bot stack."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from contextlib import asynccontextmanager
from typing import AsyncIterator

import aiohttp
from telegram import Chat as TelegramChat
from telegram import Message, Update

from bot.stack import ROOT
from channels.rasa_client import APOLOGY, Button, RasaClient
from channels.telegram import SECRET_HEADER, OneChatAtATime, build, keyboard, running, split_text
from recommender.feedback import FeedbackStore
from recommender.localstack import free_port
from tests.channels.fake_telegram import FakeTelegram
from tests.chat import Chat

TOKEN = "123456:TEST-token"
SECRET = "s3cret-token"


@asynccontextmanager
async def adapter(chat: Chat, webhook: bool = False) -> AsyncIterator[tuple[FakeTelegram, str | None]]:
    """The fake Bot API, and the adapter polling it (or serving a webhook: yields its URL)."""
    api = FakeTelegram(TOKEN)
    await api.start()
    rasa = RasaClient(chat.url, timeout=30)
    port = free_port()
    webhook_url = f"http://127.0.0.1:{port}/telegram" if webhook else None
    try:
        async with running(build(TOKEN, rasa, api.url), webhook_url, SECRET if webhook else None,
                           port=port, poll_timeout=1):
            yield api, webhook_url
    finally:
        await rasa.close()
        await api.stop()


def texts(messages: list[dict]) -> str:
    return "\n".join(m["text"] for m in messages)


def callback_data(message: dict) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def test_a_recommendation_round_trip_and_a_button_press(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat) as (api, _):
            api.text_update(701, "/start")
            greeting = await api.wait_for("sendMessage", 1)
            assert "recommend films" in greeting[0]["text"] and int(greeting[0]["chat_id"]) == 701

            api.text_update(701, "recommend a comedy from the 90s")
            sent = await api.wait_for("sendMessage", 8)  # header, 5 items, footer
            items = sent[2:7]
            assert all(m["parse_mode"] == "HTML" for m in sent[1:])
            assert "&quot;more&quot;" in sent[7]["text"]  # the footer, escaped for HTML
            assert all(len(callback_data(m)) == 4 for m in items)
            assert any(action["action"] == "typing" for action in api.sent("sendChatAction"))

            like = callback_data(items[0])[0]
            assert like.startswith("/feedback_positive")
            api.button_update(701, like)
            await api.wait_for("answerCallbackQuery", 1)
            thanks = await api.wait_for("sendMessage", 9)
            assert "Glad you like" in thanks[-1]["text"]
            item_id = json.loads(like.removeprefix("/feedback_positive"))["item_id"]
            assert item_id in FeedbackStore(chat.env["CHATREC_DATABASE_URL"]).feedback("telegram:701").liked

    asyncio.run(scenario())


def test_webhook_checks_the_secret_and_handles_a_duplicate_once(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat, webhook=True) as (api, url):
            assert api.webhook["url"] == url and api.webhook["secret_token"] == SECRET
            update = api.text_update(702, "hello there")
            async with aiohttp.ClientSession() as http:
                async with http.post(url, json=update, headers={SECRET_HEADER: "wrong"}) as response:
                    assert response.status == 403
                async with http.post(url, json=update) as response:
                    assert response.status == 403
                async with http.post(url, data=b"{not json", headers={SECRET_HEADER: SECRET}) as response:
                    assert response.status == 400
                for _ in range(2):  # Telegram delivering the same update twice
                    async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                        assert response.status == 200
            await api.wait_for("sendMessage", 1)
            await asyncio.sleep(1.0)
            assert len(api.sent("sendMessage")) == 1

    asyncio.run(scenario())


def test_commands_reach_their_intents(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat) as (api, _):
            api.text_update(703, "/help")
            assert "why the second one" in texts(await api.wait_for("sendMessage", 1))
            api.text_update(703, "/forget")
            confirm = (await api.wait_for("sendMessage", 2))[-1]
            assert "cannot be undone" in confirm["text"] and callback_data(confirm) == ["/affirm", "/deny"]

    asyncio.run(scenario())


def test_rasa_down_gives_an_apology_and_the_adapter_recovers(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat) as (api, _):
            chat.stack.stop_server()
            try:
                api.text_update(704, "recommend a western")
                assert (await api.wait_for("sendMessage", 1))[-1]["text"] == APOLOGY
            finally:
                await asyncio.to_thread(chat.stack.start_server, chat.model, chat.port, chat.endpoints,
                                        chat.secrets)
            api.text_update(704, "hi")
            assert "recommend films" in (await api.wait_for("sendMessage", 2))[-1]["text"]

    asyncio.run(scenario())


def test_long_replies_are_split_within_telegrams_limit() -> None:
    text = ("word " * 2000).strip()
    pieces = split_text(text)
    assert len(pieces) == 3 and all(len(p) <= 4096 for p in pieces)
    assert " ".join(pieces) == text
    assert split_text("short") == ["short"] and split_text("") == [""]
    assert len(split_text("x" * 9000)) == 3


def test_keyboards_leave_out_payloads_telegram_cannot_carry() -> None:
    markup = keyboard((Button("Like", "/feedback_positive{\"item_id\": \"1\"}"), Button("Too long", "/x" + "y" * 80),
                       Button("Why?", "/ask_why{\"item_id\": \"1\"}")))
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [["Like", "Why?"]]
    assert keyboard(()) is None


def test_the_command_line_adapter_runs_against_a_running_bot(chat: Chat) -> None:
    """`python -m channels.telegram` as `make telegram` runs it, pointed at the running bot."""
    async def scenario() -> None:
        api = FakeTelegram(TOKEN)
        await api.start()
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.url,
               "CHATREC_RASA_URL": chat.url, "PYTHONPATH": str(ROOT)}
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "channels.telegram", cwd=ROOT, env=env,
                                                       stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            api.text_update(705, "hello there")
            assert "recommend films" in (await api.wait_for("sendMessage", 1, timeout=60))[0]["text"]
        finally:
            process.terminate()
            output = (await process.communicate())[0].decode()
            await api.stop()
        assert "Telegram adapter running" in output
        assert TOKEN not in output and "hello there" not in output  # never log tokens or message text

    asyncio.run(scenario())


def _update(update_id: int, chat_id: int) -> Update:
    from datetime import datetime, timezone

    return Update(update_id, message=Message(update_id, datetime.now(timezone.utc),
                                             TelegramChat(chat_id, "private"), text="hi"))


def test_chats_are_served_concurrently_and_each_chat_in_order() -> None:
    async def scenario() -> None:
        processor = OneChatAtATime()
        order: list[str] = []
        first_may_end = asyncio.Event()

        async def handle(name: str, wait: asyncio.Event | None = None) -> None:
            order.append(f"{name} start")
            if wait is not None:
                await wait.wait()
            order.append(f"{name} end")

        first = asyncio.create_task(processor.process_update(_update(1, 5), handle("a1", first_may_end)))
        second = asyncio.create_task(processor.process_update(_update(2, 5), handle("a2")))
        other = asyncio.create_task(processor.process_update(_update(3, 6), handle("b1")))
        await other  # chat 6 is served while chat 5's first update is still running
        assert order == ["a1 start", "b1 start", "b1 end"]
        first_may_end.set()
        await asyncio.gather(first, second)
        assert order[3:] == ["a1 end", "a2 start", "a2 end"]

    asyncio.run(scenario())
