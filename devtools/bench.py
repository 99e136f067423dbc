"""`make bench`: how fast and how big, in-process, on this machine.

Part 1, MovieLens 100K: hybrid fit time, latency of each serving call over
the whole catalog, peak memory. Part 2, synthetic scale: 100k users x 50k
items x 10M interactions (fixed seed, power-law popularity and activity),
fit time per epoch, peak RSS and top-10 latency through the same serving
API. Each part runs in a fresh process so that its peak RSS is its own.
Results are printed and written to docs/benchmarks.md.
"""

from __future__ import annotations

import multiprocessing
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tabulate import tabulate
from tqdm import tqdm

from chatrec.reports import command_line, machine, percentile, write_section
from recommender.data import load_dataset
from recommender.domain.catalog import Catalog, Dataset, Interactions, Item, User
from recommender.domain.constraints import Constraints, Taste
from recommender.evaluation.metrics import to_matrix
from recommender.model.features import FeatureConfig, FeatureSpace
from recommender.model.hybrid import HybridModel, default_threads
from recommender.serving.service import Recommender
from recommender.training.fit import FALLBACK_PARAMS, served_params
from recommender.training.tuning import hybrid_features

# Used when no model has been trained yet (`make train` writes the tuned ones).
CALLS = 1000
SCALE = {"users": 100_000, "items": 50_000, "interactions": 10_000_000, "genres": 20, "epochs": 2}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def latency(call: Callable[[int], object], calls: int = CALLS) -> dict:
    """p50 / p99 / mean milliseconds of `call(i)` for i in range(calls), after a warm-up."""
    for i in range(10):
        call(i)
    times = []
    for i in tqdm(range(calls), desc="latency", leave=False, disable=None):
        start = time.perf_counter()
        call(i)
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50_ms": statistics.median(times), "p99_ms": percentile(times, 99),
            "mean_ms": statistics.fmean(times), "calls": calls}


def movielens_part() -> dict:
    dataset = load_dataset("movielens-100k")
    params = served_params(dataset)
    matrix = to_matrix(dataset.interactions, len(dataset.users), len(dataset.catalog)).tocoo()
    start = time.perf_counter()
    model = HybridModel(FeatureSpace(dataset, hybrid_features(dataset)), params).fit(
        matrix, num_threads=default_threads())
    fit_seconds = time.perf_counter() - start
    recommender = Recommender(dataset, model)
    users = [u.id for u in dataset.users]
    titles = [i.title for i in dataset.catalog.items]
    long_titles = [t for t in titles if len(t) >= 8]  # a dropped letter still leaves them findable
    wanted = Constraints(genres=("comedy",), year_from=1990, year_to=1999)
    calls = {
        "recommend(user, 10)": lambda i: recommender.recommend(users[i % len(users)], 10),
        "recommend(user, 10, comedy 1990-1999)": lambda i: recommender.recommend(
            users[i % len(users)], 10, wanted),
        "recommend(user, 10, similar_to title)": lambda i: recommender.recommend(
            users[i % len(users)], 10, Constraints(similar_to=(titles[i % len(titles)],))),
        "recommend(user + 3 session likes, 10)": lambda i: recommender.recommend(
            Taste(user=users[i % len(users)],
                  liked=tuple(titles[(i * k) % len(titles)] for k in (3, 5, 11))), 10),
        "recommend(cold start: 2 titles + genre)": lambda i: recommender.recommend(
            Taste(liked=(titles[i % len(titles)], titles[(i * 7) % len(titles)]), genres=("drama",)), 10),
        "similar_items(title, 10)": lambda i: recommender.similar_items(titles[i % len(titles)], 10),
        "explain(user, item)": lambda i: recommender.explain(
            users[i % len(users)], dataset.catalog.items[i].id),
        "find_item(title missing its last letter)": lambda i: recommender.find_item(
            long_titles[i % len(long_titles)][:-1]),
    }
    return {
        "params": {**vars(params)},
        "ratings": len(dataset.interactions), "users": len(dataset.users), "items": len(dataset.catalog),
        "threads": default_threads(),
        "fit_seconds": fit_seconds, "fit_seconds_per_epoch": fit_seconds / params.epochs,
        "latency": {name: latency(call) for name, call in calls.items()},
        "peak_rss_mb": peak_rss_mb(),
    }


