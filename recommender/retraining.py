"""The learning loop: retrain on the dataset plus all stored feedback, and
promote the candidate only if it is not worse than the model being served.

The gate compares like with like: the candidate is fitted without the
dataset's fixed test split (seed 42, 20 %) and scored on it, exactly as
`make train` scored the served version; its metric must be at least the
served one minus a small tolerance. Only then is it refitted on everything
and promoted. Every decision is appended to models/<dataset>/decisions.jsonl.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import numpy as np

from recommender import artifacts
from recommender.catalog import Dataset, Interactions, User
from recommender.evaluation import evaluate, random_split, to_matrix
from recommender.experiment import fit_hybrid
from recommender.feedback import FeedbackStore, TrainingRow
from recommender.model import ModelParams, default_threads
from recommender.tuning import hybrid_features

log = logging.getLogger(__name__)

GATE_METRIC = "ndcg@5"
GATE_TOLERANCE = 0.005
TEST_SEED, TEST_FRACTION = 42, 0.2
POSITIVE_RATING = 3.0  # feedback ratings at or above this train as positives, like dataset ratings


@dataclass(frozen=True)
class Decision:
    promoted: bool
    candidate_metric: float
    current_metric: float | None
    current_version: str | None
    new_version: str | None
    feedback_events: int
    reason: str


def with_feedback(dataset: Dataset, rows: list[TrainingRow]) -> Dataset:
    """The dataset plus one user per chat user and their positive feedback
    (likes, "seen", ratings of 3+); dislikes and impressions are not positives."""
    positives = [r for r in rows if r.item_id in dataset.catalog and (
        r.kind in ("like", "seen") or (r.kind == "rating" and r.rating >= POSITIVE_RATING))]
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
            threads: int | None = None, tolerance: float = GATE_TOLERANCE) -> Decision:
    """Train a candidate on dataset + feedback; promote it if the gate allows."""
    threads = threads or default_threads()
    current = artifacts.current_version(dataset.name)
    meta = artifacts.read_meta(dataset.name, current) if current else None
    params = params or (artifacts.params_of(meta) if meta else None)
    if params is None:
        raise FileNotFoundError(f"no model is served for {dataset.name}; run `make train` first")
    last_event = store.last_event_id()
    rows = store.training_rows()
    train_base, test = random_split(dataset.interactions, TEST_FRACTION, TEST_SEED)
    augmented_train = with_feedback(Dataset(dataset.catalog, dataset.users, train_base), rows)
    features = hybrid_features(dataset)
    candidate = fit_hybrid(augmented_train, augmented_train.interactions, features, params, threads)
    n_users, n_items = len(augmented_train.users), len(dataset.catalog)
    metrics = evaluate(candidate.scores, to_matrix(augmented_train.interactions, n_users, n_items),
                       to_matrix(test, n_users, n_items)).metrics
    current_metric = meta["metrics"]["test"][GATE_METRIC] if meta else None
    promoted = current_metric is None or metrics[GATE_METRIC] >= current_metric - tolerance
    new_version = None
    if promoted:
        everything = with_feedback(dataset, rows)
        model = fit_hybrid(everything, everything.interactions, features, params, threads)
        new_version = artifacts.save(model, dataset, {"test": metrics}, extra={
            "feedback_events": len(rows), "last_event_id": last_event, "previous_version": current})
        artifacts.promote(dataset.name, new_version)
    reason = (f"candidate {GATE_METRIC} {metrics[GATE_METRIC]:.4f} vs served "
              f"{'none' if current_metric is None else f'{current_metric:.4f}'} "
              f"(tolerance {tolerance}): {'promoted' if promoted else 'kept the served model'}")
    decision = Decision(promoted, metrics[GATE_METRIC], current_metric, current, new_version, len(rows), reason)
    _log_decision(dataset.name, decision)
    return decision


def _log_decision(dataset_name: str, decision: Decision) -> None:
    log.info("retrain gate: %s", decision.reason)
    folder = artifacts.models_dir() / dataset_name
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "decisions.jsonl").open("a") as handle:
        handle.write(json.dumps({"at": datetime.now(timezone.utc).isoformat(), **asdict(decision)}) + "\n")


def last_trained_event(dataset_name: str) -> int:
    """The newest feedback event the served model was trained on (0: none)."""
    version = artifacts.current_version(dataset_name)
    return artifacts.read_meta(dataset_name, version).get("last_event_id", 0) if version else 0


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
