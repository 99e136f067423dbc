"""The normaliser adds `normalised` values and leaves spans and values alone."""

from __future__ import annotations

from rasa.shared.nlu.training_data.message import Message

from bot.components.entity_normaliser import EntityNormaliser, normalised


def test_normalised_values() -> None:
    assert normalised("ordinal", "the second one") == {"position": 2}
    assert normalised("ordinal", "last one") == {"position": -1}
    assert normalised("rating", "4 out of 5") == {"stars": 4.0}
    assert normalised("year", "the 90s") is None  # years: the actions, which know the catalog
    assert normalised("genre", "sci-fi") is None  # genres: EntitySynonymMapper


def test_process_adds_normalised_and_keeps_spans() -> None:
    entities = [{"entity": "year", "value": "the 90s", "start": 10, "end": 17},
                {"entity": "ordinal", "value": "#3", "start": 0, "end": 2},
                {"entity": "title", "value": "Fargo", "start": 20, "end": 25}]
    message = Message(data={"text": "#3 … from the 90s … Fargo", "entities": [dict(e) for e in entities]})
    EntityNormaliser().process([message])
    out = message.get("entities")
    assert out[1]["normalised"] == {"position": 3}
    assert "normalised" not in out[0] and "normalised" not in out[2]
    assert [(e["start"], e["end"], e["value"]) for e in out] == [
        (e["start"], e["end"], e["value"]) for e in entities]
