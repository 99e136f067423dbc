"""`make simulate`: does feedback make the next answer better, and which session weights
should a catalog's model be served with?

Simulated people on the catalog (`--dataset`, CHATREC_DATASET; MovieLens 100K by default)
answer every list of 5: "like" when the item is one of their hidden items, "not for me"
otherwise, for 3 rounds. The feedback goes through the real FeedbackStore and comes back as
the Taste the Celery tasks build, so this measures the loop the bot runs. The static model
sees the same rounds but learns nothing (it only skips what it has shown); "re-rank only"
keeps the trained vector and only removes rejected items and down-weights their genres.
Three groups:

- known users, time order: the model trained on each user's earlier 80 % of
  ratings, their latest 20 % hidden. A known user of the bot is someone
  whose earlier conversations the model was trained on, and what they want
  now comes after that history: the known-user target (>= 1.05 x static)
  is judged here;
- known users, hidden at random (seed 42): the control, where a session's
  likes are a random sample of what the model already has; feedback must
  not make these lists worse (`retrain_bound` shows how little even
  retraining with every round-1 hit gives there);
- new users: 10 % of users held out of training entirely (seed 42); they
  start from their two most frequent genres, and all their ratings are hidden.

A group the catalog cannot give (ratings without timestamps, no user with K hidden
ratings, too few users, items without genres) is named in the tables with the reason.

The session weights (service.SessionWeights) are chosen first by `validate` on validation
people carved from the training data, in the same run: the best summed gain over the groups
built among the settings that make no group worse than its static model. `store_weights`
then puts them into the model: a version derived from the served one this run measured,
carrying the weights and this run (catalog, data fingerprint, seed, report) in its
meta.json, and promoted while the measured version is still the one served.

Deterministic: every model is fitted with the measured version's parameters (and their
seed) on one LightFM thread, every split and sample is seeded from `--seed`, people are
visited in a fixed order. The same catalog, version parameters and seed give the same
tables and weights. (Runs used to differ because each fitted with whichever version's
parameters were served at the time, and `make train` tunes on several threads.)

Results: docs/benchmarks.md and reports/simulation.json (reports/simulation-<catalog>.json
for a catalog other than MovieLens).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import product
from pathlib import Path

import numpy as np
from tabulate import tabulate
from tqdm import tqdm

from chatrec.reports import machine, write_section
from recommender.data import REPO_ROOT, load_dataset
from recommender.data.movielens import NAME as MOVIELENS
from recommender.domain.catalog import Dataset, Interactions
from recommender.domain.constraints import Taste
from recommender.evaluation.metrics import latest_split, ndcg_at_k, random_split, user_split
from recommender.model.hybrid import ModelParams
from recommender.serving.service import WEIGHTS_SIMULATED, Recommender, SessionWeights, weights_record
from recommender.storage import artifacts
from recommender.storage.feedback import FeedbackStore
from recommender.training.fit import FALLBACK_PARAMS, fit_hybrid
from recommender.training.tuning import hybrid_features

K, ROUNDS, KNOWN_USERS, SEED = 5, 3, 300, 42
THREADS = 1  # one LightFM thread: with the parameters' seed, the same models every run
ARMS = ("static", "loop", "rerank_only")
GROUPS = ("known", "known_latest", "new")
LABELS = {"known": "known", "known_latest": "known-latest", "new": "new"}  # feedback store identities
Person = tuple[str, Taste, set[str]]  # (identity, what they start from, hidden items)

# ---- the validation grid: the session weights are chosen there, never on the test people ----
GENRE_GRID = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)
# A rejected genre is always pushed down (0 is not offered): "not for me" to three horror films
# means less horror, while a simulated "not for me" only means "not among the hidden items".
LOOP_GRID = {"stated_genre": (0.0, 0.5, 1.0), "said_similarity": (0.0, 0.25),
             "said_corating": (0.0, 0.1, 0.2, 0.3), "rejected_genre": (0.5, 1.0), "update_steps": (0, 20)}
UPDATE_LEARNING_RATE = 0.5  # with 20 steps (the rate that did best in earlier grids)
GENRE_TARGET, GENRE_SHARE = 4, 0.9  # at least 4 of K carry the stated genre for 90 % of people
CHOSEN_KEYS = ("stated_genre", "said_similarity", "said_corating", "rejected_genre", "update_steps",
               "update_learning_rate")
SHOWN_ROWS = 20  # of the loop grid in the docs (all of it is in reports/simulation.json)


@dataclass(frozen=True)
class Run:
    """What a run depends on: the same Run gives the same tables and weights."""

    dataset: Dataset
    params: ModelParams  # every model of the run is fitted with these (and their seed)
    version: str | None = None  # the served version they are from (None: nothing served yet)
    seed: int = SEED
    people: int = KNOWN_USERS  # known people per group, at most (smaller for tests)
    loop_grid: dict[str, tuple] = field(default_factory=lambda: dict(LOOP_GRID))


def served_run(dataset: Dataset, seed: int = SEED) -> Run:
    """A run on the served version's parameters (FALLBACK_PARAMS before `make train`)."""
    version = artifacts.current_version(dataset.name)
    if version is None:
        return Run(dataset, FALLBACK_PARAMS, None, seed)
    params = ModelParams(**artifacts.params_of(artifacts.read_meta(dataset.name, version)))
    return Run(dataset, params, version, seed)


