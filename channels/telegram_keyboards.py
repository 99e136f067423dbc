"""Inline keyboards for the bot's replies, with python-telegram-bot's arbitrary callback data.

A reply with items is one message with a row of numbers; a number shows that
item's actions (like, not for me, seen, why) and "back": any action in two
taps. A button's callback data is a small object (OpenItem, Act, Back, Say)
that python-telegram-bot keeps in its callback-data cache, sending Telegram
only a 64-character key, so any catalog id and payload fit. The buttons of
one message share its `Shown`: the reply, and the feedback chosen on each
item, which every later keyboard of the message shows. The adapter persists
the cache (channels/telegram.py), so the buttons of a list shown before a
restart still work; a button whose data is gone arrives as
`telegram.ext.InvalidCallbackData`, answered with "ask me again".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from channels import texts
from chatrec.contracts import ActionKind, ReplyAction, ReplyData

KEYBOARDS = 10_000  # keyboards the cache keeps (each press of a number or "back" sends another)
PER_ROW = 5
TITLE_CHARS = 24  # an unnumbered item's button shows the start of its title


@dataclass(eq=False)
class Shown:
    """One message with items: the reply, and the feedback chosen on each item (index -> the
    action's title). Shared by the callback data of every keyboard of the message."""

    reply: ReplyData
    chosen: dict[int, str] = field(default_factory=dict)

    def selector(self, index: int) -> str:
        """The text of the button that opens item `index`: its number (or title), and the choice."""
        item = self.reply.items[index]
        name = str(item.position) if item.position is not None else item.title[:TITLE_CHARS]
        return name + (f" {self.chosen[index].split()[0]}" if index in self.chosen else "")


@dataclass(frozen=True)
class OpenItem:
    """A number: show item `index`'s actions."""

    shown: Shown
    index: int


@dataclass(frozen=True)
class Act:
    """One of item `index`'s actions: its payload goes to the bot."""

    shown: Shown
    index: int
    action: ReplyAction

    @property
    def is_feedback(self) -> bool:
        return self.action.kind is ActionKind.FEEDBACK  # "why?" is a question: never marked as chosen


@dataclass(frozen=True)
class Back:
    """From an item's actions back to the numbers."""

    shown: Shown


@dataclass(frozen=True)
class Say:
    """A button of a plain reply (the "forget me?" question's yes and no): its payload goes to the bot."""

    payload: str


def plain(buttons: tuple[ReplyAction, ...]) -> InlineKeyboardMarkup | None:
    """Buttons of a plain reply, two per row."""
    found = [InlineKeyboardButton(button.title, callback_data=Say(button.payload)) for button in buttons]
    return InlineKeyboardMarkup(rows(found, 2)) if found else None


def for_reply(shown: Shown) -> InlineKeyboardMarkup | None:
    """The keyboard of a reply with items: the numbers, or the only item's actions."""
    return actions(shown, 0) if len(shown.reply.items) == 1 else numbers(shown)


def numbers(shown: Shown) -> InlineKeyboardMarkup | None:
    buttons = [InlineKeyboardButton(shown.selector(index), callback_data=OpenItem(shown, index))
               for index in range(len(shown.reply.items))]
    return InlineKeyboardMarkup(rows(buttons, PER_ROW)) if buttons else None


def actions(shown: Shown, index: int) -> InlineKeyboardMarkup:
    """Item `index`'s actions (the chosen one marked ✓), and "back" when there are other items."""
    chosen = shown.chosen.get(index)
    buttons = [InlineKeyboardButton(("✓ " if action.title == chosen else "") + action.title,
                                    callback_data=Act(shown, index, action))
               for action in shown.reply.items[index].actions]
    found = rows(buttons, 2)
    if len(shown.reply.items) > 1:
        back = texts.text(shown.reply.language, "back", count=len(shown.reply.items))
        found.append([InlineKeyboardButton(back, callback_data=Back(shown))])
    return InlineKeyboardMarkup(found)


def rows(buttons: list[InlineKeyboardButton], size: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[start:start + size] for start in range(0, len(buttons), size)]
