"""The NLU scores on a hand-computed case."""

import pytest
from rasa.shared.nlu.training_data.message import Message

from bot.evaluate_nlu import score


def test_scores_by_hand():
    gold = [
        Message(data={"text": "a sci-fi film", "intent": "request_recommendation",
                      "entities": [{"start": 2, "end": 8, "entity": "genre", "value": "sci-fi"}]}),
        Message(data={"text": "why the first", "intent": "ask_why",
                      "entities": [{"start": 4, "end": 13, "entity": "ordinal", "value": "the first"}]}),
        Message(data={"text": "hi", "intent": "greet"}),
    ]
    parsed = [
        {"intent": {"name": "request_recommendation"},
         "entities": [{"start": 2, "end": 8, "entity": "genre"}]},
        {"intent": {"name": "ask_why"},
         "entities": [{"start": 8, "end": 13, "entity": "ordinal"}]},  # span too short
        {"intent": {"name": "goodbye"},
         "entities": [{"start": 0, "end": 2, "entity": "title"}]},  # both wrong
    ]
    result = score(gold, parsed)
    assert result["intent_accuracy"] == pytest.approx(2 / 3)
    # per-intent F1 over the data's intents: request 1, ask_why 1, greet 0 -> 2/3
    assert result["intent_macro_f1"] == pytest.approx(2 / 3)
    assert result["entity_precision"] == pytest.approx(1 / 3)  # 1 of 3 predicted spans exact
    assert result["entity_recall"] == pytest.approx(1 / 2)     # 1 of 2 gold spans found
    assert result["entity_f1"] == pytest.approx(0.4)


QUICK_PIPELINE = """recipe: default.v1
assistant_id: cv-test
language: en
pipeline:
  - name: bot.components.tokenizer.WhitespaceHanTokenizer
  - name: CountVectorsFeaturizer
  - name: LogisticRegressionClassifier
"""


def test_cross_validation_trains_each_fold_in_a_fresh_folder(tmp_path):
    """The K-fold machinery of `make eval-nlu`, run with a pipeline that trains in a second."""
    from rasa.shared.nlu.training_data.loading import load_data

    from bot.evaluate_nlu import TRAIN, cross_validate

    config = tmp_path / "config.yml"
    config.write_text(QUICK_PIPELINE)
    messages = [m for m in load_data(str(TRAIN[1])).intent_examples
                if m.get("intent") in ("greet", "goodbye", "thank")]
    result = cross_validate(config, messages, 2, tmp_path / "does" / "not" / "exist")
    assert sorted((tmp_path / "does" / "not" / "exist").glob("fold*.yml")) != []
    assert 0.7 <= result["intent_accuracy"] <= 1.0 and set(result) >= {"intent_macro_f1", "entity_f1"}


def test_cross_validation_of_one_language_keeps_the_folds_and_drops_the_other_language(tmp_path):
    """The English-only pipeline's row: the same folds as the bilingual run, English messages only."""
    from rasa.shared.nlu.training_data.loading import load_data

    from bot.evaluate_nlu import TRAIN, cross_validate, language_of

    config = tmp_path / "config.yml"
    config.write_text(QUICK_PIPELINE)
    small_talk = ("greet", "goodbye", "thank")
    messages = [m for path in TRAIN for m in load_data(str(path)).intent_examples
                if m.get("intent") in small_talk]
    assert {language_of(m) for m in messages} == {"English", "Chinese"}
    both = cross_validate(config, messages, 2, tmp_path / "both")
    english = cross_validate(config, messages, 2, tmp_path / "english", language="English")
    for fold in sorted((tmp_path / "english").glob("fold*.yml")):
        trained_on = load_data(str(fold)).intent_examples
        assert trained_on and all(language_of(m) == "English" for m in trained_on)
    assert set(english["by_language"]) == {"English"}
    assert set(both["by_language"]) == {"English", "Chinese"}
    assert 0.7 <= english["intent_accuracy"] <= 1.0
