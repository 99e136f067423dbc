"""Versioned model artifacts on disk.

    models/<dataset>/<version>/embeddings.npz  the trained representations (arrays only)
    models/<dataset>/<version>/meta.json   format, params, metrics, fingerprints, versions
    models/<dataset>/<version>/popular.json  well-liked popular items: the chat's
                                           fallback when no worker answers
    models/<dataset>/CURRENT               the version being served

A version's meta.json also carries the session weights it is served with
(SESSION_WEIGHTS: the weights, where they came from); `make simulate` puts
newly chosen ones into a version derived from the one it measured (`derive`:
the same arrays, a new meta.json), so a version never changes once written.

A model is only served with the data it was trained on: loading checks the
dataset fingerprint stored beside it. Nothing here is unpickled: a version is
arrays and JSON, so moving a class never breaks a stored model.
"""

from __future__ import annotations

import functools
import json
import platform
import shutil
from datetime import datetime, timezone
from importlib.metadata import version as package_version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from chatrec import settings
from recommender.data import load_dataset
from recommender.domain.catalog import Dataset
from recommender.model.embeddings import FILE, Embeddings

if TYPE_CHECKING:
    from recommender.model.hybrid import HybridModel


# Bump when what a version holds changes; `train --if-missing` (every start) retrains older ones.
MODEL_FORMAT = 3  # 3: embeddings.npz + meta.json instead of a pickled model
# meta.json key: {"weights": {...}, "source": ..., ...} (serving.service.weights_record);
# versions saved before it was have none (served with the defaults)
SESSION_WEIGHTS = "session_weights"


def models_dir() -> Path:
    return settings.current().models_dir


def _dataset_dir(dataset_name: str) -> Path:
    return models_dir() / dataset_name


