"""The terminal chat, driven by typed lines for the adapter contract suite."""

from __future__ import annotations

import io
import re
from pathlib import Path

from adapters.console import ConsoleChat
from adapters.console_history import record_reaction
from adapters.console_transcript import Transcript
from bot.core import Core
from bot.events import Actor, Where
from bot.runtime import AsyncCore
from tests.contract_drivers import ACCEPT, MEMBERS, Shown


class ConsoleDriver:
    name = "console"
    past_one_page = 12  # pages of 5 below

    def __init__(self, core: Core, path: Path) -> None:
        self.core = core
        self.async_core = AsyncCore(core)
        self.transcript = Transcript(path)
        self.out = io.StringIO()
        self.chat = ConsoleChat(self.async_core, self.transcript, self.out)
        self.chat.history.page_size = 5
        self.places: dict[str, Where] = {}
        self.people: dict[str, Actor] = {}

    async def setup(self) -> None:
        """Make the channels and members, as a member would: with the chat's controls."""
        for name, line in (
            ("public", "/channel data-help"),
            ("other", "/channel random"),
            ("private", "/channel platform-team private"),
        ):
            await self.chat.handle_line(line)
            self.places[name] = self.chat.here
        for member in MEMBERS:
            await self.chat.handle_line(f"/as {member.capitalize()}")
            self.people[member] = self.chat.me

    def close(self) -> None:
        self.async_core.close()
        self.transcript.close()

    async def _line(self, channel: str | None, member: str, line: str) -> str:
        if channel is not None:
            self.chat.here = self.places[channel]
        self.chat.me = self.people[member]
        start = self.out.tell()
        await self.chat.handle_line(line)
        return self.out.getvalue()[start:]

    def _shown(self, printed: str) -> list[Shown]:
        found = []
        for block in re.split(r"\n(?=\(only you can see this\)|\s*\[m\d+\] )", printed):
            if "(only you can see this) copbot:" in block:
                found.append(Shown(block, private=True))
            elif re.match(r"\s*\[m\d+\] copbot:", block):
                found.append(Shown(block, private=False))
        return found

    async def say(self, channel: str, member: str, text: str, thread: str | None = None) -> str:
        line = f"/reply {thread} {text}" if thread else text
        printed = await self._line(channel, member, line)
        match = re.search(r"\[(m\d+)\] " + re.escape(self.people[member].display_name), printed)
        assert match, printed
        return match.group(1)

    async def edit(self, channel: str, mid: str, member: str, text: str) -> None:
        await self._line(channel, member, f"/edit {mid} {text}")

    async def delete(self, channel: str, mid: str) -> None:
        await self._line(channel, "asker", f"/delete {mid}")

    async def react(self, channel: str, mid: str, member: str, emoji: str) -> None:
        await self._line(channel, member, f"/react {mid} {'✅' if emoji == ACCEPT else '📌'}")

    async def mark_solution(self, channel: str, mid: str, member: str) -> list[Shown]:
        return self._shown(await self._line(channel, member, f"/accept {mid}"))

    async def save(self, channel: str, mid: str, member: str) -> list[Shown]:
        return self._shown(await self._line(channel, member, f"/save {mid}"))

    async def command(self, channel: str, member: str, text: str) -> list[Shown]:
        return self._shown(await self._line(channel, member, f"/cop {text}"))

    async def share(self, channel: str, member: str, entry_id: int) -> list[Shown]:
        return self._shown(await self._line(channel, member, f"/share {entry_id}"))

    async def dm(self, member: str, text: str) -> str:
        await self._line(None, member, "/dm")
        printed = await self._line(None, member, text)
        match = re.search(r"\[(m\d+)\]", printed)
        assert match, printed
        return match.group(1)

    async def said_away(
        self,
        channel: str,
        member: str,
        text: str,
        thread: str | None = None,
        reactions: dict[str, list[str]] | None = None,
    ) -> str:
        said = self.transcript.write(
            self.places[channel].channel, self.people[member].user_id, text, thread
        )
        for emoji, members in (reactions or {}).items():
            for who in members:
                mark = "✅" if emoji == ACCEPT else "📌"
                record_reaction(
                    self.transcript, said.message_id, self.people[who].user_id, mark, True
                )
        return said.message_id

    async def archive(self, channel: str, thread: str) -> None:
        """The console keeps no thread state: an old thread is simply old."""

    async def catch_up(self) -> None:
        await self.chat.catch_up()
