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
    assert not data.lookup_tables  # nothing in the pipeline reads them
    assert data.entity_synonyms["The Godfather"] == "Godfather, The"
    assert data.entity_synonyms["science fiction"] == "Sci-Fi"
    assert data.entity_synonyms["科幻片"] == "Sci-Fi" and data.entity_synonyms["西部"] == "Western"
    examples = {m.get("text") for m in data.training_examples}
    assert "recommend film noir films" in examples  # every genre whole, multi-word ones included
    assert "recommend science fiction films" in examples
    assert any(text.startswith("推荐一些") and text.endswith("电影") for text in examples)  # Chinese too
    intents = {m.get("intent") for m in data.training_examples}
    assert intents == {"request_recommendation", "ask_details", "compare_items"}


def test_the_domain_speaks_of_the_catalog(tmp_path) -> None:
    write(load_dataset("products"), tmp_path / "catalog.yml", tmp_path / "domain.yml")
    slots = yaml.safe_load((tmp_path / "domain.yml").read_text())["slots"]
    values = {name: slot["initial_value"] for name, slot in slots.items()}
    assert values["item_nouns"] == "products" and values["genre_word"] == "category"
    assert "product" in values["example_request"] and "film" not in str(values)
    assert values["item_noun_zh"] == "商品" and values["genre_word_zh"] == "品类"
    assert values["example_request_zh"].endswith("商品") and "电影" not in values["example_request_zh"]


def test_a_catalog_without_translations_speaks_its_own_words_in_chinese(tmp_path) -> None:
    import numpy as np

    from recommender.domain.catalog import Catalog, Interactions, Item

    catalog = Catalog("gadgets", [Item("g1", "Phone", 2020, {"genre": ("Tech",)})], item_noun="gadget")
    empty = Interactions(*(np.array([], dtype=t) for t in (np.int32, np.int32, np.float32, np.float64)))
    write(Dataset(catalog, [], empty), tmp_path / "catalog.yml", tmp_path / "domain.yml")
    slots = yaml.safe_load((tmp_path / "domain.yml").read_text())["slots"]
    assert slots["item_noun_zh"]["initial_value"] == "gadget"
    assert slots["example_request_zh"]["initial_value"] == "推荐20年代的 Tech gadget"
