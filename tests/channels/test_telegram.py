"""The Telegram adapter against a local Bot API server, and either a local Rasa REST channel
answering with the action server's own replies (no trained model needed) or the real bot stack."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import requests
from telegram import Chat as TelegramChat
from telegram import Message, Update

from actions import replies
from channels.rasa_client import RasaClient
from channels.telegram import SECRET_HEADER, OneChatAtATime, build, running, split_text
from channels.texts import text as channel_text
from chatrec.contracts import Intent, payload
from launcher.processes import free_port
from launcher.stack import ROOT
from recommender.storage.feedback import FeedbackStore
from tests.channels.fake_rasa import FILMS, FakeRasa
from tests.channels.fake_telegram import FakeTelegram
from tests.chat import Chat

TOKEN = "123456:TEST-token"
SECRET = "s3cret-token"


@asynccontextmanager
async def adapter(rasa_url: str, webhook: bool = False,
                  kept: Path | None = None) -> AsyncIterator[tuple[FakeTelegram, str | None]]:
    """The fake Bot API, and the adapter polling it (or serving a webhook: yields its URL)."""
    api = FakeTelegram(TOKEN)
    await api.start()
    rasa = RasaClient(rasa_url, timeout=30)
    port = free_port()
    webhook_url = f"http://127.0.0.1:{port}/telegram" if webhook else None
    try:
        async with running(build(TOKEN, rasa, api.url, kept), webhook_url, SECRET if webhook else None,
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


def keyboard_of(message: dict) -> list[list[dict]]:
    return (message.get("reply_markup") or {}).get("inline_keyboard", [])


def button(message_or_markup: dict, text: str) -> str:
    """The callback data of the button whose text starts with `text`."""
    rows = message_or_markup.get("inline_keyboard") or keyboard_of(message_or_markup)
    return next(b["callback_data"] for row in rows for b in row if b["text"].startswith(text))


def labels(markup: dict) -> list[str]:
    return [b["text"] for row in markup["inline_keyboard"] for b in row]


def item_lines(message: dict) -> list[str]:
    """A list message's lines between its header and its footer."""
    return message["text"].splitlines()[1:-1]


def said(language: str, intent: Intent) -> str:
    """The title of an item's button for `intent` (actions/replies.py)."""
    return replies.text(language, intent.value)


async def edited(api: FakeTelegram, count: int) -> dict:
    """The keyboard of the `count`-th editMessageReplyMarkup."""
    return (await api.wait_for("editMessageReplyMarkup", count))[count - 1]["reply_markup"]


def test_a_list_is_rendered_from_its_fields_in_the_persons_language() -> None:
    async def scenario() -> None:
        async with FakeRasa() as rasa, adapter(rasa.url) as (api, _):
            api.text_update(801, "recommend something")
            english = (await api.wait_for("sendMessage", 1))[-1]
            api.languages[802] = "zh-hans"
            api.text_update(802, "推荐几部电影")
            chinese = (await api.wait_for("sendMessage", 2))[-1]
        assert english["text"].startswith("<b>") and "&quot;more&quot;" in english["text"]
        assert item_lines(english) == ["1. <b>Star Wars</b> (1977) — Action, Sci-Fi",
                                       "2. <b>The Godfather</b> (1972) — Crime, Drama", "3. <b>Some Film</b>"]
        assert item_lines(chinese) == ["1. <b>Star Wars</b> (1977) — 动作、科幻",
                                       "2. <b>The Godfather</b> (1972) — 犯罪、剧情", "3. <b>Some Film</b>"]
        assert labels(english["reply_markup"]) == ["1", "2", "3"]
        keys = callback_data(english) + callback_data(chinese)
        assert all(len(key.encode()) <= 64 for key in keys)

    asyncio.run(scenario())


