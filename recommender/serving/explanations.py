"""Why an item suits a user, in reasons that can be checked against the data.

Each reason carries the evidence it was built from: the liked items and the
model similarity, the feature values both items have, the neighbours and
their ratings. Nothing is said that the evidence does not show. Reasons are
worded in English or Chinese (TEXTS); genre names in Chinese come from the
catalog's translations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from recommender.domain.constraints import Constraints
from recommender.serving.critique_reasons import critique_reasons
from recommender.serving.profile import Profile, Scored

CLOSEST_LIKED = 3
RATED_TOGETHER_MIN = 3  # fewer people in common is no pattern worth quoting
TEXTS = {
    "en": {
        "stated_genre": "Its genres include {genres}, and you said you {said}.",
        "said_default": "like {word}",
        "similar_to_liked": "It is close to what you liked: {liked}.",
        "liked_item": "{label} ({how})",
        "shared_feature": "It {phrase} {label} ({values}).",
        "shared_default": "has the same {feature} as",
        "rated_together": "{common} of the {total} people who rated {label} ({how}) rated it too.",
        "how_rating": "you rated it {stars}/5", "how_button": "you liked it (👍)",
        "how_said": "you said you like it",
        "matches_request": "You asked for {asked}: it is {got}.",
        "from_year": "from {year}", "decade": "{start}s", "range": "{start}-{end}", "since": "from {start}",
        "until": "up to {end}",
        "similar_to_request": "You asked for something like {label}: of {count} items, it is number {rank} "
                              "closest to it in the model.",
        "similar_users": "{raters} of the {count} people with the most similar taste rated it, "
                         "{mean:.1f} on average.",
        "overall_rating": "{count} people rated it, {mean:.1f} on average.",
        "not_rated": "Nobody has rated it yet; the model ranks it by its features.",
        "and": " and ", "list": ", ", "space": " ",
    },
    "zh": {
        "stated_genre": "它属于{genres}，你说过你{said}。",
        "said_default": "喜欢{word}",
        "similar_to_liked": "它和你喜欢的很接近：{liked}。",
        "liked_item": "{label}（{how}）",
        "shared_feature": "它和{label}{phrase}（{values}）。",
        "shared_default": "有相同的{feature}",
        "rated_together": "给{label}（{how}）打过分的{total}个人里，有{common}个也给它打过分。",
        "how_rating": "你给了{stars}/5", "how_button": "你点了👍", "how_said": "你说过喜欢",
        "matches_request": "你想要{asked}：它是{got}。",
        "from_year": "{year}年的", "decade": "{start}年代", "range": "{start}–{end}年",
        "since": "{start}年以后", "until": "{end}年以前",
        "similar_to_request": "你想要类似{label}的：在{count}部作品中，"
                              "模型认为它和{label}的相似度排第{rank}。",
        "similar_users": "和你口味最相近的{count}个人里，有{raters}个给它打过分，平均{mean:.1f}分。",
        "overall_rating": "{count}个人给它打过分，平均{mean:.1f}分。",
        "not_rated": "还没有人给它打分；模型按它的特征给它排序。",
        "and": "和", "list": "、", "space": "",
    },
}
# How to say that two items share a feature; other features read "has the same <feature> as".
# Genres are left to the request reason.
SHARED_PHRASES = {
    "en": {"series": "is in the same series as", "actor": "shares cast with",
           "language": "is in the same language as"},
    "zh": {"series": "属于同一系列", "actor": "有相同的演员", "language": "语言相同"},
}


def _words(language: str) -> dict[str, str]:
    return TEXTS.get(language, TEXTS["en"])


def _genre_names(recommender: Scored, genres: list[str], language: str) -> list[str]:
    """Catalog genres as this language names them (the catalog's own names where it has none)."""
    names = recommender.catalog.translations.get(language, {}).get("genres", {})
    return [names.get(genre, genre) for genre in genres]


def how_liked(way: str, language: str = "en") -> str:
    """How a like is quoted back: "rating:<stars>", "button" (👍) or "said" (in words)."""
    words = _words(language)
    if way.startswith("rating:"):
        return words["how_rating"].format(stars=way.split(":")[1])
    return words["how_button"] if way == "button" else words["how_said"]


@dataclass(frozen=True)
class Reason:
    """One checkable reason: `kind` says which data `evidence` comes from."""

    kind: str
    text: str
    evidence: dict = field(default_factory=dict)


def reasons_for(recommender: Scored, profile: Profile, item: int,
                constraints: Constraints, language: str = "en") -> list[Reason]:
    """What they asked, what they said they like, what they liked, and what similar people rated,
    in `language` ("en" or "zh")."""
    reasons = [
        *_matches_request(recommender, item, constraints, language),
        *(Reason(**found) for found in critique_reasons(
            recommender, item, constraints, language,
            lambda genres: _genre_names(recommender, genres, language))),
        *_stated_genres(recommender, item, profile.genre_words, profile.genre_phrases, language),
        *_closest_liked(recommender, profile.liked, profile.how, item, language),
        *_rated_together(recommender, profile.said, profile.how, item, language),
        *_like_requested(recommender, item, constraints, language),
        *_similar_users(recommender, profile.vector, item, profile.model_row, language),
    ]
    return reasons or [_overall(recommender, item, language)]


def _stated_genres(recommender: Scored, item: int, genre_words: dict[str, str],
                   genre_phrases: dict[str, str], language: str) -> list[Reason]:
    """"You said you love westerns", in their words, for each stated genre the item has."""
    have = [g for g in genre_words if g in recommender.catalog.genres_of(recommender.catalog.items[item])]
    if not have:
        return []
    words = _words(language)
    said = [genre_phrases.get(g) or words["said_default"].format(word=genre_words[g]) for g in have]
    text = words["stated_genre"].format(genres=words["and"].join(_genre_names(recommender, have, language)),
                                        said=words["and"].join(said))
    return [Reason("stated_genre", text, {"genres": have, "said": said})]


def _closest_liked(recommender: Scored, liked: list[tuple[int, float | None]],
                   how: dict[int, str], item: int, language: str) -> list[Reason]:
    catalog, words = recommender.catalog, _words(language)
    similarity = recommender.model.item_similarities(item)
    candidates = [(i, r) for i, r in liked if i != item and similarity[i] > 0]
    closest = sorted(candidates, key=lambda pair: -similarity[pair[0]])[:CLOSEST_LIKED]
    if not closest:
        return []
    target = catalog.items[item]
    quoted = {i: how_liked(how.get(i) or _way(r), language) for i, r in closest}
    reasons = [Reason(
        "similar_to_liked",
        words["similar_to_liked"].format(liked=words["list"].join(
            words["liked_item"].format(label=catalog.items[i].label, how=quoted[i]) for i, _ in closest)),
        {"liked": [{"item": catalog.items[i].id, "rating": r, "how": quoted[i],
                    "similarity": float(similarity[i])} for i, r in closest]},
    )]
    for i, _ in closest:
        other = catalog.items[i]
        for feature in target.features:
            shared = sorted(set(target.values(feature)) & set(other.values(feature)))
            if shared and feature != catalog.genre_feature:
                default = words["shared_default"].format(feature=feature)
                phrase = SHARED_PHRASES.get(language, {}).get(feature, default)
                reasons.append(Reason(
                    "shared_feature",
                    words["shared_feature"].format(phrase=phrase, label=other.label,
                                                   values=", ".join(shared)),
                    {"feature": feature, "values": shared, "liked_item": other.id},
                ))
    return reasons


def _way(rating: float | None) -> str:
    return "said" if rating is None else f"rating:{rating:g}"


def _rated_together(recommender: Scored, said: list[int], how: dict[int, str], item: int,
                    language: str) -> list[Reason]:
    """"31 of the 120 people who rated Fargo rated it too", for the session like it shares most
    raters with."""
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
        _words(language)["rated_together"].format(common=common, total=total, label=label,
                                                  how=how_liked(how.get(liked) or "said", language)),
        {"liked": recommender.catalog.items[liked].id, "common_raters": common, "raters_of_liked": total},
    )]


