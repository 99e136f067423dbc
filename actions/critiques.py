"""How a person critiques what they see ("like the second one but newer", "something less well
known", "not that genre", "cheaper", "冷门一点的"): the direction words of a message, in English
and Chinese, and the critiques in force after it.

The NLU decides the intent and finds the item pointed at (ordinal, title); the direction is a
closed class of words, read here from the text, so no entity of its own is needed.
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from actions import context
from recommender.domain.critiques import PRICED, Critique, CritiqueKind, combined

K = CritiqueKind
# "newer than 1995" is a year range (actions/years.py)
NOT_A_YEAR = r"(?!\s*than\s+(?:the\s+)?(?:year\s+)?\d)"
ENGLISH = {
    K.NEWER: rf"\b(?:newer|more recent|later|less old|not so old|more modern){NOT_A_YEAR}\b",
    K.OLDER: rf"\b(?:older|earlier|less recent|not so new|more classic){NOT_A_YEAR}\b",
    K.LESS_POPULAR: r"\b(?:less (?:well[- ])?known|lesser[- ]known|less popular|less famous|less mainstream"
                    r"|not so (?:well[- ])?known|not so (?:popular|famous|mainstream)|(?:a )?hidden gems?"
                    r"|obscure|more obscure|underrated|off the beaten track"
                    r"|nobody has seen|no one has seen)\b",
    K.MORE_POPULAR: r"\b(?:more popular|better[- ]known|more famous|more mainstream|(?:every(?:body|one)|"
                    r"all) (?:has|have) seen|crowd[- ]pleasers?|blockbusters?)\b",
    K.BETTER_RATED: r"\b(?:(?:better|higher)[- ]rated|rated (?:better|higher)|better reviewed|better reviews"
                    r"|higher ratings?|better ratings?)\b",
    K.DIFFERENT_GENRE: r"\b(?:not (?:that|this|the same) (?:genre|kind|type|category)|(?:a |another |some "
                       r"|)(?:different|other) (?:genre|kind|type|category)|change the (?:genre|category))\b",
    K.SAME_GENRE: r"\bsame (?:genre|kind|type|category),? but "
                  r"(?:different|something else|not (?:so|as) similar)"
                  r"|\b(?:a |something )?different (?:one|film|movie|item|product)s? "
                  r"(?:of|in) the same (?:genre|kind)\b",
    K.CHEAPER: r"\b(?:cheaper|less expensive|lower[- ]priced|more affordable|less pricey|on a budget)\b",
    K.PRICIER: r"\b(?:pricier|more expensive|higher[- ]end|more premium|fancier)\b",
}
CHINESE = {
    K.NEWER: r"新一点|新一些|新点|更新的|新些|近一点|更近|晚一点|年代近",
    K.OLDER: r"老一点|老一些|老点|更老|旧一点|早一点|更早|年代久",
    K.LESS_POPULAR: r"冷门|小众|不那么(?:有名|出名|热门)|没那么(?:有名|出名|热门)"
                    r"|不太(?:有名|出名)|知名度低|少有人看",
    K.MORE_POPULAR: r"热门一点|更热门|更有名|更出名|大家都看过|大众一点|更大众|人人都看过",
    K.BETTER_RATED: r"评分更高|评分高一点|分数更高|分更高|口碑更好|口碑好一点|更好评",
    K.DIFFERENT_GENRE: r"换个类型|换一个类型|换种类型|不要这个类型|不要这种类型"
                       r"|别的类型|其他类型|不同类型|换个品类",
    K.SAME_GENRE: r"同类型但不一样|同类型但不同|同样类型但不一样|同一类型的别的|同类型的其他",
    K.CHEAPER: r"便宜|实惠|价格低|划算",
    K.PRICIER: r"贵一点|更贵|高端|贵些",
}
SIMILAR = re.compile(r"\b(?:like|similar to|in the vein of)\s+(?:the\s+|that\s+|this\s+)?"
                     r"(?:#\s*\d|number\s*\d|first|second|third|fourth|fifth|last|\d(?:st|nd|rd|th))\b"
                     r"|像第|类似第|像最后|类似最后")


def kinds(text: str) -> list[CritiqueKind]:
    """The critique directions a message states, in the order of the table."""
    lowered = text.lower()
    return [kind for kind in K if re.search(ENGLISH[kind], lowered) or re.search(CHINESE[kind], text)]


def wants_similar(text: str) -> bool:
    """"More like the first one", "像第二部那样的": neighbours of an item pointed at, not its title."""
    return bool(SIMILAR.search(text.lower()))


def said(tracker: Tracker) -> list[CritiqueKind]:
    return kinds(str(tracker.latest_message.get("text") or ""))


def priced(kinds_said: list[CritiqueKind], vocabulary: dict) -> bool:
    """False when a price is asked of a catalog without prices."""
    return vocabulary.get("priced", False) or not any(kind in PRICED for kind in kinds_said)


def pivot(tracker: Tracker) -> tuple[list[str], str] | None:
    """What a critique is relative to: the item the message points at (ids, label), else the
    list shown last (label ""); None when neither exists."""
    pointed = context.item_reference(tracker)
    if pointed is not None:
        return [pointed.reference], pointed.label
    shown = tracker.get_slot("last_list") or []
    return ([item["id"] for item in shown], "") if shown else None


def in_force(current: list[dict], kinds_said: list[CritiqueKind], items: list[str], label: str) -> list[dict]:
    """The request's critiques after this message (as plain data for the slot and the task)."""
    new = [Critique(kind, tuple(items), label) for kind in kinds_said]
    return [critique.as_dict() for critique in combined([Critique.read(c) for c in current], new)]
