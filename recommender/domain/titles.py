"""Find catalog items and genres from what people type.

Titles are matched on a normalised key (case, accents, punctuation, a
leading or trailing article and a year in brackets removed), exactly first
and then with rapidfuzz, so "the godfather", "Godfather, The",
"godfathr" and "Toy Story (1995)" all find their item.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from recommender.domain.catalog import Catalog, Item

ARTICLES = ("the", "a", "an", "la", "le", "les", "il", "el", "der", "die", "das")
_YEAR = re.compile(r"\(\s*((?:19|20)\d\d)\s*\)|\b((?:19|20)\d\d)\s*$")
_TRAILING_ARTICLE = re.compile(rf",\s*({'|'.join(ARTICLES)})$", re.IGNORECASE)
_NON_WORD = re.compile(r"[^a-z0-9]+")
_ALTERNATIVE = re.compile(r"\(([^)]*[a-zA-Z][^)]*)\)")

FUZZY_CUTOFF = 84.0
# A query whose words all appear in a title ("godfather" in "godfather part
# ii") scores 90: below an exact title, above the cutoff. Only for queries
# of 4 letters or more, so "it" or "the" do not match half the catalog.
SUBSET_WEIGHT = 0.9
SUBSET_MIN_LENGTH = 4


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def title_key(title: str) -> str:
    """'Godfather, The (1972)' -> 'godfather'."""
    text = _ascii(title).strip()
    text = _YEAR.sub("", text).strip()
    text = _TRAILING_ARTICLE.sub("", text)
    words = _NON_WORD.sub(" ", text.lower()).split()
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def _year_in(text: str) -> int | None:
    match = _YEAR.search(text.strip())
    return int(match.group(1) or match.group(2)) if match else None


def _keys_for(title: str) -> list[str]:
    """Main title plus alternative titles given in brackets."""
    keys = [title_key(_ALTERNATIVE.sub("", title))]
    keys += [title_key(alt) for alt in _ALTERNATIVE.findall(title)]
    return [key for key in dict.fromkeys(keys) if key]


@dataclass(frozen=True)
class TitleMatch:
    item: Item
    score: float  # 100 for an exact key match


class TitleIndex:
    def __init__(self, catalog: Catalog, popularity: Sequence[float] | None = None) -> None:
        self.catalog = catalog
        self._popularity = list(popularity) if popularity is not None else [0.0] * len(catalog)
        self._keys: list[str] = []
        self._owners: list[int] = []
        for index, item in enumerate(catalog.items):
            for key in _keys_for(item.title):
                self._keys.append(key)
                self._owners.append(index)

    def search(self, text: str, limit: int = 5) -> list[TitleMatch]:
        """Best candidates for `text`, best first; empty when nothing is close."""
        key = title_key(text)
        if not key:
            return []
        year = _year_in(text)
        passes = [(fuzz.ratio, 1.0)]
        if len(key) >= SUBSET_MIN_LENGTH:
            passes.append((fuzz.token_set_ratio, SUBSET_WEIGHT))
        scored: dict[int, float] = {}
        for scorer, weight in passes:
            for _key, score, position in process.extract(
                key, self._keys, scorer=scorer, processor=None, limit=None,
                score_cutoff=FUZZY_CUTOFF / weight,
            ):
                owner = self._owners[position]
                scored[owner] = max(scored.get(owner, 0.0), score * weight)
        if year is not None:
            scored = {i: s for i, s in scored.items() if self.catalog.items[i].year == year} or scored
        ranked = sorted(scored, key=lambda i: (-scored[i], -self._popularity[i]))
        return [TitleMatch(self.catalog.items[i], scored[i]) for i in ranked[:limit]]

    def find(self, text: str) -> Item | None:
        matches = self.search(text, limit=1)
        return matches[0].item if matches else None


def genre_key(text: str) -> str:
    """"Sci-Fi" -> "scifi", "Café" -> "cafe"; letters of other scripts kept ("科幻")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if c.isalnum() and c.isascii() or c.isalpha() and not c.isascii()
                   and unicodedata.category(c) != "Mn")


class GenreVocabulary:
    """Maps genre words ("sci fi", "scifi", "science fiction") to catalog genres."""

    def __init__(self, genres: Sequence[str], synonyms: Mapping[str, str] | None = None) -> None:
        self.genres = sorted(genres)
        self._lookup = {genre_key(g): g for g in self.genres}
        for word, genre in (synonyms or {}).items():
            if genre in self.genres:
                self._lookup.setdefault(genre_key(word), genre)

    def find(self, text: str) -> str | None:
        key = genre_key(text)
        if not key:
            return None
        for candidate in (key, key[:-1] if key.endswith("s") else key, re.sub("ies$", "y", key)):
            if candidate in self._lookup:
                return self._lookup[candidate]
        best = process.extractOne(key, list(self._lookup), scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return self._lookup[best[0]] if best else None
