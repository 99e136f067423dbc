"""`python -m recommender <command>`: train, evaluate, simulate, retrain, try it out
(benchmarks: devtools/)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from chatrec import settings
from recommender.data import REPO_ROOT, load_dataset
from recommender.domain.constraints import Constraints, Taste
from recommender.domain.errors import RecommenderError
from recommender.serving.service import Recommendations, Recommender, load_recommender
from recommender.storage import artifacts
from recommender.training.tuning import SearchSpace


def _space(args: argparse.Namespace) -> SearchSpace:
    if args.quick:
        return SearchSpace.quick()
    return SearchSpace.first_run() if getattr(args, "if_missing", False) else SearchSpace()


def cmd_train(args: argparse.Namespace) -> None:
    from recommender.training.production import train

    dataset = load_dataset(args.dataset)
    current = artifacts.current_version(dataset.name)
    if (args.if_missing and current
            and artifacts.is_current_format(artifacts.read_meta(dataset.name, current))):
        print(f"{dataset.name}: serving {current}; nothing to train")
        return
    version = train(dataset, _space(args), seed=args.seed)
    meta = artifacts.read_meta(dataset.name, version)
    test = meta["metrics"]["test"]
    print(f"{dataset.name}: trained and promoted {version} "
          f"(test P@5 {test['precision@5']:.4f}, NDCG@5 {test['ndcg@5']:.4f})")


def cmd_eval(args: argparse.Namespace) -> None:
    from recommender.experiments import offline as experiment

    report = experiment.run(load_dataset(args.dataset), _space(args), seed=args.seed,
                            threads=args.threads, report_dir=Path(args.out))
    print(experiment.table(report))
    print(f"\nwrote {args.out}/eval.json and {args.out}/eval.png")


def cmd_simulate(args: argparse.Namespace) -> None:
    from recommender.experiments import simulation

    simulation.main(args.dataset, seed=args.seed, out=Path(args.doc), reports=Path(args.out))


def cmd_rollback(args: argparse.Namespace) -> None:
    from recommender.training.retraining import rollback

    version = rollback(args.dataset, args.to)
    print(f"{args.dataset}: now serving {version}")


def cmd_retrain(args: argparse.Namespace) -> None:
    import os
    import socket

    from recommender.storage.feedback import FeedbackStore
    from recommender.training.learning import retrain_when_due

    store = FeedbackStore(settings.current().database_url)
    store.migrate()
    owner = f"{socket.gethostname()}:{os.getpid()}:cli"
    print(retrain_when_due(store, args.dataset, owner, force=True).reason)


def _show(title: str, recommendations: Recommendations) -> None:
    print(f"\n{title}")
    if not recommendations:
        print(f"  (nothing: {recommendations.reason})")
    for rank, rec in enumerate(recommendations.items, 1):
        genres = ", ".join(rec.item.values("genre"))
        print(f"  {rank:2}. {rec.item.label:55} {genres}")


def cmd_demo(args: argparse.Namespace) -> None:
    """Show what the serving API answers, on the promoted model."""
    recommender: Recommender = load_recommender(args.dataset)
    user = recommender.dataset.users[0].id
    _show(f"For user {user}:", recommender.recommend(user, k=5))
    wanted = Constraints(genres=("sci fi",), year_from=1990, year_to=1999)
    _show(f"For user {user}, {wanted.describe()}:", recommender.recommend(user, 5, wanted))
    taste = Taste(liked=("the godfather", "fargo"), genres=("crime",))
    found = recommender.recommend(taste, k=5)
    _show("For a new user who likes The Godfather and Fargo, and crime films:", found)
    if found:
        explanation = recommender.explain(taste, found.items[0].item.id)
        print(f"\nWhy {explanation.item.label}?")
        for reason in explanation.reasons:
            print(f"  - {reason.text}")
    _show("Similar to 'star wars':", recommender.similar_items("star wars", k=5))
    noir = Constraints(genres=("noir",), year_from=2020, year_to=2020)
    _show(f"For user {user}, {noir.describe()}:", recommender.recommend(user, 5, noir))


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m recommender")
    parser.add_argument("--dataset", default=settings.current().dataset,
                        help="movielens-100k, a catalog under data/catalogs/, or a folder "
                             "(default: CHATREC_DATASET)")
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="tune, measure, fit on everything, promote")
    train.add_argument("--if-missing", action="store_true",
                       help="only when nothing is served yet (one configuration, not the whole search)")
    eval_ = commands.add_parser("eval", help="offline evaluation against the baselines")
    eval_.add_argument("--out", default=str(REPO_ROOT / "reports"))
    eval_.add_argument("--threads", type=int, default=1,
                       help="LightFM threads (1 keeps the run reproducible)")
    for command in (train, eval_):
        command.add_argument("--quick", action="store_true", help="tiny search space (for tests)")
        command.add_argument("--seed", type=int, default=42)
    commands.add_parser("demo", help="ask the promoted model a few questions")
    simulate = commands.add_parser("simulate", help="feedback loop with simulated users; choose the "
                                   "catalog's session weights and store them with its model -> docs")
    simulate.add_argument("--doc", default=str(REPO_ROOT / "docs" / "benchmarks.md"))
    simulate.add_argument("--out", default=str(REPO_ROOT / "reports"), help="where simulation*.json goes")
    simulate.add_argument("--seed", type=int, default=42, help="splits and people (same seed, same tables)")
    rollback = commands.add_parser("rollback", help="serve the previous model version again")
    rollback.add_argument("--to", help="a version name (default: the one before the current)")
    commands.add_parser("retrain", help="retrain on the dataset plus stored feedback, behind the gate")
    args = parser.parse_args(argv)
    handler = {"train": cmd_train, "eval": cmd_eval, "demo": cmd_demo, "rollback": cmd_rollback,
               "retrain": cmd_retrain, "simulate": cmd_simulate}
    try:
        handler[args.command](args)
    except (RecommenderError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
