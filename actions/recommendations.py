"""Actions that show items: recommend, more, why, details, compare."""

from __future__ import annotations

import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import calls, context, replies, years
from recommender.domain.errors import NothingToGoOn, RecommenderError, UnknownItem
from recommender.tasks import metrics
from recommender.tasks.client import ServiceUnavailable

PAGE = 5


def show_list(dispatcher: CollectingDispatcher, header: str, items: list[dict]) -> None:
    """One message: a header, the numbered items (each with its feedback actions) and a footer."""
    dispatcher.utter_message(**replies.rich("list", header, items, replies.LIST_FOOTER))


def show_popular_instead(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The fallback when no worker answers: say so in one line, then popular picks."""
    shown = {item["id"] for item in tracker.get_slot("last_list") or []}
    items = calls.popular(PAGE, exclude=shown)
    metrics.FALLBACKS.labels("popular" if items else "try_again").inc()
    if not items:
        dispatcher.utter_message(text=replies.UNAVAILABLE + " Please try again in a minute.")
        return []
    show_list(dispatcher, replies.UNAVAILABLE + " Meanwhile, these are popular and well liked:", items)
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
        dispatcher.utter_message(text=replies.unknown_item_text(list(error.suggestions)))
        return [SlotSet("constraints", {**request, "similar_to": []})]
    except ServiceUnavailable:
        return show_popular_instead(dispatcher, tracker)
    except RecommenderError as error:
        dispatcher.utter_message(text=str(error))
        return []
    if not found["items"]:  # that request stays out of the next one
        dispatcher.utter_message(text=f"{found['reason']} I've set that request aside: ask for something "
                                      "else, or say \"start over\".")
        return []
    show_list(dispatcher, header, found["items"])
    return context.slot_changes(tracker, constraints=request, request_id=request_id,
                                last_list=replies.remembered(found["items"]), last_item=None)


class ActionRecommend(Action):
    def name(self) -> str:
        return "action_recommend"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        words = calls.vocabulary()
        request = context.updated_request(tracker, words)
        if request["year_from"] is not None and words["first_year"] is not None:
            side = years.outside((request["year_from"], request["year_to"]), words["first_year"], words["last_year"])
            if side:
                dispatcher.utter_message(text=replies.outside_catalog(side, words))
                return []
        header = f"Here are {replies.describe_request(request, words['item_nouns'])} for you:"
        return await answer_page(dispatcher, tracker, request, uuid.uuid4().hex, header)


class ActionMore(Action):
    def name(self) -> str:
        return "action_more"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        request = context.request(tracker)
        request_id = tracker.get_slot("request_id") or uuid.uuid4().hex
        return await answer_page(dispatcher, tracker, request, request_id,
                           f"More {replies.describe_request(request, calls.vocabulary()['item_nouns'])}:")


def pointed_item(dispatcher: CollectingDispatcher, tracker: Tracker) -> context.ItemReference | None:
    """The item the message points at; when none, says how to point at one."""
    found = context.item_reference(tracker)
    if found is None:
        position, shown = context.ordinal_position(tracker), tracker.get_slot("last_list") or []
        if position is not None and shown:
            dispatcher.utter_message(text=f"I showed you {len(shown)} — which one do you mean?")
        elif position is not None:
            dispatcher.utter_message(text="I haven't shown you a list yet. Ask me for a recommendation first.")
        else:
            dispatcher.utter_message(text=replies.WHICH_ONE)
    return found


async def about_item(dispatcher: CollectingDispatcher, task: str,
                     **kwargs: Any) -> dict | None:
    """Run a task about one item; says what went wrong and returns None on failure."""
    try:
        return await calls.run(task, **kwargs)
    except UnknownItem as error:
        dispatcher.utter_message(text=replies.unknown_item_text(list(error.suggestions)))
    except ServiceUnavailable:
        metrics.FALLBACKS.labels("try_again").inc()
        dispatcher.utter_message(text=replies.UNAVAILABLE + " Please try again in a minute.")
    except RecommenderError as error:
        dispatcher.utter_message(text=str(error))
    return None


class ActionWhy(Action):
    def name(self) -> str:
        return "action_why"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        item = pointed_item(dispatcher, tracker)
        if item is None:
            return []
        found = await about_item(dispatcher, "explain", identity=tracker.sender_id, item=item.reference,
                           constraints=context.request(tracker), **context.stated_genres(tracker))
        if found is None:
            return []
        reasons = " ".join(reason["text"] for reason in found["reasons"])
        dispatcher.utter_message(**replies.rich("item", f"Why {found['item']['label']}?", [found["item"]], reasons,
                                                numbered=False, actions=3))
        return context.slot_changes(tracker, last_item=replies.remembered([found["item"]])[0])


class ActionDetails(Action):
    def name(self) -> str:
        return "action_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        item = pointed_item(dispatcher, tracker)
        if item is None:
            return []
        found = await about_item(dispatcher, "details", item=item.reference)
        if found is None:
            return []
        dispatcher.utter_message(**replies.rich("item", "Here it is:", [found["item"]],
                                                replies.rating_text(found["mean_rating"], found["ratings"]),
                                                numbered=False))
        return context.slot_changes(tracker, last_item=replies.remembered([found["item"]])[0])


class ActionCompare(Action):
    def name(self) -> str:
        return "action_compare"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        pair = context.item_pair(tracker)
        if pair is None:
            dispatcher.utter_message(text="Which two should I compare? For example: \"Fargo or Heat?\"")
            return []
        found = await about_item(dispatcher, "compare", identity=tracker.sender_id, first=pair[0],
                           second=pair[1], **context.stated_genres(tracker))
        if found is None:
            return []
        rated = [{**item, "note": replies.rating_text(item["mean_rating"], item["ratings"])} for item in found["items"]]
        preferred = next(item for item in found["items"] if item["id"] == found["preferred"])
        dispatcher.utter_message(**replies.rich("compare", "Side by side:", rated,
                                                f"For you I'd pick {preferred['label']}.", numbered=False))
        return context.slot_changes(tracker, last_item=replies.remembered([preferred])[0])
