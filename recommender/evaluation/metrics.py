"""Offline evaluation: splits, ranking metrics and a scorer-agnostic evaluator.

Protocol: every rating is an implicit positive. A seeded random split puts
a fraction of all ratings in the test set; for each user with test items,
every item they have in training is removed from the ranking, and the top
k of what remains is compared with their test items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from recommender.domain.catalog import Interactions
from recommender.model.ranking import top_k

# A scorer maps a batch of user indices to an (n_users, n_items) score matrix.
Scorer = Callable[[np.ndarray], np.ndarray]


def to_matrix(interactions: Interactions, n_users: int, n_items: int) -> sp.csr_matrix:
    """Binary user x item matrix (duplicates collapse to 1)."""
    matrix = sp.csr_matrix(
        (np.ones(len(interactions), np.float32), (interactions.users, interactions.items)),
        shape=(n_users, n_items),
    )
    matrix.data[:] = 1.0
    return matrix


def random_split(
    interactions: Interactions, test_fraction: float, seed: int
) -> tuple[Interactions, Interactions]:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be between 0 and 1")
    rng = np.random.default_rng(seed)
    test = rng.random(len(interactions)) < test_fraction
    return interactions.subset(~test), interactions.subset(test)


def latest_split(interactions: Interactions, fraction: float) -> tuple[Interactions, Interactions]:
    """Per user, their latest `fraction` of ratings (by timestamp) held out: (earlier, latest)."""
    order = np.lexsort((interactions.timestamps, interactions.users))
    counts = np.bincount(interactions.users)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    position = np.empty(len(order), dtype=int)
    position[order] = np.arange(len(order)) - starts[interactions.users[order]]
    latest = position >= np.ceil((1 - fraction) * counts[interactions.users])
    return interactions.subset(~latest), interactions.subset(latest)


def user_split(
    interactions: Interactions, held_out_fraction: float, seed: int
) -> tuple[Interactions, Interactions]:
    """Hold out whole users: (ratings of the others, ratings of the held-out users)."""
    rng = np.random.default_rng(seed)
    users = np.unique(interactions.users)
    held_out = rng.choice(users, size=max(1, int(len(users) * held_out_fraction)), replace=False)
    mask = np.isin(interactions.users, held_out)
    return interactions.subset(~mask), interactions.subset(mask)


def precision_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    return sum(1 for item in ranked[:k] if item in relevant) / k


def recall_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    if not relevant:
        return 0.0
    return sum(1 for item in ranked[:k] if item in relevant) / len(relevant)


def ndcg_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    """Binary-relevance NDCG with log2 discounts."""
    gains = [1.0 / np.log2(rank + 2) for rank, item in enumerate(ranked[:k]) if item in relevant]
    ideal = sum(1.0 / np.log2(rank + 2) for rank in range(min(k, len(relevant))))
    return float(sum(gains) / ideal) if ideal else 0.0


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    users: int


def evaluate(
    scorer: Scorer,
    train: sp.csr_matrix,
    test: sp.csr_matrix,
    ks: Iterable[int] = (5, 10),
    batch_size: int = 256,
) -> Evaluation:
    """Mean precision, recall and NDCG at each k, plus catalog coverage at max k."""
    ks = sorted(ks)
    users = np.flatnonzero(np.diff(test.indptr))
    sums = {f"{name}@{k}": 0.0 for k in ks for name in ("precision", "recall", "ndcg")}
    shown: set[int] = set()
    for start in range(0, len(users), batch_size):
        batch = users[start:start + batch_size]
        scores = np.array(scorer(batch), dtype=np.float64)
        scores[train[batch].nonzero()] = -np.inf
        for user, ranked in zip(batch, top_k(scores, ks[-1])):
            relevant = set(test.indices[test.indptr[user]:test.indptr[user + 1]])
            ranked = ranked.tolist()
            shown.update(ranked)
            for k in ks:
                sums[f"precision@{k}"] += precision_at_k(ranked, relevant, k)
                sums[f"recall@{k}"] += recall_at_k(ranked, relevant, k)
                sums[f"ndcg@{k}"] += ndcg_at_k(ranked, relevant, k)
    metrics = {name: total / max(len(users), 1) for name, total in sums.items()}
    metrics[f"coverage@{ks[-1]}"] = len(shown) / train.shape[1]
    return Evaluation(metrics, len(users))