def test_a_number_then_an_action_sends_its_payload_and_only_feedback_is_marked() -> None:
    async def scenario() -> None:
        async with FakeRasa() as rasa, adapter(rasa.url) as (api, _):
            api.text_update(803, "recommend something")
            listing = (await api.wait_for("sendMessage", 1))[-1]
            api.button_update(803, button(listing, "2"))
            actions = await edited(api, 1)
            assert labels(actions) == [said("en", intent) for intent in replies.ITEM_ACTIONS] + [
                channel_text("en", "back", count=3)]
            api.button_update(803, button(actions, said("en", Intent.ASK_WHY)))
            assert (await rasa.wait_for(2))[-1] == payload(Intent.ASK_WHY, "9")
            like = button(actions, said("en", Intent.FEEDBACK_POSITIVE))
            api.button_update(803, like)
            assert (await rasa.wait_for(3))[-1] == payload(Intent.FEEDBACK_POSITIVE, "9")
            assert labels(await edited(api, 2)) == ["1", "2 👍", "3"]
            assert len(api.sent("editMessageReplyMarkup")) == 2, "a question is never marked as chosen"
            api.button_update(803, like)  # the same choice again
            answers = await api.wait_for("answerCallbackQuery", 4)
            assert answers[-1]["text"] == channel_text("en", "already_noted")

            api.button_update(803, button(listing, "3"))  # any catalog id fits: the data stays here
            third = await edited(api, 3)
            api.button_update(803, button(third, said("en", Intent.FEEDBACK_NEGATIVE)))
            assert (await rasa.wait_for(4))[-1] == payload(Intent.FEEDBACK_NEGATIVE, FILMS[2]["id"])
            api.button_update(803, button(listing, "1"))
            api.button_update(803, button(await edited(api, 5), "«"))
            assert labels(await edited(api, 6)) == ["1", "2 👍", "3 👎"]
            assert len(rasa.received) == 4

    asyncio.run(scenario())


def test_a_button_shown_before_a_restart_still_works(tmp_path) -> None:
    kept = tmp_path / "bot_data.pickle"

    async def scenario() -> None:
        api = FakeTelegram(TOKEN)
        await api.start()
        async with FakeRasa() as rasa:
            client = RasaClient(rasa.url, timeout=10)
            try:
                async with running(build(TOKEN, client, api.url, kept), poll_timeout=1):
                    api.text_update(804, "recommend something")
                    listing = (await api.wait_for("sendMessage", 1))[-1]
                    api.button_update(804, button(listing, "1"))
                    actions = await edited(api, 1)
                assert kept.stat().st_size > 0, "written on the way out"
                # a new application on the same file, as a new process would be
                async with running(build(TOKEN, client, api.url, kept), poll_timeout=1):
                    like = button(actions, said("en", Intent.FEEDBACK_POSITIVE))
                    api.button_update(804, like)
                    assert (await rasa.wait_for(2))[-1] == payload(Intent.FEEDBACK_POSITIVE, "50")
                    assert labels(await edited(api, 2)) == ["1 👍", "2", "3"]
                    api.button_update(804, button(listing, "2"))
                    assert labels(await edited(api, 3))[0] == said("en", Intent.FEEDBACK_POSITIVE)
                    api.button_update(804, like)  # chosen before the restart: still known
                    answers = await api.wait_for("answerCallbackQuery", 4)
                    assert answers[-1]["text"] == channel_text("en", "already_noted")
            finally:
                await client.close()
                await api.stop()
        expired = channel_text("en", "button_expired")
        assert not any(answer.get("text") == expired for answer in api.sent("answerCallbackQuery"))

    asyncio.run(scenario())


def test_a_button_whose_data_is_gone_is_answered_expired_in_the_persons_language(caplog) -> None:
    async def scenario() -> None:
        async with FakeRasa() as rasa:
            async with adapter(rasa.url) as (api, _):
                api.text_update(805, "recommend something")
                forgotten = button((await api.wait_for("sendMessage", 1))[-1], "1")
            async with adapter(rasa.url) as (api, _):  # nothing kept: the first adapter's buttons are gone
                api.languages[806] = "zh-hans"
                api.button_update(805, forgotten)
                api.button_update(806, "i:5f3a9c1e:0")  # a token of an older adapter
                api.button_update(807, "0" * 64)  # never made
                answers = await api.wait_for("answerCallbackQuery", 3)
                expired = [channel_text(language, "button_expired") for language in ("en", "en", "zh")]
                assert sorted(answer["text"] for answer in answers) == sorted(expired)
                assert not api.sent("editMessageReplyMarkup") and len(rasa.received) == 1
        return forgotten

    with caplog.at_level(logging.DEBUG, logger="channels"):
        forgotten = asyncio.run(scenario())
    ours = "\n".join(record.getMessage() for record in caplog.records if record.name.startswith("channels"))
    assert "expired" in ours and forgotten not in ours and "recommend something" not in ours