def _matches_request(recommender: Scored, item: int, constraints: Constraints, language: str) -> list[Reason]:
    target = recommender.catalog.items[item]
    genres = [g for g in constraints.genres if g in recommender.catalog.genres_of(target)]
    in_range = target.year is not None and (
        (constraints.year_from is not None or constraints.year_to is not None)
        and (constraints.year_from is None or target.year >= constraints.year_from)
        and (constraints.year_to is None or target.year <= constraints.year_to)
    )
    if not genres and not in_range:
        return []
    words = _words(language)
    asked, got = [], []
    if genres:
        named = words["and"].join(_genre_names(recommender, genres, language))
        asked.append(named)
        got.append(named)
    if in_range:
        asked.append(_years(constraints.year_from, constraints.year_to, words))
        year = words["from_year"].format(year=target.year)
        got = [year, *got] if language == "zh" else [*got, year]  # "1995年的喜剧", "Comedy from 1995"
    return [Reason(
        "matches_request",
        words["matches_request"].format(asked=words["list"].join(asked), got=words["space"].join(got)),
        {"genres": genres, "year": target.year if in_range else None},
    )]


def _years(start: int | None, end: int | None, words: dict[str, str]) -> str:
    """A year range as they would say it: "1990s", "1985-1990", "from 1990", "up to 1990"."""
    if start is not None and end is not None:
        decade = start % 10 == 0 and end == start + 9
        return words["decade" if decade else "range"].format(start=start, end=end)
    return words["since"].format(start=start) if start is not None else words["until"].format(end=end)


def _like_requested(recommender: Scored, item: int, constraints: Constraints, language: str) -> list[Reason]:
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
            _words(language)["similar_to_request"].format(label=label, count=len(similarity) - 1, rank=rank),
            {"seed": recommender.catalog.items[seed].id, "similarity": float(similarity[item]), "rank": rank},
        ))
    return reasons


def _similar_users(recommender: Scored, user_vector: np.ndarray, item: int,
                   exclude_user: int | None, language: str) -> list[Reason]:
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
        _words(language)["similar_users"].format(raters=len(rows), count=count, mean=mean),
        {"neighbours": [recommender.dataset.users[u].id for u in neighbours],
         "raters": users, "ratings": inter.ratings[rows].tolist(), "mean_rating": mean},
    )]


def _overall(recommender: Scored, item: int, language: str) -> Reason:
    count = int(recommender.rating_counts[item])
    mean = float(recommender.mean_ratings[item])
    words = _words(language)
    text = words["overall_rating"].format(count=count, mean=mean) if count else words["not_rated"]
    return Reason("overall_rating", text, {"ratings": count, "mean_rating": mean if count else None})
