"""NLU data and domain slots built from the served catalog when the bot is trained.

Examples in the catalog's words (English and Chinese), and synonyms that map
genre words ("sci fi", "funny", "科幻") and natural-order titles ("The
Godfather") to the catalog's own names ("Sci-Fi", "Godfather, The"), so that
Rasa's EntitySynonymMapper hands the actions catalog names. (No lookup
tables: no component of the pipeline reads them. Genre words the NLU misses
are found in the message by the actions, actions/context.py
`mentioned_genres`, from the catalog's vocabulary.) Written to
bot/data/catalog.yml by `python -m launcher.stack train` before `rasa train`;
git-ignored, because MovieLens titles may not be redistributed.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml

from recommender.domain.catalog import Dataset, natural_title

OUTPUT = Path(__file__).resolve().parent / "data" / "catalog.yml"
DOMAIN_OUTPUT = Path(__file__).resolve().parent / "domain" / "catalog.yml"
class _Block(str):
    """A string YAML writes as a literal block (`examples: |`), as Rasa expects."""


yaml.SafeDumper.add_representer(_Block, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|"))


def _examples(values: list[str]) -> _Block:
    return _Block("".join(f"- {value}\n" for value in values))


def catalog_nlu(dataset: Dataset) -> dict:
    """Rasa NLU training data (YAML structure) for this catalog."""
    catalog = dataset.catalog
    genre_words: dict[str, set[str]] = defaultdict(set)
    for word, genre in catalog.genre_synonyms.items():
        if genre in catalog.genres and word.lower() != genre.lower():
            genre_words[genre].add(word)
    title_words: dict[str, set[str]] = defaultdict(set)
    for item in catalog.items:
        natural = natural_title(item.title)
        if natural.lower() != item.title.lower():
            title_words[item.title].add(natural)
    nlu = [{"synonym": genre, "examples": _examples(sorted(words))}
           for genre, words in sorted(genre_words.items())]
    nlu += [{"synonym": title, "examples": _examples(sorted(words))}
            for title, words in sorted(title_words.items())]
    nlu += catalog_examples(dataset, genre_words)
    return {"version": "3.1", "nlu": nlu}


def _chinese_phrase(*parts: str) -> str:
    """Words joined as Chinese writes them: no spaces, except around a word in Latin letters."""
    def latin(character: str) -> bool:
        return character.isascii() and character.isalpha()

    text = ""
    for part in filter(None, parts):
        text += (" " if text and (latin(text[-1]) or latin(part[0])) else "") + part
    return text


def _is_chinese(word: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in word)


def _spoken(genre: str) -> str:
    """"Film-Noir" -> "film noir": how people write a genre name."""
    return genre.replace("-", " ").lower()


def catalog_examples(dataset: Dataset, genre_words: dict[str, set[str]], titles: int = 24) -> list[dict]:
    """Examples in this catalog's words: every genre (multi-word ones whole) and the most rated
    titles in the sentences people use, so that any catalog's names are recognised."""
    catalog = dataset.catalog
    noun, nouns = catalog.vocabulary()["item_noun"], catalog.vocabulary()["item_nouns"]
    multi_word = {w for ws in genre_words.values() for w in ws if " " in w}
    genres = sorted({_spoken(g) for g in catalog.genres} | multi_word)
    counts = np.bincount(dataset.interactions.items, minlength=len(catalog))
    popular = [natural_title(catalog.items[i].title) for i in np.argsort(-counts, kind="stable")[:titles]]
    chinese = catalog.translations.get("zh", {})
    noun_zh = chinese.get("item_noun", "")
    names_zh = sorted({*chinese.get("genres", {}).values(),
                       *(word for word, genre in catalog.genre_synonyms.items() if _is_chinese(word))})
    requests = [f"recommend [{genre}](genre) {nouns}" for genre in genres]
    requests += [f"show me some [{genre}](genre) {nouns}" for genre in genres[1::3]]
    requests += [f"推荐一些[{name}](genre){noun_zh}" for name in names_zh[::2]]
    requests += [f"有没有[{name}](genre)的{noun_zh or '推荐'}" for name in names_zh[1::2]]
    requests += [f"类似[{title}](title)的{noun_zh or '东西'}" for title in popular[1::4]]
    requests += [f"any good [{genre}](genre) {noun} [newer than 2000](year)?" for genre in genres[::3]]
    requests += [f"something like [{title}](title)" for title in popular[::2]]
    details = [f"what is [{title}](title) about?" for title in popular[1::2]]
    compare = [f"[{first}](title) or [{second}](title)?"
               for first, second in zip(popular[::4], popular[2::4])]
    return [{"intent": "request_recommendation", "examples": _examples(requests)},
            {"intent": "ask_details", "examples": _examples(details)},
            {"intent": "compare_items", "examples": _examples(compare)}]


def catalog_domain(dataset: Dataset) -> dict:
    """Slots that let the domain's responses speak of this catalog ("I recommend {item_nouns}")."""
    catalog = dataset.catalog
    words = catalog.vocabulary()
    counts = np.bincount(dataset.interactions.items, minlength=len(catalog))
    popular = [catalog.items[i] for i in np.argsort(-counts, kind="stable")[:2]]
    genre = max(catalog.genres, key=lambda g: sum(g in catalog.genres_of(i) for i in catalog.items))
    known = sorted(year for year in (item.year for item in catalog.items) if year)
    decade = known[len(known) // 2] // 10 * 10 if known else None
    chinese = catalog.translations.get("zh", {})
    noun_zh = chinese.get("item_noun", words["item_noun"])
    genre_zh = chinese.get("genres", {}).get(genre, genre)
    from_decade = f" from the {decade % 100:02d}s" if decade else ""
    decade_zh = f"{decade % 100:02d}年代的" if decade else ""
    values = {"item_noun": words["item_noun"], "item_nouns": words["item_nouns"],
              "genre_word": words["genre_word"],
              "example_request": f"a {genre.lower()} {words['item_noun']}" + from_decade,
              "example_title": natural_title(popular[0].title),
              "example_other": natural_title(popular[-1].title),
              # Chinese replies: the catalog's translations, else its own words
              "item_noun_zh": noun_zh, "genre_word_zh": chinese.get("genre_word", words["genre_word"]),
              "example_request_zh": _chinese_phrase("推荐", decade_zh, genre_zh, noun_zh)}
    slots = {name: {"type": "text", "initial_value": value, "influence_conversation": False,
                    "mappings": [{"type": "custom"}]} for name, value in values.items()}
    return {"version": "3.1", "slots": slots}


def write(dataset: Dataset, path: Path = OUTPUT, domain_path: Path = DOMAIN_OUTPUT) -> Path:
    """The catalog's NLU data and its domain slots, before `rasa train`."""
    header = "# Generated from the catalog by bot/catalog_nlu.py; do not edit or commit.\n"
    path.write_text(header + yaml.safe_dump(catalog_nlu(dataset), sort_keys=False, allow_unicode=True))
    domain = yaml.safe_dump(catalog_domain(dataset), sort_keys=False, allow_unicode=True)
    domain_path.write_text(header + domain)
    return path
