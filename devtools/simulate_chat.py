"""`make simulate-chat`: Chat-Rec judged as a conversational recommender: how often, and in how
many turns, a person reaches an item they want.

Simulated people come from MovieLens: each is a user with a liked item (4 or 5 stars) in the
held-out part of a random split, the target. They talk to the real dialogue stack over Rasa's
REST channel (NLU, actions, worker), as someone new, in plain sentences: first a genre and the
decade of the target ("recommend a comedy from the 90s"), then, after each list without the
target, one of:

- critiquing: a reaction to the list, from the target's attributes relative to what was shown:
  "also a romance" when few items shown have a genre of the target not yet said; "not a
  horror" when most carry a genre the target lacks; else "like the third one but newer" (or
  older; "more like the third one" in the same year; "less well known" when the target has
  fewer ratings than it, "better known" when more, "better rated" when a higher mean rating)
  about the shown item the person finds closest to the target (shared genres, years apart,
  how well known);
- more only: "more".

The popularity strategy needs no conversation: the most-rated items of that genre and decade,
five per turn. Success at N: the target is in a list within N turns (the opening is turn 1).
A simulated person never says the target's title or anything only the target has: what they say
comes from its genre, decade and comparisons with shown items (checked for every message).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import statistics
import sys
from dataclasses import dataclass
from typing import Any

import aiohttp
import numpy as np
from tabulate import tabulate
from tqdm import tqdm

from chatrec import settings
from chatrec.contracts import ReplyData, ReplyKind
from chatrec.reports import machine, write_section
from chatrec.settings import environment
from devtools.critique_ceiling import turns_knowing_the_ranking, turns_with_more
from launcher.processes import free_port
from launcher.stack import ROOT, Stack, rasa_models, write_endpoints
from recommender.data import load_dataset
from recommender.domain.catalog import Dataset, Item, natural_title
from recommender.evaluation.metrics import random_split
from recommender.serving.service import BETTER_RATED_MIN_RATINGS, Recommender, load_recommender
from recommender.storage.feedback import FeedbackStore

STRATEGIES = ("critiquing", "more_only", "popularity")
CEILING = "ceiling"  # people who know the recommender's ranking (devtools/critique_ceiling.py)
OFFLINE_MORE = "more_only_offline"  # the same people saying "more", offline like the ceiling
AT = (1, 3, 5, 10)  # success@1: the target in the opening list (the same for every strategy but popularity)
ORDINALS = ("first", "second", "third", "fourth", "fifth")
MANY = 10  # "also a romance" only while at least this many items of the decade have the genres said
CROWDED = 3  # "not a horror" when at least this many items shown are horror films and the target is not
GENRE_WORDS = {
    "Action": "an action film", "Adventure": "an adventure film", "Animation": "an animated film",
    "Children's": "a children's film", "Comedy": "a comedy", "Crime": "a crime film",
    "Documentary": "a documentary", "Drama": "a drama", "Fantasy": "a fantasy film",
    "Film-Noir": "a film noir", "Horror": "a horror film", "Musical": "a musical", "Mystery": "a mystery",
    "Romance": "a romance", "Sci-Fi": "a sci-fi film", "Thriller": "a thriller", "War": "a war film",
    "Western": "a western",
}


@dataclass(frozen=True)
class Person:
    sender: str
    target: Item
    genre: str

    @property
    def year(self) -> int:
        """The target's year (people() only picks targets that have one)."""
        if self.target.year is None:
            raise ValueError(f"the target {self.target.id} has no year")
        return self.target.year

    @property
    def decade(self) -> int:
        return self.year // 10 * 10

    def opening(self) -> str:
        decade = f"the {self.decade % 100:02d}s" if self.decade >= 1920 else f"the {self.decade}s"
        return f"recommend {GENRE_WORDS[self.genre]} from {decade}"


def people(dataset: Dataset, count: int, seed: int) -> list[Person]:
    """`count` users, each with one held-out liked item that has a year and a genre we can say."""
    _, held_out = random_split(dataset.interactions, 0.2, seed)
    rng = np.random.default_rng(seed)
    found: dict[int, Person] = {}
    for row in rng.permutation(len(held_out)):
        user, item = int(held_out.users[row]), dataset.catalog.items[int(held_out.items[row])]
        genres = [g for g in dataset.catalog.genres_of(item) if g in GENRE_WORDS]
        if user in found or held_out.ratings[row] < 4 or not item.year or not genres:
            continue
        genre = genres[int(rng.integers(len(genres)))]
        found[user] = Person(f"sim:{seed}:{dataset.users[user].id}", item, genre)
        if len(found) == count:
            break
    return list(found.values())


