"""The "Solved it" / "Not related" buttons under a similar-questions suggestion.

Each button carries its suggestion and suggested entry in its custom id, so a
click is understood after a restart too (discord.py's ``DynamicItem``). The
click becomes the core's :class:`~bot.events.SuggestionFeedback`; what the
feedback means (link the question, never suggest that pair again) is the
core's business.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord

from bot.suggest import FEEDBACK_LABELS


class FeedbackTarget(Protocol):
    """What a click needs from the adapter (the client's ``adapter``)."""

    async def suggestion_feedback(
        self, interaction: discord.Interaction, verdict: str, suggestion_id: int, entry_id: int
    ) -> None: ...

LABELS = FEEDBACK_LABELS
STYLES = {"solved_it": discord.ButtonStyle.success, "not_related": discord.ButtonStyle.secondary}


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"copbot:fb:(?P<verdict>solved_it|not_related):(?P<suggestion>\d+):(?P<entry>\d+)",
):
    def __init__(self, verdict: str, suggestion_id: int, entry_id: int, label: str = "") -> None:
        self.verdict, self.suggestion_id, self.entry_id = verdict, suggestion_id, entry_id
        super().__init__(
            discord.ui.Button(
                label=label or LABELS[verdict],
                style=STYLES[verdict],
                custom_id=f"copbot:fb:{verdict}:{suggestion_id}:{entry_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> FeedbackButton:
        return cls(match["verdict"], int(match["suggestion"]), int(match["entry"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        adapter: FeedbackTarget = interaction.client.adapter  # type: ignore[attr-defined]
        await adapter.suggestion_feedback(
            interaction, self.verdict, self.suggestion_id, self.entry_id
        )


def feedback_view(
    suggestion_id: int, entry_ids: list[int], verdicts: tuple[str, ...]
) -> discord.ui.View:
    """One row of buttons per suggested entry (at most 5 rows, as Discord allows)."""
    view = discord.ui.View(timeout=None)
    for row, entry_id in enumerate(entry_ids[:5]):
        for verdict in verdicts:
            if verdict in LABELS:
                label = f"{row + 1}. {LABELS[verdict]}" if len(entry_ids) > 1 else ""
                button = FeedbackButton(verdict, suggestion_id, entry_id, label)
                button.item.row = row
                view.add_item(button)
    return view