def _power_law(rng: np.random.Generator, size: int, count: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** exponent
    return rng.choice(size, count, p=weights / weights.sum())


def synthetic_dataset(users: int, items: int, interactions: int, genres: int, seed: int = 7) -> Dataset:
    """`interactions` distinct (user, item) pairs with power-law popularity
    (Zipf-like, exponent 1) and activity (exponent 0.5), fixed seed."""
    rng = np.random.default_rng(seed)
    pairs = np.empty(0, np.int64)
    while len(pairs) < interactions:  # repeats collapse, so draw until enough distinct pairs
        draw = int((interactions - len(pairs)) * 1.3) + 1
        fresh = _power_law(rng, users, draw, 0.5) * items + _power_law(rng, items, draw, 1.0)
        pairs = np.unique(np.concatenate([pairs, fresh]))
    pairs = rng.permutation(pairs)[:interactions]
    user_ids, item_ids = (pairs // items).astype(np.int32), (pairs % items).astype(np.int32)
    genre_of = rng.integers(0, genres, size=(items, 2))
    catalog = Catalog("synthetic", [
        Item(str(i), f"Item {i}", 1950 + int(i % 70), {"genre": tuple({f"g{g}" for g in genre_of[i]})})
        for i in range(items)
    ])
    people = [User(str(u), {"band": f"b{u % 5}"}) for u in range(users)]
    ones = np.ones(interactions, np.float32)
    return Dataset(catalog, people, Interactions(user_ids, item_ids, ones, np.zeros(interactions)))


def scale_part(sizes: dict = SCALE) -> dict:
    start = time.perf_counter()
    dataset = synthetic_dataset(sizes["users"], sizes["items"], sizes["interactions"], sizes["genres"])
    matrix = to_matrix(dataset.interactions, len(dataset.users), len(dataset.catalog))
    build_seconds = time.perf_counter() - start
    features = FeatureSpace(dataset, FeatureConfig(item_groups={"genre": 1.0, "decade": 0.5},
                                                   user_groups={"band": 0.05}))
    model = HybridModel(features, FALLBACK_PARAMS)
    epoch_seconds = []
    coo = matrix.tocoo()
    for _ in tqdm(range(sizes["epochs"]), desc="scale run: fitting (epochs)", disable=None):
        start = time.perf_counter()
        model.fit(coo, epochs=1, num_threads=default_threads())
        epoch_seconds.append(time.perf_counter() - start)
    start = time.perf_counter()
    recommender = Recommender(dataset, model)
    serving_seconds = time.perf_counter() - start
    users = [u.id for u in dataset.users]
    items = [i.id for i in dataset.catalog.items]
    return {
        **sizes, "unique_interactions": int(matrix.nnz), "build_seconds": build_seconds,
        "serving_seconds": serving_seconds,
        "threads": default_threads(), "epoch_seconds": epoch_seconds,
        "latency": {"recommend(user, 10)": latency(lambda i: recommender.recommend(
                        users[i * 97 % len(users)], 10)),
                    "recommend(user, 10, genre)": latency(lambda i: recommender.recommend(
                        users[i * 97 % len(users)], 10, Constraints(genres=("g3",)))),
                    "recommend(user + 3 session likes, 10)": latency(lambda i: recommender.recommend(
                        Taste(user=users[i * 97 % len(users)],
                              liked=tuple(items[(i * k) % len(items)] for k in (3, 5, 11))), 10))},
        "peak_rss_mb": peak_rss_mb(),
    }


def _in_fresh_process(part: Callable[[], dict]) -> dict:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(part)


def _latency_rows(results: dict) -> list[list]:
    return [[name, f"{v['p50_ms']:.2f}", f"{v['p99_ms']:.2f}", f"{v['mean_ms']:.2f}", v["calls"]]
            for name, v in results.items()]


def render(ml: dict, scale: dict | None, host: str) -> str:
    headers = ["call", "p50 ms", "p99 ms", "mean ms", "calls"]
    lines = [
        f"Machine: {host}. Measured by `make bench` (`python -m devtools.bench`); "
        "every number below comes from one run of it.", "",
        "### MovieLens 100K, in-process", "",
        f"Hybrid fit on all {ml['ratings']:,} ratings ({ml['users']} users x {ml['items']} items), "
        f"{ml['params']['epochs']} epochs, {ml['params']['no_components']} components, "
        f"{ml['threads']} threads: **{ml['fit_seconds']:.1f} s** "
        f"({ml['fit_seconds_per_epoch']:.2f} s per epoch). Peak RSS of the process: "
        f"**{ml['peak_rss_mb']:.0f} MB**.", "",
        "Latency of the serving API, each call scoring the whole catalog:", "",
        tabulate(_latency_rows(ml["latency"]), headers=headers, tablefmt="github"), "",
    ]
    if scale:
        epochs = ", ".join(f"{s:.1f}" for s in scale["epoch_seconds"])
        lines += [
            "### Synthetic scale run", "",
            f"{scale['users']:,} users x {scale['items']:,} items x {scale['unique_interactions']:,} "
            "distinct interactions, power-law popularity (Zipf exponent 1) and activity (exponent 0.5), "
            f"seed 7; items have 2 of {scale['genres']} genres and a decade, users one of 5 bands.", "",
            tabulate([
                ["build data set + matrix", f"{scale['build_seconds']:.1f} s"],
                ["build the serving Recommender (co-ratings, title index)",
                 f"{scale['serving_seconds']:.1f} s"],
                [f"fit, seconds per epoch ({scale['threads']} threads)", epochs],
                ["peak RSS", f"{scale['peak_rss_mb']:.0f} MB"],
            ], headers=["what", "measured"], tablefmt="github"), "",
            f"Top-10 latency through the serving API over all {scale['items']:,} items:", "",
            tabulate(_latency_rows(scale["latency"]), headers=headers, tablefmt="github"), "",
        ]
    return "\n".join(lines)


def main(scale: bool = True, out: Path | None = None) -> str:
    host = machine()
    ml = _in_fresh_process(movielens_part)
    big = _in_fresh_process(scale_part) if scale else None
    text = render(ml, big, host)
    print(text)
    if out is not None:
        write_section(out, "recommender-bench", "Recommender (`make bench`)", text)
    return text


if __name__ == "__main__":
    parser = command_line("python -m devtools.bench", __doc__)
    parser.add_argument("--no-scale", action="store_true", help="skip the synthetic scale run")
    args = parser.parse_args()
    main(scale=not args.no_scale, out=args.doc)
