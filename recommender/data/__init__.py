"""Dataset loaders: MovieLens 100K and catalogs in the documented file layout."""

from __future__ import annotations

from pathlib import Path

from recommender.data import files, movielens
from recommender.domain.catalog import Dataset

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_CATALOGS = REPO_ROOT / "data" / "catalogs"


def load_dataset(name: str = movielens.NAME) -> Dataset:
    """Load `movielens-100k`, an example catalog under data/catalogs/, or a folder path."""
    if name == movielens.NAME:
        return movielens.load()
    folder = EXAMPLE_CATALOGS / name if (EXAMPLE_CATALOGS / name).is_dir() else Path(name)
    if not (folder / "catalog.json").is_file():
        raise FileNotFoundError(
            f"unknown dataset {name!r}: not {movielens.NAME!r}, not a folder under "
            f"{EXAMPLE_CATALOGS} and not a folder with a catalog.json"
        )
    return files.load(folder)