class Ratings:
    """What anyone can know of an item (its number of ratings, their mean), and the pages of the
    popularity strategy."""

    def __init__(self, dataset: Dataset) -> None:
        self.catalog = dataset.catalog
        items, ratings = dataset.interactions.items, dataset.interactions.ratings
        self.counts = np.bincount(items, minlength=len(dataset.catalog))
        sums = np.bincount(items, weights=ratings, minlength=len(dataset.catalog))
        self.means = np.divide(sums, self.counts, out=np.zeros(len(sums)), where=self.counts > 0)

    def count(self, item: Item) -> int:
        return int(self.counts[self.catalog.index(item.id)])

    def better_rated(self, item: Item, than: Item) -> bool:
        """A higher mean rating, both rated by at least BETTER_RATED_MIN_RATINGS people."""
        first, second = self.catalog.index(item.id), self.catalog.index(than.id)
        return (min(self.counts[first], self.counts[second]) >= BETTER_RATED_MIN_RATINGS
                and self.means[first] > self.means[second])

    def sharing(self, genres: set[str], decade: int) -> int:
        """How many items of the decade have all these genres."""
        return sum((item.year or 0) // 10 * 10 == decade and genres <= set(self.catalog.genres_of(item))
                   for item in self.catalog.items)

    def turns_to(self, person: Person, page: int = 5) -> int:
        """The turn at which the most-rated items of the person's genre and decade reach the target."""
        matching = [i for i, item in enumerate(self.catalog.items)
                    if item.year and item.year // 10 * 10 == person.decade
                    and person.genre in self.catalog.genres_of(item)]
        ranked = sorted(matching, key=lambda i: (-self.counts[i], i))
        position = ranked.index(self.catalog.index(person.target.id))
        return position // page + 1


def closeness(target: Item, item: Item, ratings: Ratings, catalog) -> float:
    """How close a person finds `item` to the one they want (higher is closer): shared genres
    (Jaccard), years apart, and how well known each is (log number of ratings)."""
    wanted, theirs = set(catalog.genres_of(target)), set(catalog.genres_of(item))
    shared = len(wanted & theirs) / len(wanted | theirs) if wanted | theirs else 0.0
    years = abs((item.year or 0) - (target.year or 0))
    fame = abs(math.log1p(ratings.count(item)) - math.log1p(ratings.count(target)))
    return shared - 0.1 * years - fame


def critique(person: Person, shown: list[Item], ratings: Ratings, catalog,
             named: set[str]) -> tuple[str, str | None]:
    """What a person who wants `person.target` says about the list `shown`, and the genre it
    names (`named`: the genres said so far, asked for or excluded)."""
    target, year = person.target, person.year
    wanted = [g for g in catalog.genres_of(target) if g in GENRE_WORDS]
    carried = {g: sum(g in catalog.genres_of(item) for item in shown) for g in GENRE_WORDS}
    asked = named & set(wanted)
    missing = [g for g in wanted if g not in named and carried[g] < len(shown) / 2
               and ratings.sharing(asked | {g}, person.decade) >= MANY]
    if missing:  # few of these are romantic: "also a romance"
        return f"also {GENRE_WORDS[missing[0]]}", missing[0]
    unwanted = [g for g in GENRE_WORDS if g not in wanted and g not in named and carried[g] >= CROWDED]
    if unwanted:  # several of these are horror films: "not a horror"
        genre = max(unwanted, key=lambda g: (carried[g], g))
        return f"not {GENRE_WORDS[genre]}", genre
    position = max(range(len(shown)), key=lambda p: closeness(target, shown[p], ratings, catalog))
    pivot, ordinal = shown[position], ORDINALS[position]
    in_time = ("newer" if year > pivot.year else "older") if pivot.year and year != pivot.year else None
    known = [words for words, holds in (("less well known", ratings.count(target) < ratings.count(pivot)),
                                        ("better known", ratings.count(target) > ratings.count(pivot)),
                                        ("better rated", ratings.better_rated(target, pivot))) if holds]
    if in_time:
        return f"like the {ordinal} one but {_listed([in_time, *known])}", None
    return f"more like the {ordinal} one" + (f", but {_listed(known)}" if known else ""), None


