"""The simulated-user loop records real feedback and uses it in the next round; a run is
deterministic, honours the catalog it is given and stores its weights with that catalog's model."""

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chatrec.settings import environment
from launcher.processes import ROOT
from recommender.data import load_dataset
from recommender.domain.catalog import Dataset
from recommender.domain.constraints import Taste
from recommender.evaluation import metrics as evaluation
from recommender.experiments import simulation
from recommender.serving.service import WEIGHTS_SIMULATED, SessionWeights, load_recommender
from recommender.storage import artifacts
from recommender.storage.feedback import FeedbackStore
from tests.recommender.conftest import TINY, promote_tiny_version


@pytest.fixture
def store(tmp_path):
    store = FeedbackStore(f"sqlite:///{tmp_path / 'sim.sqlite3'}")
    store.migrate()
    return store


def test_the_loop_records_feedback_and_never_repeats(recommender, store):
    hidden = {"50", "172", "181", "1", "100", "127", "98", "174"}
    feedback = simulation.StoredFeedback(store, "sim:1")
    hits = simulation._rounds(recommender, feedback, Taste(user="196"), hidden)
    events = store.export("sim:1")["events"]
    assert len(hits) == simulation.ROUNDS and all(0 <= h <= simulation.K for h in hits)
    assert len(events) == simulation.ROUNDS * simulation.K
    items = [e["item_id"] for e in events]
    assert len(set(items)) == len(items)  # nothing shown twice
    assert all((e["kind"] == "like") == (e["item_id"] in hidden) for e in events)
    assert sum(e["kind"] == "like" for e in events) == sum(hits)


def test_the_static_baseline_stores_nothing(recommender, store):
    hits = simulation._rounds(recommender, None, Taste(genres=("comedy",)), {"1"})
    assert len(hits) == simulation.ROUNDS and store.export("sim:2")["stored"] is False


def test_the_memory_feedback_means_what_the_store_means(recommender, store):
    hidden = {"50", "172", "181", "1", "100", "127", "98", "174"}
    feedback = simulation.StoredFeedback(store, "sim:3")
    stored = simulation._rounds(recommender, feedback, Taste(user="196"), hidden)
    memory = simulation._rounds(recommender, simulation.MemoryFeedback(), Taste(user="196"), hidden)
    assert stored == memory


def test_group_summary_table_and_json(recommender, store, tmp_path):
    people = [(f"sim:{u}", Taste(user=u), {"50", "100"}) for u in ("196", "186", "22")]
    group = simulation._group(recommender, store, people, "test")
    assert group["users"] == 3
    for side in simulation.ARMS:
        assert len(group[side]["precision"]) == simulation.ROUNDS
    static = np.array([simulation._rounds(recommender, None, start, hidden) for _, start, hidden in people])
    assert group["static"]["hit_rate"] == pytest.approx((static > 0).mean(axis=0).tolist())
    assert group["static"]["precision"] == pytest.approx((static / simulation.K).mean(axis=0).tolist())
    # each group and arm stores its own feedback, under its own identities
    assert store.export("test:rerank_only:sim:196")["stored"] and store.export("test:loop:sim:196")["stored"]
    assert not store.export("test:static:sim:196")["stored"]
    row = {"stated_genre": 1.0, "said_similarity": 0.0, "said_corating": 0.2, "rejected_genre": 0.5,
           "update_steps": 0, "update_learning_rate": 0.0, "loop": {g: 0.2 for g in simulation.GROUPS},
           "ratio": {g: 1.0 for g in simulation.GROUPS}}
    validation = {"genre": [], "static": {g: 0.2 for g in simulation.GROUPS}, "loop": [row],
                  "chosen": {"stated_genre": 1.0}, "genre_share_met": True, "skipped": {}}
    bound = {"hits_added": 7, "static": [0.2, 0.1], "retrained": [0.2, 0.2]}
    results = {"known": group, "known_latest": group, "new": group, "weights": {"stated_genre": 1.0},
               "validation": validation, "retrain_bound": bound}
    text = simulation.render(results, "test machine")
    assert "re-rank only P@5" in text and "round 3" in text
    assert "all 7 round-1 hits" in text and "P@5 0.200 in rounds 2-3, against 0.150" in text
    simulation.write_json(results, tmp_path / "simulation.json")
    report = json.loads((tmp_path / "simulation.json").read_text())
    for name in ("known_users", "known_latest_users", "new_users"):
        assert set(simulation.ARMS) <= set(report[name])
        assert report[name]["loop"] == group["loop"]["precision"]
    assert report["known_users_retrain_bound"] == bound
    assert [t["group"] for t in report["targets"]] == ["known_latest", "new", "known"]
    assert [t["target"] for t in report["targets"]] == [1.05, 1.15, 1.0]
    assert all(t["met"] == (t["loop_x_static"] >= t["target"]) for t in report["targets"])


def _row(**ratios: float) -> dict:
    return {"ratio": ratios}


def test_the_chosen_weights_make_no_group_worse_when_some_setting_can():
    bold = _row(known=0.95, known_latest=1.3, new=1.2)  # the largest sum, but known users lose
    harmless = _row(known=1.0, known_latest=1.1, new=1.15)
    timid = _row(known=1.01, known_latest=1.0, new=1.0)
    assert simulation.choose([bold, harmless, timid]) is harmless
    assert simulation.choose([bold]) is bold  # nothing harmless: the largest gain


def test_latest_split_holds_out_each_users_latest_ratings(movielens):
    earlier, latest = evaluation.latest_split(movielens.interactions, 0.2)
    assert len(earlier) + len(latest) == len(movielens.interactions)
    for user in (0, 5, 100):
        first, last = earlier.timestamps[earlier.users == user], latest.timestamps[latest.users == user]
        assert len(last) >= 0.2 * (len(first) + len(last)) - 1 and first.max() <= last.min()