@dataclass(frozen=True)
class Group:
    """A model and the people simulated on it, or why the catalog cannot give this group."""

    recommender: Recommender | None = None
    people: list[Person] = field(default_factory=list)
    missing: str | None = None


class MemoryFeedback:
    """The store's meaning of feedback (like -> liked, dislike -> disliked), kept in memory
    for the validation grid (thousands of sessions)."""

    def __init__(self) -> None:
        self.liked: list[str] = []
        self.disliked: list[str] = []

    def taste(self, start: Taste) -> Taste:
        return Taste(user=start.user, genres=start.genres, liked=tuple(self.liked),
                     disliked=tuple(self.disliked))

    def record(self, answers: list[tuple[str, str, str]]) -> None:
        for kind, item, _ in answers:
            (self.liked if kind == "like" else self.disliked).append(item)


class StoredFeedback:
    """Feedback through the real FeedbackStore, read back as the Taste the Celery tasks build."""

    def __init__(self, store: FeedbackStore, identity: str) -> None:
        self.store, self.identity = store, identity

    def taste(self, start: Taste) -> Taste:
        return self.store.feedback(self.identity).taste(genres=start.genres, user=start.user)

    def record(self, answers: list[tuple[str, str, str]]) -> None:
        """(kind, item, client event id) answers to one list, stored in one transaction."""
        self.store.record_many(self.identity, [(kind, item, event, None) for kind, item, event in answers])


def _rounds(recommender: Recommender, feedback: MemoryFeedback | StoredFeedback | None,
            start: Taste, hidden: set[str]) -> list[int]:
    """Hits per round; with `feedback` the person's answers are recorded and used,
    without it only what was shown is skipped (the static model)."""
    shown: list[str] = []
    hits = []
    for number in range(ROUNDS):
        if feedback is None:
            taste = Taste(user=start.user, genres=start.genres, exclude=tuple(shown))
        else:
            taste = feedback.taste(start)
        found = [r.item.id for r in recommender.recommend(taste, K).items]
        hits.append(sum(item in hidden for item in found))
        shown += found
        if feedback is not None:
            feedback.record([("like" if item in hidden else "dislike", item, f"round{number}:{item}")
                             for item in found])
    return hits


def _summary(hits: np.ndarray) -> dict:
    return {"precision": (hits / K).mean(axis=0).tolist(), "hit_rate": (hits > 0).mean(axis=0).tolist()}


def _group(recommender: Recommender, store: FeedbackStore | None, people: list[Person],
           label: str) -> dict:
    """Every person through the three arms: static, the feedback loop, and re-rank only
    (the trained vector unchanged; rejected items removed and their genres down-weighted)."""
    rerank = SessionWeights(**{**asdict(recommender.weights), "learn": False})
    arms = {"static": recommender, "loop": recommender, "rerank_only": recommender.with_weights(rerank)}
    result: dict = {"users": len(people)}
    for arm, served in arms.items():
        hits = []
        for who, start, hidden in tqdm(people, desc=f"{label} {arm}", leave=False):
            feedback = (None if arm == "static" else MemoryFeedback() if store is None
                        else StoredFeedback(store, f"{label}:{arm}:{who}"))
            hits.append(_rounds(served, feedback, start, hidden))
        result[arm] = _summary(np.array(hits))
    return result


