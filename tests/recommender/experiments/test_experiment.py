"""`make eval`, `make train` and the demo, end to end on a tiny search space."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recommender.experiments import offline as experiment
from recommender.training.tuning import SearchSpace

ROOT = Path(__file__).resolve().parents[3]
MODELS = ("lightfm-hybrid", "lightfm-cf", "popularity", "item-knn", "implicit-als", "ease")
METRICS = ("precision@5", "recall@5", "ndcg@5", "precision@10", "recall@10", "ndcg@10", "coverage@10")


@pytest.fixture(scope="module")
def report(movielens, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    return experiment.run(movielens, SearchSpace.quick(), seed=3, report_dir=folder), folder


def test_report_has_every_model_and_metric_on_one_split(report, movielens):
    data, folder = report
    assert set(data["models"]) == set(MODELS)
    for name in MODELS:
        for metric in METRICS:
            assert 0.0 <= data["models"][name][metric] <= 1.0
    split = data["split"]
    assert split["seed"] == 3
    assert split["train_ratings"] + split["test_ratings"] == len(movielens.interactions)
    assert json.loads((folder / "eval.json").read_text()) == data
    assert (folder / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_learned_models_beat_popularity_even_when_tiny(report):
    data, _ = report
    for name in ("item-knn", "implicit-als", "ease", "lightfm-hybrid"):
        assert data["models"][name]["ndcg@5"] > data["models"]["popularity"]["ndcg@5"], name


def test_cold_start_is_measured_against_popularity(report):
    cold = report[0]["cold_start"]
    assert cold["users"] >= 80 and cold["liked_titles_given"] == 3
    assert set(cold["models"]) == {"hybrid-cold-start", "popularity"}


def test_table_prints_every_model(report):
    text = experiment.table(report[0])
    for name in MODELS:
        assert name in text
    assert "Cold start" in text


def _cli(*args, env):
    return subprocess.run([sys.executable, "-m", "recommender", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def test_train_then_demo_from_the_command_line(tmp_path):
    env = {**os.environ, "CHATREC_MODELS_DIR": str(tmp_path)}
    trained = _cli("train", "--quick", env=env)
    assert trained.returncode == 0, trained.stderr
    assert "trained and promoted" in trained.stdout
    again = _cli("train", "--quick", "--if-missing", env=env)
    assert "nothing to train" in again.stdout
    # a version saved by an older Chat-Rec (format 2: a pickled model) is retrained on the next start
    served = tmp_path / "movielens-100k" / (tmp_path / "movielens-100k" / "CURRENT").read_text().strip()
    meta = json.loads((served / "meta.json").read_text())
    (served / "meta.json").write_text(json.dumps({**meta, "format": 2}))
    retrained = _cli("train", "--quick", "--if-missing", env=env)
    assert "trained and promoted" in retrained.stdout, retrained.stdout + retrained.stderr
    current = tmp_path / "movielens-100k" / (tmp_path / "movielens-100k" / "CURRENT").read_text().strip()
    assert current != served and (current / "embeddings.npz").is_file()
    assert not list(current.glob("*.pkl"))
    demo = _cli("demo", env=env)
    assert demo.returncode == 0, demo.stderr
    assert "Why " in demo.stdout and "No film in the catalog matches" in demo.stdout


def test_demo_without_a_model_says_how_to_train(tmp_path):
    demo = _cli("demo", env={**os.environ, "CHATREC_MODELS_DIR": str(tmp_path)})
    assert demo.returncode == 1 and "make train" in demo.stderr
