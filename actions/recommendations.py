"""Actions that show items: recommend, more, why, details, compare."""

from __future__ import annotations

import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import calls, context, critiques, replies, years
from chatrec.contracts import Intent, ReplyKind
from recommender.domain.critiques import CritiqueKind
from recommender.domain.errors import NothingToGoOn, RecommenderError, UnknownItem
from recommender.tasks import metrics
from recommender.tasks.client import ServiceUnavailable

PAGE = 5
REQUEST_AMONG = 3  # an unsure message is a request when request_recommendation is among its likeliest intents


def show_list(dispatcher: CollectingDispatcher, tracker: Tracker, header: str, items: list[dict],
              fallback: bool = False) -> None:
    """One message: a header, the numbered items (each with its feedback actions) and a footer."""
    language = context.language(tracker)
    footer = replies.text(language, "list_footer")
    dispatcher.utter_message(**replies.rich(ReplyKind.LIST, header, items, footer, language=language,
                                            words=words_for(tracker), fallback=fallback))


def words_for(tracker: Tracker) -> dict:
    """The catalog's words in the person's language."""
    return replies.catalog_words(calls.vocabulary(), context.language(tracker))


def say(dispatcher: CollectingDispatcher, tracker: Tracker, key: str, **values: object) -> None:
    """One line of text in the person's language."""
    dispatcher.utter_message(text=replies.text(context.language(tracker), key, **values))


def say_without_recommender(dispatcher: CollectingDispatcher, tracker: Tracker, key: str,
                            **values: Any) -> None:
    """One line said because no recommender answered (marked so in the reply data)."""
    language = context.language(tracker)
    dispatcher.utter_message(**replies.without_recommender(replies.text(language, key, **values), language))