def _ids(dataset: Dataset, part: Interactions, user: int) -> set[str]:
    return {dataset.catalog.items[i].id for i in part.items[part.users == user]}


def _top_genres(dataset: Dataset, items: np.ndarray, count: int) -> tuple[str, ...]:
    genres = Counter(g for i in items for g in dataset.catalog.genres_of(dataset.catalog.items[i]))
    return tuple(g for g, _ in genres.most_common(count))


def _fit(run: Run, ratings: Interactions) -> Recommender:
    """The run's model on `ratings` only (the catalog and users of the run's dataset)."""
    visible = Dataset(run.dataset.catalog, run.dataset.users, ratings)
    return Recommender(visible, fit_hybrid(visible, ratings, hybrid_features(visible), run.params, THREADS))


def known_setup(run: Run, ratings: Interactions, seed: int, latest: bool = False) -> Group:
    """A model on 80 % of `ratings` (at random, or each user's earlier 80 % with `latest`);
    people: up to `run.people` users with >= K hidden items."""
    if latest and len(np.unique(ratings.timestamps)) < 2:
        return Group(missing="the ratings carry no timestamps, so there is no time order")
    train, test = latest_split(ratings, 0.2) if latest else random_split(ratings, 0.2, seed)
    dataset = run.dataset
    counts = np.bincount(test.users, minlength=len(dataset.users))
    eligible = np.flatnonzero(counts >= K)
    if not len(eligible):
        return Group(missing=f"no user has {K} or more of their ratings hidden")
    chosen = np.random.default_rng(seed).choice(eligible, min(run.people, len(eligible)), replace=False)
    people = [(f"known:{dataset.users[u].id}", Taste(user=dataset.users[u].id), _ids(dataset, test, u))
              for u in sorted(chosen)]
    return Group(_fit(run, train), people)


def new_setup(run: Run, ratings: Interactions, seed: int) -> Group:
    """A model without 10 % of the users in `ratings`; they start from their two most frequent genres."""
    if len(np.unique(ratings.users)) < 2:
        return Group(missing="fewer than two users, so none can be held out")
    dataset = run.dataset
    others, held = user_split(ratings, 0.1, seed)
    people = []
    for user in np.unique(held.users):
        start = Taste(genres=_top_genres(dataset, held.items[held.users == user], 2))
        if start.genres:  # a new user starts from genres: nothing to say without them
            people.append((f"new:{dataset.users[user].id}", start, _ids(dataset, held, user)))
    if not people:
        return Group(missing="the held-out users' items carry no genre to start from")
    return Group(_fit(run, others), people)


def test_groups(run: Run) -> dict[str, Group]:
    """The three groups on all the ratings (their people are the test people)."""
    ratings = run.dataset.interactions
    return {"known": known_setup(run, ratings, run.seed),
            "known_latest": known_setup(run, ratings, run.seed, latest=True),
            "new": new_setup(run, ratings, run.seed)}


def measure(group: Group, store: FeedbackStore, label: str, weights: SessionWeights) -> dict:
    """The three arms on a group with `weights`, or why the group was not built."""
    if group.recommender is None:
        return {"skipped": group.missing}
    return _group(group.recommender.with_weights(weights), store, group.people, label)


def _known_user(taste: Taste) -> str:
    """The dataset user id a known person starts from."""
    if taste.user is None:
        raise ValueError("a known person's taste names their dataset user")
    return taste.user


