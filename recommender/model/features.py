"""Item and user feature matrices for LightFM.

Every item row holds its identity feature (so the model keeps a
collaborative signal per item) plus one column per feature value it has:
`genre:Comedy`, `decade:1990s`, `director:m.0bln8`, ... Each feature group
has a weight; a group's weight is shared among the item's values in that
group, and rows are normalised to sum to 1 as LightFM recommends. Values
held by fewer than `min_items` items are dropped: they would only
duplicate the identity feature.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field

import numpy as np
import scipy.sparse as sp

from recommender.domain.catalog import Dataset, Item

DECADE = "decade"


@dataclass(frozen=True)
class FeatureConfig:
    item_groups: dict[str, float] = field(default_factory=dict)  # group -> weight
    user_groups: dict[str, float] = field(default_factory=dict)
    min_items: int = 2

    @classmethod
    def collaborative(cls) -> FeatureConfig:
        """Identity features only: pure collaborative filtering."""
        return cls()


def decade_of(item: Item) -> str | None:
    return f"{item.year // 10 * 10}s" if item.year else None


def item_values(item: Item, group: str) -> tuple[str, ...]:
    if group == DECADE:
        decade = decade_of(item)
        return (decade,) if decade else ()
    return item.values(group)


def _weighted_rows(rows: list[dict[str, float]], names: list[str]) -> sp.csr_matrix:
    """Identity block followed by the named feature columns, rows summing to 1."""
    column = {name: len(rows) + i for i, name in enumerate(names)}
    data, indices, indptr = [], [], [0]
    for index, row in enumerate(rows):
        entries = [(index, 1.0)]
        entries += [(column[name], weight) for name, weight in row.items() if name in column]
        total = sum(weight for _, weight in entries) or 1.0
        for col, weight in entries:
            indices.append(col)
            data.append(weight / total)
        indptr.append(len(indices))
    shape = (len(rows), len(rows) + len(names))
    return sp.csr_matrix((np.array(data, np.float32), indices, indptr), shape=shape)


class FeatureSpace:
    """The feature vocabulary of one dataset under one configuration."""

    def __init__(self, dataset: Dataset, config: FeatureConfig) -> None:
        self.config = config
        self.user_ids = [user.id for user in dataset.users]  # model row -> user id
        self._item_rows = [self._item_row(item) for item in dataset.catalog.items]
        counts = Counter(name for row in self._item_rows for name in row)
        self.item_feature_names = sorted(n for n, c in counts.items() if c >= config.min_items)
        self._user_rows = [
            {f"{group}:{user.features[group]}": weight
             for group, weight in config.user_groups.items() if group in user.features}
            for user in dataset.users
        ]
        self.user_feature_names = sorted({name for row in self._user_rows for name in row})
        self.item_features = _weighted_rows(self._item_rows, self.item_feature_names)
        self.user_features = _weighted_rows(self._user_rows, self.user_feature_names)

    def _item_row(self, item: Item) -> dict[str, float]:
        row: dict[str, float] = {}
        for group, weight in self.config.item_groups.items():
            values = item_values(item, group)
            for value in values:
                row[f"{group}:{value}"] = weight / len(values)
        return row

    def fingerprint(self) -> str:
        digest = hashlib.sha256(json.dumps(asdict(self.config), sort_keys=True).encode())
        digest.update("\n".join(self.item_feature_names + self.user_feature_names).encode())
        return digest.hexdigest()[:16]
