"""The serving API: what the Celery tasks (and anything else) call.

A `Recommender` wraps a dataset and a trained `HybridModel`. Users are
either known users of the dataset (by id) or a `Taste` — stated preferences
of someone new, folded into a user vector without retraining. Items may be
named by id or by title; titles go through the fuzzy title index.

Bad requests raise `InvalidRequest`, `UnknownUser` or `UnknownItem` with a
message meant for people; a valid request with no matching item returns an
empty `Recommendations` whose `reason` says why.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, fields

import numpy as np
from rapidfuzz import fuzz, process

from chatrec.contracts import Meaning, stars_meaning
from recommender.data import load_dataset
from recommender.domain.catalog import Dataset, Item, plural
from recommender.domain.constraints import Constraints, Taste
from recommender.domain.critiques import NUMERIC, PRICED, Critique, CritiqueKind, beyond, pivot_value
from recommender.domain.errors import InvalidRequest, NothingToGoOn, UnknownItem, UnknownUser
from recommender.domain.titles import GenreVocabulary, TitleIndex, title_key
from recommender.model.corating import CoRatings
from recommender.model.embeddings import Embeddings
from recommender.model.ranking import top_k
from recommender.serving.explanations import Reason, reasons_for
from recommender.serving.profile import Profile
from recommender.storage import artifacts

GENRE_CENTROID_ITEMS = 50  # a stated genre stands for its most-rated items
BETTER_RATED_MIN_RATINGS = 10  # "better rated" counts only items this many people rated
SAME_GENRE_NOT_NEAREST = 20  # "same genre but different": not among a pivot's nearest items in the model
SIMILAR_TO_WEIGHT = 2.0  # "like X": closeness to X, standardised, weighs twice the model's score
# A stated genre fills at least this share of a list when the pool has enough unseen items of it.
STATED_GENRE_SHARE, STATED_GENRE_POOL = 0.8, 10


@dataclass(frozen=True)
class SessionWeights:
    """How much what a person says in a session steers the list. Score units: standard
    deviations of the model's scores for that person.

    The weights served are part of the model version (its meta.json, `weights_of`):
    `make simulate` chooses them per catalog on validation people and stores them in a
    version derived from the one it measured (promoted while that one is still served);
    a retrained version inherits its predecessor's; `make train` records these defaults
    as not chosen by the simulation. The defaults (what MovieLens validation chose once,
    docs/evaluation.md) serve only versions that carry no weights (saved before they
    were stored) and experiments that fit their own models (`make eval`)."""

    stated_genre: float = 1.0  # added per share of the stated genres an item carries
    said_similarity: float = 0.0  # known users: times the standardised closeness to session likes
    said_corating: float = 0.2  # times the standardised share of raters session likes have in common
    rejected_genre: float = 0.5  # subtracted per share of rejections in an item's genre (net of likes)
    update_steps: int = 0  # BPR steps on a known user's vector (0: the trained vector as is)
    update_learning_rate: float = 0.0
    update_prior: float = 1.0  # pull back towards the trained vector
    learn: bool = True  # False: feedback only removes and down-weights ("re-rank only")


WEIGHTS_DEFAULT, WEIGHTS_SIMULATED = "defaults", "simulation"  # where a version's weights came from
STORED_WEIGHTS = tuple(f.name for f in fields(SessionWeights) if f.name != "learn")  # learn: an arm


def weights_record(weights: SessionWeights, source: str, **about: object) -> dict:
    """What a version's meta.json keeps about its session weights (artifacts.SESSION_WEIGHTS)."""
    return {"weights": {name: getattr(weights, name) for name in STORED_WEIGHTS}, "source": source, **about}


def default_weights_record() -> dict:
    """The defaults, as `make train` records them for a version the simulation has not measured."""
    return weights_record(SessionWeights(), WEIGHTS_DEFAULT,
                          note="not chosen by make simulate for this version")


def weights_of(meta: dict) -> SessionWeights:
    """A version's session weights; the defaults for a version that carries none (or for a
    weight it does not name)."""
    stored = (meta.get(artifacts.SESSION_WEIGHTS) or {}).get("weights", {})
    return SessionWeights(**{name: stored[name] for name in STORED_WEIGHTS if name in stored})


@dataclass(frozen=True)
class Recommendation:
    item: Item
    score: float


