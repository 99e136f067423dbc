"""NLU data built from the served catalog when the bot is trained.

Lookup tables of the catalog's titles and genres, and synonyms that map
genre words ("sci fi", "funny") and natural-order titles ("The Godfather")
to the catalog's own names ("Sci-Fi", "Godfather, The"), so that Rasa's
EntitySynonymMapper hands the actions catalog names. Written to
bot/data/catalog.yml by `python -m bot.stack train` before `rasa train`;
git-ignored, because MovieLens titles may not be redistributed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import yaml

from recommender.catalog import Dataset

OUTPUT = Path(__file__).resolve().parent / "data" / "catalog.yml"
TRAILING_ARTICLE = re.compile(r"^(?P<rest>.+), (?P<article>The|A|An|Les|La|Le|L'|Il|Das|Der|Die|El)$")
ALTERNATE_TITLE = re.compile(r"\s*\([^)]*\)\s*$")  # "Visitors, The (Visiteurs, Les)"


def natural_title(title: str) -> str:
    """"Godfather, The" -> "The Godfather"; alternate titles in brackets dropped."""
    base = ALTERNATE_TITLE.sub("", title).strip() or title
    moved = TRAILING_ARTICLE.match(base)
    return f"{moved['article']} {moved['rest']}" if moved else base


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
    nlu = [
        {"lookup": "genre", "examples": _examples(sorted(set(catalog.genres) | set().union(*genre_words.values())))},
        {"lookup": "title", "examples": _examples(sorted({natural_title(i.title) for i in catalog.items}))},
    ]
    nlu += [{"synonym": genre, "examples": _examples(sorted(words))} for genre, words in sorted(genre_words.items())]
    nlu += [{"synonym": title, "examples": _examples(sorted(words))} for title, words in sorted(title_words.items())]
    return {"version": "3.1", "nlu": nlu}


def write(dataset: Dataset, path: Path = OUTPUT) -> Path:
    path.write_text("# Generated from the catalog by bot/catalog_nlu.py; do not edit or commit.\n"
                    + yaml.safe_dump(catalog_nlu(dataset), sort_keys=False, allow_unicode=True))
    return path
