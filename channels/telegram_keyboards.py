"""Inline keyboards for the bot's replies, in Telegram's 64 bytes of callback data.

A list is one message with a row of numbers; a number shows that item's
actions (like, not for me, seen, why) and "back": any action in two taps.
Callback data holds only short tokens (`i:<list>:<item>`, `a:<list>:<item>:<action>`,
`b:<list>`), never item ids, so any catalog id fits. What a token means is
remembered per adapter process (the newest REMEMBERED lists); a press of a
forgotten list is answered with "ask me again".
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from channels import texts
from channels.rasa_client import Button, Reply
from channels.recent import Recent

REMEMBERED = 10_000
PER_ROW = 5
WHY = "/ask_why"  # a question, not feedback: never marked as chosen


@dataclass
class Shown:
    """One list message: its items and what was chosen for each."""
    reply: Reply
    chosen: dict[int, str] = field(default_factory=dict)  # item index -> action title

    def selector(self, index: int) -> str:
        item = self.reply.items[index]
        mark = f" {self.chosen[index].split()[0]}" if index in self.chosen else ""
        name = str(index + 1) if item.line[:1].isdigit() else item.label[:24]
        return name + mark


class Keyboards:
    """Remembers the lists this adapter showed and builds their keyboards."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._shown = Recent(size)  # key -> Shown
        self._payloads = Recent(size)  # token -> payload

    def remember(self, reply: Reply) -> str:
        key = secrets.token_hex(4)
        self._shown[key] = Shown(reply)
        return key

    def get(self, key: str) -> Shown | None:
        return self._shown.get(key)

    def payload(self, token: str) -> str | None:
        return self._payloads.get(token)

    def plain(self, buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
        """Buttons of an ordinary reply, two per row."""
        found = []
        for button in buttons:
            token = secrets.token_hex(6)
            self._payloads[token] = button.payload
            found.append(InlineKeyboardButton(button.title, callback_data=f"p:{token}"))
        return InlineKeyboardMarkup([found[i:i + 2] for i in range(0, len(found), 2)]) if found else None

    def for_reply(self, key: str) -> InlineKeyboardMarkup | None:
        """The first keyboard of a remembered reply: numbers, or one item's actions."""
        shown = self._shown[key]
        if len(shown.reply.items) == 1:
            return self.actions(key, 0)
        return self.numbers(key)

    def numbers(self, key: str) -> InlineKeyboardMarkup | None:
        shown = self._shown[key]
        if not shown.reply.items:
            return None
        buttons = [InlineKeyboardButton(shown.selector(i), callback_data=f"i:{key}:{i}")
                   for i in range(len(shown.reply.items))]
        return InlineKeyboardMarkup([buttons[i:i + PER_ROW] for i in range(0, len(buttons), PER_ROW)])

    def actions(self, key: str, index: int) -> InlineKeyboardMarkup:
        shown = self._shown[key]
        item = shown.reply.items[index]
        chosen = shown.chosen.get(index)
        buttons = [InlineKeyboardButton(("✓ " if action.title == chosen else "") + action.title,
                                        callback_data=f"a:{key}:{index}:{number}")
                   for number, action in enumerate(item.actions)]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        if len(shown.reply.items) > 1:
            back = texts.text(shown.reply.language, "back", count=len(shown.reply.items))
            rows.append([InlineKeyboardButton(back, callback_data=f"b:{key}")])
        return InlineKeyboardMarkup(rows)


def is_feedback(action: Button) -> bool:
    return not action.payload.startswith(WHY)