def _listed(words: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return " and ".join(filter(None, [", ".join(words[:-1]), words[-1]]))


def _says_only_what_anyone_could(text: str, target: Item) -> None:
    title = natural_title(target.title).lower()
    if title in text.lower() or target.id in text.split():
        raise AssertionError(f"the simulated person named the target: {text!r}")


async def _converse(session: aiohttp.ClientSession, url: str, person: Person, strategy: str, max_turns: int,
                    dataset: Dataset, ratings: Ratings) -> int | None:
    """The turn at which the target was shown, or None within `max_turns`."""
    text, sender = person.opening(), f"{person.sender}:{strategy}"
    named = {person.genre}
    for turn in range(1, max_turns + 1):
        _says_only_what_anyone_could(text, person.target)
        async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                                timeout=aiohttp.ClientTimeout(total=120)) as response:
            replies = await response.json()
        lists = [data for data in map(ReplyData.of_message, replies) if data and data.kind is ReplyKind.LIST]
        shown = [dataset.catalog.get(item.id) for data in lists for item in data.items]
        if person.target in shown:
            return turn
        if not shown:  # nothing shown (nothing left, not understood): say what they want again
            text, named = person.opening(), {person.genre}
        elif strategy == "critiquing":
            text, genre = critique(person, shown, ratings, dataset.catalog, named)
            named |= {genre} if genre else set()
        else:
            text = "more"
    return None


async def _run(url: str, dataset: Dataset, group: list[Person], strategy: str, max_turns: int,
               concurrency: int, progress: tqdm) -> list[int | None]:
    ratings = Ratings(dataset)
    if strategy == "popularity":
        progress.update(len(group))
        return [t if (t := ratings.turns_to(p)) <= max_turns else None for p in group]
    limit = asyncio.Semaphore(concurrency)

    async def one(person: Person) -> int | None:
        async with limit:
            found = await _converse(session, url, person, strategy, max_turns, dataset, ratings)
            progress.update(1)
            return found

    async with aiohttp.ClientSession() as session:
        return list(await asyncio.gather(*(one(person) for person in group)))


def simulate(url: str, dataset: Dataset, seeds: list[int], count: int, max_turns: int,
             concurrency: int = 8, recommender: Recommender | None = None) -> dict:
    """Every strategy for `count` people per seed against the bot at `url`: the report's data.
    With the served `recommender`, also the ceiling: people who know its ranking (offline)."""
    strategies = [*STRATEGIES, *([CEILING, OFFLINE_MORE] if recommender else [])]
    turns: dict[str, list[int | None]] = {strategy: [] for strategy in strategies}
    per_seed = []
    conversations = len(seeds) * count * len(strategies)
    with tqdm(total=conversations, desc="simulated conversations", unit="person") as bar:
        for seed in seeds:
            group = people(dataset, count, seed)
            found = {s: asyncio.run(_run(url, dataset, group, s, max_turns, concurrency, bar))
                     for s in STRATEGIES}
            if recommender:
                found[CEILING] = [turns_knowing_the_ranking(recommender, p.target, p.genre, p.decade,
                                                            set(GENRE_WORDS), max_turns) for p in group]
                found[OFFLINE_MORE] = [turns_with_more(recommender, p.target, p.genre, p.decade, max_turns)
                                       for p in group]
                bar.update(2 * len(group))
            for strategy in strategies:
                turns[strategy] += found[strategy]
            per_seed.append({"seed": seed, "people": len(group), **{
                f"success_at_5_{s}": _success(found[s], 5) for s in strategies}})
    result: dict[str, Any] = {f"success_at_{n}": {s: _success(turns[s], n) for s in strategies}
                              for n in AT if n <= max_turns}
    result["mean_turns_to_success"] = {s: _mean_turns(turns[s]) for s in strategies}
    five = result.get("success_at_5", {})
    result["ratio_at_5_critiquing_vs_more_only"] = (five["critiquing"] / five["more_only"]
                                                    if five and five["more_only"] else None)
    result["ratio_at_5_ci95"] = ratio_interval(turns["critiquing"], turns["more_only"]) if five else None
    result.update({"seeds": seeds, "people_per_seed": count, "max_turns": max_turns, "per_seed": per_seed,
                   "machine": machine()})
    return result


def ratio_interval(critiquing: list[int | None], more_only: list[int | None], n: int = 5,
                   resamples: int = 2000, seed: int = 0) -> list[float] | None:
    """A 95% bootstrap interval of success@n with critiquing over success@n with "more" only:
    the same people resampled for both (the i-th entry of each list is one person)."""
    reached = np.array([[t is not None and t <= n for t in side] for side in (critiquing, more_only)])
    picks = np.random.default_rng(seed).integers(0, reached.shape[1], (resamples, reached.shape[1]))
    found = reached[:, picks].sum(axis=2)  # (2, resamples)
    ratios = found[0][found[1] > 0] / found[1][found[1] > 0]
    return [round(float(q), 3) for q in np.percentile(ratios, [2.5, 97.5])] if len(ratios) else None


def _success(turns: list[int | None], n: int) -> float:
    return sum(t is not None and t <= n for t in turns) / len(turns) if turns else 0.0


