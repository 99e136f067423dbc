"""A catalog of another domain, in the documented file layout, loads, trains and recommends."""

import json
import shutil

import pytest

from recommender.data import EXAMPLE_CATALOGS, files, load_dataset
from recommender.domain.constraints import Constraints, Taste


def test_products_catalog_loads_with_its_own_vocabulary(products):
    catalog = products.catalog
    assert (catalog.name, catalog.item_noun, catalog.genre_feature) == ("products", "product", "category")
    assert len(catalog) == 30 and len(products.users) == 20 and len(products.interactions) == 142
    grinder = catalog.get("p02")
    assert grinder.title == "Burr Coffee Grinder" and grinder.year == 2021
    assert grinder.values("category") == ("Kitchen", "Electronics")
    assert grinder.values("tags") == ("coffee", "grinder")
    assert products.users[0].features == {"segment": "coffee lover", "region": "north"}


def test_products_recommend_with_constraints_and_synonyms(products_recommender):
    found = products_recommender.recommend("u07", 3, Constraints(genres=("running",)))  # synonym of Outdoor
    assert found and all("Outdoor" in r.item.values("category") for r in found.items)
    empty = products_recommender.recommend("u07", 3, Constraints(genres=("books",), year_from=2030))
    assert not empty and "No product in the catalog matches" in empty.reason


def test_products_cold_start_and_similar_items(products_recommender):
    found = products_recommender.recommend(Taste(liked=("coffee grinder",)), k=5)
    assert len(found) == 5 and "p02" not in [r.item.id for r in found.items]
    assert products_recommender.similar_items("Gooseneck Kettle", 3)
    assert products_recommender.find_item("gooseneck ketle").id == "p03"


def _copy(tmp_path):
    folder = tmp_path / "shop"
    shutil.copytree(EXAMPLE_CATALOGS / "products", folder)
    return folder


def test_a_folder_path_loads_too(tmp_path):
    folder = _copy(tmp_path)
    assert len(load_dataset(str(folder)).catalog) == 30


def test_unknown_dataset_name_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="unknown dataset 'nope'"):
        load_dataset("nope")


def test_missing_column_is_a_clear_error(tmp_path):
    folder = _copy(tmp_path)
    (folder / "items.csv").write_text("id,name\np1,Thing\n")
    with pytest.raises(ValueError, match="missing column"):
        files.load(folder)


def test_interaction_with_unknown_item_is_a_clear_error(tmp_path):
    folder = _copy(tmp_path)
    with (folder / "interactions.csv").open("a") as handle:
        handle.write("u01,p99,5,0\n")
    with pytest.raises(ValueError, match="unknown item 'p99'"):
        files.load(folder)


def test_bad_year_is_a_clear_error(tmp_path):
    folder = _copy(tmp_path)
    text = (folder / "items.csv").read_text().replace(
        "p01,Pour-Over Coffee Dripper,2019", "p01,Pour-Over Coffee Dripper,soon")
    (folder / "items.csv").write_text(text)
    with pytest.raises(ValueError, match="year that is not a number"):
        files.load(folder)


def test_users_file_is_optional(tmp_path):
    folder = _copy(tmp_path)
    (folder / "users.csv").unlink()
    dataset = files.load(folder)
    assert len(dataset.users) == 20 and dataset.users[0].features == {}


def test_catalog_json_defaults(tmp_path):
    folder = _copy(tmp_path)
    (folder / "catalog.json").write_text(json.dumps({}))
    (folder / "items.csv").write_text(
        (folder / "items.csv").read_text().replace("category", "genre", 1))
    dataset = files.load(folder)
    catalog = dataset.catalog
    assert (catalog.name, catalog.genre_feature, catalog.item_noun) == ("shop", "genre", "item")
