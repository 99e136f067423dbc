"""Everything needed to score and explain for one person: built by the Recommender,
read by the explanations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from recommender.domain.catalog import Catalog, Dataset, Item
from recommender.model.corating import CoRatings
from recommender.model.embeddings import Embeddings


@dataclass(frozen=True)
class Profile:
    vector: np.ndarray
    leave_out: list[int]  # item indices never to recommend
    liked: list[tuple[int, float | None]]  # (item index, rating or None when said)
    disliked: list[int]
    said: list[int]  # items liked in conversation or feedback (not dataset history)
    genres: list[str]  # genres they said they like (catalog names)
    how: dict[int, str]  # liked item -> how they told us: "rating:<stars>", "button" (👍) or "said"
    genre_words: dict[str, str]  # stated genre (catalog name) -> the word they used
    # stated genre (catalog name) -> how they said it ("love westerns"; "" unknown)
    genre_phrases: dict[str, str]
    model_row: int | None  # the user's row in the model, when it was trained on them
    rated: int  # how many ratings of theirs the dataset holds (0 for someone new)
    personal: bool  # False: nothing to go on but popularity


class Scored(Protocol):
    """What explanations read from a Recommender (recommender/serving/service.py)."""

    dataset: Dataset
    catalog: Catalog
    model: Embeddings
    co_ratings: CoRatings
    neighbours: int
    rating_counts: np.ndarray
    mean_ratings: np.ndarray

    def find_item(self, reference: str) -> Item: ...

    def attribute(self, name: str) -> np.ndarray: ...
