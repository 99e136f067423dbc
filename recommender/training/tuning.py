"""Hyper-parameter search on a validation split carved from the training data.

The test split is never looked at here. LightFM's number of epochs is
searched inside one run per candidate: the model is scored on the
validation split every `step` epochs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import scipy.sparse as sp
from tqdm import tqdm

from recommender.domain.catalog import Dataset
from recommender.evaluation.metrics import evaluate
from recommender.model.features import DECADE, FeatureConfig, FeatureSpace
from recommender.model.hybrid import HybridModel, ModelParams

SELECTION_METRIC = "ndcg@5"

# Feature-group weights relative to the identity feature (weight 1). Genre and
# decade were set on the validation split (docs/evaluation.md); the knowledge-graph
# groups (actor ... series) are starting values only: MovieLens's graph does not
# load (its links are wrong, docs/data.md). Groups a catalog does not have are
# absent; a group not listed here gets DEFAULT_ITEM_WEIGHT.
ITEM_WEIGHTS = {"genre": 1.0, DECADE: 0.5, "actor": 0.3, "director": 0.15, "writer": 0.15,
                "producer": 0.15, "award": 0.15, "language": 0.1, "country": 0.1, "series": 0.15}
DEFAULT_ITEM_WEIGHT = 0.5
USER_WEIGHT = 0.05


def hybrid_features(dataset: Dataset) -> FeatureConfig:
    """The hybrid's features: every item feature group of the catalog plus the
    decade, and every user feature group (MovieLens: age band, gender, occupation)."""
    item_groups = sorted({name for item in dataset.catalog.items for name in item.features})
    user_groups = sorted({name for user in dataset.users for name in user.features})
    weights = {g: ITEM_WEIGHTS.get(g, DEFAULT_ITEM_WEIGHT) for g in item_groups}
    if any(item.year for item in dataset.catalog.items):
        weights[DECADE] = ITEM_WEIGHTS[DECADE]
    return FeatureConfig(item_groups=weights, user_groups={g: USER_WEIGHT for g in user_groups})


@dataclass(frozen=True)
class SearchSpace:
    """What to try for each model. `quick()` is the tiny space the tests use."""

    lightfm: Sequence[ModelParams] = tuple(
        ModelParams(no_components=64, max_sampled=50, item_alpha=alpha, user_alpha=alpha)
        for alpha in (3e-5, 1e-4, 3e-4)
    )
    max_epochs: int = 90
    epoch_step: int = 10
    knn: Sequence[dict] = tuple({"neighbours": n} for n in (50, 100, 200, 400))
    als: Sequence[dict] = tuple(
        {"factors": f, "regularization": r, "alpha": a}
        for f in (32, 64, 128) for r in (1.0, 10.0, 30.0) for a in (1.0, 2.0)
    )
    ease: Sequence[dict] = tuple({"regularization": r} for r in (50.0, 100.0, 200.0, 400.0, 800.0, 1600.0))

    @classmethod
    def first_run(cls) -> SearchSpace:
        """The first start (`make run` with nothing served): the configuration the whole search
        chose on MovieLens (docs/evaluation.md), its epochs still picked on validation; `make
        train` searches everything."""
        return cls(lightfm=(ModelParams(no_components=64, max_sampled=50, item_alpha=3e-4, user_alpha=3e-4),),
                   max_epochs=70)

    @classmethod
    def quick(cls) -> SearchSpace:
        return cls(
            lightfm=(ModelParams(no_components=16, max_sampled=10),),
            max_epochs=4, epoch_step=2,
            knn=({"neighbours": 50},),
            als=({"factors": 16, "regularization": 1.0, "alpha": 1.0},),
            ease=({"regularization": 200.0},),
        )


@dataclass
class Trial:
    params: dict
    metrics: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return self.metrics[SELECTION_METRIC]


def tune_lightfm(
    dataset: Dataset,
    features: FeatureConfig,
    train: sp.csr_matrix,
    valid: sp.csr_matrix,
    space: SearchSpace,
    threads: int,
) -> tuple[ModelParams, list[Trial]]:
    """Best (params, epochs) on the validation split, and every trial."""
    feature_space = FeatureSpace(dataset, features)
    trials: list[Trial] = []
    progress = tqdm(total=len(space.lightfm) * space.max_epochs, desc="tuning LightFM (epochs)",
                    leave=False, disable=None)
    for params in space.lightfm:
        def record(model: HybridModel, epoch: int, params: ModelParams = params) -> None:
            progress.update()
            if epoch % space.epoch_step == 0:
                metrics = evaluate(model.scores, train, valid).metrics
                trials.append(Trial({**vars(params), "epochs": epoch}, metrics))

        HybridModel(feature_space, params).fit(
            train.tocoo(), epochs=space.max_epochs, num_threads=threads, after_epoch=record
        )
    progress.close()
    best = max(trials, key=lambda t: t.score)
    return ModelParams(**best.params), trials


def tune_baseline(
    factory: Callable[..., Any],
    grid: Sequence[dict],
    train: sp.csr_matrix,
    valid: sp.csr_matrix,
) -> tuple[dict, list[Trial]]:
    trials = []
    for params in tqdm(grid, desc=f"tuning {factory.__name__}", leave=False, disable=None):
        model = factory(**params).fit(train)
        trials.append(Trial(dict(params), evaluate(model.scores, train, valid).metrics))
    best = max(trials, key=lambda t: t.score)
    return best.params, trials
