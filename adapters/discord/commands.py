"""The ``/cop`` app commands, the "Save to repertoire" context menu and the share button.

Each sub-command only turns its options back into the core's one grammar
(``"search <query>"``, ``"who <topic>"``, ...) and hands the text to the
adapter: what a command *does* lives in :mod:`bot.commands`, the same on
every platform.
"""

from __future__ import annotations

from typing import Literal, Protocol

import discord
from discord import app_commands

#: The button under ephemeral results; stateless, so it survives restarts.
SHARE_CUSTOM_ID = "copbot:share"
SAVE_MENU_NAME = "Save to repertoire"


class CommandTarget(Protocol):
    """What the commands need from the adapter."""

    async def run_command(self, interaction: discord.Interaction, text: str) -> None: ...

    async def save_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None: ...

    async def share_results(self, interaction: discord.Interaction) -> None: ...


KnowhowKindChoice = Literal["howto", "resource", "story", "update"]


class CopGroup(app_commands.Group):
    """``/cop search|ask|share|who|stats|digest|help``."""

    def __init__(self, target: CommandTarget) -> None:
        super().__init__(name="cop", description="Our community's answers and know-how")
        self.target = target

    @app_commands.command(name="search", description="Find past answers and know-how")
    @app_commands.describe(query='Words, "a phrase", tag:x, from:name, in:channel, is:accepted…')
    async def search(self, interaction: discord.Interaction, query: str) -> None:
        await self.target.run_command(interaction, f"search {query}")

    @app_commands.command(
        name="ask", description="Ask the community; answers in the thread are kept"
    )
    @app_commands.describe(question="Your question")
    async def ask(self, interaction: discord.Interaction, question: str) -> None:
        await self.target.run_command(interaction, f"ask {question}")

    @app_commands.command(
        name="share", description="Add know-how: a tip, how-to, resource or story"
    )
    @app_commands.describe(text="What to keep; #tags welcome", kind="What kind of know-how")
    async def share(
        self,
        interaction: discord.Interaction,
        text: str,
        kind: KnowhowKindChoice | None = None,
    ) -> None:
        prefix = f"kind:{kind} " if kind else ""
        await self.target.run_command(interaction, f"share {prefix}{text}")

    @app_commands.command(name="who", description="Who knows a topic")
    @app_commands.describe(topic="A topic, e.g. airflow")
    async def who(self, interaction: discord.Interaction, topic: str) -> None:
        await self.target.run_command(interaction, f"who {topic}")

    @app_commands.command(name="stats", description="What the repertoire holds")
    async def stats(self, interaction: discord.Interaction) -> None:
        await self.target.run_command(interaction, "stats")

    @app_commands.command(name="digest", description="This channel's digest now, only for you")
    @app_commands.describe(days="How many days back (default: the configured period)")
    async def digest(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 366] | None = None
    ) -> None:
        await self.target.run_command(interaction, f"digest {days}" if days else "digest")

    @app_commands.command(name="help", description="How to use copbot")
    async def help(self, interaction: discord.Interaction) -> None:
        await self.target.run_command(interaction, "help")


def save_menu(target: CommandTarget) -> app_commands.ContextMenu:
    """The message context menu "Save to repertoire" (any member may save any message)."""

    async def save(interaction: discord.Interaction, message: discord.Message) -> None:
        await target.save_message(interaction, message)

    return app_commands.ContextMenu(name=SAVE_MENU_NAME, callback=save)


class ShareView(discord.ui.View):
    """The "Share in channel" button, persistent (``timeout=None``, fixed custom id)."""

    def __init__(self, target: CommandTarget) -> None:
        super().__init__(timeout=None)
        self.target = target

    @discord.ui.button(
        label="Share in channel", style=discord.ButtonStyle.primary, custom_id=SHARE_CUSTOM_ID
    )
    async def share(
        self, interaction: discord.Interaction, button: discord.ui.Button[ShareView]
    ) -> None:
        await self.target.share_results(interaction)
