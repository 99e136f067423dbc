"""The offline evaluation run behind `make eval`.

One seeded 80/20 split of all ratings. Every model (the hybrid and each
baseline) is tuned on a validation split carved from the 80 %, refitted on
the whole 80 % with its chosen parameters and scored on the 20 %. A second
protocol holds out whole users and gives the model only three liked titles
and the user's top genres (cold start). Results: a printed table,
reports/eval.json (format in docs/evaluation.md) and reports/eval.png.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from tabulate import tabulate

from chatrec.contracts import LIKED_FROM_STARS
from recommender.domain.catalog import Dataset, Interactions
from recommender.domain.constraints import Taste
from recommender.evaluation.baselines import ALS, EASE, ItemKNN, Popularity
from recommender.evaluation.metrics import (
    evaluate,
    ndcg_at_k,
    precision_at_k,
    random_split,
    recall_at_k,
    user_split,
)
from recommender.model.features import FeatureConfig
from recommender.model.hybrid import ModelParams
from recommender.serving.service import Recommender
from recommender.training.fit import fit_hybrid, matrices
from recommender.training.tuning import SearchSpace, hybrid_features, tune_baseline, tune_lightfm

HYBRID = "lightfm-hybrid"
COLD_START_LIKED = 3
COLD_START_GENRES = 2
COLD_START_USERS = 0.1


def compare_models(dataset: Dataset, train: Interactions, test: Interactions,
                   space: SearchSpace, seed: int, threads: int) -> tuple[dict, dict]:
    """Tune every model on validation, fit on train, score on test."""
    fit_part, valid_part = random_split(train, 0.2, seed + 1)
    fit_m, valid_m, train_m, test_m = matrices(dataset, fit_part, valid_part, train, test)
    results: dict[str, dict] = {}
    chosen: dict[str, dict] = {}

    def record(name: str, scorer, params: dict, started: float) -> None:
        metrics = evaluate(scorer, train_m, test_m).metrics
        results[name] = {**metrics, "fit_seconds": round(time.perf_counter() - started, 2)}
        chosen[name] = params

    for name, features in ((HYBRID, hybrid_features(dataset)), ("lightfm-cf", FeatureConfig.collaborative())):
        params, _ = tune_lightfm(dataset, features, fit_m, valid_m, space, threads)
        started = time.perf_counter()
        model = fit_hybrid(dataset, train, features, params, threads)
        record(name, model.scores, vars(params), started)

    started = time.perf_counter()
    record("popularity", Popularity().fit(train_m).scores, {}, started)
    for name, factory, grid in (("item-knn", ItemKNN, space.knn), ("implicit-als", ALS, space.als),
                                ("ease", EASE, space.ease)):
        grid_params, _ = tune_baseline(factory, grid, fit_m, valid_m)
        started = time.perf_counter()
        record(name, factory(**grid_params).fit(train_m).scores, grid_params, started)
    return results, chosen


def cold_start(dataset: Dataset, params: ModelParams, seed: int, threads: int) -> dict:
    """Held-out users with only 3 liked titles and their top genres: hybrid vs popularity."""
    others, held = user_split(dataset.interactions, COLD_START_USERS, seed)
    known = Dataset(dataset.catalog, dataset.users, others)
    recommender = Recommender(known, fit_hybrid(known, others, hybrid_features(known), params, threads))
    popularity = np.bincount(others.items, minlength=len(dataset.catalog)).astype(float)
    ranking = np.argsort(-popularity, kind="stable")[:10 + COLD_START_LIKED]
    rng = np.random.default_rng(seed)
    sums: dict[tuple[str, str], float] = defaultdict(float)
    users = 0
    for user in np.unique(held.users):
        mine = held.subset(held.users == user)
        liked = mine.items[mine.ratings >= LIKED_FROM_STARS]
        if len(liked) < COLD_START_LIKED + 1:
            continue
        given = rng.choice(liked, COLD_START_LIKED, replace=False)
        relevant = set(mine.items.tolist()) - set(given.tolist())
        genres = Counter(g for i in mine.items for g in dataset.catalog.genres_of(dataset.catalog.items[i]))
        taste = Taste(liked=tuple(dataset.catalog.items[i].id for i in given),
                      genres=tuple(g for g, _ in genres.most_common(COLD_START_GENRES)))
        hybrid = [dataset.catalog.index(r.item.id) for r in recommender.recommend(taste, k=10).items]
        popular = [int(i) for i in ranking if int(i) not in set(given.tolist())][:10]
        for name, ranked in (("hybrid-cold-start", hybrid), ("popularity", popular)):
            for k in (5, 10):
                sums[(name, f"precision@{k}")] += precision_at_k(ranked, relevant, k)
                sums[(name, f"recall@{k}")] += recall_at_k(ranked, relevant, k)
                sums[(name, f"ndcg@{k}")] += ndcg_at_k(ranked, relevant, k)
        users += 1
    models: dict = {}
    for (name, metric), total in sums.items():
        models.setdefault(name, {})[metric] = total / max(users, 1)
    return {"users": users, "liked_titles_given": COLD_START_LIKED,
            "genres_given": COLD_START_GENRES, "models": models}


def run(dataset: Dataset, space: SearchSpace = SearchSpace(), seed: int = 42,
        test_fraction: float = 0.2, threads: int = 1, report_dir: Path | None = None) -> dict:
    train, test = random_split(dataset.interactions, test_fraction, seed)
    results, chosen = compare_models(dataset, train, test, space, seed, threads)
    report = {
        "dataset": dataset.name,
        "data_fingerprint": dataset.fingerprint(),
        "split": {"kind": "random", "seed": seed, "test_fraction": test_fraction,
                  "train_ratings": len(train), "test_ratings": len(test),
                  "validation_fraction_of_train": 0.2,
                  "users_evaluated": int(len(np.unique(test.users)))},
        "models": results,
        "chosen_params": chosen,
        "cold_start": cold_start(dataset, ModelParams(**chosen[HYBRID]), seed, threads),
    }
    if report_dir is not None:
        write(report, report_dir)
    return report


def table(report: dict) -> str:
    metrics = ("precision@5", "recall@5", "ndcg@5", "precision@10", "recall@10", "ndcg@10", "coverage@10")
    rows = [[name, *(f"{m.get(k, float('nan')):.4f}" for k in metrics), m.get("fit_seconds", "")]
            for name, m in sorted(report["models"].items(), key=lambda kv: -kv[1]["ndcg@5"])]
    main = tabulate(rows, headers=["model", *metrics, "fit s"], tablefmt="github")
    cold = report["cold_start"]
    cold_metrics = ("precision@5", "recall@5", "ndcg@5", "precision@10", "ndcg@10")
    cold_rows = [[name, *(f"{m[k]:.4f}" for k in cold_metrics)] for name, m in cold["models"].items()]
    return (main + f"\n\nCold start ({cold['users']} held-out users, {cold['liked_titles_given']} liked "
            f"titles + top {cold['genres_given']} genres):\n"
            + tabulate(cold_rows, headers=["model", *cold_metrics], tablefmt="github"))


def write(report: dict, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "eval.json").write_text(json.dumps(report, indent=2))
    names = sorted(report["models"], key=lambda n: report["models"][n]["ndcg@5"])
    metrics = ("precision@5", "ndcg@5", "precision@10", "ndcg@10")
    figure, axis = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(metrics)
    for offset, metric in enumerate(metrics):
        axis.barh(np.arange(len(names)) + offset * width,
                  [report["models"][n][metric] for n in names], width, label=metric)
    axis.set_yticks(np.arange(len(names)) + 0.4 - width / 2)
    axis.set_yticklabels(names)
    axis.set_xlabel("score on the test split")
    axis.set_title(f"{report['dataset']}: seeded {int(report['split']['test_fraction'] * 100)}% test split")
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(folder / "eval.png", dpi=120)
    plt.close(figure)
