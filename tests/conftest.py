"""Shared fixtures: a real core over a real SQLite file, and a small chat driver.

``chat`` speaks to the core the way an adapter would: it builds the inbound
events (messages, thread replies, reactions, ``/cop`` commands, saves) and
returns what the core answered. Tests read the repertoire back through
``chat.repertoire`` or plain SQL.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings

from bot.app import command_registry
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
from bot.ports import FixedClock, Services
from knowledge.models import Entry, EntryKind
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import EntryFilter, Viewer
from tests.postgres_cluster import (  # the real PostgreSQL fixtures, shared by every test module
    mark_postgres_tests,
    pg_conn,
    pg_dsn,
    pg_empty_dsn,
    pg_fresh_dsn,
    postgres_server,
    postgres_shared,
    postgres_template,
)

__all__ = [
    "pg_conn",
    "pg_dsn",
    "pg_empty_dsn",
    "pg_fresh_dsn",
    "postgres_server",
    "postgres_shared",
    "postgres_template",
]

# CI must be reproducible: property tests use a fixed seed there (and a random one
# on a developer's machine, where a new counterexample is welcome).
hypothesis_settings.register_profile("ci", derandomize=True)
# Mutation testing (tools/mutate.py) wants a kill, not the smallest counterexample: no shrinking.
hypothesis_settings.register_profile(
    "mutation",
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
if os.environ.get("COPBOT_MUTATION"):
    hypothesis_settings.load_profile("mutation")
elif os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")

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


class Chat:
    """Drives one :class:`Core` like an adapter; every call returns the core's outbound list."""

    def __init__(self, core: Core, clock: FixedClock) -> None:
        self.core = core
        self.clock = clock
        self._seq = 0
        self.places: dict[str, Where] = {}

    @property
    def repertoire(self) -> Repertoire:
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

    def say(
        self,
        text: str,
        *,
        mid: str | None = None,
        user: str = "alice",
        channel: str = "C1",
        thread: str | None = None,
        event_id: str = "",
        is_bot: bool = False,
        name: str | None = None,
        minutes: float = 0,
        **extra: object,
    ) -> list[Outbound]:
        msg = IncomingMessage(
            where=self.place(channel),
            author=actor(user, is_bot=is_bot, name=name),
            message_id=mid or self._next("m"),
            text=text,
            created_at=self.at(minutes),
            thread_id=thread,
            event_id=event_id,
            **extra,  # type: ignore[arg-type]
        )
        return self.core.handle(msg)

    def reply(self, thread: str, text: str, **kwargs: object) -> list[Outbound]:
        return self.say(text, thread=thread, **kwargs)  # type: ignore[arg-type]

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

    def sql(self, query: str, *params: object) -> list[tuple[object, ...]]:
        return [tuple(r) for r in self.repertoire.db.execute(query, list(params)).fetchall()]


def replies(outbound: list[Outbound]) -> list[Reply]:
    return [o for o in outbound if isinstance(o, Reply)]


def text_of(outbound: list[Outbound]) -> str:
    """Every reply's text and result titles, one string (for 'contains' checks)."""
    parts: list[str] = []
    for reply in replies(outbound):
        parts.append(reply.text)
        parts.extend(item.title for item in reply.items)
    return "\n".join(parts)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runslow",
        action="store_true",
        default=False,
        help="also run the long variants (tests marked `slow`)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_postgres_tests(items)
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="a long variant: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True)
def _keep_root_logging() -> Iterator[None]:
    """``copbot`` commands set up logging on the root logger; put it back after each test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def make_core(tmp_path: Path, clock: FixedClock) -> Iterator[Callable[..., Core]]:
    """``make_core(settings=None, name="copbot.db")``: a core over a SQLite file in tmp_path."""
    opened: list[Repertoire] = []

    def factory(settings: Settings | None = None, name: str = "copbot.db") -> Core:
        repertoire = Repertoire.open(tmp_path / name)
        opened.append(repertoire)
        return Core(Services(repertoire, settings or Settings(), clock), command_registry())

    yield factory
    for repertoire in opened:
        repertoire.close()


@pytest.fixture
def core(make_core: Callable[..., Core]) -> Core:
    return make_core()


@pytest.fixture
def chat(core: Core, clock: FixedClock) -> Chat:
    return Chat(core, clock)


@pytest.fixture
def make_chat(make_core: Callable[..., Core], clock: FixedClock) -> Callable[..., Chat]:
    """A chat over a core with other settings: ``make_chat(Settings(...))``."""

    def factory(settings: Settings | None = None, name: str = "copbot.db") -> Chat:
        return Chat(make_core(settings, name), clock)

    return factory
