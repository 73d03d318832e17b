"""One way to drive every adapter, for the adapter contract suite.

Each driver speaks to a real adapter the way its platform would: the terminal
chat by typed lines over its transcript; Slack through the real Bolt app with
signed requests and the fake Web API (``slack_harness``); Discord through
discord.py's own gateway parsers and the fake REST API (``discord_harness``).
They share one vocabulary (channels ``public``, ``other``, ``private``; members
``asker``, ``answerer``, ``voter``, ``saver``) and report what a member saw as
:class:`Shown` values, so ``tests/test_adapter_contract.py`` states each
behaviour once for all platforms. A new platform passes the contract when a
driver for it passes that suite. The drivers: ``contract_console.py``,
``contract_slack.py``, ``contract_discord.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pytest

from bot.app import build_core
from bot.config import Settings
from bot.core import Core
from bot.ports import FixedClock
from knowledge.models import Entry
from knowledge.storage import EntryFilter, Viewer
from tests import discord_harness as dh
from tests.slack_harness import BOT_TOKEN, SIGNING_SECRET, harness_for, running_fake_slack

CHANNELS = ("public", "other", "private")
MEMBERS = ("asker", "answerer", "voter", "saver")
ACCEPT, SAVE = "accept", "save"


@dataclass(frozen=True)
class Shown:
    """Something copbot showed: its whole text, and whether only one member saw it."""

    text: str
    private: bool


class Driver(Protocol):
    name: str
    core: Core
    #: How many messages make more than one page of this platform's history.
    past_one_page: int

    async def say(self, channel: str, member: str, text: str, thread: str | None = None) -> str: ...
    async def edit(self, channel: str, mid: str, member: str, text: str) -> None: ...
    async def delete(self, channel: str, mid: str) -> None: ...
    async def react(self, channel: str, mid: str, member: str, emoji: str) -> None: ...
    async def mark_solution(self, channel: str, mid: str, member: str) -> list[Shown]: ...
    async def save(self, channel: str, mid: str, member: str) -> list[Shown]: ...
    async def command(self, channel: str, member: str, text: str) -> list[Shown]: ...
    async def share(self, channel: str, member: str, entry_id: int) -> list[Shown]: ...
    async def dm(self, member: str, text: str) -> str: ...
    async def said_away(
        self,
        channel: str,
        member: str,
        text: str,
        thread: str | None = None,
        reactions: dict[str, list[str]] | None = None,
    ) -> str: ...
    async def archive(self, channel: str, thread: str) -> None: ...
    async def catch_up(self) -> None: ...


def entries(driver: Driver) -> list[Entry]:
    return driver.core.repertoire.entries(Viewer.operator_including_private(), order="id")


def entry(driver: Driver, mid: str) -> Entry | None:
    found = driver.core.repertoire.entries(
        Viewer.operator_including_private(), EntryFilter(message_id=mid)
    )
    return found[0] if found else None


# --------------------------------------------------------------------------- the fixture


@asynccontextmanager
async def driving(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Driver]:
    """A driver over a fresh repertoire for the platform ``name``."""
    settings = Settings(database=str(tmp_path / "copbot.db"))
    if name == "console":
        from tests.contract_console import ConsoleDriver

        core = build_core(settings, tmp_path / "copbot.db", clock=FixedClock(dh.NOW))
        driver = ConsoleDriver(core, tmp_path / "copbot.db")
        try:
            await driver.setup()
            yield driver
        finally:
            driver.close()
            core.services.repertoire.close()
    elif name == "slack":
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        from tests.contract_slack import SlackDriver

        async with running_fake_slack() as fake, harness_for(fake, tmp_path, settings) as harness:
            yield SlackDriver(harness)
    else:
        from tests.contract_discord import DiscordDriver

        async with dh.running(tmp_path, settings) as harness:
            yield DiscordDriver(harness)


__all__ = [
    "ACCEPT",
    "CHANNELS",
    "MEMBERS",
    "SAVE",
    "Driver",
    "Shown",
    "driving",
    "entries",
    "entry",
]