@dataclass(frozen=True)
class Recommendations:
    items: tuple[Recommendation, ...]
    reason: str | None = None  # set when `items` is empty

    def __bool__(self) -> bool:
        return bool(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class ItemDetails:
    item: Item
    genres: tuple[str, ...]
    mean_rating: float | None
    ratings: int


@dataclass(frozen=True)
class Comparison:
    first: ItemDetails
    second: ItemDetails
    scores: tuple[float, float]
    preferred: Item


@dataclass(frozen=True)
class Explanation:
    item: Item
    score: float
    reasons: tuple[Reason, ...]


class Recommender:
    def __init__(self, dataset: Dataset, model: Embeddings, neighbours: int = 50,
                 weights: SessionWeights = SessionWeights()) -> None:
        self.dataset = dataset
        self.weights = weights
        self.catalog = dataset.catalog
        self.model = model
        self.neighbours = neighbours
        inter = dataset.interactions
        n_items = len(self.catalog)
        self.rating_counts = np.bincount(inter.items, minlength=n_items)
        sums = np.bincount(inter.items, weights=inter.ratings, minlength=n_items)
        self.mean_ratings = np.divide(sums, self.rating_counts, out=np.zeros(n_items),
                                      where=self.rating_counts > 0)
        order = np.argsort(inter.users, kind="stable")
        bounds = np.searchsorted(inter.users[order], np.arange(len(dataset.users) + 1))
        self._history = [order[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        self.co_ratings = CoRatings(inter.users, inter.items, len(dataset.users), n_items)
        self.titles = TitleIndex(self.catalog, popularity=self.rating_counts.tolist())
        self.genres = GenreVocabulary(self.catalog.genres, self.catalog.genre_synonyms)
        self._model_rows = {uid: row for row, uid in enumerate(model.user_ids)}
        self._genre_masks = {
            g: np.array([g in self.catalog.genres_of(i) for i in self.catalog.items])
            for g in self.catalog.genres
        }

    def with_weights(self, weights: SessionWeights) -> Recommender:
        """The same recommender (sharing data and model) with other session weights."""
        other = copy.copy(self)
        other.weights = weights
        return other

    # ---- lookups -------------------------------------------------------
    def find_item(self, reference: str) -> Item:
        """An item by id or by (fuzzy) title."""
        reference = str(reference).strip()
        if reference in self.catalog:
            return self.catalog.get(reference)
        matches = self.titles.search(reference, limit=1)
        if not matches:
            raise UnknownItem(reference, self._suggestions(reference))
        return matches[0].item

    def _suggestions(self, reference: str) -> list[Item]:
        found = process.extract(title_key(reference), [title_key(i.title) for i in self.catalog.items],
                                scorer=fuzz.WRatio, limit=3, score_cutoff=60)
        return [self.catalog.items[index] for _, _, index in found]

    def find_genre(self, word: str) -> str:
        genre = self.genres.find(word)
        if genre is None:
            raise InvalidRequest(
                f"I don't know the genre {word!r}. Genres I know: {', '.join(self.genres.genres)}."
            )
        return genre

    def user_history(self, user_id: str) -> list[tuple[Item, float]]:
        """(item, rating) pairs a user of the dataset has rated."""
        if not self.dataset.has_user(str(user_id)):
            raise UnknownUser(f"I don't know user {user_id!r} yet; tell me a genre or a title you like.")
        rows = self._history[self.dataset.user_index(str(user_id))]
        inter = self.dataset.interactions
        return [(self.catalog.items[inter.items[r]], float(inter.ratings[r])) for r in rows]

    # ---- user vectors --------------------------------------------------
    def _profile(self, user: str | Taste) -> Profile:
        """Everything needed to score for `user`: a known user id, or a Taste."""
        if not isinstance(user, Taste):
            if str(user) not in self._model_rows:
                raise UnknownUser(f"I don't know user {user!r} yet; tell me a genre or a title you like.")
            user = Taste(user=str(user))
        user_id = user.user
        row = self._model_rows.get(user_id) if user_id else None
        leave_out: list[int] = []
        liked: list[tuple[int, float | None]] = []
        if row is not None and user_id is not None and self.dataset.has_user(user_id):
            inter = self.dataset.interactions
            history = self._history[self.dataset.user_index(user_id)]
            leave_out += inter.items[history].tolist()
            liked += [(int(inter.items[r]), float(inter.ratings[r])) for r in history
                      if stars_meaning(float(inter.ratings[r])) is Meaning.LIKED]
        how = {i: f"rating:{r:g}" for i, r in liked}
        said = [self._index(ref) for ref in user.liked]
        ways = list(user.liked_how) + ["said"] * (len(said) - len(user.liked_how))
        stars = {i: float(way.split(":")[1]) for i, way in zip(said, ways) if way.startswith("rating:")}
        how.update(zip(said, ways))
        disliked = [self._index(ref) for ref in user.disliked]
        genre_words: dict[str, str] = {}
        genre_phrases: dict[str, str] = {}
        phrases = list(user.genres_how) + [""] * (len(user.genres) - len(user.genres_how))
        for word, phrase in zip(user.genres, phrases):
            genre_words.setdefault(self.find_genre(word), word)
            genre_phrases.setdefault(self.find_genre(word), phrase)
        genres = list(genre_words)
        genre_items = [self._genre_centroid_items(g) for g in genres]
        learn = self.weights.learn
        if row is not None:  # a known user: their trained vector, moved by the session's feedback
            w = self.weights
            vector = self.model.adapt_user(self.model.user_vectors[row], said if learn else (),
                                           steps=w.update_steps, learning_rate=w.update_learning_rate,
                                           prior=w.update_prior)
        else:
            vector = self.model.fold_in(said if learn else (), genre_items,
                                        disliked if learn else ())
        rated = len(leave_out)  # so far only their ratings in the dataset
        leave_out += said + disliked + [self._index(ref) for ref in user.exclude]
        liked += [(i, stars.get(i)) for i in said]
        personal = row is not None or bool(said or disliked or genre_items)
        return Profile(vector, leave_out, liked, disliked, said, genres, how, genre_words, genre_phrases, row,
                       rated, personal)

    def _index(self, reference: str) -> int:
        return self.catalog.index(self.find_item(reference).id)

    def _genre_centroid_items(self, genre: str) -> list[int]:
        members = np.flatnonzero(self._genre_masks[genre])
        most_rated = members[np.argsort(-self.rating_counts[members], kind="stable")]
        return most_rated[:GENRE_CENTROID_ITEMS].tolist()

    # ---- constraints ---------------------------------------------------
    def _candidates(self, constraints: Constraints) -> np.ndarray:
        """Boolean mask of catalog items that satisfy the hard filters."""
        if (constraints.year_from is not None and constraints.year_to is not None
                and constraints.year_from > constraints.year_to):
            raise InvalidRequest(
                f"The year range {constraints.year_from}-{constraints.year_to} is empty."
            )
        dropped = self._dropped_genres(constraints)
        mask = np.ones(len(self.catalog), dtype=bool)
        for genre in {self.find_genre(word) for word in constraints.genres} - dropped:
            mask &= self._genre_masks[genre]
        for genre in {self.find_genre(word) for word in constraints.exclude_genres} | dropped:
            mask &= ~self._genre_masks[genre]
        years = self.catalog.years
        if constraints.year_from is not None:
            mask &= years >= constraints.year_from
        if constraints.year_to is not None:
            mask &= (years <= constraints.year_to) & (years > 0)
        for critique in constraints.critiques:
            mask &= self._critiqued(critique)
        return mask

    # ---- critiques -----------------------------------------------------
    def attribute(self, name: str) -> np.ndarray:
        """Per item: "year" (NaN unknown), "ratings", "mean_rating" (NaN for few ratings), "price"."""
        if name == "year":
            return np.where(self.catalog.years > 0, self.catalog.years, np.nan)
        if name == "ratings":
            return self.rating_counts.astype(np.float64)
        if name == "mean_rating":
            return np.where(self.rating_counts >= BETTER_RATED_MIN_RATINGS, self.mean_ratings, np.nan)
        return self.catalog.prices

    def _critiqued(self, critique: Critique) -> np.ndarray:
        """The items a critique allows: beyond its pivots' median on its attribute (newer, less
        popular, cheaper...), sharing a genre with a single pivot; outside the pivots' genres;
        or in them but not among the pivots' nearest items."""
        if critique.kind in PRICED and self.catalog.price_feature is None:
            noun = plural(self.catalog.item_noun)
            raise InvalidRequest(f"My {noun} have no prices, so I can't compare on price.")
        pivots = [self._index(reference) for reference in critique.items]
        if critique.kind == CritiqueKind.DIFFERENT_GENRE:
            return np.ones(len(self.catalog), dtype=bool)  # the pivot's genres are dropped (_dropped_genres)
        if critique.kind == CritiqueKind.SAME_GENRE:
            return self._sharing_a_genre(pivots) & ~self._nearest(pivots)
        values = self.attribute(NUMERIC[critique.kind][0])
        reference = pivot_value(values, pivots)
        if reference is None:  # the pivots' attribute is unknown: only items that have one
            return ~np.isnan(values)
        mask = beyond(values, reference, critique.kind)
        return mask & self._sharing_a_genre(pivots) if critique.single else mask

    def _sharing_a_genre(self, pivots: list[int]) -> np.ndarray:
        genres = {g for p in pivots for g in self.catalog.genres_of(self.catalog.items[p])}
        if not genres:
            return np.ones(len(self.catalog), dtype=bool)
        return np.any([self._genre_masks[g] for g in genres], axis=0)

    def _nearest(self, pivots: list[int]) -> np.ndarray:
        """The pivots and their SAME_GENRE_NOT_NEAREST nearest items in the model."""
        mask = np.zeros(len(self.catalog), dtype=bool)
        for pivot in pivots:
            by_similarity = np.argsort(-self.model.item_similarities(pivot), kind="stable")
            mask[by_similarity[:SAME_GENRE_NOT_NEAREST + 1]] = True
        mask[pivots] = True
        return mask

    def _dropped_genres(self, constraints: Constraints) -> set[str]:
        """Genres "not that genre" drops: the pivots' genres the request asked for, else all of theirs."""
        dropped: set[str] = set()
        asked = {self.find_genre(word) for word in constraints.genres}
        for critique in constraints.critiques:
            if critique.kind == CritiqueKind.DIFFERENT_GENRE:
                theirs = {g for r in critique.items for g in self.catalog.genres_of(self.find_item(r))}
                dropped |= (theirs & asked) or theirs
        return dropped

    def _normalised(self, constraints: Constraints) -> Constraints:
        """The same constraints with catalog genre names (for messages)."""
        return Constraints(
            genres=tuple(self.find_genre(g) for g in constraints.genres),
            exclude_genres=tuple(self.find_genre(g) for g in constraints.exclude_genres),
            year_from=constraints.year_from,
            year_to=constraints.year_to,
            similar_to=tuple(self.find_item(r).title for r in constraints.similar_to),
            critiques=tuple(Critique(c.kind, tuple(self.find_item(r).id for r in c.items),
                                     c.label or (self.find_item(c.items[0]).label if c.single else ""))
                            for c in constraints.critiques),
        )

    # ---- the API -------------------------------------------------------
    def recommend(self, user: str | Taste, k: int = 10, constraints: Constraints = Constraints(),
                  require_taste: bool = True) -> Recommendations:
        """Top k for `user` within `constraints`. With nothing to go on (no taste, no
        constraint) this raises NothingToGoOn unless `require_taste` is False
        (then the model's non-personal ranking is used)."""
        k = _positive(k)
        profile = self._profile(user)
        if require_taste and not profile.personal and constraints == Constraints():
            raise NothingToGoOn("Tell me at least one genre or title you like.")
        scores = self._scores(profile)
        leave_out = list(profile.leave_out) + [self._index(r) for c in constraints.critiques for r in c.items
                                               if c.single]
        if constraints.similar_to:
            seeds = [self._index(r) for r in constraints.similar_to]
            similarity = np.mean([self.model.item_similarities(s) for s in seeds], axis=0)
            scores = _standardise(scores) + SIMILAR_TO_WEIGHT * _standardise(similarity)
            leave_out += seeds
        matching = self._candidates(constraints)
        allowed = matching.copy()
        allowed[leave_out] = False
        for reference in constraints.exclude_items:
            allowed[self._index(reference)] = False
        if not allowed.any():
            wanted = self._normalised(constraints).describe()
            noun = self.catalog.item_noun
            reason = (f"No {noun} in the catalog matches: {wanted}." if not matching.any()
                      else f"Every {noun} matching {wanted} is already rated, shown or excluded.")
            return Recommendations((), reason)
        scores[~allowed] = -np.inf
        best = top_k(scores[np.newaxis, :], min(k, int(allowed.sum())))[0]
        if profile.genres:
            best = self._with_stated_genres(best, scores, allowed, profile.genres)
        return Recommendations(tuple(
            Recommendation(self.catalog.items[i], float(scores[i])) for i in best
        ))

    def _scores(self, profile: Profile) -> np.ndarray:
        """The model's scores for the profile (standardised), steered by the session:
        stated genres lifted, neighbours of liked items (in the model, and by who rated them)
        pulled up, disliked genres down."""
        scores = _standardise(self.model.score_vectors(profile.vector[np.newaxis, :])[0].astype(np.float64))
        w = self.weights
        if profile.genres and w.stated_genre:
            share = np.mean([self._genre_masks[g] for g in profile.genres], axis=0)
            scores += w.stated_genre * share
        if profile.said and profile.model_row is not None and w.said_similarity and w.learn:
            # a known user's trained vector holds none of the session; a new user's fold-in does
            similarity = np.mean([self.model.item_similarities(i) for i in profile.said], axis=0)
            scores += w.said_similarity * _standardise(similarity)
        if profile.said and w.said_corating and w.learn:
            scores += w.said_corating * _standardise(self.co_ratings.similarities(profile.said))
        if profile.disliked and w.rejected_genre:
            scores -= w.rejected_genre * self._disliked_genre_share(profile)
        return scores

    def _with_stated_genres(self, best: np.ndarray, scores: np.ndarray, allowed: np.ndarray,
                            genres: list[str]) -> np.ndarray:
        """Most of the list carries a stated genre (STATED_GENRE_SHARE of it) whenever at least
        STATED_GENRE_POOL allowed items do: the best of them replace the weakest others."""
        carries = np.any([self._genre_masks[g] for g in genres], axis=0)
        pool = np.flatnonzero(allowed & carries)
        need = int(np.ceil(STATED_GENRE_SHARE * len(best)))
        if len(pool) < STATED_GENRE_POOL or carries[best].sum() >= need:
            return best
        chosen = [i for i in best if carries[i]]
        extra = [i for i in pool[np.argsort(-scores[pool], kind="stable")] if i not in set(chosen)]
        chosen += extra[:need - len(chosen)]
        others = [i for i in best if not carries[i]][:len(best) - len(chosen)]
        return np.array(sorted(chosen + others, key=lambda i: -scores[i]))

    def similar_items(self, item: str, k: int = 10) -> Recommendations:
        k = _positive(k)
        index = self.catalog.index(self.find_item(item).id)
        similarity = self.model.item_similarities(index)
        similarity[index] = -np.inf
        best = top_k(similarity[np.newaxis, :], min(k, len(self.catalog) - 1))[0]
        return Recommendations(tuple(
            Recommendation(self.catalog.items[i], float(similarity[i])) for i in best
        ), None if len(best) else "The catalog has no other items.")

    def item_details(self, item: str) -> ItemDetails:
        found = self.find_item(item)
        index = self.catalog.index(found.id)
        count = int(self.rating_counts[index])
        return ItemDetails(found, self.catalog.genres_of(found),
                           float(self.mean_ratings[index]) if count else None, count)

    def score(self, user: str | Taste, item: str) -> float:
        return float(self._scores(self._profile(user))[self._index(item)])

    def compare(self, user: str | Taste, first: str, second: str) -> Comparison:
        a, b = self.item_details(first), self.item_details(second)
        if a.item.id == b.item.id:
            raise InvalidRequest(f"Both names point to {a.item.label}; name two different items.")
        scores = (self.score(user, a.item.id), self.score(user, b.item.id))
        return Comparison(a, b, scores, a.item if scores[0] >= scores[1] else b.item)

    def explain(self, user: str | Taste, item: str, constraints: Constraints = Constraints(),
                language: str = "en") -> Explanation:
        found = self.find_item(item)
        profile = self._profile(user)
        index = self.catalog.index(found.id)
        score = float(self._scores(profile)[index])
        reasons = reasons_for(self, profile, index, self._normalised(constraints), language)
        return Explanation(found, score, tuple(reasons))

    def _disliked_genre_share(self, profile: Profile) -> np.ndarray:
        """Per item: the largest share of the user's dislikes among its genres, less the share
        of their likes in that genre (never below 0), times the session's share of all they
        have told us: a few rejections weigh little against a long rating history."""
        def shares(items: list[int]) -> dict[str, float]:
            counts = {g: sum(self._genre_masks[g][i] for i in items) for g in self._genre_masks}
            return {g: c / len(items) for g, c in counts.items()} if items else {}

        disliked, liked = shares(profile.disliked), shares([i for i, _ in profile.liked])
        penalty = np.zeros(len(self.catalog))
        for genre, share in disliked.items():
            net = share - liked.get(genre, 0.0)
            if net > 0:
                penalty = np.where(self._genre_masks[genre], np.maximum(penalty, net), penalty)
        session = len(profile.said) + len(profile.disliked)
        return penalty * session / (session + profile.rated)


def _positive(k: object) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k <= 0:
        raise InvalidRequest(f"k must be a positive whole number, not {k!r}.")
    return int(k)


def _standardise(values: np.ndarray) -> np.ndarray:
    return (values - values.mean()) / (values.std() + 1e-9)


def load_recommender(dataset_name: str = "movielens-100k", version: str | None = None) -> Recommender:
    """The served (or a named) stored version over its dataset, with the version's session weights."""
    dataset = load_dataset(dataset_name)
    model, meta = artifacts.load_model(dataset, version)
    return Recommender(dataset, model, weights=weights_of(meta))
