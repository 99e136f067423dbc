"""Rasa 3.6 glue for the joint BERT model: one GraphComponent registered as
both intent classifier and entity extractor.

Life cycle as Rasa's own components: `create` (untrained) -> `train`
(fine-tune, then `persist` into the model storage) -> `load` (from the
storage, for `rasa shell` / `rasa run`) -> `process` (a batch of messages).
Entities come out as Rasa entity dicts, so EntitySynonymMapper and
FallbackClassifier work on them as on DIET's.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import encoders
from bot.components.joint_bert import Example, JointBert
from chatrec import settings

log = logging.getLogger(__name__)


def _threads() -> int:
    """Torch threads: CHATREC_TORCH_THREADS, else up to 4 (training); serving sets 1 (launcher/stack.py),
    as one message is too small to split and the server shares the cores with the actions."""
    return settings.current().torch_threads or max(1, min(4, os.cpu_count() or 1))


def _quantize(config: dict[str, Any]) -> bool:
    override = settings.current().bert_quantize
    return bool(config["quantize"]) if not override else override.lower() not in ("0", "false", "no")


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR],
    is_trainable=True,
)
class BertIntentEntityClassifier(GraphComponent, IntentClassifier, EntityExtractorMixin):
    """Fine-tunes a BERT encoder (multilingual-e5-small: Chinese and English) for intents
    (softmax) and entities (BIO)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"epochs": 12, "batch_size": 16, "learning_rate": 5e-5, "head_learning_rate": 1e-3,
                "max_length": 64, "random_seed": 42, "ranking_length": 10,
                # bot/encoders: multilingual-e5-small or all-minilm-l6-v2; `layers` > 0 keeps the lower ones
                "encoder": encoders.MULTILINGUAL, "layers": 0,
                # serve with int8 linear layers; CHATREC_BERT_QUANTIZE=0/1 overrides a trained model's setting
                "quantize": True}

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: JointBert | None = None) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        import torch

        torch.set_num_threads(_threads())

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> BertIntentEntityClassifier:
        return cls(config, model_storage, resource)

    @staticmethod
    def _examples(training_data: TrainingData) -> list[Example]:
        return [Example(m.get(TEXT), m.get(INTENT),
                        tuple((e["start"], e["end"], e["entity"]) for e in m.get(ENTITIES, [])))
                for m in training_data.intent_examples]

    def train(self, training_data: TrainingData) -> Resource:
        self.check_correct_entity_annotations(training_data)  # every span on Rasa's tokens, as DIET checks
        examples = self._examples(training_data)
        if not examples:
            log.warning("no intent examples: %s stays untrained", type(self).__name__)
            return self._resource
        entities = sorted({label for e in examples for _, _, label in e.entities})
        self._model = JointBert(sorted({e.intent for e in examples}), entities, self._config["max_length"],
                                encoder=self._config["encoder"], layers=self._config["layers"],
                                seed=self._config["random_seed"])
        self._model.fit(examples, epochs=self._config["epochs"], batch_size=self._config["batch_size"],
                        learning_rate=self._config["learning_rate"],
                        head_learning_rate=self._config["head_learning_rate"],
                        seed=self._config["random_seed"])
        self.persist()
        return self._resource

    def persist(self) -> None:
        if self._model is None:
            return
        with self._model_storage.write_to(self._resource) as folder:
            self._model.save(folder)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> BertIntentEntityClassifier:
        try:
            with model_storage.read_from(resource) as folder:
                model = JointBert.load(folder)
        except ValueError:
            log.warning("no trained %s in the model; it will predict nothing", cls.__name__)
            return cls(config, model_storage, resource)
        if _quantize({**cls.get_default_config(), **config}) and not execution_context.is_finetuning:
            model.quantize()
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        if self._model is None or not messages:
            return messages
        predictions = self._model.predict([m.get(TEXT) or "" for m in messages])
        for message, prediction in zip(messages, predictions):
            ranking = [{"name": name, "confidence": confidence}
                       for name, confidence in prediction.ranking[: self._config["ranking_length"]]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
            entities = [{"start": e["start"], "end": e["end"], "value": e["value"], "entity": e["entity"],
                         "confidence_entity": e["confidence"]} for e in prediction.entities]
            message.set(ENTITIES, message.get(ENTITIES, []) + self.add_extractor_name(entities),
                        add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
