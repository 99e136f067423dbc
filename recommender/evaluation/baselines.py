"""What a practitioner would use instead of the hybrid: the evaluation's baselines.

Each baseline is fitted on a binary user x item matrix and scores users by
index, so `evaluation.evaluate` treats them exactly like the hybrid.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class Popularity:
    """Items ranked by how many users interacted with them."""

    def fit(self, train: sp.csr_matrix) -> "Popularity":
        self.counts = np.asarray(train.sum(axis=0)).ravel().astype(np.float32)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.counts, (len(users), 1))


class ItemKNN:
    """Item-based k-nearest neighbours on cosine similarity of item columns."""

    def __init__(self, neighbours: int = 50) -> None:
        self.neighbours = neighbours

    def fit(self, train: sp.csr_matrix) -> "ItemKNN":
        self.train = train.tocsr().astype(np.float32)
        norms = np.sqrt(np.asarray(self.train.power(2).sum(axis=0)).ravel()) + 1e-9
        unit = self.train.multiply(1.0 / norms).tocsc()
        similarity = np.asarray((unit.T @ unit).todense())
        np.fill_diagonal(similarity, 0.0)
        if self.neighbours < similarity.shape[0]:
            # keep each item's strongest neighbours only
            cutoff = -np.partition(-similarity, self.neighbours - 1, axis=0)[self.neighbours - 1]
            similarity[similarity < cutoff[np.newaxis, :]] = 0.0
        self.similarity = similarity
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.train[users] @ self.similarity)


class ALS:
    """Implicit-feedback matrix factorisation from the `implicit` library."""

    def __init__(self, factors: int = 64, regularization: float = 0.05,
                 alpha: float = 1.0, iterations: int = 15, seed: int = 42) -> None:
        self.params = dict(factors=factors, regularization=regularization, alpha=alpha,
                           iterations=iterations, random_state=seed)

    def fit(self, train: sp.csr_matrix) -> "ALS":
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

    def fit(self, train: sp.csr_matrix) -> "EASE":
        self.train = train.tocsr().astype(np.float64)
        gram = (self.train.T @ self.train).toarray()
        gram[np.diag_indices_from(gram)] += self.regularization
        inverse = np.linalg.inv(gram)
        self.weights = -inverse / np.diag(inverse)[np.newaxis, :]
        np.fill_diagonal(self.weights, 0.0)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.train[users] @ self.weights)
