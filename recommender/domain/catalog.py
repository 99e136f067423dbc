"""The domain model: items, users and their interactions.

Nothing here is movie-specific. An item has an id, a title, an optional year
and named multi-valued features ("genre", "director", "category", ...). One
feature name is the catalog's *genre feature*: the one that conversation
constraints such as "a comedy" or "no horror" refer to.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

TRAILING_ARTICLE = re.compile(r"^(?P<rest>.+), (?P<article>The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$")
ALTERNATE_TITLE = re.compile(r"\s*\([^)]*\)\s*$")  # "Visitors, The (Visiteurs, Les)"


def natural_title(title: str) -> str:
    """"Godfather, The" -> "The Godfather"; alternate titles in brackets dropped."""
    base = ALTERNATE_TITLE.sub("", title).strip() or title
    moved = TRAILING_ARTICLE.match(base)
    return f"{moved['article']} {moved['rest']}" if moved else base


def plural(noun: str) -> str:
    if re.search(r"(s|x|z|ch|sh)$", noun):
        return noun + "es"
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    return noun + "s"


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    year: int | None = None
    features: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    price: float | None = None  # the catalog's price column, when it has one (not a model feature)

    def values(self, feature: str) -> tuple[str, ...]:
        return self.features.get(feature, ())

    @property
    def label(self) -> str:
        """Title as people write it, with its year: "The Godfather (1972)" (the catalog
        may say "Godfather, The"; matching uses the catalog's form)."""
        title = natural_title(self.title)
        return f"{title} ({self.year})" if self.year else title


@dataclass(frozen=True)
class User:
    id: str
    features: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Interactions:
    """Parallel arrays of (user index, item index, rating, timestamp)."""

    users: np.ndarray
    items: np.ndarray
    ratings: np.ndarray
    timestamps: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    def subset(self, mask: np.ndarray) -> Interactions:
        return Interactions(
            self.users[mask], self.items[mask], self.ratings[mask], self.timestamps[mask]
        )


class Catalog:
    """Items with lookup by id, plus the catalog's vocabulary."""

    def __init__(
        self,
        name: str,
        items: Sequence[Item],
        genre_feature: str = "genre",
        item_noun: str = "item",
        genre_synonyms: Mapping[str, str] | None = None,
        translations: Mapping[str, Mapping] | None = None,
        price_feature: str | None = None,
    ) -> None:
        if not items:
            raise ValueError(f"catalog {name!r} has no items")
        self.name = name
        self.items = list(items)
        self.genre_feature = genre_feature
        self.item_noun = item_noun
        self.price_feature = price_feature  # the column `Item.price` was read from (None: no prices)
        # language -> {"item_noun", "genre_word", "genres": {catalog genre: its name}}; names are synonyms too
        self.translations = {language: dict(words) for language, words in (translations or {}).items()}
        named = {name: genre for words in self.translations.values()
                 for genre, name in words.get("genres", {}).items()}
        self.genre_synonyms = {**named, **(genre_synonyms or {})}
        self._index = {item.id: i for i, item in enumerate(self.items)}
        if len(self._index) != len(self.items):
            raise ValueError(f"catalog {name!r} has duplicate item ids")

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._index

    def index(self, item_id: str) -> int:
        return self._index[item_id]

    def get(self, item_id: str) -> Item:
        return self.items[self._index[item_id]]

    def genres_of(self, item: Item) -> tuple[str, ...]:
        return item.values(self.genre_feature)

    @property
    def genres(self) -> list[str]:
        return sorted({g for item in self.items for g in self.genres_of(item)})

    @property
    def years(self) -> np.ndarray:
        """Year per item index; 0 where unknown."""
        return np.array([item.year or 0 for item in self.items], dtype=np.int32)

    @property
    def prices(self) -> np.ndarray:
        """Price per item index; NaN where unknown."""
        return np.array([np.nan if item.price is None else item.price for item in self.items])

    def vocabulary(self) -> dict:
        """How the conversation speaks of this catalog: nouns, the genre-like feature, years."""
        known = [item.year for item in self.items if item.year]
        return {"item_noun": self.item_noun, "item_nouns": plural(self.item_noun),
                "genre_word": self.genre_feature, "first_year": min(known) if known else None,
                "last_year": max(known) if known else None,
                "genre_phrases": sorted({word.lower() for word in [*self.genres, *self.genre_synonyms]}),
                "translations": self.translations, "priced": self.price_feature is not None}


class Dataset:
    """A catalog together with its users and their interactions."""

    def __init__(self, catalog: Catalog, users: Sequence[User], interactions: Interactions) -> None:
        self.catalog = catalog
        self.users = list(users)
        self.interactions = interactions
        self._user_index = {user.id: i for i, user in enumerate(self.users)}

    @property
    def name(self) -> str:
        return self.catalog.name

    def user_index(self, user_id: str) -> int:
        return self._user_index[user_id]

    def has_user(self, user_id: str) -> bool:
        return user_id in self._user_index

    def fingerprint(self) -> str:
        """A short hash of everything the model learns from."""
        digest = hashlib.sha256()
        for item in self.catalog.items:
            described = [item.id, item.title, item.year, dict(item.features)]
            digest.update(json.dumps(described + ([item.price] if item.price is not None else []),
                                     sort_keys=True).encode())
        for user in self.users:
            digest.update(json.dumps([user.id, dict(user.features)], sort_keys=True).encode())
        for array in (self.interactions.users, self.interactions.items, self.interactions.ratings):
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:16]


def build_interactions(
    rows: Iterable[tuple[str, str, float, float]],
    user_index: Mapping[str, int],
    catalog: Catalog,
) -> Interactions:
    """Turn (user id, item id, rating, timestamp) rows into index arrays.

    Rows naming an unknown user or item raise ValueError: a catalog whose
    interactions point nowhere is broken, not something to skip silently.
    """
    users, items, ratings, stamps = [], [], [], []
    for user_id, item_id, rating, stamp in rows:
        if user_id not in user_index:
            raise ValueError(f"interaction for unknown user {user_id!r}")
        if item_id not in catalog:
            raise ValueError(f"interaction for unknown item {item_id!r}")
        users.append(user_index[user_id])
        items.append(catalog.index(item_id))
        ratings.append(float(rating))
        stamps.append(float(stamp))
    return Interactions(
        np.array(users, dtype=np.int32),
        np.array(items, dtype=np.int32),
        np.array(ratings, dtype=np.float32),
        np.array(stamps, dtype=np.float64),
    )
