"""Actions that change what the recommender knows: feedback on items, stated
tastes, starting over and forgetting a person. Writes are never dropped:
when no worker answers they wait in the outbox (actions/outbox.py)."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import calls, context, replies
from actions.recommendations import pointed_item, say, say_unknown_item, say_without_recommender
from chatrec.contracts import Feedback, Intent
from recommender.domain.errors import RecommenderError, UnknownItem

KINDS = {Intent.FEEDBACK_POSITIVE: Feedback.LIKE, Intent.FEEDBACK_NEGATIVE: Feedback.DISLIKE,
         Intent.ALREADY_SEEN: Feedback.SEEN, Intent.RATE_ITEM: Feedback.RATING}  # what each intent says
THANKS = {kind: f"thanks_{kind.value}" for kind in KINDS.values()}  # reply keys


async def record(dispatcher: CollectingDispatcher, tracker: Tracker, kind: Feedback, item: str,
                 rating: float | None = None, event: str | None = None) -> dict | None:
    """Record one piece of feedback; returns the stored item, or {} when it was queued."""
    event_id = f"{context.message_id(tracker)}:{event or kind.value}:{item}"
    try:
        answer = await calls.write("record_feedback", identity=tracker.sender_id, kind=kind.value,
                                   item=item, client_event_id=event_id, rating=rating,
                                   made_at=context.message_time(tracker), said_in_words=event == "said")
    except UnknownItem as error:
        say_unknown_item(dispatcher, tracker, error)
        return None
    except RecommenderError as error:
        dispatcher.utter_message(text=str(error))
        return None
    return answer["item"] if answer else {}


class ActionFeedback(Action):
    """like / not for me / seen it / a rating, on a named item, a position or the last item."""

    def name(self) -> str:
        return "action_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        kind = KINDS.get(tracker.latest_message.get("intent", {}).get("name"), Feedback.LIKE)
        stars = None
        if kind is Feedback.RATING:
            stars = next((e["normalised"]["stars"] for e in context.entities(tracker, "rating")
                          if e.get("normalised")), None)
            if stars is None:
                say(dispatcher, tracker, "ask_stars")
                return []
        item = pointed_item(dispatcher, tracker)
        if item is None:
            return []
        stored = await record(dispatcher, tracker, kind, item.reference, stars)
        if stored is None:
            return []
        label = stored.get("label", item.label)
        language = context.language(tracker)
        thanks = replies.text(language, THANKS[kind], label=label, stars=stars or 0)
        if stored:
            dispatcher.utter_message(text=thanks)
        else:  # kept in the outbox until a worker answers
            queued = thanks + replies.text(language, "queued")
            dispatcher.utter_message(**replies.without_recommender(queued, language))
        shown = {"id": stored.get("id", item.reference), "title": label}
        return context.slot_changes(tracker, last_item=shown)


class ActionNotePreference(Action):
    """"I love horror", "I don't like musicals", "I'm into Fargo": remembered for the next request."""

    def name(self) -> str:
        return "action_note_preference"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        negative = context.is_negative(str(tracker.latest_message.get("text") or ""))
        vocabulary = calls.vocabulary()
        said = context.values(tracker, "genre") + context.mentioned_genres(tracker, vocabulary)
        genres = list(dict.fromkeys(said))
        titles = context.values(tracker, "title")
        if not genres and not titles:
            words = replies.catalog_words(vocabulary, context.language(tracker))
            say(dispatcher, tracker, "ask_genre_or_item", genre_word=words["genre_word"],
                item_noun=words["item_noun"])
            return []
        events: list[EventType] = []
        noted = []
        if genres:
            events += self._genre_events(tracker, genres, negative)
            noted += genres
        for title in titles:
            stored = await record(dispatcher, tracker, Feedback.DISLIKE if negative else Feedback.LIKE, title,
                                  event="said")
            if stored is not None:
                noted.append(stored.get("label", title))
        if not noted:
            return events
        language = context.language(tracker)
        words = replies.catalog_words(vocabulary, language)
        things = replies.text(language, "and").join(words["genres"].get(name, name) for name in noted)
        say(dispatcher, tracker, "noted_dislike" if negative else "noted_like", things=things)
        return events

    @staticmethod
    def _genre_events(tracker: Tracker, genres: list[str], negative: bool) -> list[EventType]:
        liked = [g for g in tracker.get_slot("liked_genres") or [] if not (negative and g in genres)]
        if negative:
            request = context.request(tracker)
            avoided = list(dict.fromkeys(request.get("exclude_genres", []) + genres))
            return [SlotSet("liked_genres", liked),
                    SlotSet("constraints", {**request, "exclude_genres": avoided,
                                            "genres": [g for g in request["genres"] if g not in genres]})]
        return [SlotSet(name, value) for name, value in context.noted_genres(tracker, genres).items()]


class ActionStartOver(Action):
    def name(self) -> str:
        return "action_start_over"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        say(dispatcher, tracker, "fresh_start")
        return [SlotSet("constraints", None), SlotSet("request_id", None), SlotSet("last_list", None),
                SlotSet("last_item", None)]


class ActionForgetMe(Action):
    """Deletes the person's feedback; the tracker store drops the conversation (bot/tracker_store.py)."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        answer = await calls.forget(tracker.sender_id)
        if answer is None:
            say_without_recommender(dispatcher, tracker, "forgotten_later")
        else:
            say(dispatcher, tracker, "forgotten")
        return [Restarted()]


class ValidateTasteForm(FormValidationAction):
    """The taste a new person gives: a genre joins their liked genres, a title is stored as a like."""

    def name(self) -> str:
        return "validate_taste_form"

    async def validate_taste(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: dict[str, Any]) -> dict[str, Any]:
        if value == "anything":
            return {"taste": "anything"}
        genres, titles = context.values(tracker, "genre"), context.values(tracker, "title")
        if genres:
            return {"taste": genres[0], **context.noted_genres(tracker, genres)}
        if titles and await record(dispatcher, tracker, Feedback.LIKE, titles[0], event="said") is not None:
            return {"taste": titles[0]}
        say(dispatcher, tracker, "no_taste_caught")
        return {"taste": None}
