"""Ranking metrics on tiny hand-computed cases, the splits, and the evaluator."""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recommender.domain.catalog import Interactions
from recommender.evaluation.metrics import (
    evaluate,
    ndcg_at_k,
    precision_at_k,
    random_split,
    recall_at_k,
    user_split,
)
from recommender.model.ranking import top_k


def test_precision_recall_ndcg_by_hand():
    ranked, relevant = [3, 1, 4, 5, 9], {1, 5, 7}
    assert precision_at_k(ranked, relevant, 5) == pytest.approx(2 / 5)
    assert recall_at_k(ranked, relevant, 5) == pytest.approx(2 / 3)
    # hits at ranks 2 and 4: (1/log2(3) + 1/log2(5)) / (1 + 1/log2(3) + 1/log2(4))
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    assert ndcg_at_k(ranked, relevant, 5) == pytest.approx(expected)
    assert precision_at_k(ranked, relevant, 2) == pytest.approx(1 / 2)
    assert ndcg_at_k([1, 5, 7], relevant, 3) == pytest.approx(1.0)
    assert ndcg_at_k([2, 3], relevant, 2) == 0.0
    assert recall_at_k(ranked, set(), 5) == 0.0


def test_top_k_is_sorted_best_first():
    scores = np.array([[0.1, 0.9, 0.5, 0.7], [4.0, 3.0, 2.0, 1.0]])
    np.testing.assert_array_equal(top_k(scores, 3), [[1, 3, 2], [0, 1, 2]])
    np.testing.assert_array_equal(top_k(scores, 10), [[1, 3, 2, 0], [0, 1, 2, 3]])


def _interactions(n: int) -> Interactions:
    rng = np.random.default_rng(0)
    return Interactions(rng.integers(0, 50, n).astype(np.int32), rng.integers(0, 80, n).astype(np.int32),
                        np.ones(n, np.float32), np.zeros(n))


def test_random_split_is_seeded_disjoint_and_sized():
    data = _interactions(10_000)
    train, test = random_split(data, 0.2, seed=1)
    again, _ = random_split(data, 0.2, seed=1)
    np.testing.assert_array_equal(train.items, again.items)
    assert len(train) + len(test) == 10_000 and 1800 < len(test) < 2200
    with pytest.raises(ValueError):
        random_split(data, 1.5, seed=1)


def test_user_split_holds_out_whole_users():
    data = _interactions(5_000)
    others, held = user_split(data, 0.1, seed=3)
    assert not set(others.users.tolist()) & set(held.users.tolist())
    assert len(set(held.users.tolist())) == 5


def test_evaluate_excludes_training_items_and_averages_over_test_users():
    # 2 users x 4 items. User 0 trained on item 0, test item 2; user 1 trained on 1, test 3.
    train = sp.csr_matrix(np.array([[1, 0, 0, 0], [0, 1, 0, 0]], np.float32))
    test = sp.csr_matrix(np.array([[0, 0, 1, 0], [0, 0, 0, 1]], np.float32))
    scores = np.array([[9.0, 1.0, 5.0, 7.0],   # ranks (item 0 excluded): 3, 2, 1
                       [0.0, 9.0, 8.0, 7.0]])  # ranks (item 1 excluded): 2, 3, 0

    result = evaluate(lambda users: scores[users], train, test, ks=(1, 2))
    # user 0: top-2 = [3, 2] -> P@1 0, P@2 1/2, NDCG@2 = (1/log2 3)/1; user 1: [2, 3] -> same
    assert result.users == 2
    assert result.metrics["precision@1"] == 0.0
    assert result.metrics["precision@2"] == pytest.approx(0.5)
    assert result.metrics["recall@2"] == pytest.approx(1.0)
    assert result.metrics["ndcg@2"] == pytest.approx(1 / math.log2(3))
    assert result.metrics["coverage@2"] == pytest.approx(2 / 4)  # items 2 and 3 shown
