"""Shared fixtures: MovieLens 100K and a small hybrid model trained on it once."""

from __future__ import annotations

import pytest

from recommender.catalog import Dataset
from recommender.datasets import load_dataset
from recommender.features import FeatureSpace
from recommender.model import HybridModel, ModelParams
from recommender.evaluation import to_matrix
from recommender.service import Recommender
from recommender.tuning import hybrid_features

TINY = ModelParams(no_components=16, max_sampled=10, epochs=8, seed=7)


def fit_tiny(dataset: Dataset) -> HybridModel:
    matrix = to_matrix(dataset.interactions, len(dataset.users), len(dataset.catalog))
    return HybridModel(FeatureSpace(dataset, hybrid_features(dataset)), TINY).fit(matrix.tocoo(), num_threads=1)


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
