"""What a practitioner would use instead of the hybrid: the evaluation's baselines.

Each baseline is fitted on a binary user x item matrix and scores users by
index, so `evaluation.evaluate` treats them exactly like the hybrid.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from implicit.nearest_neighbours import CosineRecommender
from implicit.utils import ParameterWarning


class Popularity:
    """Items ranked by how many users interacted with them."""

    def fit(self, train: sp.csr_matrix) -> Popularity:
        self.counts = np.asarray(train.sum(axis=0)).ravel().astype(np.float32)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.counts, (len(users), 1))


class ItemKNN:
    """Item-based k-nearest neighbours on cosine similarity of item columns (implicit's
    CosineRecommender): an item scores by the user's items among its `neighbours` nearest."""

    def __init__(self, neighbours: int = 50) -> None:
        self.neighbours = neighbours

    def fit(self, train: sp.csr_matrix) -> ItemKNN:
        self.train = train.tocsr().astype(np.float32)
        model = CosineRecommender(K=self.neighbours)
        with warnings.catch_warnings():  # implicit converts its own normalised matrix and says so
            warnings.simplefilter("ignore", ParameterWarning)
            model.fit(self.train, show_progress=False)
        self.neighbours_of = model.similarity.T.tocsr()  # column j: item j's nearest items
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return (self.train[users] @ self.neighbours_of).toarray()


class ALS:
    """Implicit-feedback matrix factorisation from the `implicit` library."""

    def __init__(self, factors: int = 64, regularization: float = 0.05,
                 alpha: float = 1.0, iterations: int = 15, seed: int = 42) -> None:
        self.params = dict(factors=factors, regularization=regularization, alpha=alpha,
                           iterations=iterations, random_state=seed)

    def fit(self, train: sp.csr_matrix) -> ALS:
        from implicit.cpu.als import AlternatingLeastSquares

        self.model = AlternatingLeastSquares(**self.params, calculate_training_loss=False)
        self.model.fit(train.tocsr().astype(np.float32), show_progress=False)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self.model.user_factors[users] @ self.model.item_factors.T


class EASE:
    """Steck's EASE: a closed-form item-item linear model (the diagonal held at 0).

    B = I - P / diag(P) with P = (X^T X + λI)^-1; a user's scores are their row times B.
    """

    def __init__(self, regularization: float = 250.0) -> None:
        self.regularization = regularization

    def fit(self, train: sp.csr_matrix) -> EASE:
        self.train = train.tocsr().astype(np.float64)
        gram = (self.train.T @ self.train).toarray()
        gram[np.diag_indices_from(gram)] += self.regularization
        inverse = np.linalg.inv(gram)
        self.weights = -inverse / np.diag(inverse)[np.newaxis, :]
        np.fill_diagonal(self.weights, 0.0)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.train[users] @ self.weights)
