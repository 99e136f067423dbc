"""Multi-turn conversations with the real stack over Rasa's REST channel."""

from __future__ import annotations

import sqlite3
import time
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy

from actions import replies
from recommender.domain.catalog import Dataset
from recommender.storage.feedback import FeedbackStore
from tests.chat import Chat, metric, metrics_page, shown_ids, structured, texts

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def new_sender() -> str:
    return f"test:{uuid.uuid4().hex[:8]}"


def store(chat: Chat) -> FeedbackStore:
    return FeedbackStore(chat.env["CHATREC_DATABASE_URL"])


def genres_and_year(movielens: Dataset, item_id: str) -> tuple[set[str], int]:
    item = movielens.catalog.get(item_id)
    return set(movielens.catalog.genres_of(item)), item.year


def tracker_events(chat: Chat, sender: str) -> int:
    """Rows of this conversation in the tracker store."""
    engine = sqlalchemy.create_engine(chat.tracker_url)
    with engine.connect() as connection:
        rows = connection.execute(sqlalchemy.text("SELECT count(*) FROM events WHERE sender_id = :s"),
                                  {"s": sender}).scalar()
    engine.dispose()
    return rows


def outbox_rows(chat: Chat, sender: str) -> list[str]:
    with sqlite3.connect(Path(chat.env["CHATREC_STATE_DIR"]) / "outbox.sqlite3") as connection:
        return [task for task, in connection.execute(
            "SELECT task FROM pending WHERE json_extract(kwargs, '$.identity') = ? ORDER BY id", (sender,))]


def test_greeting_and_help_say_what_the_bot_does(chat: Chat) -> None:
    sender = new_sender()
    assert "recommend" in texts(chat.say(sender, "hello there")).lower()
    assert "why the second one" in texts(chat.say(sender, "what can you do?"))


def test_constraints_accumulate_over_turns_and_can_be_reset(chat: Chat, movielens: Dataset) -> None:
    sender = new_sender()
    comedies = shown_ids(chat.say(sender, "recommend me a comedy"))
    assert len(comedies) == 5
    assert all("Comedy" in genres_and_year(movielens, i)[0] for i in comedies)

    nineties = shown_ids(chat.say(sender, "from the 90s please"))
    assert len(nineties) == 5
    for item in nineties:
        genres, year = genres_and_year(movielens, item)
        assert "Comedy" in genres and 1990 <= year <= 1999

    like_groundhog = chat.say(sender, "something like Groundhog Day")
    assert "like Groundhog Day" in texts(like_groundhog)
    for item in shown_ids(like_groundhog):
        genres, year = genres_and_year(movielens, item)
        assert "Comedy" in genres and 1990 <= year <= 1999

    assert "fresh start" in texts(chat.say(sender, "start over"))
    after_reset = shown_ids(chat.say(sender, "recommend a horror movie"))
    assert all("Horror" in genres_and_year(movielens, i)[0] for i in after_reset)
    assert not all("Comedy" in genres_and_year(movielens, i)[0] for i in after_reset)


def test_more_never_repeats(chat: Chat) -> None:
    sender = new_sender()
    pages = [shown_ids(chat.say(sender, "a drama from the eighties"))]
    for text in ("show me more", "any others?", "more"):
        pages.append(shown_ids(chat.say(sender, text)))
    seen = [item for page in pages for item in page]
    assert all(len(page) == 5 for page in pages)
    assert len(seen) == len(set(seen))


def test_why_cites_items_the_user_liked(chat: Chat, movielens: Dataset) -> None:
    sender = new_sender()
    liked = {"1": "Toy Story", "71": "Lion King", "95": "Aladdin"}
    for item_id in liked:
        reply = texts(chat.say(sender, replies.payload("feedback_positive", item_id)))
        assert "Glad you like" in reply
    assert store(chat).feedback(sender).liked == tuple(liked)
    shown = shown_ids(chat.say(sender, "recommend an animated film"))
    assert shown and not set(shown) & set(liked)
    why = texts(chat.say(sender, "why the first one?"))
    assert movielens.catalog.get(shown[0]).title in why
    assert "close to what you liked" in why
    cited = [title for title in liked.values() if title in why]
    assert cited, why


def test_why_quotes_how_a_genre_was_stated(chat: Chat, movielens: Dataset) -> None:
    sender = new_sender()
    assert "Got it" in texts(chat.say(sender, "I really love westerns"))
    shown = shown_ids(chat.say(sender, "any good movies from the nineties?"))
    catalog = movielens.catalog
    westerns = [n for n, item in enumerate(shown) if "Western" in catalog.genres_of(catalog.get(item))]
    assert len(westerns) >= 4, shown
    ordinal = ("first", "second", "third", "fourth", "fifth")[westerns[0]]
    why = texts(chat.say(sender, f"why the {ordinal} one?"))
    assert "you said you love westerns" in why, why


