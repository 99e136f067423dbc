"""Shared fixtures: MovieLens 100K and a small hybrid model trained on it once."""

from __future__ import annotations

import pytest

from chatrec.settings import environment
from devtools.postgres import postgres_database
from recommender.data import load_dataset
from recommender.domain.catalog import Dataset
from recommender.evaluation.metrics import evaluate, random_split, to_matrix
from recommender.model.features import FeatureSpace
from recommender.model.hybrid import HybridModel, ModelParams
from recommender.serving.service import Recommender
from recommender.storage import artifacts
from recommender.storage.feedback import FeedbackStore
from recommender.training.fit import fit_hybrid
from recommender.training.tuning import hybrid_features

TINY = ModelParams(no_components=16, max_sampled=10, epochs=8, seed=7)


def fit_tiny(dataset: Dataset) -> HybridModel:
    matrix = to_matrix(dataset.interactions, len(dataset.users), len(dataset.catalog))
    model = HybridModel(FeatureSpace(dataset, hybrid_features(dataset)), TINY)
    return model.fit(matrix.tocoo(), num_threads=1)


@pytest.fixture(scope="session")
def movielens() -> Dataset:
    return load_dataset("movielens-100k")


@pytest.fixture(scope="session")
def model(movielens: Dataset) -> HybridModel:
    return fit_tiny(movielens)


@pytest.fixture(scope="session")
def recommender(movielens: Dataset, model: HybridModel) -> Recommender:
    return Recommender(movielens, model)


@pytest.fixture(scope="session")
def products() -> Dataset:
    return load_dataset("products")


@pytest.fixture(scope="session")
def products_recommender(products: Dataset) -> Recommender:
    return Recommender(products, fit_tiny(products))


def promote_tiny_version(models_dir, dataset: Dataset, params: ModelParams = TINY) -> str:
    """Train, measure (seed-42 test split, as `make train` does), save and serve a small model."""
    with environment({"CHATREC_MODELS_DIR": str(models_dir)}):
        train, test = random_split(dataset.interactions, 0.2, 42)
        features = hybrid_features(dataset)
        measured = fit_hybrid(dataset, train, features, params, 1)
        n_users, n_items = len(dataset.users), len(dataset.catalog)
        metrics = evaluate(measured.scores, to_matrix(train, n_users, n_items),
                           to_matrix(test, n_users, n_items)).metrics
        model = fit_hybrid(dataset, dataset.interactions, features, params, 1)
        version = artifacts.save(model, dataset, {"test": metrics})
        artifacts.promote(dataset.name, version)
        return version


@pytest.fixture(scope="session")
def served_models(tmp_path_factory, movielens: Dataset):
    """A models folder serving a small MovieLens model."""
    folder = tmp_path_factory.mktemp("models")
    promote_tiny_version(folder, movielens)
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    """An empty, migrated feedback store on a real SQLite file and a real PostgreSQL database."""
    if request.param == "sqlite":
        store = FeedbackStore(f"sqlite:///{tmp_path / 'feedback.sqlite3'}")
        store.migrate()
        yield store
        store.engine.dispose()
    else:
        with postgres_database() as url:
            store = FeedbackStore(url)
            store.migrate()
            yield store
            store.engine.dispose()
