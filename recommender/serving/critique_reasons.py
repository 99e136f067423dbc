"""The reason an item satisfies a critique ("newer than Fargo (1996): it is from 1998"), in
English or Chinese, with the numbers compared as evidence."""

from __future__ import annotations

from collections.abc import Callable

from recommender.domain.constraints import Constraints
from recommender.domain.critiques import NUMERIC, Critique, CritiqueKind, beyond, pivot_value
from recommender.serving.profile import Scored

TEXTS = {
    "en": {
        CritiqueKind.NEWER: "You asked for something newer than {pivot}: it is from {value:g} "
                            "({reference:g}).",
        CritiqueKind.OLDER: "You asked for something older than {pivot}: it is from {value:g} "
                            "({reference:g}).",
        CritiqueKind.LESS_POPULAR: "You asked for something less well known than {pivot}: {value:g} people "
                                   "rated it ({reference:g}).",
        CritiqueKind.MORE_POPULAR: "You asked for something better known than {pivot}: {value:g} people "
                                   "rated it ({reference:g}).",
        CritiqueKind.BETTER_RATED: "You asked for something better rated than {pivot}: {value:.1f}/5 "
                                   "({reference:.1f}/5).",
        CritiqueKind.CHEAPER: "You asked for something cheaper than {pivot}: {value:.2f} ({reference:.2f}).",
        CritiqueKind.PRICIER: "You asked for something pricier than {pivot}: {value:.2f} ({reference:.2f}).",
        CritiqueKind.DIFFERENT_GENRE: "You asked for another genre than {pivot}'s: it is {genres}.",
        CritiqueKind.SAME_GENRE: "You asked for the genre of {pivot} but something different: "
                                 "it is {genres}, and not among the items closest to it.",
        "the_list": "the list before", "list": ", ",
    },
    "zh": {
        CritiqueKind.NEWER: "你想要比{pivot}新的：它是{value:g}年的（{reference:g}年）。",
        CritiqueKind.OLDER: "你想要比{pivot}老的：它是{value:g}年的（{reference:g}年）。",
        CritiqueKind.LESS_POPULAR: "你想要比{pivot}冷门的：{value:g}个人打过分（{reference:g}个）。",
        CritiqueKind.MORE_POPULAR: "你想要比{pivot}热门的：{value:g}个人打过分（{reference:g}个）。",
        CritiqueKind.BETTER_RATED: "你想要比{pivot}评分高的：{value:.1f}/5（{reference:.1f}/5）。",
        CritiqueKind.CHEAPER: "你想要比{pivot}便宜的：{value:.2f}（{reference:.2f}）。",
        CritiqueKind.PRICIER: "你想要比{pivot}贵的：{value:.2f}（{reference:.2f}）。",
        CritiqueKind.DIFFERENT_GENRE: "你想要和{pivot}不同类型的：它是{genres}。",
        CritiqueKind.SAME_GENRE: "你想要和{pivot}同类型但不一样的：它是{genres}，又不是和它最像的那几部。",
        "the_list": "上一批", "list": "、",
    },
}


def critique_reasons(recommender: Scored, item: int, constraints: Constraints, language: str,
                     genre_names: Callable[[list[str]], list[str]]) -> list[dict]:
    """One reason per critique in force that `item` satisfies: kind, text and evidence."""
    words = TEXTS.get(language, TEXTS["en"])
    found = []
    for critique in constraints.critiques:
        pivots = [recommender.catalog.index(recommender.find_item(r).id) for r in critique.items]
        pivot = critique.label if critique.single and critique.label else words["the_list"]
        if critique.kind in (CritiqueKind.DIFFERENT_GENRE, CritiqueKind.SAME_GENRE):
            genres = list(recommender.catalog.genres_of(recommender.catalog.items[item]))
            found.append({"kind": "critique", "text": words[critique.kind].format(
                pivot=pivot, genres=words["list"].join(genre_names(genres))),
                "evidence": {"critique": critique.kind.value, "genres": genres}})
            continue
        reason = _compared(recommender, critique, pivots, item)
        if reason is not None:
            value, reference = reason
            found.append({"kind": "critique", "text": words[critique.kind].format(
                pivot=pivot, value=value, reference=reference),
                "evidence": {"critique": critique.kind.value, "value": value, "reference": reference}})
    return found


def _compared(recommender: Scored, critique: Critique, pivots: list[int],
              item: int) -> tuple[float, float] | None:
    """(the item's value, the pivots' median) when the item is beyond it in the asked direction."""
    values = recommender.attribute(NUMERIC[critique.kind][0])
    reference = pivot_value(values, pivots)
    if reference is None or not beyond(values[item:item + 1], reference, critique.kind)[0]:
        return None
    return float(values[item]), reference
