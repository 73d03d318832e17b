"""Catching up on what was said while copbot was away, the same way on every platform.

On every (re)connection, and when the bot is added back to a channel, each
channel with a read mark is read from that mark:

1. first the older threads that may have grown: those the platform says moved
   (archived ones included) and the recent questions the core names
   (``ReadMarks.threads_to_recheck``: a reply in an old thread never shows in
   a channel's history);
2. then its history, **oldest first**, a page at a time, each page with the
   threads its messages opened; the read mark moves to the page's newest
   message only once all of that is taken in, so a catch-up cut short goes
   on from there next time and skips nothing.

Each message newer than the mark goes through the same core event as a live
one; every message read brings the reactions on it now (an asker's ✅ given
while copbot was down accepts the answer). A platform that lists every reactor
(:attr:`ReadMessage.cut_short`) also says which were taken back: a reaction
the repertoire holds and the message no longer has is removed, as the
``reaction_removed`` copbot missed would have (the ✅ taken back un-accepts the
answer). Messages the core already saw are
not replayed (a curated title stays curated). Entries are keyed on their
message and reactions are last-writer-wins, so reading twice changes nothing.
A platform supplies a :class:`HistoryReader`; a page that cannot be read stops
that channel (its mark stays where it got to) and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.emoji import canonical
from bot.events import Actor, InboundEvent, IncomingMessage, ReactionChange, Where
from bot.read_marks import Mark
from bot.runtime import AsyncCore
from knowledge.models import ChannelRef

log = logging.getLogger(__name__)


class ReadFailed(Exception):
    """The platform would not give a page of history.

    ``lasting``: it never will (copbot is not in the channel, the channel is
    gone); there is nothing to catch up on there. Otherwise (an outage, a
    timeout) the gap is read again at the next catch-up.
    """

    def __init__(self, reason: str, *, lasting: bool = False) -> None:
        super().__init__(reason)
        self.lasting = lasting


@dataclass(frozen=True, slots=True)
class ReadMessage:
    """One message read back from history: its event (``None``: not a member's message,
    e.g. a join notice), and the reactions on it now."""

    message_id: str
    at: datetime
    event: IncomingMessage | None
    #: Said after the read mark (the core has not seen it): its event is applied.
    new: bool = True
    reactions: tuple[ReactionChange, ...] = ()
    #: Replies hang under it (a thread to read with its page).
    opens_thread: bool = False
    #: Where the message is, when the reader knows (a reaction taken back is said there).
    where: Where | None = None
    #: ``reactions`` are every reaction on the message now, but for these emoji (canonical)
    #: whose lists of reactors the platform cut short: a reaction the repertoire holds and
    #: ``reactions`` lack was taken back. ``None``: the reader does not list them all.
    cut_short: frozenset[str] | None = None


#: Messages in the order they were said.
Page = list[ReadMessage]


class HistoryReader(Protocol):
    """How one platform reads its history back (each page oldest first)."""

    platform: str

    def channel_pages(self, ref: ChannelRef, after: Mark) -> AsyncIterator[Page]:
        """The channel's top-level messages after ``after``, oldest first, page by page."""
        ...

    def thread_pages(self, ref: ChannelRef, thread_id: str, after: Mark) -> AsyncIterator[Page]:
        """A whole thread, oldest first, page by page (``after`` says which are new)."""
        ...

    async def moved_threads(self, ref: ChannelRef, after: Mark) -> set[str]:
        """Threads of the channel with messages after ``after`` (archived ones too)."""
        ...


@dataclass
class CatchUpReport:
    channels: int = 0
    messages: int = 0
    reactions: int = 0
    pages: int = 0
    #: Channels whose gap could not be read now (read again next time).
    failures: int = 0
    failed_channels: list[ChannelRef] = field(default_factory=list)
    #: Channels copbot can no longer read at all.
    unreadable: int = 0


Handle = Callable[[InboundEvent], Awaitable[None]]