def test_buttons_work_over_a_webhook_too() -> None:
    async def scenario() -> None:
        async with FakeRasa() as rasa, adapter(rasa.url, webhook=True) as (api, url):
            async with aiohttp.ClientSession() as http:
                async def post(update: dict) -> None:
                    async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                        assert response.status == 200

                await post(api.text_update(808, "recommend something"))
                listing = (await api.wait_for("sendMessage", 1))[-1]
                await post(api.button_update(808, button(listing, "2")))
                seen = button(await edited(api, 1), said("en", Intent.ALREADY_SEEN))
                await post(api.button_update(808, seen))
                assert (await rasa.wait_for(2))[-1] == payload(Intent.ALREADY_SEEN, "9")

    asyncio.run(scenario())


def test_a_list_is_one_message_and_a_press_is_shown_and_stored_once(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, _):
            api.text_update(701, "/start")
            greeting = await api.wait_for("sendMessage", 1)
            assert "recommend films" in greeting[0]["text"] and int(greeting[0]["chat_id"]) == 701

            api.text_update(701, "recommend a comedy from the 90s")
            listing = (await api.wait_for("sendMessage", 2))[1]
            api.text_update(701, "/start")  # one chat's updates are handled in order: a marker
            assert "recommend films" in (await api.wait_for("sendMessage", 3))[2]["text"], \
                "the whole list is one message"
            assert listing["parse_mode"] == "HTML" and "&quot;more&quot;" in listing["text"]
            numbered = {f"{n}." for n in range(1, 6)}
            lines = [line for line in listing["text"].splitlines() if line[:2] in numbered]
            assert len(lines) == 5
            assert [b["text"] for row in keyboard_of(listing) for b in row] == ["1", "2", "3", "4", "5"]
            assert all(len(b["callback_data"].encode()) <= 64 for row in keyboard_of(listing) for b in row)
            assert any(action["action"] == "typing" for action in api.sent("sendChatAction"))

            api.button_update(701, button(listing, "1"), message_id=2)  # tap 1: that item's actions
            actions = (await api.wait_for("editMessageReplyMarkup", 1))[0]["reply_markup"]
            assert [b["text"] for row in actions["inline_keyboard"] for b in row] == [
                "👍 Like", "👎 Not for me", "✓ Seen it", "Why?", "« 5 items"]
            like = button(actions, "👍")
            api.button_update(701, like, message_id=2)  # tap 2: like it
            thanks = await api.wait_for("sendMessage", 4)
            assert "Glad you like" in thanks[-1]["text"]
            shown = (await api.wait_for("editMessageReplyMarkup", 2))[1]["reply_markup"]
            assert shown["inline_keyboard"][0][0]["text"] == "1 👍"  # the choice, on the message
            store = FeedbackStore(chat.env["CHATREC_DATABASE_URL"])
            liked = store.feedback("telegram:701").liked
            assert len(liked) == 1

            api.button_update(701, like, message_id=2)  # the same press again
            answers = await api.wait_for("answerCallbackQuery", 3)
            assert answers[-1].get("text") == "Already noted."
            api.text_update(701, "/start")
            assert "recommend films" in (await api.wait_for("sendMessage", 5))[4]["text"], \
                "a repeated press sends nothing"
            likes = [e for e in store.export("telegram:701")["events"] if e["kind"] == "like"]
            assert len(likes) == 1

    asyncio.run(scenario())


def test_429s_and_a_broken_connection_lose_no_message_and_keep_the_order(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, _):
            api.too_many["sendMessage"] = {2, 3, 5}
            api.cut_off["sendMessage"] = {6}
            for text in ("/help", "recommend a western", "hi"):
                api.text_update(706, text)
            sent = await api.wait_for("sendMessage", 3, timeout=60)
            assert "why the second one" in sent[0]["text"]
            assert "1." in sent[1]["text"] and keyboard_of(sent[1])
            assert "recommend films" in sent[2]["text"]
            refused = [params for name, params in api.calls
                       if name == "sendMessage" and params.get("_refused")]
            assert len(refused) == 4

    asyncio.run(scenario())


