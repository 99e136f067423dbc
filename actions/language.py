"""The language of each message, kept in the slot `language` that replies follow."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from chatrec.language import of_message

HINT = "language_code"  # message metadata from a channel that knows the person's language (Telegram)


class ActionDetectLanguage(Action):
    """A custom slot mapping: Rasa runs it on every message, before the next action or response,
    so a person who switches language is answered in the new one at once."""

    def name(self) -> str:
        return "action_detect_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        message = tracker.latest_message or {}
        hint = (message.get("metadata") or {}).get(HINT)
        found = of_message(str(message.get("text") or ""), hint, tracker.get_slot("language")).value
        return [] if found == tracker.get_slot("language") else [SlotSet("language", found)]