def retrain_bound(run: Run, known: Group) -> dict:
    """What the known users' round-1 likes are worth at most: the model retrained with every
    person's round-1 hits added to its training data, against the static model, rounds 2-3."""
    if known.recommender is None:
        return {"skipped": known.missing}
    recommender, people, dataset = known.recommender, known.people, run.dataset
    first = {who: [r.item.id for r in recommender.recommend(start, K).items] for who, start, _ in people}
    hits = [(dataset.user_index(_known_user(start)), dataset.catalog.index(item))
            for who, start, hidden in people for item in first[who] if item in hidden]
    if not hits:
        return {"skipped": "no known user's first list held a hidden item"}
    users, items = (np.array(side) for side in zip(*hits))
    train = recommender.dataset.interactions
    more = Interactions(np.concatenate([train.users, users]), np.concatenate([train.items, items]),
                        np.concatenate([train.ratings, np.full(len(hits), 5.0)]),
                        np.concatenate([train.timestamps, np.full(len(hits), train.timestamps.max())]))
    retrained = _fit(run, more)
    result: dict = {"hits_added": len(hits)}
    for name, served in (("static", recommender), ("retrained", retrained)):
        precision = []
        for who, start, hidden in tqdm(people, desc=f"retrain bound {name}", leave=False):
            shown, row = list(first[who]), []
            for _ in range(ROUNDS - 1):
                taste = Taste(user=start.user, exclude=tuple(shown))
                found = [r.item.id for r in served.recommend(taste, K).items]
                row.append(sum(item in hidden for item in found) / K)
                shown += found
            precision.append(row)
        result[name] = np.mean(precision, axis=0).tolist()
    return result


# ---- validation: the session weights are chosen here, never on the test people ----
def _genre_trial(recommender: Recommender, people: list[Person]) -> dict:
    """People state their most frequent genre: how many of the top K carry it, and P@K / NDCG@K."""
    catalog = recommender.catalog
    carried, precision, ndcg = [], [], []
    for _, start, hidden in people:
        found = recommender.recommend(start, K).items
        carried.append(sum(start.genres[0] in recommender.catalog.genres_of(r.item) for r in found))
        ranked = [r.item.id for r in found]
        precision.append(sum(i in hidden for i in ranked) / K)
        # ndcg_at_k takes catalog indices, not item ids
        ndcg.append(ndcg_at_k([catalog.index(i) for i in ranked], {catalog.index(i) for i in hidden}, K))
    carries = np.array(carried)
    return {"carry_mean": float(carries.mean()), "carry_at_least_4": float((carries >= GENRE_TARGET).mean()),
            "precision@5": float(np.mean(precision)), "ndcg@5": float(np.mean(ndcg))}


def _stating_top_genre(dataset: Dataset, recommender: Recommender, people: list[Person]) -> list[Person]:
    """The same people, each also saying "I like <genre>" for the genre they rated most
    (people whose items carry no genre are left out)."""
    inter, stated = recommender.dataset.interactions, []
    for who, start, hidden in people:
        if start.user is not None:  # known: their top genre among the ratings the model saw
            items = inter.items[inter.users == dataset.user_index(start.user)]
        else:  # new: the genre they rate most (what they would say first)
            items = np.array(sorted(dataset.catalog.index(i) for i in hidden))  # not set order: ties
        genres = _top_genres(dataset, items, 1)
        if genres:
            stated.append((who, Taste(user=start.user, genres=genres), hidden))
    return stated


def _later_precision(recommender: Recommender, people: list[Person], learn: bool) -> float:
    """P@K after the first round, with the feedback loop (`learn`) or as the static model."""
    hits = [_rounds(recommender, MemoryFeedback() if learn else None, start, hidden)
            for _, start, hidden in people]
    return float(np.mean(np.array(hits)[:, 1:]) / K)


def _ratio(loop: float, static: float) -> float | None:
    """loop / static; None when the static model found nothing (no ratio to judge)."""
    return loop / static if static else None


def _ratios(row: dict) -> list[float]:
    return [r for r in row["ratio"].values() if r is not None]


def _harmless(row: dict) -> bool:
    """Feedback with these weights makes no group worse than its static model."""
    return min(_ratios(row), default=1.0) >= 1.0


def _summed_gain(row: dict) -> float:
    return sum(_ratios(row))


def _is_default(row: dict) -> bool:
    return all(row.get(k, v) == v for k, v in asdict(SessionWeights()).items() if k in CHOSEN_KEYS)


def choose(rows: list[dict]) -> dict:
    """The row with the largest summed gain (loop / static) over the groups among the harmless
    ones; if none is harmless, the largest gain. Ties (a catalog too small to tell settings
    apart): the larger summed loop P@K, then the defaults, then the first in grid order."""
    return max([r for r in rows if _harmless(r)] or rows,
               key=lambda r: (_summed_gain(r), sum(r.get("loop", {}).values()), _is_default(r)))