def show_popular_instead(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The fallback when no worker answers: say so in one line, then popular picks."""
    shown = {item["id"] for item in tracker.get_slot("last_list") or []}
    items = calls.popular(PAGE, exclude=shown)
    metrics.FALLBACKS.labels("popular" if items else "try_again").inc()
    if not items:
        say_without_recommender(dispatcher, tracker, "try_again")
        return []
    header = replies.text(context.language(tracker), "popular_instead")
    show_list(dispatcher, tracker, header, items, fallback=True)
    return context.slot_changes(tracker, last_list=replies.remembered(items), last_item=None)


async def fetch_page(tracker: Tracker, request: dict, request_id: str) -> dict:
    return await calls.run("recommend", tracker.sender_id, k=PAGE, constraints=request,
                           **context.stated_genres(tracker), request_id=request_id,
                           require_taste=tracker.get_slot("taste") != "anything",
                           made_at=context.message_time(tracker))


async def answer_page(dispatcher: CollectingDispatcher, tracker: Tracker, request: dict, request_id: str,
                header: str) -> list[EventType]:
    """Fetch one page for `request` and show it, or say why there is none."""
    try:
        found = await fetch_page(tracker, request, request_id)
    except NothingToGoOn:
        return [FollowupAction("taste_form")]
    except UnknownItem as error:
        say_unknown_item(dispatcher, tracker, error)
        return [SlotSet("constraints", {**request, "similar_to": []})]
    except ServiceUnavailable:
        return show_popular_instead(dispatcher, tracker)
    except RecommenderError as error:
        dispatcher.utter_message(text=str(error))
        return []
    if not found["items"]:  # that request stays out of the next one
        described = replies.describe_request(request, words_for(tracker), context.language(tracker))
        say(dispatcher, tracker, "nothing_left", reason=found["reason"], request=described)
        return []
    show_list(dispatcher, tracker, header, found["items"])
    return context.slot_changes(tracker, constraints=request, request_id=request_id,
                                last_list=replies.remembered(found["items"]), last_item=None)


class ActionRecommend(Action):
    def name(self) -> str:
        return "action_recommend"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        vocabulary, language = calls.vocabulary(), context.language(tracker)
        request = context.updated_request(tracker, vocabulary)
        directions = critiques.said(tracker)
        if not critiques.priced(directions, vocabulary):
            say(dispatcher, tracker, "no_prices", nouns=words_for(tracker)["item_nouns"])
            return []
        pointing = directions or critiques.wants_similar(str(tracker.latest_message.get("text") or ""))
        unresolved = pointing and context.item_reference(tracker) is None
        if unresolved and said_where_the_list_ends(dispatcher, tracker):  # "like the seventh one" of five
            return []
        request = critiqued(tracker, request, directions)
        if request["year_from"] is not None and vocabulary["first_year"] is not None:
            side = years.outside((request["year_from"], request["year_to"]), vocabulary["first_year"],
                                 vocabulary["last_year"])
            if side:
                dispatcher.utter_message(text=replies.outside_catalog(side, vocabulary, language))
                return []
        described = replies.describe_request(request, words_for(tracker), language)
        header = replies.text(language, "recommend_header", request=described)
        return await answer_page(dispatcher, tracker, request, uuid.uuid4().hex, header)


def critiqued(tracker: Tracker, request: dict, directions: list[CritiqueKind]) -> dict:
    """The request after a critique of what was shown ("like the second one but newer"): the
    item pointed at (or the last list) becomes the pivot; "newer"/"older" then mean newer than
    it, not a year range. Without anything shown, the message is an ordinary request."""
    similar = critiques.wants_similar(str(tracker.latest_message.get("text") or ""))
    found = critiques.pivot(tracker) if directions or similar else None
    if found is None:
        return request
    items, label = found
    if {CritiqueKind.NEWER, CritiqueKind.OLDER} & set(directions):
        before = context.request(tracker)
        request["year_from"], request["year_to"] = before["year_from"], before["year_to"]
    if similar and label:
        request["similar_to"] = [label]
    return {**request, "critiques": critiques.in_force(request["critiques"], directions, items, label)}


class ActionMore(Action):
    def name(self) -> str:
        return "action_more"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if critiques.said(tracker) or critiques.wants_similar(str(tracker.latest_message.get("text") or "")):
            # "more like the first one", "more obscure ones": a critique, not the next page
            return await ActionRecommend().run(dispatcher, tracker, domain)
        request = context.request(tracker)
        request_id = tracker.get_slot("request_id") or uuid.uuid4().hex
        language = context.language(tracker)
        described = replies.describe_request(request, words_for(tracker), language)
        return await answer_page(dispatcher, tracker, request, request_id,
                                 replies.text(language, "more_header", request=described))


class ActionNotUnderstood(Action):
    """The NLU was unsure (nlu_fallback). A message that critiques the list shown ("not that
    genre"), or names a catalog genre while a request is among its likeliest intents, is
    answered as a request; anything else is asked again."""

    def name(self) -> str:
        return "action_not_understood"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if is_a_request(tracker, calls.vocabulary()):
            return await ActionRecommend().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_please_rephrase")
        return []


def is_a_request(tracker: Tracker, vocabulary: dict) -> bool:
    """Whether an unsure message critiques the list shown, or names a catalog genre while
    request_recommendation is among its REQUEST_AMONG likeliest intents."""
    ranking = [intent["name"] for intent in tracker.latest_message.get("intent_ranking") or []
               if intent["name"] != "nlu_fallback"]
    if critiques.said(tracker) and tracker.get_slot("last_list"):
        return True
    requested = Intent.REQUEST_RECOMMENDATION.value in ranking[:REQUEST_AMONG]
    return requested and bool(context.genre_values(tracker, vocabulary))


def say_unknown_item(dispatcher: CollectingDispatcher, tracker: Tracker, error: UnknownItem) -> None:
    """No such item: the closest titles, if any, in the person's language."""
    text = replies.unknown_item_text(list(error.suggestions), context.language(tracker))
    dispatcher.utter_message(text=text)


def pointed_item(dispatcher: CollectingDispatcher, tracker: Tracker) -> context.ItemReference | None:
    """The item the message points at; when none, says how to point at one."""
    found = context.item_reference(tracker)
    if found is None and not said_where_the_list_ends(dispatcher, tracker):
        say(dispatcher, tracker, "which_one")
    return found


def said_where_the_list_ends(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """A position past the last list ("the seventh one" of five, or before any list): says how
    many were shown, or that nothing was, and returns True."""
    position, shown = context.ordinal_position(tracker), tracker.get_slot("last_list") or []
    if position is None or context.shown_at(shown, position) is not None:
        return False
    if shown:
        say(dispatcher, tracker, "shown_how_many", count=len(shown))
    else:
        say(dispatcher, tracker, "no_list_yet")
    return True


async def about_item(dispatcher: CollectingDispatcher, tracker: Tracker, task: str,
                     **kwargs: Any) -> dict | None:
    """Run a task about one item; says what went wrong and returns None on failure."""
    try:
        return await calls.run(task, **kwargs)
    except UnknownItem as error:
        say_unknown_item(dispatcher, tracker, error)
    except ServiceUnavailable:
        metrics.FALLBACKS.labels("try_again").inc()
        say_without_recommender(dispatcher, tracker, "try_again")
    except RecommenderError as error:
        dispatcher.utter_message(text=str(error))
    return None


def show_item(dispatcher: CollectingDispatcher, tracker: Tracker, kind: ReplyKind, header: str,
              items: list[dict], footer: str, **options: Any) -> None:
    """One message about one or two items, in the person's language."""
    language = context.language(tracker)
    dispatcher.utter_message(**replies.rich(kind, header, items, footer, numbered=False, language=language,
                                            words=words_for(tracker), **options))


class ActionWhy(Action):
    def name(self) -> str:
        return "action_why"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        item = pointed_item(dispatcher, tracker)
        if item is None:
            return []
        language = context.language(tracker)
        found = await about_item(dispatcher, tracker, "explain", identity=tracker.sender_id,
                                 item=item.reference, constraints=context.request(tracker), language=language,
                                 **context.stated_genres(tracker))
        if found is None:
            return []
        reasons = ("" if language == replies.ZH else " ").join(reason["text"] for reason in found["reasons"])
        header = replies.text(language, "why_header", label=found["item"]["label"])
        show_item(dispatcher, tracker, ReplyKind.ITEM, header, [found["item"]], reasons, actions=3)
        return context.slot_changes(tracker, last_item=replies.remembered([found["item"]])[0])


class ActionDetails(Action):
    def name(self) -> str:
        return "action_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        item = pointed_item(dispatcher, tracker)
        if item is None:
            return []
        found = await about_item(dispatcher, tracker, "details", item=item.reference)
        if found is None:
            return []
        language = context.language(tracker)
        show_item(dispatcher, tracker, ReplyKind.ITEM, replies.text(language, "details_header"),
                  [found["item"]], replies.rating_text(found["mean_rating"], found["ratings"], language))
        return context.slot_changes(tracker, last_item=replies.remembered([found["item"]])[0])


class ActionCompare(Action):
    def name(self) -> str:
        return "action_compare"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        pair = context.item_pair(tracker)
        if pair is None:
            say(dispatcher, tracker, "which_two")
            return []
        found = await about_item(dispatcher, tracker, "compare", identity=tracker.sender_id, first=pair[0],
                                 second=pair[1], **context.stated_genres(tracker))
        if found is None:
            return []
        language = context.language(tracker)
        rated = [{**item, "note": replies.rating_text(item["mean_rating"], item["ratings"], language)}
                 for item in found["items"]]
        preferred = next(item for item in found["items"] if item["id"] == found["preferred"])
        show_item(dispatcher, tracker, ReplyKind.COMPARE, replies.text(language, "compare_header"), rated,
                  replies.text(language, "compare_pick", label=preferred["label"]))
        return context.slot_changes(tracker, last_item=replies.remembered([preferred])[0])
