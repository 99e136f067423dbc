"""Retraining: fit a candidate on the dataset plus stored feedback, and
promote it only if the gate allows.

The gate compares like with like: the candidate is fitted without the
dataset's fixed test split (the one recorded in the served model's
metadata, as `make train` made it) and scored on it. It must be within a
small tolerance of the served model *and* of the reference, the best model
promoted so far on that split, so that small losses cannot add up over
successive promotions. Only then is it refitted on everything and promoted,
with the served version's session weights (`inherited_weights`).
Every decision is appended to models/<dataset>/decisions.jsonl.
(When to retrain, and that only one runs at a time: recommender/training/learning.py.)
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import numpy as np

from chatrec.contracts import TRAINS_AS_POSITIVE, meaning
from recommender.domain.catalog import Dataset, Interactions, User
from recommender.evaluation.metrics import evaluate, random_split, to_matrix
from recommender.model.hybrid import ModelParams, default_threads
from recommender.serving.service import default_weights_record
from recommender.storage import artifacts
from recommender.storage.feedback import FeedbackStore, TrainingRow
from recommender.training.fit import fit_hybrid
from recommender.training.tuning import hybrid_features

log = logging.getLogger(__name__)

GATE_METRIC = "ndcg@5"
GATE_TOLERANCE = 0.005
# For models saved before splits were recorded. Splits are JSON records (as in meta.json).
DEFAULT_SPLIT: dict[str, Any] = {"kind": "random", "seed": 42, "test_fraction": 0.2}


@dataclass(frozen=True)
class Decision:
    promoted: bool
    candidate_metric: float
    current_metric: float | None
    current_version: str | None
    new_version: str | None
    feedback_events: int
    reason: str
    reference_metric: float | None = None


def gate(candidate: float, served: float | None, reference: float | None,
         tolerance: float = GATE_TOLERANCE) -> tuple[bool, str]:
    """Promote when the candidate is within `tolerance` of both the served model and the
    reference (the best promoted so far on the same split). Returns (promote, why)."""
    floors = {name: value for name, value in (("served", served), ("reference", reference))
              if value is not None}
    worse = [f"{name} {value:.4f}" for name, value in floors.items() if candidate < value - tolerance]
    shown = ", ".join(f"{name} {value:.4f}" for name, value in floors.items()) or "nothing served"
    verdict = f"worse than {' and '.join(worse)}: kept the served model" if worse else "promoted"
    return not worse, f"candidate {GATE_METRIC} {candidate:.4f} vs {shown} (tolerance {tolerance}): {verdict}"


def reference_metric(dataset: Dataset, split: dict) -> float | None:
    """The best gate metric among saved versions of this data measured on `split`."""
    best = None
    for version in artifacts.versions(dataset.name):
        meta = artifacts.read_meta(dataset.name, version)
        if meta.get("data_fingerprint") != dataset.fingerprint() or meta.get("split", DEFAULT_SPLIT) != split:
            continue
        value = meta.get("metrics", {}).get("test", {}).get(GATE_METRIC)
        if value is not None and (best is None or value > best):
            best = value
    return best


def inherited_weights(meta: dict | None, version: str | None) -> dict:
    """The predecessor's session weights record (the defaults when it carries none), marked
    as inherited from it: the same model, a little more data, the same weights."""
    record = (meta or {}).get(artifacts.SESSION_WEIGHTS) or default_weights_record()
    return {**record, "inherited_from": version}


def with_feedback(dataset: Dataset, rows: list[TrainingRow]) -> Dataset:
    """The dataset plus one user per chat user and their positive feedback (chatrec/contracts.py
    TRAINS_AS_POSITIVE: likes and "seen", ratings of 3 to 5); dislikes and impressions are not."""
    positives = [r for r in rows
                 if r.item_id in dataset.catalog and meaning(r.kind, r.rating) in TRAINS_AS_POSITIVE]
    chat_ids = list(dict.fromkeys(r.recommender_id for r in positives))
    users = dataset.users + [User(uid) for uid in chat_ids]
    row_of = {uid: len(dataset.users) + i for i, uid in enumerate(chat_ids)}
    extra = Interactions(
        np.array([row_of[r.recommender_id] for r in positives], np.int32),
        np.array([dataset.catalog.index(r.item_id) for r in positives], np.int32),
        np.array([r.rating if r.rating is not None else 5.0 for r in positives], np.float32),
        np.zeros(len(positives)),
    )
    base = dataset.interactions
    merged = Interactions(*(np.concatenate([a, b]) for a, b in zip(
        (base.users, base.items, base.ratings, base.timestamps),
        (extra.users, extra.items, extra.ratings, extra.timestamps))))
    return Dataset(dataset.catalog, users, merged)


def retrain(dataset: Dataset, store: FeedbackStore, params: ModelParams | None = None,
            threads: int | None = None, tolerance: float = GATE_TOLERANCE,
            up_to: int | None = None) -> Decision:
    """Train a candidate on dataset + feedback (events up to id `up_to`); promote it if the gate allows."""
    threads = threads or default_threads()
    current = artifacts.current_version(dataset.name)
    meta = artifacts.read_meta(dataset.name, current) if current else None
    params = params or (ModelParams(**artifacts.params_of(meta)) if meta else None)
    if params is None:
        raise FileNotFoundError(f"no model is served for {dataset.name}; run `make train` first")
    last_event = store.last_event_id() if up_to is None else up_to
    rows = store.training_rows(up_to=last_event)
    split = meta.get("split", DEFAULT_SPLIT) if meta else DEFAULT_SPLIT
    if split.get("kind") != "random":
        raise ValueError(f"the served model was measured on a {split.get('kind')!r} split; "
                         "retraining knows random splits")
    train_base, test = random_split(dataset.interactions, split["test_fraction"], split["seed"])
    augmented_train = with_feedback(Dataset(dataset.catalog, dataset.users, train_base), rows)
    features = hybrid_features(dataset)
    candidate = fit_hybrid(augmented_train, augmented_train.interactions, features, params, threads)
    n_users, n_items = len(augmented_train.users), len(dataset.catalog)
    metrics = evaluate(candidate.scores, to_matrix(augmented_train.interactions, n_users, n_items),
                       to_matrix(test, n_users, n_items)).metrics
    current_metric = meta["metrics"]["test"][GATE_METRIC] if meta else None
    reference = reference_metric(dataset, split)
    promoted, reason = gate(metrics[GATE_METRIC], current_metric, reference, tolerance)
    new_version = None
    if promoted:
        everything = with_feedback(dataset, rows)
        model = fit_hybrid(everything, everything.interactions, features, params, threads)
        new_version = artifacts.save(model, dataset, {"test": metrics}, extra={
            "feedback_events": len(rows), "last_event_id": last_event, "previous_version": current,
            "split": split, artifacts.SESSION_WEIGHTS: inherited_weights(meta, current)})
        artifacts.promote(dataset.name, new_version)
    decision = Decision(promoted, metrics[GATE_METRIC], current_metric, current, new_version, len(rows),
                        reason, reference)
    _log_decision(dataset.name, decision)
    return decision


def _log_decision(dataset_name: str, decision: Decision) -> None:
    log.info("retrain gate: %s", decision.reason)
    folder = artifacts.models_dir() / dataset_name
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "decisions.jsonl").open("a") as handle:
        record = {"at": datetime.now(timezone.utc).isoformat(), **asdict(decision)}
        handle.write(json.dumps(record) + "\n")


def rollback(dataset_name: str, to: str | None = None) -> str:
    """Serve the previous version (or `to`); returns the version now served."""
    current = artifacts.current_version(dataset_name)
    if to is None:
        meta = artifacts.read_meta(dataset_name, current) if current else {}
        older = [v for v in artifacts.versions(dataset_name) if current is None or v < current]
        to = meta.get("previous_version") or (older[-1] if older else None)
    if to is None:
        raise FileNotFoundError(f"no earlier model version of {dataset_name} to roll back to")
    artifacts.promote(dataset_name, to)
    log.info("rolled %s back from %s to %s", dataset_name, current, to)
    return to