def _mean_turns(turns: list[int | None]) -> float | None:
    reached = [t for t in turns if t is not None]
    return statistics.mean(reached) if reached else None


def report(result: dict) -> str:
    shown_at = [n for n in AT if f"success_at_{n}" in result]
    mean_turns = result["mean_turns_to_success"]
    rows = [[strategy, *(f"{result[f'success_at_{n}'][strategy]:.3f}" for n in shown_at),
             f"{mean_turns[strategy]:.2f}" if mean_turns[strategy] else "—"]
            for strategy in mean_turns]
    headers = ["strategy", *(f"success@{n}" for n in shown_at), "mean turns to success"]
    ratio = result["ratio_at_5_critiquing_vs_more_only"]
    ratio_line = "\n"
    if ratio:
        first, more = result["success_at_1"]["critiquing"], result["success_at_5"]["more_only"]
        interval = result.get("ratio_at_5_ci95")
        spread = (f" (95% bootstrap interval over people: {interval[0]:.2f}-{interval[1]:.2f}x)"
                  if interval else "")
        ratio_line = (f"\n\nsuccess@5, critiquing vs more only: **{ratio:.2f}x**{spread}; target 1.5x. "
                      f"The opening alone (genre and decade) shows the target to {first:.0%} of the people "
                      f"under both strategies, and \"more\" reaches {more:.0%} by turn 5, so 1.5x would need "
                      f"{1.5 * more:.0%} success with critiques.")
        if CEILING in result["success_at_5"]:
            ceiling, offline = result["success_at_5"][CEILING], result["success_at_5"][OFFLINE_MORE]
            ratio_line += (f" The ceiling row is a person who knows the recommender's ranking: each turn "
                           f"they say whichever reaction the bot understands ranks the target highest "
                           f"(offline, `devtools/critique_ceiling.py`: the request kept as the action server "
                           f"keeps it, the recommender called directly); they reach {ceiling:.0%} by turn 5, "
                           f"{ceiling / offline:.2f}x the same people paging offline ({offline:.0%}).")
        ratio_line += "\n\n" + per_seed_table(result["per_seed"]) + "\n"
    return (f"{result['people_per_seed']} simulated people x seeds {result['seeds']}, at most "
            f"{result['max_turns']} turns; one run on {result['machine']}.\n\n"
            + tabulate(rows, headers=headers, tablefmt="github") + ratio_line)


def per_seed_table(per_seed: list[dict]) -> str:
    """success@5 of critiquing and of "more" only, seed by seed: how much the ratio varies."""
    rows = []
    for row in per_seed:
        critiquing, more = row["success_at_5_critiquing"], row["success_at_5_more_only"]
        rows.append([row["seed"], row["people"], f"{critiquing:.2f}", f"{more:.2f}",
                     f"{critiquing / more:.2f}x" if more else "—"])
    headers = ["seed", "people", "success@5 critiquing", "success@5 more only", "ratio"]
    return tabulate(rows, headers=headers, tablefmt="github")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m devtools.simulate_chat")
    parser.add_argument("--people", type=int, default=50, help="simulated people per seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(1, 11)))
    parser.add_argument("--turns", type=int, default=10, help="most turns a person takes")
    args = parser.parse_args()
    if not any(rasa_models().glob("*.tar.gz")):
        sys.exit("no trained bot: run `make train` first")
    folder = settings.current().state_folder() / "simulate-chat"
    shutil.rmtree(folder, ignore_errors=True)
    env = {"CHATREC_STATE_DIR": str(folder / "state"), "CHATREC_METRICS_PORT_BASE": "0",
           "CHATREC_RETRAIN_AFTER": "1000000"}
    stack = Stack(env, logs=folder / "logs", actions_port=free_port())
    try:
        with environment(env):
            endpoints, secrets = write_endpoints(stack.actions_port, folder)
            FeedbackStore(settings.current().database_url).migrate()
        stack.start_workers()
        stack.start_actions()
        port = free_port()
        stack.start_server(rasa_models(), port, endpoints, secrets)
        stack.wait_for_workers()
        result = simulate(f"http://127.0.0.1:{port}", load_dataset("movielens-100k"), args.seeds, args.people,
                          args.turns, recommender=load_recommender())
    finally:
        stack.stop()
    text = report(result)
    print(text)
    (ROOT / "reports").mkdir(exist_ok=True)
    (ROOT / "reports" / "conversation_sim.json").write_text(json.dumps(result, indent=2))
    write_section(ROOT / "docs" / "benchmarks.md", "conversation-sim",
                  "Conversational success: critiquing vs paging (`make simulate-chat`)", text)


if __name__ == "__main__":
    main()
