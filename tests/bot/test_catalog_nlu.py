"""NLU data generated from the catalog: loadable by Rasa, mapping variants to catalog names."""

from __future__ import annotations

import yaml
from rasa.shared.nlu.training_data.loading import load_data

from bot.catalog_nlu import natural_title, write
from recommender.data import load_dataset
from recommender.domain.catalog import Dataset


def test_natural_titles() -> None:
    assert natural_title("Godfather, The") == "The Godfather"
    assert natural_title("Visitors, The (Visiteurs, Les)") == "The Visitors"
    assert natural_title("Fargo") == "Fargo"


def test_generated_data_loads_in_rasa(movielens: Dataset, tmp_path) -> None:
    data = load_data(str(write(movielens, tmp_path / "catalog.yml", tmp_path / "domain.yml")))
    tables = {table["name"]: table["elements"] for table in data.lookup_tables}
    assert "The Godfather" in tables["title"] and "Sci-Fi" in tables["genre"] and "sci fi" in tables["genre"]
    assert len(tables["title"]) > 1500
    assert data.entity_synonyms["The Godfather"] == "Godfather, The"
    assert data.entity_synonyms["science fiction"] == "Sci-Fi"
    examples = {m.get("text") for m in data.training_examples}
    assert "recommend film noir films" in examples  # every genre whole, multi-word ones included
    assert "recommend science fiction films" in examples
    intents = {m.get("intent") for m in data.training_examples}
    assert intents == {"request_recommendation", "ask_details", "compare_items"}


def test_the_domain_speaks_of_the_catalog(tmp_path) -> None:
    write(load_dataset("products"), tmp_path / "catalog.yml", tmp_path / "domain.yml")
    slots = yaml.safe_load((tmp_path / "domain.yml").read_text())["slots"]
    values = {name: slot["initial_value"] for name, slot in slots.items()}
    assert values["item_nouns"] == "products" and values["genre_word"] == "category"
    assert "product" in values["example_request"] and "film" not in str(values)