def validation_groups(run: Run) -> dict[str, Group]:
    """Known users of a model trained on 80 % of the training ratings (their other 20 % hidden,
    at random or their latest), and users held out of the training users."""
    ratings, seed = run.dataset.interactions, run.seed
    train, _ = random_split(ratings, 0.2, seed)
    others, _ = user_split(ratings, 0.1, seed)
    return {"known": known_setup(run, train, seed + 1),
            "known_latest": known_setup(run, latest_split(ratings, 0.2)[0], seed + 1, latest=True),
            "new": new_setup(run, others, seed + 1)}


def _allowed_genre_weights(rows: list[dict], names: list[str]) -> tuple[list[float], bool]:
    """The genre weights that keep the stated genre on >= GENRE_TARGET of K for GENRE_SHARE of
    the people in every group; when none does (a small catalog, where the quota needs more
    items of a genre than it has), those that come closest. Returns (weights, share met)."""
    if not names:
        return [r["stated_genre"] for r in rows], True
    share = {r["stated_genre"]: min(r[g]["carry_at_least_4"] for g in names) for r in rows}
    met = [weight for weight, value in share.items() if value >= GENRE_SHARE]
    closest = max(share.values())
    return (met, True) if met else ([w for w, value in share.items() if value == closest], False)


def validate(run: Run) -> dict:
    """Choose SessionWeights on validation people (`validation_groups`); `chosen` is None when
    the catalog gives no group at all."""
    groups = validation_groups(run)
    built = {name: (group.recommender, group.people) for name, group in groups.items()
             if group.recommender is not None}
    report: dict = {"people": {name: len(people) for name, (_, people) in built.items()},
                    "skipped": {name: group.missing for name, group in groups.items() if group.missing}}
    if not built:
        return {**report, "genre": [], "genre_share_met": False, "static": {}, "loop": [], "chosen": None}
    stating = {name: _stating_top_genre(run.dataset, *built[name])
               for name in ("known", "new") if name in built}
    stating = {name: people for name, people in stating.items() if people}
    genre_rows = []
    for weight in tqdm(GENRE_GRID, desc="stated genre weight"):
        row: dict = {"stated_genre": weight}
        for name, people in stating.items():
            served = built[name][0].with_weights(SessionWeights(stated_genre=weight))
            row[name] = _genre_trial(served, people)
        genre_rows.append(row)
    allowed, share_met = _allowed_genre_weights(genre_rows, list(stating))
    unsteered = SessionWeights(stated_genre=0.0)  # the reference: the model with no session weights
    static = {name: _later_precision(recommender.with_weights(unsteered), people, learn=False)
              for name, (recommender, people) in built.items()}
    loop_rows = []
    for values in tqdm(list(product(*run.loop_grid.values())), desc="feedback weights"):
        row = dict(zip(run.loop_grid, values))
        row["update_learning_rate"] = UPDATE_LEARNING_RATE if row["update_steps"] else 0.0
        if row["stated_genre"] not in allowed:
            continue
        weights = SessionWeights(**row)
        row["loop"] = {name: _later_precision(recommender.with_weights(weights), people, learn=True)
                       for name, (recommender, people) in built.items()}
        row["ratio"] = {name: _ratio(row["loop"][name], static[name]) for name in built}
        loop_rows.append(row)
    best = choose(loop_rows)
    return {**report, "genre": genre_rows, "genre_share_met": share_met, "static": static, "loop": loop_rows,
            "chosen": {k: best[k] for k in CHOSEN_KEYS}}


