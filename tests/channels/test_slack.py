"""The Slack adapter against a local Web API server, with signed Events API and interactivity
requests, and either a local Rasa REST channel answering with the action server's own replies
(no trained model needed) or the real bot stack."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import requests

from actions import replies
from channels.rasa_client import RasaClient, plain, replies_from
from channels.slack import blocks, build, escape, plain_words, serving_http, serving_socket_mode
from channels.texts import text as channel_text
from chatrec.contracts import Intent, ReplyAction, ReplyKind, payload
from launcher.processes import free_port, wait_for_port
from launcher.stack import ROOT
from recommender.storage.feedback import FeedbackStore
from tests.channels.fake_rasa import FakeRasa, rest_messages
from tests.channels.fake_slack import BOT_USER, TEAM, FakeSlack, block_actions, event_callback
from tests.chat import Chat

SIGNING_SECRET = "test-signing-secret"


@asynccontextmanager
async def adapter(rasa_url: str) -> AsyncIterator[tuple[FakeSlack, str]]:
    api = FakeSlack(SIGNING_SECRET)
    await api.start()
    rasa = RasaClient(rasa_url, timeout=30)
    try:
        app = build("xoxb-test", SIGNING_SECRET, rasa, api.api_url)
        async with serving_http(app, port=free_port()) as url:
            yield api, url
    finally:
        await rasa.close()
        await api.stop()


def direct_message(user: str, text: str, ts: str = "100.000001") -> dict:
    return {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user, "text": text,
            "ts": ts, "event_ts": ts}


async def marker(api, url: str, user: str, count: int, event_id: str) -> dict:
    """A greeting sent after the events under test, and its reply (the `count`-th post): any post
    those events wrongly made would have come before it."""
    await api.send_event(url, direct_message(user, "hello", ts=f"9{event_id[2:]}.1"), event_id)
    reply = (await api.wait_for_posts(count))[-1]
    assert reply["text"].startswith("Hi!"), reply["text"]
    return reply


def item_blocks(post: dict) -> list[dict]:
    return [b for b in post.get("blocks", []) if b.get("block_id", "").startswith("item_")]


def sections(post: dict) -> list[str]:
    return [b["text"]["text"] for b in post.get("blocks", []) if b["type"] == "section"]


def test_a_list_is_rendered_from_its_fields_in_the_persons_language() -> None:
    async def scenario() -> None:
        async with FakeRasa() as rasa, adapter(rasa.url) as (api, url):
            await api.send_event(url, direct_message("U20", "recommend something"), "Ev40")
            await api.wait_for_posts(1)
            await api.send_event(url, direct_message("U21", "推荐几部电影", ts="101.1"), "Ev41")
            english, chinese = await api.wait_for_posts(2)
        assert sections(english)[1:] == ["1. *Star Wars* (1977) — Action, Sci-Fi",
                                         "2. *The Godfather* (1972) — Crime, Drama", "3. *Some Film*"]
        assert sections(chinese)[1:] == ["1. *Star Wars* (1977) — 动作、科幻",
                                         "2. *The Godfather* (1972) — 犯罪、剧情", "3. *Some Film*"]
        assert [e["text"]["text"] for e in item_blocks(chinese)[0]["elements"]] == [
            replies.text("zh", intent.value) for intent in replies.ITEM_ACTIONS]

    asyncio.run(scenario())


def test_a_press_sends_its_payload_and_only_feedback_is_marked_and_stored_once() -> None:
    async def scenario() -> None:
        async with FakeRasa() as rasa, adapter(rasa.url) as (api, url):
            await api.send_event(url, direct_message("U22", "recommend something"), "Ev42")
            listing = (await api.wait_for_posts(1))[0]
            like, *_, why = item_blocks(listing)[1]["elements"]
            for _ in range(2):  # a question may be asked again, and is never marked
                await api.press_button(url, "U22", "DU22", why, message=listing)
            assert await rasa.wait_for(3) == ["recommend something"] + [payload(Intent.ASK_WHY, "9")] * 2
            assert not api.posted("chat.update")
            for _ in range(2):  # the same feedback twice: sent on once
                await api.press_button(url, "U22", "DU22", like, message=listing)
            assert (await rasa.wait_for(4))[-1] == payload(Intent.FEEDBACK_POSITIVE, "9")
            await api.send_event(url, direct_message("U22", "hello", ts="102.1"), "Ev43")  # a marker
            assert (await rasa.wait_for(5))[-2:] == [payload(Intent.FEEDBACK_POSITIVE, "9"), "hello"]
            (update,) = api.posted("chat.update")
            assert [b["type"] for b in item_blocks(update)] == ["actions", "context", "actions"]
            mark = item_blocks(update)[1]["elements"][0]["text"]
            assert mark == "✓ " + replies.text("en", "feedback_positive")

    asyncio.run(scenario())


def test_a_list_is_one_message_and_a_press_is_shown_and_stored_once(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, url):
            started = time.monotonic()
            asking = direct_message("U1", "recommend a thriller from the 90s")
            response = await api.send_event(url, asking, "Ev1")
            assert response.status == 200 and time.monotonic() - started < 3  # acknowledged before the work
            listing = (await api.wait_for_posts(1))[0]
            await marker(api, url, "U1", 2, "Ev90")  # the whole list is one message
            assert listing["channel"] == "DU1" and "&quot;" not in listing["text"]
            actions = item_blocks(listing)
            assert len(actions) == 5 and all(len(block["elements"]) == 4 for block in actions)

            like = actions[0]["elements"][0]
            assert like["value"].startswith("/feedback_positive")
            response = await api.press_button(url, "U1", "DU1", like, message=listing)
            assert response.status == 200
            posts = await api.wait_for_posts(3)
            assert "Glad you like" in posts[-1]["text"]
            update = api.posted("chat.update")[0]
            assert update["ts"] == listing["ts"] and len(item_blocks(update)) == 5
            marked = item_blocks(update)[0]
            assert marked["type"] == "context" and "Like" in marked["elements"][0]["text"]
            await api.press_button(url, "U1", "DU1", like, message=listing)  # the same press again
            await marker(api, url, "U1", 4, "Ev91")  # nothing posted for it
            store = FeedbackStore(chat.env["CHATREC_DATABASE_URL"])
            likes = [e for e in store.export(f"slack:{TEAM}:U1")["events"] if e["kind"] == "like"]
            liked_id = json.loads(like["value"].removeprefix("/feedback_positive"))["item_id"]
            assert [e["item_id"] for e in likes] == [liked_id]

    asyncio.run(scenario())


def test_429_answers_lose_no_message_and_keep_the_order(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, url):
            api.too_many["chat.postMessage"] = {1, 3}
            for number, text in enumerate(("help", "recommend a western", "hi")):
                await api.send_event(url, direct_message("U9", text, ts=f"400.{number}"), f"Ev9{number}")
                await api.wait_for_posts(number + 1, timeout=60)
            posts = api.posted()
            assert "why the second one" in posts[0]["text"] and len(item_blocks(posts[1])) == 5
            assert "recommend films" in posts[2]["text"]
            refused = [params for name, params in api.calls
                       if name == "chat.postMessage" and params.get("_refused")]
            assert len(refused) == 2

    asyncio.run(scenario())


def said_last(chat: Chat, sender: str) -> str:
    """What the bot read last from `sender` (Rasa's HTTP API)."""
    tracker = requests.get(f"{chat.url}/conversations/{sender}/tracker", timeout=30).json()
    return tracker["latest_message"]["text"]


def test_slack_markup_reaches_the_bot_as_plain_words(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, url):
            await api.send_event(url, direct_message("U11", "&lt;b&gt;&amp;"), "Ev20")
            await api.wait_for_posts(1)
            assert said_last(chat, f"slack:{TEAM}:U11") == "<b>&"
            mention = direct_message("U11", "<@U123> something like Fargo &amp; Heat", ts="2.2")
            await api.send_event(url, mention, "Ev21")
            await api.wait_for_posts(2)
            assert said_last(chat, f"slack:{TEAM}:U11") == "something like Fargo & Heat"

    asyncio.run(scenario())
    assert plain_words("&lt;b&gt;&amp;") == "<b>&"
    assert plain_words("<@U123> something like Fargo &amp; Heat") == "something like Fargo & Heat"
    assert plain_words("<!channel> see <https://x.org|this> in <#C1|films>, <https://y.org>") == \
        "see this in #films, https://y.org"


def test_threads_dm_threads_follow_ups_and_the_home_tab(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, url):
            await api.send_event(url, {**direct_message("U8", "hello"), "thread_ts": "500.1"}, "Ev10")
            assert (await api.wait_for_posts(1))[0]["thread_ts"] == "500.1"  # a DM thread: answered there
            mention = {"type": "app_mention", "channel": "C2", "user": "U8", "ts": "600.1",
                       "event_ts": "600.1", "text": f"<@{BOT_USER}> recommend a comedy"}
            await api.send_event(url, mention, "Ev11")
            await api.send_event(url, {**mention, "type": "message", "channel_type": "channel"}, "Ev11b")
            assert (await api.wait_for_posts(2))[-1]["thread_ts"] == "600.1"
            follow_up = {"type": "message", "channel_type": "channel", "channel": "C2", "user": "U8",
                         "text": "more", "ts": "600.2", "thread_ts": "600.1", "event_ts": "600.2"}
            await api.send_event(url, follow_up, "Ev12")
            more = (await api.wait_for_posts(3))[-1]
            assert more["thread_ts"] == "600.1" and len(item_blocks(more)) == 5
            chatter = {**follow_up, "text": "lunch?", "ts": "700.1", "thread_ts": "700.0",
                       "event_ts": "700.1"}
            await api.send_event(url, chatter, "Ev13")
            await api.send_event(url, {**chatter, "thread_ts": None, "ts": "700.2"}, "Ev14")
            home_opened = {"type": "app_home_opened", "user": "U8", "channel": "D8", "tab": "home"}
            await api.send_event(url, home_opened, "Ev15")
            await marker(api, url, "U9", 4, "Ev92")  # channel chatter is not for the bot
            home = api.posted("views.publish")[0]
            assert home["user_id"] == "U8" and "recommend" in json.dumps(home["view"])

    asyncio.run(scenario())


def test_socket_mode_round_trip_and_button_press(chat: Chat) -> None:
    """The same conversation over Socket Mode: envelopes acknowledged at once, replies over the Web API."""
    async def scenario() -> None:
        api = FakeSlack(SIGNING_SECRET)
        await api.start()
        rasa = RasaClient(chat.url, timeout=30)
        try:
            app = build("xoxb-test", SIGNING_SECRET, rasa, api.api_url)
            async with serving_socket_mode(app, "xapp-test"):
                await api.wait_for_socket()
                assert "apps.connections.open" in [method for method, _ in api.calls]
                waited = await api.deliver("events_api", event_callback(
                    direct_message("U7", "recommend a comedy from the 90s"), "EvS1"))
                assert waited < 3
                listing = (await api.wait_for_posts(1))[0]
                like = item_blocks(listing)[0]["elements"][0]
                await api.deliver("interactive", block_actions("U7", "DU7", like, message=listing))
                assert "Glad you like" in (await api.wait_for_posts(2))[-1]["text"]
                item_id = json.loads(like["value"].removeprefix("/feedback_positive"))["item_id"]
                store = FeedbackStore(chat.env["CHATREC_DATABASE_URL"])
                assert item_id in store.feedback(f"slack:{TEAM}:U7").liked
        finally:
            await rasa.close()
            await api.stop()

    asyncio.run(scenario())


def test_a_mention_in_a_channel_is_answered_in_its_thread(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, url):
            event = {"type": "app_mention", "channel": "C1", "user": "U2",
                     "text": f"<@{BOT_USER}> hello there", "ts": "200.000001", "event_ts": "200.000001"}
            await api.send_event(url, event, "Ev2")
            post = (await api.wait_for_posts(1))[0]
            assert post["channel"] == "C1" and post["thread_ts"] == "200.000001"
            assert "recommend films" in post["text"]

    asyncio.run(scenario())


def test_forged_signature_is_rejected_and_url_verification_answered(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, url):
            response = await api.send_event(url, direct_message("U3", "hi"), "Ev3", forged=True)
            assert response.status == 401
            response = await api.url_verification(url, "challenge-123")
            assert response.status == 200 and "challenge-123" in response.text
            await marker(api, url, "U3", 1, "Ev93")  # nothing for the forged event

    asyncio.run(scenario())


def test_a_retried_event_is_answered_once_and_own_messages_ignored(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, url):
            event = direct_message("U4", "hello")
            for retry in (None, 1, 2):
                response = await api.send_event(url, event, "Ev4", retry=retry)
                assert response.status == 200
            own = {**direct_message(BOT_USER, "a reply of mine"), "bot_id": "B0BOT"}
            await api.send_event(url, own, "Ev5")
            await api.wait_for_posts(1)
            # one answer for three deliveries, none for its own message
            await marker(api, url, "U4", 2, "Ev94")

    asyncio.run(scenario())


def test_rasa_down_gives_an_apology_and_the_adapter_recovers(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat.url) as (api, url):
            chat.stack.stop_server()
            try:
                await api.send_event(url, direct_message("U5", "recommend a comedy"), "Ev6")
                assert (await api.wait_for_posts(1))[-1]["text"] == channel_text("en", "apology")
            finally:
                await asyncio.to_thread(chat.stack.start_server, chat.model, chat.port, chat.endpoints,
                                        chat.secrets)
            await api.send_event(url, direct_message("U5", "hi", ts="300.1"), "Ev7")
            assert "recommend films" in (await api.wait_for_posts(2))[-1]["text"]

    asyncio.run(scenario())


def test_blocks_escape_text_and_carry_button_payloads_and_kinds() -> None:
    like = payload(Intent.FEEDBACK_POSITIVE, "7")
    found = blocks(plain("Tom & Jerry <3", (ReplyAction("Like", like),)))
    assert found[0]["text"]["text"] == "Tom &amp; Jerry &lt;3"
    button = found[1]["elements"][0]
    assert (button["value"], button["action_id"]) == (like, "chatrec_feedback_0")
    item = {"id": "7", "title": "Tom & Jerry", "year": 1992, "label": "Tom & Jerry (1992)",
            "genres": ["Comedy"]}
    utterance = replies.rich(ReplyKind.LIST, "Films:", [item], language="en")
    (listing,) = replies_from(rest_messages("s", utterance))
    rendered = blocks(listing)
    assert rendered[1]["text"]["text"] == "1. *Tom &amp; Jerry* (1992) — Comedy"
    assert [element["action_id"] for element in rendered[2]["elements"]] == [
        "chatrec_feedback_0", "chatrec_feedback_1", "chatrec_feedback_2", "chatrec_question_3"]
    long = blocks(plain("x" * 7000))
    assert [len(b["text"]["text"]) for b in long] == [3000, 3000, 1000]
    assert escape("a>b") == "a&gt;b"


def test_the_command_line_adapter_runs_against_a_running_bot(chat: Chat) -> None:
    """`python -m channels.slack` as `make slack` runs it (HTTP mode), pointed at the running bot."""
    async def scenario() -> None:
        api = FakeSlack(SIGNING_SECRET)
        await api.start()
        port = free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-secret-test-token",
               "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": api.api_url,
               "SLACK_LISTEN": f"127.0.0.1:{port}", "CHATREC_RASA_URL": chat.url, "PYTHONPATH": str(ROOT)}
        env.pop("SLACK_APP_TOKEN", None)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "channels.slack", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            await asyncio.to_thread(wait_for_port, port, 60)
            events_url = f"http://127.0.0.1:{port}/slack/events"
            await api.send_event(events_url, direct_message("U6", "hello there"), "Ev8")
            assert "recommend films" in (await api.wait_for_posts(1))[0]["text"]
        finally:
            process.terminate()
            output = (await process.communicate())[0].decode()
            await api.stop()
        assert "xoxb-secret-test-token" not in output and "hello there" not in output

    asyncio.run(scenario())