def test_groups_mentions_edits_and_stickers(chat: Chat, caplog) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, _):
            question = api.group_update(707, -1001, "@chatrec_test_bot recommend a comedy")
            listing = (await api.wait_for("sendMessage", 1))[0]
            assert int(listing["chat_id"]) == -1001 and keyboard_of(listing)
            assert listing["reply_parameters"]["message_id"] == question["message"]["message_id"]
            tracker = requests.get(f"{chat.url}/conversations/telegram:707/tracker", timeout=30).json()
            assert tracker["latest_message"]["text"] == "recommend a comedy"  # the mention stripped
            api.group_update(707, -1001, "/start@chatrec_test_bot")
            assert "recommend films" in (await api.wait_for("sendMessage", 2))[-1]["text"]
            api.group_update(707, -1001, "what are you all watching tonight?")  # not for the bot
            api.group_update(708, -1001, "/start@some_other_bot")
            api.group_update(707, -1001, "more please", reply_to_bot=True)  # a reply to the bot
            more = (await api.wait_for("sendMessage", 3))[-1]
            assert keyboard_of(more)
            api.edited_update(709, "recommend a horror film")
            api.sticker_update(709)
            sticker = (await api.wait_for("sendMessage", 4))[-1]
            assert "text messages" in sticker["text"] and int(sticker["chat_id"]) == 709
            # each chat's updates are handled in order, so the chatter and the other bot (before "more
            # please") and the edit (before the sticker) were handled already: nothing for them
            assert len(api.sent("sendMessage")) == 4

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    assert not [r for r in caplog.records if r.name.startswith("telegram")], caplog.text


def test_webhook_checks_the_secret_and_handles_a_duplicate_once(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url, webhook=True) as (api, url):
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
                marker = api.text_update(702, "/start")  # handled after the duplicate, in order
                async with http.post(url, json=marker, headers={SECRET_HEADER: SECRET}) as response:
                    assert response.status == 200
            second = (await api.wait_for("sendMessage", 2))[1]
            assert "recommend films" in second["text"], "the duplicate: no reply"

    asyncio.run(scenario())


def test_commands_reach_their_intents(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, _):
            api.text_update(703, "/help")
            assert "why the second one" in texts(await api.wait_for("sendMessage", 1))
            api.text_update(703, "/forget")
            confirm = (await api.wait_for("sendMessage", 2))[-1]
            assert "cannot be undone" in confirm["text"] and len(callback_data(confirm)) == 2
            api.button_update(703, button(confirm, "No"))
            assert "kept" in (await api.wait_for("sendMessage", 3))[-1]["text"].lower()

    asyncio.run(scenario())


def test_rasa_down_gives_an_apology_and_the_adapter_recovers(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, _):
            chat.stack.stop_server()
            try:
                api.text_update(704, "recommend a western")
                assert (await api.wait_for("sendMessage", 1))[-1]["text"] == channel_text("en", "apology")
            finally:
                await asyncio.to_thread(chat.stack.start_server, chat.model, chat.port, chat.endpoints,
                                        chat.secrets)
            api.text_update(704, "hi")
            assert "recommend films" in (await api.wait_for("sendMessage", 2))[-1]["text"]

    asyncio.run(scenario())


def test_a_chinese_speaker_is_answered_in_chinese_buttons_included(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, _):
            api.languages[705] = "zh-hans"
            api.text_update(705, "/start")  # no words: Telegram's language_code decides
            assert "推荐" in (await api.wait_for("sendMessage", 1))[-1]["text"]
            api.text_update(705, "推荐一部西部片")
            listing = (await api.wait_for("sendMessage", 2))[-1]
            assert "西部" in listing["text"]
            api.button_update(705, callback_data(listing)[0])
            markup = (await api.wait_for("editMessageReplyMarkup", 1))[-1]["reply_markup"]
            labels = [b["text"] for row in markup["inline_keyboard"] for b in row]
            assert labels == ["👍 喜欢", "👎 不感兴趣", "✓ 看过了", "为什么？", "« 全部5个"]
            chat.stack.stop_server()
            try:
                api.text_update(705, "再来几部")
                assert (await api.wait_for("sendMessage", 3))[-1]["text"] == channel_text("zh", "apology")
            finally:
                await asyncio.to_thread(chat.stack.start_server, chat.model, chat.port, chat.endpoints,
                                        chat.secrets)

    asyncio.run(scenario())


def test_long_replies_are_split_within_telegrams_limit() -> None:
    text = ("word " * 2000).strip()
    pieces = split_text(text)
    assert len(pieces) == 3 and all(len(p) <= 4096 for p in pieces)
    assert " ".join(pieces) == text
    assert split_text("short") == ["short"] and split_text("") == [""]
    assert len(split_text("x" * 9000)) == 3