def _cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def render_validation(report: dict) -> str:
    if report["chosen"] is None:
        return "No validation group could be built on this catalog, so no weights were chosen."
    names = [g for g in ("known", "new") if report["genre"] and g in report["genre"][0]]
    metrics = {"carry_mean": ": of 5 carry it", "carry_at_least_4": ": >= 4 of 5", "precision@5": " P@5",
               "ndcg@5": " NDCG@5"}
    genre = [[r["stated_genre"], *(f"{r[g][m]:.3f}" for g in names for m in metrics)]
             for r in report["genre"]]
    groups = list(report["static"])
    ranked = sorted(report["loop"], key=lambda r: (not _harmless(r), -_summed_gain(r)))[:SHOWN_ROWS]
    loop = [[*(r[k] for k in CHOSEN_KEYS[:-1]), *(f"{r['loop'][g]:.3f}" for g in groups),
             *(_cell(r["ratio"][g]) for g in groups), "yes" if _harmless(r) else "no"] for r in ranked]
    static = ", ".join(f"{g} {p:.3f}" for g, p in report["static"].items())
    quota = "" if report["genre_share_met"] else (
        f"No genre weight keeps the stated genre on at least {GENRE_TARGET} of {K} for "
        f"{GENRE_SHARE:.0%} of people here; the grid below uses those that come closest. ")
    return "\n".join([
        tabulate(genre, headers=["genre weight", *(f"{g}{label}" for g in names
                                                   for label in metrics.values())], tablefmt="github"), "",
        f"{quota}Static P@5 after round 1 on validation: {static}. The {len(ranked)} best of "
        f"{len(report['loop'])} settings, those that make no group worse first (all in "
        "reports/simulation.json):", "",
        tabulate(loop, headers=["genre weight", "said similarity", "co-rating", "rejected genre", "BPR steps",
                                *(f"{g} loop" for g in groups), *(f"{g} x static" for g in groups),
                                "no group worse"],
                 tablefmt="github"), "",
        f"chosen: {report['chosen']}"])


# (group, least loop / static after round 1, what the target stands for)
TARGETS = (("known_latest", 1.05, "known users whose session comes after their history (time order)"),
           ("new", 1.15, "new users starting from two stated genres"),
           ("known", 1.0, "known users with 20 % hidden at random: feedback costs nothing"))
TITLES = {"known_latest":
          "Known users, time order (trained on their earlier 80 %, hidden: their latest 20 %)",
          "new": "New users starting from two stated genres",
          "known": "Known users, hidden at random (trained on their other 80 %, hidden 20 % at random)"}


def gain(group: dict) -> float | None:
    """P@K after the first round with the loop, relative to the static model (None: static found nothing)."""
    later = slice(1, ROUNDS)
    static = np.mean(group["static"]["precision"][later])
    return float(np.mean(group["loop"]["precision"][later]) / static) if static else None


def targets(results: dict) -> list[dict]:
    rows = []
    for name, least, what in TARGETS:
        skipped = results[name].get("skipped")
        measured = None if skipped else gain(results[name])
        row = {"group": name, "target": least, "what": what,
               "loop_x_static": None if measured is None else round(measured, 4),
               "met": None if measured is None else measured >= least}
        rows.append({**row, "skipped": skipped} if skipped else row)
    return rows


def _target_row(target: dict) -> list[str]:
    if target["met"] is None:
        why = f"not built: {target['skipped']}" if target.get("skipped") else "static found nothing"
        return [target["what"], f">= {target['target']:.2f} x", "–", why]
    return [target["what"], f">= {target['target']:.2f} x", f"{target['loop_x_static']:.3f} x",
            "yes" if target["met"] else "no"]


def command(dataset_name: str) -> str:
    return ("`make simulate` (`python -m recommender simulate`)" if dataset_name == MOVIELENS else
            f"`CHATREC_DATASET={dataset_name} make simulate` "
            f"(`python -m recommender --dataset {dataset_name} simulate`)")


def _about(run: Run) -> str:
    params = ", ".join(f"{k} {v}" for k, v in asdict(run.params).items())
    where = "the served version's" if run.version else "fallback (no version served)"
    return (f"Catalog {run.dataset.name} (data {run.dataset.fingerprint()}), seed {run.seed}; every model "
            f"fitted with {where} parameters ({params}) on one LightFM thread.")


