"""Fitting the hybrid: what production training, retraining and the offline experiments share."""

from __future__ import annotations

from tqdm import tqdm

from recommender.domain.catalog import Dataset, Interactions
from recommender.evaluation.metrics import to_matrix
from recommender.model.features import FeatureConfig, FeatureSpace
from recommender.model.hybrid import HybridModel, ModelParams
from recommender.storage import artifacts

# What experiments and benchmarks fit with before `make train` has chosen parameters.
FALLBACK_PARAMS = ModelParams(no_components=64, max_sampled=50, item_alpha=1e-4, user_alpha=1e-4, epochs=30)


def matrices(dataset: Dataset, *parts: Interactions):
    return [to_matrix(part, len(dataset.users), len(dataset.catalog)) for part in parts]


def fit_hybrid(dataset: Dataset, interactions: Interactions, features: FeatureConfig,
               params: ModelParams, threads: int) -> HybridModel:
    (matrix,) = matrices(dataset, interactions)
    with tqdm(total=params.epochs, desc="fitting LightFM (epochs)", leave=False, disable=None) as progress:
        return HybridModel(FeatureSpace(dataset, features), params).fit(
            matrix.tocoo(), num_threads=threads, after_epoch=lambda *_: progress.update())


def served_params(dataset: Dataset) -> ModelParams:
    """The served version's parameters, or FALLBACK_PARAMS before `make train`."""
    version = artifacts.current_version(dataset.name)
    if not version:
        return FALLBACK_PARAMS
    return ModelParams(**artifacts.params_of(artifacts.read_meta(dataset.name, version)))