def test_seen_it_and_not_for_me_leave_the_next_answer(chat: Chat) -> None:
    sender = new_sender()
    first = shown_ids(chat.say(sender, "recommend a thriller"))
    assert "won't suggest" in texts(chat.say(sender, "I've seen the first one"))
    assert "not for you" in texts(chat.say(sender, replies.payload("feedback_negative", first[1])))
    feedback = store(chat).feedback(sender)
    assert feedback.seen == (first[0],) and feedback.disliked == (first[1],)
    chat.say(sender, "start over")
    again = shown_ids(chat.say(sender, "recommend a thriller"))
    assert len(again) == 5 and not {first[0], first[1]} & set(again)


def test_a_list_is_one_message_with_its_text_and_every_action_reaches_its_intent(chat: Chat) -> None:
    sender = new_sender()
    reply = chat.say(sender, "recommend a western")
    (listing,) = structured(reply)
    assert [r["text"] for r in reply if r.get("text")] == [listing["text"]]  # one message: text + data
    assert listing["text"].count("\n") == 6 and "5. " in listing["text"]  # header, 5 items, footer
    first = listing["items"][0]
    payloads = {action["title"]: action["payload"] for action in first["actions"]}
    item = first["id"]
    assert "Glad you like" in texts(chat.say(sender, payloads["👍 Like"]))
    assert "Why" in texts(chat.say(sender, payloads["Why?"]))
    assert "won't suggest" in texts(chat.say(sender, payloads["✓ Seen it"]))
    assert "not for you" in texts(chat.say(sender, payloads["👎 Not for me"]))
    for text, kind in (("why the first one?", "item"), ("what is Heat about?", "item"),
                       ("Fargo or Heat?", "compare")):
        answer = chat.say(sender, text)
        assert len(structured(answer, kind)) == 1, text
        assert not any(r.get("buttons") for r in answer), "rasa shell needs a free-text prompt"
    kinds = [e["kind"] for e in store(chat).export(sender)["events"] if e["item_id"] == item]
    assert kinds.count("shown") == 1 and {"like", "seen", "dislike"} <= set(kinds)


def test_a_new_person_is_asked_for_a_taste_only_when_there_is_nothing_to_go_on(chat: Chat) -> None:
    sender = new_sender()
    asked = texts(chat.say(sender, "recommend me something"))
    assert "don't know your taste" in asked
    picks = chat.say(sender, "sci-fi")
    assert len(shown_ids(picks)) == 5
    # with a genre in the request there is something to go on: no question
    other = new_sender()
    assert len(shown_ids(chat.say(other, "recommend a sci-fi movie"))) == 5


def test_details_and_compare(chat: Chat) -> None:
    sender = new_sender()
    details = texts(chat.say(sender, "what is Fargo about?"))
    assert "Fargo (1996)" in details and "Rated" in details
    compared = texts(chat.say(sender, "Fargo or Heat, which is better?"))
    assert "Fargo (1996)" in compared and "Heat (1995)" in compared and "For you I'd pick" in compared


def test_unknown_titles_and_odd_messages_get_a_clear_answer(chat: Chat) -> None:
    sender = new_sender()
    assert "couldn't find" in texts(chat.say(sender, "what is Zzyzx Qwerty Blorp about?"))
    for message in ("", "x" * 5000, "🙂🙂🙂", "<script>alert(1)</script>", "¿dónde está la biblioteca?"):
        reply = chat.say(sender, message)
        assert reply and all(r.get("text") for r in reply), message
    assert "rephrase" in texts(chat.say(sender, "🙂🙂🙂")) or "only help" in texts(chat.say(sender, "🙂🙂🙂"))


def test_forget_me_deletes_feedback_and_the_conversation(chat: Chat) -> None:
    sender = new_sender()
    chat.say(sender, "recommend a crime film")
    chat.say(sender, "I like the first one")
    assert store(chat).export(sender)["stored"]
    assert "cannot be undone" in texts(chat.say(sender, "delete my data"))
    assert "deleted everything" in texts(chat.say(sender, "/affirm"))
    assert not store(chat).export(sender)["stored"]
    assert tracker_events(chat, sender) == 0


def test_delete_my_data_works_while_the_taste_question_waits(chat: Chat) -> None:
    sender = new_sender()  # new: nothing to go on, so the taste form asks
    assert "don't know your taste" in texts(chat.say(sender, "recommend me something"))
    confirm = texts(chat.say(sender, "delete my data"))
    assert "cannot be undone" in confirm and "taste" not in confirm
    assert "deleted everything" in texts(chat.say(sender, "yes"))
    assert store(chat).export(sender) == {"identity": sender, "stored": False, "events": []}
    assert tracker_events(chat, sender) == 0


def test_a_request_that_found_nothing_is_not_carried_into_the_next(chat: Chat) -> None:
    sender = new_sender()
    nothing = texts(chat.say(sender, "a musical from 1922"))
    assert "set that request aside" in nothing and "No film" in nothing
    comedies = shown_ids(chat.say(sender, "give me some comedies"))
    assert len(comedies) == 5  # no leftover year or genre from the empty request


def test_a_multi_word_genre_is_understood_whole(chat: Chat, movielens: Dataset) -> None:
    noir = shown_ids(chat.say(new_sender(), "a film noir from 1998"))
    assert noir and all(genres_and_year(movielens, i)[0] >= {"Film-Noir"}
                        and genres_and_year(movielens, i)[1] == 1998 for i in noir)