def _group_lines(name: str, group: dict) -> list[str]:
    if "skipped" in group:
        return [f"**{TITLES[name]}**: not built on this catalog ({group['skipped']}).", ""]
    rows = [[f"round {r + 1}", *(f"{group[a]['precision'][r]:.3f}" for a in ARMS),
             *(f"{group[a]['hit_rate'][r]:.3f}" for a in ARMS)] for r in range(ROUNDS)]
    later = slice(1, ROUNDS)
    static, loop, rerank = (np.mean(group[a]["precision"][later]) for a in ARMS)
    times = f"loop {loop / static:.3f} x static" if static else "static found nothing"
    return [f"**{TITLES[name]}**, {group['users']} people:", "",
            tabulate(rows, headers=["", "static P@5", "loop P@5", "re-rank only P@5", "static hit",
                                    "loop hit", "re-rank only hit"], tablefmt="github"), "",
            f"After the first round: P@5 {loop:.3f} with feedback, {rerank:.3f} re-rank only, "
            f"{static:.3f} static ({times}).", ""]


def _bound_lines(results: dict) -> list[str]:
    bound = results.get("retrain_bound")
    if not bound:
        return []
    if "skipped" in bound:
        return [f"The retrain bound for known users was not measured ({bound['skipped']}).", ""]
    static, retrained = np.mean(bound["static"]), np.mean(bound["retrained"])
    return [f"How much a known user's round-1 likes can give at most when the hidden 20 % is drawn at "
            f"random: the model retrained with all {bound['hits_added']} round-1 hits of the "
            f"{results['known']['users']} known users added to its training data reaches P@5 "
            f"{retrained:.3f} in rounds 2-3, against {static:.3f} for the model without them "
            f"({retrained / static:.3f} x).", ""]


def render(results: dict, host: str, run: Run | None = None) -> str:
    name = run.dataset.name if run else MOVIELENS
    lines = [f"Machine: {host}. Measured by {command(name)}, one run.",
             *([_about(run)] if run else []),
             "", f"Lists of {K}; per round, precision = hidden items among the {K} shown, "
             "hit rate = share of people shown at least one. Targets (P@5 after the first round, "
             "loop / static):", "",
             tabulate([_target_row(t) for t in targets(results)],
                      headers=["people", "target", "measured", "met"], tablefmt="github"), "",
             "A known user of Chat-Rec is someone whose earlier conversations the model was trained on; "
             "what they ask for now comes after that history, so the time-ordered group is the one the "
             "known-user target is judged on. The random holdout is the control: there a session's "
             "likes are a random sample of the history the model already has.", ""]
    for group in ("known_latest", "new", "known"):
        lines += _group_lines(group, results[group])
    lines += _bound_lines(results)
    lines += ["Arms: static = the model as trained (it only skips what it has shown); loop = the "
              "feedback as the bot uses it (items rated by the same people as the session's likes pulled "
              "up; a new user's vector folded in from likes, genres and dislikes; a rejected genre pushed "
              "down in proportion to how much of what the person told us the session is; stated genres "
              "lifted and on at least 4 of 5; a known user's vector moved by BPR steps when validation "
              "chooses steps); re-rank only = the static vector, rejected items removed and their genres "
              "down-weighted (for a known user that down-weighting is tiny, so re-rank only is close to "
              "static there, and the loop's gain is what it learns).", ""]
    lines += [_weights_paragraph(results), "", render_validation(results["validation"])]
    return "\n".join(lines)


def _weights_paragraph(results: dict) -> str:
    if results["weights"] is None:
        return ("No validation group could be built on this catalog, so no session weights were chosen: "
                "the lists above use the defaults, and the served version keeps its own.")
    return (f"The session weights ({results['weights']}) were chosen by `validate` on validation "
            "people only (known users of a model on 80 % of the training ratings, their other 20 % "
            "hidden at random or their latest 20 %; users held out of the training users): the best "
            "summed loop / static P@5 after round 1 over the groups built among the settings that make "
            "no group worse than its static model, and stored with the model version measured "
            "(docs/evaluation.md). Every genre weight there keeps the stated genre on at least 4 of 5 "
            "for 90 % of the people who state their most rated genre, where the catalog allows:")


REPORTS = REPO_ROOT / "reports"


def report_path(dataset_name: str, folder: Path = REPORTS) -> Path:
    return folder / ("simulation.json" if dataset_name == MOVIELENS else f"simulation-{dataset_name}.json")


