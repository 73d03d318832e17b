"""The "Share" buttons under ephemeral results: one per result, understood after a restart.

Each button carries its entry's id in its custom id (discord.py's
``DynamicItem``). A click becomes the core's
:class:`~bot.events.ShareRequest`, so whether that entry may be shown in this
channel is checked again, by the core, at click time (``bot.share``): the
button never reposts what the member was shown.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import discord


class ShareTarget(Protocol):
    """What a click needs from the adapter (the client's ``adapter``)."""

    async def share_entry(self, interaction: discord.Interaction, entry_id: int) -> None: ...

#: Discord allows 5 action rows of 5 buttons under a message.
MAX_ROWS = 5
PER_ROW = 5


class ShareButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"copbot:share:(?P<entry>\d+)"
):
    def __init__(self, entry_id: int, label: str = "Share in channel") -> None:
        self.entry_id = entry_id
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"copbot:share:{entry_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ShareButton:
        return cls(int(match["entry"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        adapter: ShareTarget = interaction.client.adapter  # type: ignore[attr-defined]
        await adapter.share_entry(interaction, self.entry_id)


def share_view(entry_ids: list[int]) -> discord.ui.View:
    """A "Share" button per result (numbered when there are several), as many as fit."""
    view = discord.ui.View(timeout=None)
    for index, entry_id in enumerate(entry_ids[: MAX_ROWS * PER_ROW]):
        label = f"Share {index + 1}" if len(entry_ids) > 1 else "Share in channel"
        button = ShareButton(entry_id, label)
        button.item.row = index // PER_ROW
        view.add_item(button)
    return view
