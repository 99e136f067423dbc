"""Load a catalog of any domain from files under one folder.

Layout (documented in docs/catalog-format.md)::

    <folder>/catalog.json      {"name": ..., "item_noun": ..., "genre_feature": ..., "price_feature": ...}
    <folder>/items.csv         id,title,year,<feature>,...   ("|" separates values)
    <folder>/users.csv         id,<feature>,...              (optional)
    <folder>/interactions.csv  user_id,item_id,rating[,timestamp]
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from recommender.domain.catalog import Catalog, Dataset, Item, User, build_interactions

MULTI_VALUE_SEPARATOR = "|"
ITEM_COLUMNS = ("id", "title", "year")


def _read_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
        return list(reader)


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split(MULTI_VALUE_SEPARATOR) if v.strip())


def _price(row: dict[str, str], column: str | None, path: Path) -> float | None:
    text = (row.get(column) or "").strip() if column else ""
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(
            f"{path}: item {row['id']!r} has a {column} that is not a number: {text!r}"
        ) from None


def _item(row: dict[str, str], path: Path, price_column: str | None = None) -> Item:
    year = (row.get("year") or "").strip()
    if year and not year.isdigit():
        raise ValueError(f"{path}: item {row['id']!r} has a year that is not a number: {year!r}")
    features = {
        name: _split(value or "") for name, value in row.items() if name not in (*ITEM_COLUMNS, price_column)
    }
    return Item(row["id"].strip(), row["title"].strip(), int(year) if year else None, features,
                _price(row, price_column, path))


def load(folder: str | Path) -> Dataset:
    folder = Path(folder)
    meta = json.loads((folder / "catalog.json").read_text(encoding="utf-8"))
    items_path = folder / "items.csv"
    price_column = meta.get("price_feature")
    required = ("id", "title") + ((price_column,) if price_column else ())
    items = [_item(row, items_path, price_column) for row in _read_csv(items_path, required)]
    catalog = Catalog(
        meta.get("name", folder.name),
        items,
        genre_feature=meta.get("genre_feature", "genre"),
        item_noun=meta.get("item_noun", "item"),
        genre_synonyms=meta.get("genre_synonyms"),
        translations=meta.get("translations"),
        price_feature=price_column,
    )

    users_path = folder / "users.csv"
    users = (
        [User(r.pop("id").strip(), {k: v.strip() for k, v in r.items() if v and v.strip()})
         for r in _read_csv(users_path, ("id",))]
        if users_path.exists()
        else []
    )
    rows = _read_csv(folder / "interactions.csv", ("user_id", "item_id", "rating"))
    known = {user.id for user in users}
    users += [User(uid) for uid in dict.fromkeys(r["user_id"].strip() for r in rows) if uid not in known]
    user_index = {user.id: i for i, user in enumerate(users)}
    interactions = build_interactions(
        ((r["user_id"].strip(), r["item_id"].strip(), float(r["rating"]), float(r.get("timestamp") or 0))
         for r in rows),
        user_index,
        catalog,
    )
    return Dataset(catalog, users, interactions)
