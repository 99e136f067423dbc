"""The BERT component inside a real Rasa training graph: train, persist, load, parse."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chatrec.settings import environment

TINY_NLU = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - hi
    - hello there
    - good morning
    - hey
    - hiya
    - hello
    - 你好
    - 嗨，早上好
    - 哈喽
- intent: request_recommendation
  examples: |
    - recommend me a [sci-fi](genre) movie
    - something like [toy story](title)
    - a [comedy](genre) from [the 90s](year)
    - any good [horror](genre) films?
    - i want something like [the godfather](title)
    - suggest a [romantic](genre) movie from [1995](year)
    - show me [sci fi](genre) films
    - 推荐一部[九十年代](year)的[喜剧](genre)电影
    - 来点[科幻](genre)片
    - 有没有类似[Fargo](title)的电影
    - 想看[八十年代](year)的[恐怖](genre)电影
    - 求推荐[爱情](genre)电影
- intent: ask_why
  examples: |
    - why [the second one](ordinal)?
    - why did you pick [fargo](title)
    - why that one
    - why [the first](ordinal)
    - how come you suggested [heat](title)?
    - why [the last one](ordinal)
    - 为什么推荐[第二部](ordinal)
    - 为啥推荐[Heat](title)
    - [第一个](ordinal)为什么推荐
- synonym: Sci-Fi
  examples: |
    - sci-fi
    - sci fi
    - 科幻
- synonym: Comedy
  examples: |
    - 喜剧
"""

TINY_CONFIG = """recipe: default.v1
assistant_id: test
language: en
pipeline:
  - name: bot.components.tokenizer.WhitespaceHanTokenizer
  - name: bot.components.bert_nlu.BertIntentEntityClassifier
    epochs: 20
    batch_size: 8
    random_seed: 7
  - name: EntitySynonymMapper
  - name: FallbackClassifier
    threshold: 0.3
"""


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    from rasa.model_training import train_nlu

    folder = tmp_path_factory.mktemp("nlu")
    (folder / "nlu.yml").write_text(TINY_NLU)
    (folder / "config.yml").write_text(TINY_CONFIG)
    path = train_nlu(str(folder / "config.yml"), str(folder / "nlu.yml"), str(folder / "models"))
    assert path, "rasa did not produce a model"
    return path


def _parse(model_path: str, texts: list[str]) -> list[dict]:
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    return [asyncio.run(agent.parse_message(text)) for text in texts]


def test_trained_model_parses_intents_and_entities(model_path):
    greet, recommend, why = _parse(model_path, ["hello there", "recommend me a sci-fi movie",
                                                "why the second one?"])
    assert greet["intent"]["name"] == "greet"
    assert recommend["intent"]["name"] == "request_recommendation"
    assert [r["name"] for r in recommend["intent_ranking"]][0] == "request_recommendation"
    assert abs(sum(r["confidence"] for r in recommend["intent_ranking"]) - 1.0) < 1e-4
    genre = next(e for e in recommend["entities"] if e["entity"] == "genre")
    assert (genre["start"], genre["end"]) == (15, 21)
    assert genre["value"] == "Sci-Fi"  # EntitySynonymMapper applied to our entity
    assert genre["extractor"] == "BertIntentEntityClassifier" and 0 < genre["confidence_entity"] <= 1
    ordinal = next(e for e in why["entities"] if e["entity"] == "ordinal")
    text = "why the second one?"
    assert ordinal["value"] == text[ordinal["start"]:ordinal["end"]]
    assert ordinal["value"].endswith("second one")


def test_chinese_intents_and_entities_inside_unspaced_text(model_path):
    text = "推荐一部九十年代的科幻电影"
    recommend, why = _parse(model_path, [text, "为什么推荐第一部"])
    assert recommend["intent"]["name"] == "request_recommendation"
    found = {e["entity"]: (text[e["start"]:e["end"]], e["value"]) for e in recommend["entities"]}
    assert found == {"year": ("九十年代", "九十年代"), "genre": ("科幻", "Sci-Fi")}
    assert why["intent"]["name"] == "ask_why"
    (ordinal,) = why["entities"]
    assert (ordinal["entity"], ordinal["value"]) == ("ordinal", "第一部")


def test_persist_then_load_gives_identical_predictions(model_path):
    texts = ["something like the godfather", "why fargo", "hiya"]
    first, second = _parse(model_path, texts), _parse(model_path, texts)
    for a, b in zip(first, second):
        assert a["intent_ranking"] == b["intent_ranking"]
        assert a["entities"] == b["entities"]


def _loaded_model(agent):
    """The JointBert inside the agent's loaded BERT component."""
    from bot.components.bert_nlu import BertIntentEntityClassifier

    (component,) = [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()
                    if isinstance(node._component, BertIntentEntityClassifier)]
    return component._model


def test_served_int8_weights_agree_with_the_trained_fp32_weights(model_path):
    import torch
    from rasa.core.agent import Agent

    texts = ["hello there", "recommend me a sci-fi movie", "why the second one?", "something like heat"]
    served = _parse(model_path, texts)
    with environment({"CHATREC_BERT_QUANTIZE": "0"}):
        trained = _parse(model_path, texts)
    for int8, fp32 in zip(served, trained):
        assert int8["intent"]["name"] == fp32["intent"]["name"]
        # 12 int8 layers move a tiny model's confidences a little; the decisions stay
        # (held-out: docs/benchmarks.md)
        assert abs(int8["intent"]["confidence"] - fp32["intent"]["confidence"]) < 0.2
        # the same entities over the same words; a boundary word ("the" of "the second
        # one") may fall either side on a model trained for seconds
        assert [e["entity"] for e in int8["entities"]] == [e["entity"] for e in fp32["entities"]]
        for a, b in zip(int8["entities"], fp32["entities"]):
            assert a["start"] < b["end"] and b["start"] < a["end"]
    assert served != trained  # the weights really differ
    model = _loaded_model(Agent.load(model_path))
    assert model.quantized
    assert any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in model.model.modules())
    with pytest.raises(ValueError):
        model.save(Path("unused"))


@pytest.mark.parametrize("text", ["", "   ", "x" * 5000, "🎬🍿🎥", "¿Qué película me recomiendas?",
                                  "<b>recommend</b> a **movie**", "line\x00with\x07control\x1bchars"])
def test_far_away_input_parses_without_error(model_path, text):
    (parsed,) = _parse(model_path, [text])
    assert parsed["intent"]["name"]
    assert all(0 <= e["start"] <= e["end"] <= len(text) for e in parsed["entities"])


@pytest.mark.parametrize("text", ["", "   ", "🎬🍿🎥", "?!?!", "\x00\x07\x1b"])
def test_unreadable_input_falls_back(model_path, text):
    (parsed,) = _parse(model_path, [text])
    assert parsed["intent"]["name"] == "nlu_fallback"
    assert parsed["entities"] == []
