"""Why an item suits a user, in reasons that can be checked against the data.

Each reason carries the evidence it was built from: the liked items and the
model similarity, the feature values both items have, the neighbours and
their ratings. Nothing is said that the evidence does not show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recommender.domain.constraints import Constraints
from recommender.serving.profile import Profile, Scored

CLOSEST_LIKED = 3
RATED_TOGETHER_MIN = 3  # fewer people in common is no pattern worth quoting
# How to say that two items share a feature; other features read
# "has the same <feature> as". Genres are left to the request reason.
SHARED_PHRASES = {
    "series": "is in the same series as",
    "actor": "shares cast with",
    "language": "is in the same language as",
}


@dataclass(frozen=True)
class Reason:
    """One checkable reason: `kind` says which data `evidence` comes from."""

    kind: str
    text: str
    evidence: dict = field(default_factory=dict)


def reasons_for(recommender: Scored, profile: Profile, item: int,
                constraints: Constraints) -> list[Reason]:
    """What they asked, what they said they like, what they liked, and what similar people rated."""
    reasons = [
        *_matches_request(recommender, item, constraints),
        *_stated_genres(recommender, item, profile.genre_words, profile.genre_phrases),
        *_closest_liked(recommender, profile.liked, profile.how, item),
        *_rated_together(recommender, profile.said, profile.how, item),
        *_like_requested(recommender, item, constraints),
        *_similar_users(recommender, profile.vector, item, profile.model_row),
    ]
    return reasons or [_overall(recommender, item)]


def _stated_genres(recommender: Scored, item: int, genre_words: dict[str, str],
                   genre_phrases: dict[str, str]) -> list[Reason]:
    """"You said you love westerns", in their words, for each stated genre the item has."""
    have = [g for g in genre_words if g in recommender.catalog.genres_of(recommender.catalog.items[item])]
    if not have:
        return []
    said = [genre_phrases[g] for g in have]
    text = f"Its genres include {' and '.join(have)}, and you said you {' and '.join(said)}."
    return [Reason("stated_genre", text, {"genres": have, "said": said})]


def _closest_liked(recommender: Scored, liked: list[tuple[int, float | None]],
                   how: dict[int, str], item: int) -> list[Reason]:
    catalog = recommender.catalog
    similarity = recommender.model.item_similarities(item)
    candidates = [(i, r) for i, r in liked if i != item and similarity[i] > 0]
    closest = sorted(candidates, key=lambda pair: -similarity[pair[0]])[:CLOSEST_LIKED]
    if not closest:
        return []
    target = catalog.items[item]
    reasons = [Reason(
        "similar_to_liked",
        "It is close to what you liked: "
        + ", ".join(f"{catalog.items[i].label} ({how.get(i, _how_liked(r))})" for i, r in closest) + ".",
        {"liked": [{"item": catalog.items[i].id, "rating": r, "how": how.get(i, _how_liked(r)),
                    "similarity": float(similarity[i])} for i, r in closest]},
    )]
    for i, _ in closest:
        other = catalog.items[i]
        for feature in target.features:
            shared = sorted(set(target.values(feature)) & set(other.values(feature)))
            if shared and feature != catalog.genre_feature:
                phrase = SHARED_PHRASES.get(feature, f"has the same {feature} as")
                reasons.append(Reason(
                    "shared_feature",
                    f"It {phrase} {other.label} ({', '.join(shared)}).",
                    {"feature": feature, "values": shared, "liked_item": other.id},
                ))
    return reasons


def _rated_together(recommender: Scored, said: list[int], how: dict[int, str], item: int) -> list[Reason]:
    """"31 of the 120 people who rated Fargo rated it too", for the session like it shares most raters with."""
    raters, best = recommender.co_ratings.raters(item), None
    for liked in said:
        if liked == item:
            continue
        theirs = recommender.co_ratings.raters(liked)
        common = len(np.intersect1d(raters, theirs))
        if common >= RATED_TOGETHER_MIN and (best is None or common > best[1]):
            best = (liked, common, len(theirs))
    if best is None:
        return []
    liked, common, total = best
    label = recommender.catalog.items[liked].label
    return [Reason(
        "rated_together",
        f"{common} of the {total} people who rated {label} ({how.get(liked, _how_liked(None))}) "
        f"rated it too.",
        {"liked": recommender.catalog.items[liked].id, "common_raters": common, "raters_of_liked": total},
    )]


def _how_liked(rating: float | None) -> str:
    return "you said you like it" if rating is None else f"you rated it {rating:g}/5"


def _matches_request(recommender: Scored, item: int, constraints: Constraints) -> list[Reason]:
    target = recommender.catalog.items[item]
    genres = [g for g in constraints.genres if g in recommender.catalog.genres_of(target)]
    in_range = target.year is not None and (
        (constraints.year_from is not None or constraints.year_to is not None)
        and (constraints.year_from is None or target.year >= constraints.year_from)
        and (constraints.year_to is None or target.year <= constraints.year_to)
    )
    if not genres and not in_range:
        return []
    asked, got = [], []
    if genres:
        asked.append(" and ".join(genres))
        got.append(" and ".join(genres))
    if in_range:
        asked.append(_years(constraints.year_from, constraints.year_to))
        got.append(f"from {target.year}")
    return [Reason(
        "matches_request",
        f"You asked for {', '.join(asked)}: it is {' '.join(got)}.",
        {"genres": genres, "year": target.year if in_range else None},
    )]


def _years(start: int | None, end: int | None) -> str:
    """A year range as they would say it: "1990s", "1985-1990", "from 1990", "up to 1990"."""
    if start is not None and end is not None:
        return f"{start}s" if start % 10 == 0 and end == start + 9 else f"{start}-{end}"
    return f"from {start}" if start is not None else f"up to {end}"


def _like_requested(recommender: Scored, item: int, constraints: Constraints) -> list[Reason]:
    """"Something like X": how close the model puts the item to X."""
    reasons = []
    for reference in constraints.similar_to:
        seed = recommender.catalog.index(recommender.find_item(reference).id)
        similarity = recommender.model.item_similarities(seed)
        if seed == item or similarity[item] <= 0:
            continue
        rank = int((similarity > similarity[item]).sum())  # the seed itself ranks first
        label = recommender.catalog.items[seed].label
        reasons.append(Reason(
            "similar_to_request",
            f"You asked for something like {label}: of {len(similarity) - 1} items, it is number "
            f"{rank} closest to it in the model.",
            {"seed": recommender.catalog.items[seed].id, "similarity": float(similarity[item]), "rank": rank},
        ))
    return reasons


def _similar_users(recommender: Scored, user_vector: np.ndarray, item: int,
                   exclude_user: int | None) -> list[Reason]:
    if not np.any(user_vector):
        return []  # nothing known about the user: nobody has "similar taste"
    # Neighbours come from the dataset's users: theirs are the ratings we can cite.
    similarity = recommender.model.user_similarities(user_vector)[:len(recommender.dataset.users)]
    if exclude_user is not None and exclude_user < len(similarity):
        similarity[exclude_user] = -np.inf
    count = min(recommender.neighbours, len(similarity) - (exclude_user is not None))
    if count <= 0:
        return []
    neighbours = np.argsort(-similarity, kind="stable")[:count]
    inter = recommender.dataset.interactions
    rows = np.flatnonzero((inter.items == item) & np.isin(inter.users, neighbours))
    if not len(rows):
        return []
    mean = float(inter.ratings[rows].mean())
    users = [recommender.dataset.users[u].id for u in inter.users[rows]]
    return [Reason(
        "similar_users",
        f"{len(rows)} of the {count} people with the most similar taste rated it, "
        f"{mean:.1f} on average.",
        {"neighbours": [recommender.dataset.users[u].id for u in neighbours],
         "raters": users, "ratings": inter.ratings[rows].tolist(), "mean_rating": mean},
    )]


def _overall(recommender: Scored, item: int) -> Reason:
    count = int(recommender.rating_counts[item])
    mean = float(recommender.mean_ratings[item])
    text = (f"{count} people rated it, {mean:.1f} on average." if count
            else "Nobody has rated it yet; the model ranks it by its features.")
    return Reason("overall_rating", text, {"ratings": count, "mean_rating": mean if count else None})