def test_the_buttons_of_a_plain_reply_send_their_payloads() -> None:
    long = payload(Intent.FEEDBACK_POSITIVE, "x" * 200)

    def script(message: dict) -> dict:
        if message["message"] == "/forget_me":  # a domain response with buttons, as Rasa sends it
            return {"text": "Sure?",
                    "buttons": [{"title": "Yes", "payload": long}, {"title": "No", "payload": "/deny"}]}
        return {"text": f"got {message['message']}"}

    async def scenario() -> None:
        rasa = FakeRasa(script)
        await rasa.start()
        try:
            async with adapter(rasa.url) as (api, _):
                api.text_update(809, "/forget")
                question = (await api.wait_for("sendMessage", 1))[-1]
                assert labels(question["reply_markup"]) == ["Yes", "No"]
                assert all(len(data.encode()) <= 64 for data in callback_data(question))
                api.button_update(809, button(question, "Yes"))
                assert await rasa.wait_for(2) == [payload(Intent.FORGET_ME), long]
        finally:
            await rasa.stop()

    asyncio.run(scenario())


def test_the_command_line_adapter_runs_against_a_running_bot(chat: Chat, tmp_path) -> None:
    """`python -m channels.telegram` as `make telegram` runs it, pointed at the running bot;
    SIGTERM stops it cleanly, writing what it keeps across restarts."""
    async def scenario() -> None:
        api = FakeTelegram(TOKEN)
        await api.start()
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.url,
               "CHATREC_RASA_URL": chat.url, "PYTHONPATH": str(ROOT), "CHATREC_STATE_DIR": str(tmp_path)}
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "channels.telegram", cwd=ROOT, env=env,
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
        assert process.returncode == 0, output
        assert (tmp_path / "telegram" / "bot_data.pickle").stat().st_size > 0

    asyncio.run(scenario())


def test_the_buttons_of_a_list_still_work_after_the_adapter_restarts(chat: Chat, tmp_path) -> None:
    kept = tmp_path / "bot_data.pickle"

    async def scenario() -> None:
        api = FakeTelegram(TOKEN)
        await api.start()
        rasa = RasaClient(chat.url, timeout=30)
        try:
            async with running(build(TOKEN, rasa, api.url, kept), poll_timeout=1):
                api.text_update(711, "recommend a comedy from the 90s")
                listing = (await api.wait_for("sendMessage", 1))[0]
            assert kept.stat().st_size > 0, "written on the way out"
            async with running(build(TOKEN, rasa, api.url, kept), poll_timeout=1):  # a new process would
                api.button_update(711, button(listing, "1"), message_id=1)
                actions = (await api.wait_for("editMessageReplyMarkup", 1))[0]["reply_markup"]
                assert "👍 Like" in [b["text"] for row in actions["inline_keyboard"] for b in row]
                api.button_update(711, button(actions, "👍"), message_id=1)
                assert "Glad you like" in (await api.wait_for("sendMessage", 2))[-1]["text"]
            answers = [a.get("text") for a in api.sent("answerCallbackQuery")]
            assert not any("expired" in (text or "") for text in answers)
        finally:
            await rasa.close()
            await api.stop()
        assert len(FeedbackStore(chat.env["CHATREC_DATABASE_URL"]).feedback("telegram:711").liked) == 1

    asyncio.run(scenario())


def test_an_unreadable_kept_state_is_set_aside_and_the_adapter_starts(tmp_path, caplog) -> None:
    kept = tmp_path / "bot_data.pickle"
    kept.write_bytes(b"\x80\x04 cut short")

    async def scenario() -> None:
        api = FakeTelegram(TOKEN)
        await api.start()
        rasa = RasaClient("http://127.0.0.1:9", timeout=1)  # never called here
        try:
            with caplog.at_level(logging.WARNING, logger="channels.telegram"):
                async with running(build(TOKEN, rasa, api.url, kept), poll_timeout=1):
                    await api.wait_for("getUpdates", 1)
        finally:
            await rasa.close()
            await api.stop()

    asyncio.run(scenario())
    assert (tmp_path / "bot_data.pickle.unreadable").read_bytes() == b"\x80\x04 cut short"
    assert "could not read the kept Telegram state" in caplog.text


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
