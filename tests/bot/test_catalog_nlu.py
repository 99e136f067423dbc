"""NLU data generated from the catalog: loadable by Rasa, mapping variants to catalog names."""

from __future__ import annotations

from rasa.shared.nlu.training_data.loading import load_data

from bot.catalog_nlu import natural_title, write
from recommender.catalog import Dataset


def test_natural_titles() -> None:
    assert natural_title("Godfather, The") == "The Godfather"
    assert natural_title("Visitors, The (Visiteurs, Les)") == "The Visitors"
    assert natural_title("Fargo") == "Fargo"


def test_generated_data_loads_in_rasa(movielens: Dataset, tmp_path) -> None:
    data = load_data(str(write(movielens, tmp_path / "catalog.yml")))
    tables = {table["name"]: table["elements"] for table in data.lookup_tables}
    assert "The Godfather" in tables["title"] and "Sci-Fi" in tables["genre"] and "sci fi" in tables["genre"]
    assert len(tables["title"]) > 1500
    assert data.entity_synonyms["The Godfather"] == "Godfather, The"
    assert data.entity_synonyms["science fiction"] == "Sci-Fi"
    assert not data.training_examples  # lookups and synonyms only: no template examples
