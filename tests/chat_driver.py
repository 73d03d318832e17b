"""A small chat driver: speaks to a real :class:`Core` the way an adapter would.

It builds the inbound events (messages, thread replies, reactions, ``/cop``
commands, saves) and returns what the core answered; tests read the repertoire
back through ``chat.repertoire``. The fixtures that build one live in
``tests/conftest.py``; test modules import the driver and its helpers from here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol, TypedDict, Unpack

from bot.config import Settings
from bot.core import Core
from bot.events import (
    Actor,
    CommandInvocation,
    IncomingMessage,
    KnowhowKind,
    MemberLeftChannel,
    MessageDeleted,
    MessageEdited,
    Outbound,
    ReactionChange,
    Reply,
    SaveRequest,
    Visibility,
    Where,
)
from bot.ports import FixedClock
from knowledge.models import Entry, EntryKind
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.storage import EntryFilter, Viewer
from tests.sqlite_file import sqlite_of

__all__ = [
    "EVERYTHING",
    "NOW",
    "PLATFORM",
    "WORKSPACE",
    "Chat",
    "MakeChat",
    "MakeCore",
    "SayOptions",
    "actor",
    "first_reply",
    "only_reply",
    "replies",
    "text_of",
    "where",
]

EVERYTHING = Viewer.operator_including_private()


NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
PLATFORM = "test"
WORKSPACE = "W1"


def where(
    channel: str = "C1", visibility: Visibility = Visibility.PUBLIC, name: str | None = None
) -> Where:
    return Where(PLATFORM, WORKSPACE, channel, visibility, name if name is not None else channel)


def actor(user: str, *, is_bot: bool = False, name: str | None = None) -> Actor:
    """A member; ``name`` (the display name) defaults to the capitalised user id."""
    return Actor(PLATFORM, user, name if name is not None else user.capitalize(), WORKSPACE, is_bot)


class SayOptions(TypedDict, total=False):
    """What :meth:`Chat.say` may be told besides the text (every key has a default)."""

    mid: str | None
    user: str
    channel: str
    thread: str | None
    event_id: str
    is_bot: bool
    name: str | None
    #: Minutes from the clock's now (negative: in the past).
    minutes: float
    permalink: str
    tags: tuple[str, ...]
    title: str
    is_forum_post: bool
    reply_to: str | None
    mentions: tuple[str, ...]


class Chat:
    """Drives one :class:`Core` like an adapter; every call returns the core's outbound list."""

    def __init__(self, core: Core, clock: FixedClock) -> None:
        self.core = core
        self.clock = clock
        self._seq = 0
        self.places: dict[str, Where] = {}

    @property
    def repertoire(self) -> RelationalRepertoire:
        return self.core.repertoire

    def place(self, channel: str) -> Where:
        """A channel by id; DMs (``D...``) and ``G...`` ids are DM and private."""
        if channel not in self.places:
            visibility = Visibility.PUBLIC
            if channel.startswith("D"):
                visibility = Visibility.DM
            elif channel.startswith("G"):
                visibility = Visibility.PRIVATE
            self.places[channel] = where(channel, visibility)
        return self.places[channel]

    def _next(self, prefix: str) -> str:
        self._seq += 1
        return f"{prefix}{self._seq}"

    def at(self, minutes: float = 0) -> datetime:
        return self.clock.now() + timedelta(minutes=minutes)

    def say(self, text: str, **options: Unpack[SayOptions]) -> list[Outbound]:
        """A message from ``user`` (``alice``) in ``channel`` (``C1``), ``minutes`` from now."""
        user = options.get("user", "alice")
        mid = options.get("mid")
        msg = IncomingMessage(
            where=self.place(options.get("channel", "C1")),
            author=actor(user, is_bot=options.get("is_bot", False), name=options.get("name")),
            message_id=mid or self._next("m"),
            text=text,
            created_at=self.at(options.get("minutes", 0)),
            thread_id=options.get("thread"),
            event_id=options.get("event_id", ""),
            permalink=options.get("permalink", ""),
            tags=options.get("tags", ()),
            title=options.get("title", ""),
            is_forum_post=options.get("is_forum_post", False),
            reply_to=options.get("reply_to"),
            mentions=options.get("mentions", ()),
        )
        return self.core.handle(msg)

    def reply(self, root: str, text: str, **options: Unpack[SayOptions]) -> list[Outbound]:
        """A reply in the thread of message ``root``."""
        options["thread"] = root
        return self.say(text, **options)

    def react(
        self,
        mid: str,
        user: str,
        emoji: str = "white_check_mark",
        *,
        added: bool = True,
        channel: str = "C1",
        event_id: str = "",
    ) -> list[Outbound]:
        return self.core.handle(
            ReactionChange(self.place(channel), mid, actor(user), emoji, added, event_id, self.at())
        )

    def cop(
        self,
        text: str,
        *,
        user: str = "alice",
        channel: str = "C1",
        event_id: str | None = None,
        thread: str | None = None,
    ) -> list[Outbound]:
        """``/cop <text>``; each invocation gets a fresh event id unless one is given."""
        return self.core.handle(
            CommandInvocation(
                self.place(channel),
                actor(user),
                text,
                self.at(),
                thread_id=thread,
                event_id=self._next("cmd-") if event_id is None else event_id,
            )
        )

    def save(
        self,
        mid: str,
        text: str,
        *,
        saver: str = "alice",
        author: str = "alice",
        channel: str = "C1",
        kind: KnowhowKind = KnowhowKind.HOWTO,
        event_id: str = "",
    ) -> list[Outbound]:
        return self.core.handle(
            SaveRequest(
                self.place(channel),
                actor(saver),
                mid,
                text,
                actor(author),
                self.at(),
                kind=kind,
                event_id=event_id,
            )
        )

    def edit(self, mid: str, text: str, *, channel: str = "C1") -> list[Outbound]:
        return self.core.handle(MessageEdited(self.place(channel), mid, text, self.at()))

    def delete(self, mid: str, *, channel: str = "C1") -> list[Outbound]:
        return self.core.handle(MessageDeleted(self.place(channel), mid))

    def left(self, channel: str) -> list[Outbound]:
        return self.core.handle(MemberLeftChannel(self.place(channel)))

    # ------------------------------------------------------------------ reading back

    def entries(self, kind: EntryKind | None = None) -> list[Entry]:
        wanted = EntryFilter(kinds=(kind,) if kind else ())
        return self.repertoire.entries(EVERYTHING, wanted, order="id", limit=10_000)

    def entry(self, mid: str, channel: str = "C1") -> Entry | None:
        """The one entry made from message ``mid`` (``None`` when it was not captured)."""
        place = self.place(channel)
        found = self.repertoire.entries(
            EVERYTHING,
            EntryFilter(
                platform=place.platform,
                workspace=place.workspace,
                channel_id=place.channel,
                message_id=mid,
            ),
        )
        assert len(found) <= 1, found
        return found[0] if found else None

    def entry_of(self, mid: str, channel: str = "C1") -> Entry:
        """The one entry made from message ``mid``; the test fails when there is none."""
        found = self.entry(mid, channel)
        assert found is not None, f"no entry was made from {mid!r} in {channel}"
        return found

    def sql(self, query: str, *params: object) -> list[tuple[object, ...]]:
        rows = sqlite_of(self.repertoire).db.execute(query, list(params)).fetchall()
        return [tuple(r) for r in rows]


def replies(outbound: list[Outbound]) -> list[Reply]:
    return [o for o in outbound if isinstance(o, Reply)]


def text_of(outbound: list[Outbound]) -> str:
    """Every reply's text and result titles, one string (for 'contains' checks)."""
    parts: list[str] = []
    for reply in replies(outbound):
        parts.append(reply.text)
        parts.extend(item.title for item in reply.items)
    return "\n".join(parts)


class MakeCore(Protocol):
    """The ``make_core`` fixture: a core over a SQLite file named ``name`` in tmp_path."""

    def __call__(self, settings: Settings | None = None, name: str = "copbot.db") -> Core: ...


class MakeChat(Protocol):
    """The ``make_chat`` fixture: a chat over a core with other settings."""

    def __call__(self, settings: Settings | None = None, name: str = "copbot.db") -> Chat: ...


def first_reply(outbound: list[Outbound]) -> Reply:
    """The first thing the core answered, which must be a reply."""
    assert outbound and isinstance(outbound[0], Reply), outbound
    return outbound[0]


def only_reply(outbound: list[Outbound]) -> Reply:
    """The one thing the core answered, which must be a reply."""
    assert len(outbound) == 1 and isinstance(outbound[0], Reply), outbound
    return outbound[0]