def test_a_year_outside_the_catalog_is_named(chat: Chat) -> None:
    assert "newest films are from 1998" in texts(chat.say(new_sender(), "a comedy after 2019"))


def test_forget_me_can_be_cancelled(chat: Chat) -> None:
    sender = new_sender()
    chat.say(sender, replies.payload("feedback_positive", "1"))
    chat.say(sender, "forget everything about me")
    assert "kept everything" in texts(chat.say(sender, "no"))
    assert store(chat).export(sender)["stored"]


def test_a_conversation_survives_a_restart_of_every_process(chat: Chat, movielens: Dataset) -> None:
    sender = new_sender()
    shown = shown_ids(chat.say(sender, "recommend a romance from the 90s"))
    chat.restart_everything()
    why = texts(chat.say(sender, "why the second one?"))
    assert why.startswith(f"Why {movielens.catalog.get(shown[1]).label}?")
    more = shown_ids(chat.say(sender, "more"))
    assert len(more) == 5 and not set(more) & set(shown)
    for item in more:
        genres, year = genres_and_year(movielens, item)
        assert "Romance" in genres and 1990 <= year <= 1999


def test_worker_down_falls_back_at_once_and_keeps_feedback(chat: Chat) -> None:
    sender = new_sender()
    actions_metrics = chat.stack.metrics_port(0)
    fallbacks = metric(actions_metrics, 'chatrec_fallbacks_total{reason="popular"}')
    chat.stack.worker.stop()
    try:
        started = time.monotonic()
        reply = chat.say(sender, "recommend a comedy")
        assert time.monotonic() - started < 1.5, "no worker beats: no waiting for the timeout"
        assert replies.UNAVAILABLE in texts(reply)
        fallback = shown_ids(reply)
        assert len(fallback) == 5
        assert structured(reply)[0]["fallback"], "the reply data says so, whatever the wording"
        queued = chat.say(sender, replies.payload("feedback_positive", fallback[0]))
        assert "as soon as it is back" in texts(queued) and structured(queued, "text")[0]["fallback"]
        assert metric(actions_metrics, 'chatrec_fallbacks_total{reason="popular"}') == fallbacks + 1
    finally:
        chat.stack.start_interactive_worker()
        chat.stack.wait_for_workers()
    chat.say(sender, "recommend a comedy")  # a worker answers: the kept feedback is sent too
    assert fallback[0] in store(chat).feedback(sender).liked


def test_forgetting_while_the_worker_is_down_is_final(chat: Chat) -> None:
    sender = new_sender()
    assert len(shown_ids(chat.say(sender, "recommend me a comedy"))) == 5  # stored: 5 impressions
    chat.stack.worker.stop()
    try:
        fallback = shown_ids(chat.say(sender, "recommend a drama"))
        chat.say(sender, replies.payload("feedback_positive", fallback[0]))
        chat.say(sender, replies.payload("already_seen", fallback[1]))
        assert outbox_rows(chat, sender) == ["record_feedback", "record_feedback"]
        chat.say(sender, "delete my data")
        assert "as soon as my recommender is back" in texts(chat.say(sender, "yes"))
        assert outbox_rows(chat, sender) == ["forget_user"]  # the kept feedback went first
    finally:
        chat.stack.start_interactive_worker()
        chat.stack.wait_for_workers()
    chat.say(new_sender(), "recommend a comedy")  # a worker answers: the outbox is sent
    assert outbox_rows(chat, sender) == []
    assert store(chat).export(sender) == {"identity": sender, "stored": False, "events": []}
    assert tracker_events(chat, sender) == 0


def test_workers_and_action_server_serve_prometheus_metrics(chat: Chat) -> None:
    chat.say(new_sender(), "recommend a comedy")
    calls = 'chatrec_call_seconds_count{outcome="ok",task="recommend"}'
    assert metric(chat.stack.metrics_port(0), calls) >= 1
    assert metric(chat.stack.metrics_port(1), 'chatrec_task_seconds_count{task="chatrec.recommend"}') >= 1
    for port in (chat.stack.metrics_port(1), chat.stack.metrics_port(2)):
        page = metrics_page(port)
        assert 'chatrec_queue_depth{queue="interactive"}' in page
        assert 'chatrec_queue_depth{queue="learning"}' in page


ODD_MESSAGES = ["", "   ", "x" * 5000, "🙂🙂🙂🎬🍿", "今天天气怎么样", "¿dónde está la biblioteca?",
                "Wie spät ist es?", "<div><p>&nbsp;</p></div>", "**__~~**", "\x00\x01\x02\x1b[31m",
                "asdkjh qwpoeiru zmxncb"]


def test_messages_far_from_the_training_data_parse_to_fallback_or_out_of_scope(chat: Chat) -> None:
    for message in ODD_MESSAGES:
        response = requests.post(f"{chat.url}/model/parse", json={"text": message}, timeout=30)
        assert response.status_code == 200, message
        intent = response.json()["intent"]
        assert intent["name"] in {"nlu_fallback", "out_of_scope"}, (message, intent)