class CatchUp:
    """Reads a platform's gaps through its :class:`HistoryReader` into the core."""

    def __init__(self, core: AsyncCore, reader: HistoryReader, handle: Handle) -> None:
        self.core = core
        self.reader = reader
        self.handle = handle

    async def begin(self) -> dict[ChannelRef, Mark]:
        """Call when the connection is made, before live events flow (see ``ReadMarks``)."""
        marks = self.core.marks
        return await self.core.run(marks.begin, self.reader.platform)

    async def run(
        self,
        marks: dict[ChannelRef, Mark] | None = None,
        *,
        only: set[ChannelRef] | None = None,
    ) -> CatchUpReport:
        """Read every marked channel (or ``only`` those) from its mark."""
        platform = self.reader.platform
        read_marks = self.core.marks
        if marks is None:
            marks = await self.core.run(read_marks.marks, platform)
        report = CatchUpReport()
        for ref, mark in sorted(marks.items(), key=lambda item: item[1][0]):
            if only is not None and ref not in only:
                continue
            report.channels += 1
            try:
                await self._channel(ref, mark, report)
            except ReadFailed as exc:
                if exc.lasting:
                    report.unreadable += 1
                    log.info("not catching up on %s:%s: %s", platform, ref.channel, exc)
                    continue
                report.failures += 1
                report.failed_channels.append(ref)
                log.warning("catching up on %s:%s stopped: %s", platform, ref.channel, exc)
        if only is None and not report.failures:
            # Every gap read: live messages move the marks again. (After a failure they
            # stay frozen, so the next catch-up reads the rest of the gap.)
            await self.core.run(read_marks.finish, platform)
        if report.messages or report.reactions:
            log.info(
                "%s: caught up on %d message(s) and %d reaction(s) in %d channel(s)",
                platform.capitalize(),
                report.messages,
                report.reactions,
                report.channels,
            )
        return report

    async def _channel(self, ref: ChannelRef, mark: Mark, report: CatchUpReport) -> None:
        read_marks = self.core.marks
        threads = await self.reader.moved_threads(ref, mark)
        threads |= await self.core.run(read_marks.threads_to_recheck, ref, mark[0])
        read: set[str] = set()
        newest: ReadMessage | None = None  # in threads too: the mark's final place
        for thread_id in sorted(threads):
            newest = _newer(newest, await self._thread(ref, thread_id, mark, report))
            read.add(thread_id)
        async for page in self.reader.channel_pages(ref, mark):
            report.pages += 1
            for message in page:
                await self._message(message, report)
                if message.opens_thread and message.message_id not in read:
                    newest = _newer(
                        newest, await self._thread(ref, message.message_id, mark, report)
                    )
                    read.add(message.message_id)
            if page:
                last = page[-1]
                newest = _newer(newest, last)
                await self.core.run(read_marks.advance, ref, last.message_id, last.at)
        if newest is not None:  # all read: thread replies said meanwhile need no second look
            await self.core.run(read_marks.advance, ref, newest.message_id, newest.at)

    async def _thread(
        self, ref: ChannelRef, thread_id: str, mark: Mark, report: CatchUpReport
    ) -> ReadMessage | None:
        """Read one thread; its newest message."""
        newest: ReadMessage | None = None
        async for page in self.reader.thread_pages(ref, thread_id, mark):
            report.pages += 1
            for message in page:
                await self._message(message, report)
                newest = _newer(newest, message)
        return newest

    async def _message(self, message: ReadMessage, report: CatchUpReport) -> None:
        if message.event is not None and message.new:
            await self.handle(message.event)
            report.messages += 1
        for reaction in message.reactions:
            await self.handle(reaction)
            report.reactions += 1
        for taken_back in await self._taken_back(message):
            await self.handle(taken_back)
            report.reactions += 1

    async def _taken_back(self, message: ReadMessage) -> list[ReactionChange]:
        """The reactions the repertoire holds on ``message`` and the platform no longer shows."""
        where, cut_short = message.where, message.cut_short
        if where is None or cut_short is None:
            return []
        ref = ChannelRef(where.platform, where.workspace, where.channel)
        held = await self.core.run(self.core.marks.reactions_held, ref, message.message_id)
        shown = {(r.actor.user_id, canonical(r.emoji)) for r in message.reactions}
        now = self.core.services.clock.now()
        return [
            ReactionChange(
                where,
                message.message_id,
                Actor(where.platform, user_id, "", where.workspace),
                emoji,
                added=False,
                at=now,
            )
            for user_id, emoji in sorted(held - shown)
            if emoji not in cut_short
        ]


def _newer(a: ReadMessage | None, b: ReadMessage | None) -> ReadMessage | None:
    if a is None or (b is not None and b.at >= a.at):
        return b
    return a