# ---- whole runs on small catalogs ----
SMALL_GRID = {"stated_genre": (0.0, 1.0), "said_similarity": (0.0,), "said_corating": (0.0, 0.2),
              "rejected_genre": (0.5,), "update_steps": (0, 20)}


def synthetic_catalog(folder: Path, timestamps: bool = True) -> Path:
    """60 people, 80 items in 4 genres; each person rates 30 items, mostly of their favourite genre."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    genres = ("Drama", "Comedy", "Horror", "Western")
    (folder / "catalog.json").write_text(json.dumps({"name": "synthetic", "genre_feature": "genre"}))
    with (folder / "items.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "year", "genre"])
        writer.writerows([f"i{i}", f"Item {i}", 1990 + i % 20, genres[i % 4]] for i in range(80))
    with (folder / "interactions.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "rating", "timestamp"])
        for user in range(60):
            weights = np.where(np.arange(80) % 4 == user % 4, 4.0, 1.0)
            items = rng.choice(80, 30, replace=False, p=weights / weights.sum())
            writer.writerows([f"u{user}", f"i{item}", int(rng.integers(1, 6)),
                              1000 * user + n if timestamps else 0] for n, item in enumerate(items))
    return folder


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Dataset:
    return load_dataset(str(synthetic_catalog(tmp_path_factory.mktemp("catalog") / "synthetic")))


def _small_run(dataset: Dataset) -> simulation.Run:
    return simulation.Run(dataset, TINY, None, seed=42, people=8, loop_grid=SMALL_GRID)


def test_the_same_run_gives_the_same_tables_and_weights(synthetic):
    run = _small_run(synthetic)
    first, second = simulation.simulate(run), simulation.simulate(run)
    assert all("skipped" not in first[group] for group in simulation.GROUPS)  # every group built
    assert first["retrain_bound"].get("hits_added", 0) > 0
    assert first["weights"] is not None and set(first["weights"]) == set(simulation.CHOSEN_KEYS)
    assert first == second
    assert simulation.render(first, "m", run) == simulation.render(second, "m", run)


def test_a_group_the_catalog_cannot_give_is_named_not_a_crash(tmp_path):
    dataset = load_dataset(str(synthetic_catalog(tmp_path / "untimed", timestamps=False)))
    run = _small_run(dataset)
    assert "no timestamps" in simulation.known_setup(run, dataset.interactions, 42, latest=True).missing
    products = load_dataset("products")
    too_few = simulation.known_setup(simulation.Run(products, TINY), products.interactions, 42)
    assert too_few.recommender is None and "5 or more" in too_few.missing


def _products_run(models: Path, doc: Path, reports: Path, hash_seed: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CHATREC_MODELS_DIR": str(models), "PYTHONHASHSEED": hash_seed,
           "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "recommender", "--dataset", "products", "simulate",
                           "--doc", str(doc), "--out", str(reports)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=True)


def test_products_weights_go_into_the_products_version_only(tmp_path, served_models, products):
    models = tmp_path / "models"
    shutil.copytree(served_models, models)
    measured = promote_tiny_version(models, products)
    with environment({"CHATREC_MODELS_DIR": str(models)}):
        movielens_before = {v: artifacts.read_meta("movielens-100k", v)
                            for v in artifacts.versions("movielens-100k")}
        current_movielens = artifacts.current_version("movielens-100k")
    # two processes with different string hashing: the same tables, the same weights
    _products_run(models, tmp_path / "first.md", tmp_path / "first", "1")
    _products_run(models, tmp_path / "second.md", tmp_path / "second", "2")
    first_doc, second_doc = ((tmp_path / f"{run}.md").read_text() for run in ("first", "second"))
    assert "<!-- simulation-products:start -->" in first_doc and "Catalog products" in first_doc
    assert first_doc == second_doc
    first, second = (json.loads((tmp_path / run / "simulation-products.json").read_text())
                     for run in ("first", "second"))
    assert first["dataset"] == "products" and first["weights"] == second["weights"] is not None
    assert first["known_users"] == {"skipped": "no user has 5 or more of their ratings hidden"}
    stored = first["weights_stored"]
    assert stored["promoted"] and first["version_measured"] == measured
    assert second["version_measured"] == second["weights_stored"]["version"] == stored["version"]
    with environment({"CHATREC_MODELS_DIR": str(models)}):
        assert artifacts.current_version("products") == stored["version"]
        meta = artifacts.read_meta("products", stored["version"])
        record = meta[artifacts.SESSION_WEIGHTS]
        assert record["source"] == WEIGHTS_SIMULATED and record["weights"].items() >= first["weights"].items()
        assert record["simulation"]["seed"] == 42 and record["simulation"]["measured_version"] == measured
        assert meta["previous_version"] == measured and len(artifacts.versions("products")) == 2
        assert load_recommender("products").weights == SessionWeights(**first["weights"])
        # MovieLens: nothing touched
        assert artifacts.current_version("movielens-100k") == current_movielens
        assert {v: artifacts.read_meta("movielens-100k", v)
                for v in artifacts.versions("movielens-100k")} == movielens_before


def test_without_a_served_version_nothing_is_stored(tmp_path, synthetic):
    with environment({"CHATREC_MODELS_DIR": str(tmp_path)}):
        stored = simulation.store_weights(_small_run(synthetic), {"stated_genre": 2.0}, tmp_path / "r.json")
        assert stored["version"] is None and "make train" in stored["why"]
        assert artifacts.versions("synthetic") == []