def section(dataset_name: str) -> tuple[str, str]:
    """The docs section (key, title) a catalog's run writes."""
    if dataset_name == MOVIELENS:
        return "simulation", "Feedback loop with simulated users (`make simulate`)"
    return f"simulation-{dataset_name}", f"Feedback loop with simulated users: {dataset_name}"


def write_json(results: dict, path: Path, run: Run | None = None, stored: dict | None = None) -> None:
    """P@5 per round for each group and arm, plus hit rates, weights, the validation grid, the run
    (catalog, seed, version measured, parameters) and where the weights were stored."""
    path.parent.mkdir(parents=True, exist_ok=True)
    report: dict = {}
    if run is not None:
        report.update(dataset=run.dataset.name, data_fingerprint=run.dataset.fingerprint(), seed=run.seed,
                      version_measured=run.version, params=asdict(run.params))
    for group in GROUPS:
        measured = results[group]
        if "skipped" in measured:
            report[f"{group}_users"] = {"skipped": measured["skipped"]}
            continue
        report[f"{group}_users"] = {arm: measured[arm]["precision"] for arm in ARMS}
        report[f"{group}_users"].update(users=measured["users"],
                                        hit_rate={arm: measured[arm]["hit_rate"] for arm in ARMS})
    report.update(k=K, rounds=ROUNDS, targets=targets(results), weights=results["weights"],
                  weights_stored=stored, validation=results["validation"],
                  known_users_retrain_bound=results.get("retrain_bound"))
    path.write_text(json.dumps(report, indent=2))


def simulate(run: Run) -> dict:
    """Choose the weights on validation people, then measure the three groups with them."""
    with tempfile.TemporaryDirectory() as folder:
        store = FeedbackStore(f"sqlite:///{folder}/simulation.sqlite3")
        store.migrate()
        validation = validate(run)
        chosen = validation["chosen"]
        weights = SessionWeights(**chosen) if chosen else SessionWeights()
        groups = test_groups(run)
        results = {name: measure(groups[name], store, LABELS[name], weights) for name in GROUPS}
        results.update(retrain_bound=retrain_bound(run, groups["known"]), weights=chosen,
                       validation=validation)
        store.engine.dispose()
    return results


def store_weights(run: Run, chosen: dict | None, report: Path) -> dict:
    """Put the chosen weights into a version derived from the one measured (its arrays, the
    weights and this run in its meta.json); promote it if the measured version is still served."""
    name = run.dataset.name
    if chosen is None:
        return {"version": None, "promoted": False, "why": "no weights were chosen"}
    if run.version is None:
        return {"version": None, "promoted": False,
                "why": f"no {name} version is served: `make train` first, then simulate again"}
    record = weights_record(SessionWeights(**chosen), WEIGHTS_SIMULATED, simulation={
        "dataset": name, "data_fingerprint": run.dataset.fingerprint(), "seed": run.seed,
        "measured_version": run.version, "at": datetime.now(timezone.utc).isoformat(), "report": str(report)})
    carried = artifacts.read_meta(name, run.version).get(artifacts.SESSION_WEIGHTS) or {}
    if carried.get("source") == WEIGHTS_SIMULATED and carried.get("weights") == record["weights"]:
        return {"version": run.version, "promoted": False,
                "why": f"{run.version} already carries these weights from a simulation"}
    version = artifacts.derive(name, run.version, {artifacts.SESSION_WEIGHTS: record})
    served = artifacts.current_version(name)
    if served == run.version:
        artifacts.promote(name, version)
        return {"version": version, "promoted": True, "why": f"derived from {run.version} and promoted"}
    return {"version": version, "promoted": False,
            "why": f"derived from {run.version}; {served} is served now, so it was not promoted "
                   f"(`python -m recommender --dataset {name} rollback --to {version}` serves it)"}


def main(dataset_name: str = MOVIELENS, seed: int = SEED, out: Path | None = None,
         reports: Path = REPORTS) -> str:
    run = served_run(load_dataset(dataset_name), seed)
    results = simulate(run)
    text = render(results, machine(), run)
    print(text)
    path = report_path(run.dataset.name, reports)
    stored = store_weights(run, results["weights"], path)
    print(f"\nsession weights: {stored['why']}")
    write_json(results, path, run, stored)
    if out is not None:
        write_section(out, *section(run.dataset.name), text)
    return text
