"""The Slack adapter against a local Web API server and the real bot stack,
with signed Events API and interactivity requests."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

from bot.stack import ROOT
from channels.rasa_client import APOLOGY, Button, RasaClient, Reply
from channels.slack import blocks, build, escape, serving_http, serving_socket_mode
from recommender.feedback import FeedbackStore
from recommender.localstack import free_port, wait_for_port
from tests.channels.fake_slack import BOT_USER, TEAM, FakeSlack, block_actions, event_callback
from tests.chat import Chat

SIGNING_SECRET = "test-signing-secret"


@asynccontextmanager
async def adapter(chat: Chat) -> AsyncIterator[tuple[FakeSlack, str]]:
    api = FakeSlack(SIGNING_SECRET)
    await api.start()
    rasa = RasaClient(chat.url, timeout=30)
    try:
        async with serving_http(build("xoxb-test", SIGNING_SECRET, rasa, api.api_url), port=free_port()) as url:
            yield api, url
    finally:
        await rasa.close()
        await api.stop()


def direct_message(user: str, text: str, ts: str = "100.000001") -> dict:
    return {"type": "message", "channel_type": "im", "channel": f"D{user}", "user": user, "text": text,
            "ts": ts, "event_ts": ts}


def buttons_of(post: dict) -> list[dict]:
    return [e for block in post.get("blocks", []) if block["type"] == "actions" for e in block["elements"]]


def test_a_recommendation_round_trip_and_a_button_press(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat) as (api, url):
            started = time.monotonic()
            response = await api.send_event(url, direct_message("U1", "recommend a thriller from the 90s"), "Ev1")
            assert response.status == 200 and time.monotonic() - started < 3  # acknowledged before the work
            posts = await api.wait_for_posts(7)  # header, 5 items, footer
            assert all(p["channel"] == "DU1" for p in posts)
            items = posts[1:6]
            assert all(len(buttons_of(p)) == 4 for p in items)

            like = buttons_of(items[0])[0]
            assert like["value"].startswith("/feedback_positive")
            response = await api.press_button(url, "U1", "DU1", like)
            assert response.status == 200
            posts = await api.wait_for_posts(8)
            assert "Glad you like" in posts[-1]["text"]
            item_id = json.loads(like["value"].removeprefix("/feedback_positive"))["item_id"]
            store = FeedbackStore(chat.env["CHATREC_DATABASE_URL"])
            assert item_id in store.feedback(f"slack:{TEAM}:U1").liked

    asyncio.run(scenario())


def test_socket_mode_round_trip_and_button_press(chat: Chat) -> None:
    """The same conversation over Socket Mode: envelopes acknowledged at once, replies over the Web API."""
    async def scenario() -> None:
        api = FakeSlack(SIGNING_SECRET)
        await api.start()
        rasa = RasaClient(chat.url, timeout=30)
        try:
            async with serving_socket_mode(build("xoxb-test", SIGNING_SECRET, rasa, api.api_url), "xapp-test"):
                await api.wait_for_socket()
                assert "apps.connections.open" in [method for method, _ in api.calls]
                waited = await api.deliver("events_api", event_callback(
                    direct_message("U7", "recommend a comedy from the 90s"), "EvS1"))
                assert waited < 3
                posts = await api.wait_for_posts(7)
                like = buttons_of(posts[1])[0]
                await api.deliver("interactive", block_actions("U7", "DU7", like))
                assert "Glad you like" in (await api.wait_for_posts(8))[-1]["text"]
                item_id = json.loads(like["value"].removeprefix("/feedback_positive"))["item_id"]
                assert item_id in FeedbackStore(chat.env["CHATREC_DATABASE_URL"]).feedback(f"slack:{TEAM}:U7").liked
        finally:
            await rasa.close()
            await api.stop()

    asyncio.run(scenario())


def test_a_mention_in_a_channel_is_answered_in_its_thread(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat) as (api, url):
            event = {"type": "app_mention", "channel": "C1", "user": "U2", "text": f"<@{BOT_USER}> hello there",
                     "ts": "200.000001", "event_ts": "200.000001"}
            await api.send_event(url, event, "Ev2")
            post = (await api.wait_for_posts(1))[0]
            assert post["channel"] == "C1" and post["thread_ts"] == "200.000001"
            assert "recommend films" in post["text"]

    asyncio.run(scenario())


def test_forged_signature_is_rejected_and_url_verification_answered(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat) as (api, url):
            response = await api.send_event(url, direct_message("U3", "hi"), "Ev3", forged=True)
            assert response.status == 401
            response = await api.url_verification(url, "challenge-123")
            assert response.status == 200 and "challenge-123" in response.text
            await asyncio.sleep(1.0)
            assert api.posted() == []

    asyncio.run(scenario())


def test_a_retried_event_is_answered_once_and_own_messages_ignored(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat) as (api, url):
            event = direct_message("U4", "hello")
            for retry in (None, 1, 2):
                response = await api.send_event(url, event, "Ev4", retry=retry)
                assert response.status == 200
            own = {**direct_message(BOT_USER, "a reply of mine"), "bot_id": "B0BOT"}
            await api.send_event(url, own, "Ev5")
            await api.wait_for_posts(1)
            await asyncio.sleep(1.5)
            assert len(api.posted()) == 1

    asyncio.run(scenario())


def test_rasa_down_gives_an_apology_and_the_adapter_recovers(chat: Chat) -> None:
    async def scenario() -> None:
        async with adapter(chat) as (api, url):
            chat.stack.stop_server()
            try:
                await api.send_event(url, direct_message("U5", "recommend a comedy"), "Ev6")
                assert (await api.wait_for_posts(1))[-1]["text"] == APOLOGY
            finally:
                await asyncio.to_thread(chat.stack.start_server, chat.model, chat.port, chat.endpoints,
                                        chat.secrets)
            await api.send_event(url, direct_message("U5", "hi", ts="300.1"), "Ev7")
            assert "recommend films" in (await api.wait_for_posts(2))[-1]["text"]

    asyncio.run(scenario())


def test_blocks_escape_text_and_carry_button_payloads() -> None:
    found = blocks(Reply("Tom & Jerry <3", (Button("Like", "/feedback_positive{\"item_id\": \"7\"}"),)))
    assert found[0]["text"]["text"] == "Tom &amp; Jerry &lt;3"
    assert found[1]["elements"][0]["value"] == "/feedback_positive{\"item_id\": \"7\"}"
    long = blocks(Reply("x" * 7000))
    assert [len(b["text"]["text"]) for b in long] == [3000, 3000, 1000]
    assert escape("a>b") == "a&gt;b"


def test_the_command_line_adapter_runs_against_a_running_bot(chat: Chat) -> None:
    """`python -m channels.slack` as `make slack` runs it (HTTP mode), pointed at the running bot."""
    async def scenario() -> None:
        api = FakeSlack(SIGNING_SECRET)
        await api.start()
        port = free_port()
        env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-secret-test-token", "SLACK_SIGNING_SECRET": SIGNING_SECRET,
               "SLACK_API_URL": api.api_url, "SLACK_LISTEN": f"127.0.0.1:{port}", "CHATREC_RASA_URL": chat.url,
               "PYTHONPATH": str(ROOT)}
        env.pop("SLACK_APP_TOKEN", None)
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", "channels.slack", cwd=ROOT, env=env,
                                                       stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
        try:
            await asyncio.to_thread(wait_for_port, port, 60)
            await api.send_event(f"http://127.0.0.1:{port}/slack/events", direct_message("U6", "hello there"), "Ev8")
            assert "recommend films" in (await api.wait_for_posts(1))[0]["text"]
        finally:
            process.terminate()
            output = (await process.communicate())[0].decode()
            await api.stop()
        assert "xoxb-secret-test-token" not in output and "hello there" not in output

    asyncio.run(scenario())
