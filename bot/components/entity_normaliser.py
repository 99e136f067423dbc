"""Normalised entity values, added after extraction.

Each entity keeps its span and `value` (what is scored and what Rasa's
synonym mapping produced) and gains a `normalised` field the actions read:

| entity | normalised |
|---|---|
| ordinal | {"position": 2} for "the second one" (-1: the last one) |
| rating | {"stars": 4.0} for "4 out of 5" |

Genres are normalised by EntitySynonymMapper (bot/data synonyms), titles
by the recommender's fuzzy title lookup, and years by the actions, which
know the catalog's span (actions/years.py).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from bot.components.normalise import ordinal_position, rating_value


def normalised(entity: str, text: str) -> dict | None:
    """The normalised form of one entity's text, or None when it has none."""
    if entity == "ordinal":
        position = ordinal_position(text)
        return {"position": position} if position else None
    if entity == "rating":
        stars = rating_value(text)
        return {"stars": stars} if stars is not None else None
    return None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityNormaliser(GraphComponent):
    """Adds `normalised` to ordinal and rating entities."""

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> EntityNormaliser:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            for entity in message.get(ENTITIES, []):
                text = str(entity.get("value", ""))
                value = normalised(entity.get("entity", ""), text)
                if value is not None:
                    entity["normalised"] = value
        return messages
