"""Model versions on disk: save, promote, load, and refuse a model trained on other data."""

import json
from datetime import datetime, timezone

import numpy as np
import pytest

from chatrec.settings import environment
from recommender.serving.service import load_recommender
from recommender.storage import artifacts


@pytest.fixture
def models_dir(tmp_path):
    with environment({"CHATREC_MODELS_DIR": str(tmp_path)}):
        yield tmp_path


def test_save_promote_load_round_trip(models_dir, products, products_recommender):
    model = products_recommender.model
    version = artifacts.save(model, products, {"test": {"ndcg@5": 0.5}})
    assert artifacts.current_version("products") is None
    artifacts.promote("products", version)
    assert artifacts.current_version("products") == version
    assert artifacts.versions("products") == [version]

    meta = json.loads((models_dir / "products" / version / "meta.json").read_text())
    assert meta["data_fingerprint"] == products.fingerprint()
    assert meta["feature_fingerprint"] == model.features.fingerprint()
    assert meta["metrics"] == {"test": {"ndcg@5": 0.5}}
    assert meta["params"]["epochs_trained"] == model.epochs_trained

    popular = artifacts.read_popular("products")
    assert popular == artifacts.popular_items(products) and popular
    assert {"id", "title", "label", "year", "genres"} <= set(popular[0])

    folder = models_dir / "products" / version
    assert sorted(p.name for p in folder.iterdir()) == ["embeddings.npz", "meta.json", "popular.json"]
    with np.load(folder / "embeddings.npz", allow_pickle=False) as arrays:  # arrays only: no code to run
        assert arrays["user_ids"].tolist() == model.user_ids
    loaded = load_recommender("products")
    np.testing.assert_array_equal(loaded.model.item_vectors, model.item_vectors)
    np.testing.assert_array_equal(loaded.model.user_vectors, model.user_vectors)
    assert [r.item.id for r in loaded.recommend("u01", 5).items] == \
        [r.item.id for r in products_recommender.recommend("u01", 5).items]


def test_a_model_is_not_served_with_other_data(models_dir, products, products_recommender):
    version = artifacts.save(products_recommender.model, products, {})
    artifacts.load_model(products, version)  # same data: loads
    meta_path = models_dir / "products" / version / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["data_fingerprint"] = "0" * 16
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="different products data"):
        artifacts.load_model(products, version)


def test_nothing_trained_is_a_clear_error(models_dir, products):
    with pytest.raises(FileNotFoundError, match="make train"):
        artifacts.load_model(products)
    with pytest.raises(FileNotFoundError, match="no model version"):
        artifacts.promote("products", "nope")


def test_a_model_in_an_older_format_must_be_retrained(models_dir, products, products_recommender):
    version = artifacts.save(products_recommender.model, products, {})
    meta_path = models_dir / "products" / version / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["format"]
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="older format"):
        artifacts.load_model(products, version)


def test_popular_items_are_the_most_rated_well_liked_ones(movielens):
    popular = artifacts.popular_items(movielens, n=10, min_mean=3.5)
    inter = movielens.interactions
    counts = [int((inter.items == movielens.catalog.index(p["id"])).sum()) for p in popular]
    means = [float(inter.ratings[inter.items == movielens.catalog.index(p["id"])].mean()) for p in popular]
    assert counts == sorted(counts, reverse=True) and min(means) >= 3.5
    assert popular[0]["title"] == "Star Wars"


def test_a_derived_version_keeps_the_arrays_and_carries_the_new_meta(models_dir, products,
                                                                     products_recommender):
    first = artifacts.save(products_recommender.model, products, {"test": {"ndcg@5": 0.5}})
    artifacts.promote("products", first)
    record = {"weights": {"stated_genre": 2.0}, "source": "simulation"}
    derived = artifacts.derive("products", first, {artifacts.SESSION_WEIGHTS: record})
    assert artifacts.current_version("products") == first  # served only once promoted
    assert artifacts.versions("products") == sorted([first, derived]) and derived != first
    meta = artifacts.read_meta("products", derived)
    assert meta["version"] == derived and meta["previous_version"] == meta["derived_from"] == first
    assert meta["metrics"] == {"test": {"ndcg@5": 0.5}} and meta[artifacts.SESSION_WEIGHTS] == record
    assert artifacts.SESSION_WEIGHTS not in artifacts.read_meta("products", first)  # the old one unchanged
    for name in ("embeddings.npz", "popular.json"):
        assert (models_dir / "products" / derived / name).read_bytes() == \
            (models_dir / "products" / first / name).read_bytes()
    loaded, _ = artifacts.load_model(products, derived)
    np.testing.assert_array_equal(loaded.item_vectors, products_recommender.model.item_vectors)


def test_versions_made_within_one_second_get_their_own_names(models_dir):
    created = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    names = [artifacts._new_folder("products", created, "abcdef123").name for _ in range(3)]
    assert names == ["20240102-030405-abcdef", "20240102-030405-abcdef-2", "20240102-030405-abcdef-3"]