def save(model: HybridModel, dataset: Dataset, metrics: dict, extra: dict | None = None) -> str:
    """Write a new version (not yet served) and return its name."""
    created = datetime.now(timezone.utc)
    folder = _new_folder(dataset.name, created, model.features.fingerprint())
    name = folder.name
    model.save(folder)
    meta = {
        "version": name,
        "format": MODEL_FORMAT,
        "created": created.isoformat(),
        "dataset": dataset.name,
        "data_fingerprint": dataset.fingerprint(),
        "feature_fingerprint": model.features.fingerprint(),
        "params": {**vars(model.params), "epochs_trained": model.epochs_trained},
        "metrics": metrics,
        "vocabulary": dataset.catalog.vocabulary(),
        "software": {"python": platform.python_version(),
                     "lightfm": package_version("rectools-lightfm"),
                     "numpy": package_version("numpy")},
        **(extra or {}),
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
    (folder / "popular.json").write_text(json.dumps(popular_items(dataset), indent=1))
    return name


def _new_folder(dataset_name: str, created: datetime, fingerprint: str) -> Path:
    """A new, empty version folder named after the time and the features (-2, -3... within a second)."""
    base = _dataset_dir(dataset_name) / f"{created:%Y%m%d-%H%M%S}-{fingerprint[:6]}"
    folder, number = base, 1
    while folder.exists():
        number += 1
        folder = base.with_name(f"{base.name}-{number}")
    folder.mkdir(parents=True)
    return folder


def derive(dataset_name: str, version: str, changes: dict) -> str:
    """A new version (not yet served) with `version`'s arrays and its meta updated by `changes`;
    its predecessor is `version` (what `rollback` goes back to)."""
    source = _dataset_dir(dataset_name) / version
    meta = read_meta(dataset_name, version)
    created = datetime.now(timezone.utc)
    folder = _new_folder(dataset_name, created, meta["feature_fingerprint"])
    for path in sorted(source.iterdir()):
        if path.is_file() and path.name != "meta.json":
            shutil.copy2(path, folder / path.name)
    meta.update(changes, version=folder.name, created=created.isoformat(), derived_from=version,
                previous_version=version)
    # meta.json last: versions() lists only folders that have one
    (folder / "meta.json").write_text(json.dumps(meta, indent=2, default=str))
    return folder.name


def popular_items(dataset: Dataset, n: int = 50, min_mean: float = 3.5) -> list[dict]:
    """The most-rated items whose mean rating is at least `min_mean`, as JSON-ready dicts."""
    inter = dataset.interactions
    count = np.bincount(inter.items, minlength=len(dataset.catalog))
    total = np.bincount(inter.items, weights=inter.ratings, minlength=len(dataset.catalog))
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    order = [i for i in np.argsort(-count, kind="stable") if mean[i] >= min_mean][:n]
    catalog = dataset.catalog
    return [{"id": catalog.items[i].id, "title": catalog.items[i].title, "year": catalog.items[i].year,
             "label": catalog.items[i].label, "genres": list(catalog.genres_of(catalog.items[i]))}
            for i in order]


def read_popular(dataset_name: str) -> list[dict]:
    """The served version's popular list (empty when nothing is served yet)."""
    version = current_version(dataset_name)
    path = _dataset_dir(dataset_name) / str(version) / "popular.json"
    return json.loads(path.read_text()) if version and path.is_file() else []


DEFAULT_VOCABULARY: dict[str, object] = {
    "item_noun": "item", "item_nouns": "items", "genre_word": "genre",
    "first_year": None, "last_year": None, "genre_phrases": [], "translations": {},
}


def read_vocabulary(dataset_name: str) -> dict:
    """How the served version's catalog is spoken of (catalog.Catalog.vocabulary)."""
    version = current_version(dataset_name)
    return dict(_vocabulary(dataset_name, version)) if version else dict(DEFAULT_VOCABULARY)


@functools.lru_cache(maxsize=8)
def _vocabulary(dataset_name: str, version: str) -> dict:
    saved = read_meta(dataset_name, version).get("vocabulary")
    if saved is None:  # a version saved before vocabularies were: ask the catalog itself
        saved = load_dataset(dataset_name).catalog.vocabulary()
    return {**DEFAULT_VOCABULARY, **saved}


def promote(dataset_name: str, version: str) -> None:
    """Serve `version` from now on (atomic swap of the CURRENT pointer)."""
    folder = _dataset_dir(dataset_name)
    if not (folder / version / FILE).is_file():
        raise FileNotFoundError(f"no model version {version!r} for {dataset_name}")
    pointer = folder / "CURRENT.tmp"
    pointer.write_text(version + "\n")
    pointer.replace(folder / "CURRENT")


def current_version(dataset_name: str) -> str | None:
    pointer = _dataset_dir(dataset_name) / "CURRENT"
    return pointer.read_text().strip() if pointer.is_file() else None


def versions(dataset_name: str) -> list[str]:
    folder = _dataset_dir(dataset_name)
    return sorted(p.name for p in folder.iterdir() if (p / "meta.json").is_file()) if folder.is_dir() else []


def read_meta(dataset_name: str, version: str) -> dict:
    return json.loads((_dataset_dir(dataset_name) / version / "meta.json").read_text())


def params_of(meta: dict) -> dict:
    """The parameters a version was trained with (epochs as trained), for ModelParams(**...)."""
    params = dict(meta["params"])
    params["epochs"] = params.pop("epochs_trained")
    return params


def is_current_format(meta: dict) -> bool:
    return meta.get("format", 1) == MODEL_FORMAT


def load_model(dataset: Dataset, version: str | None = None) -> tuple[Embeddings, dict]:
    """The served (or a named) version's embeddings and meta, checked against `dataset`."""
    version = version or current_version(dataset.name)
    if version is None:
        raise FileNotFoundError(f"no trained model for {dataset.name}; run `make train` first")
    meta = read_meta(dataset.name, version)
    if not is_current_format(meta):
        raise ValueError(f"model {version} was saved in an older format; retrain it (`make train`)")
    if meta["data_fingerprint"] != dataset.fingerprint():
        raise ValueError(f"model {version} was trained on different {dataset.name} data; retrain it")
    return Embeddings.load(_dataset_dir(dataset.name) / version), meta
