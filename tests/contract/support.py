"""The storage contract's backends and a small community builder (fixtures: ``conftest.py``).

Every test in ``tests/contract/`` runs once per backend: SQLite, and PostgreSQL
(marked ``postgres``, a migrated empty database on the session's real server
from ``tests/postgres_cluster.py``). The property test that opens a repertoire
per example runs on SQLite only, until a per-example PostgreSQL database is cheap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from knowledge.models import ChannelRef, Entry, EntryKind, NewEntry, SourceKey
from knowledge.postgres.repertoire import PostgresRepertoire
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.sqlite.repertoire import Repertoire

#: The backends the contract runs against (``postgres`` joins with its marker).
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

#: For tests of full-text search and similar questions, not on the PostgreSQL repertoire yet.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PUBLIC = ChannelRef("slack", "T1", "C-help")
OTHER_PUBLIC = ChannelRef("slack", "T1", "C-data")
PRIVATE = ChannelRef("slack", "T1", "G-team")
DM = ChannelRef("slack", "T1", "D-ana")
VISIBILITY = {PUBLIC: "public", OTHER_PUBLIC: "public", PRIVATE: "private", DM: "dm"}
NAMES = {PUBLIC: "help", OTHER_PUBLIC: "data", PRIVATE: "team", DM: ""}


def open_backend(name: str, path: Path, dsn: str = "") -> RelationalRepertoire:
    """A repertoire on ``name``: a SQLite file under ``path``, or PostgreSQL at ``dsn``."""
    if name == "sqlite":
        return Repertoire.open(path / "contract.db")
    if name == "postgres" and dsn:
        return PostgresRepertoire.connect(dsn)
    raise AssertionError(f"no backend {name!r}")


class Community:
    """Writes a small community through the interface, as capture would."""

    def __init__(self, repertoire: RelationalRepertoire) -> None:
        self.rep = repertoire
        self.messages = 0
        for ref, visibility in VISIBILITY.items():
            repertoire.upsert_channel(
                ref.platform, ref.workspace, ref.channel, NAMES[ref], visibility
            )

    def member(self, user_id: str, name: str = "") -> int:
        return self.rep.upsert_member("slack", "T1", user_id, name or user_id, at=T0)

    def say(
        self,
        kind: EntryKind,
        channel: ChannelRef,
        text: str,
        author: int,
        *,
        minutes: float = 0,
        thread: Entry | None = None,
        tags: tuple[str, ...] = (),
        message_id: str = "",
        title: str | None = None,
        knowhow_kind: str = "",
    ) -> Entry:
        self.messages += 1
        new = NewEntry(
            kind=kind,
            source=SourceKey(
                channel.platform,
                channel.workspace,
                channel.channel,
                message_id or f"m{self.messages}",
            ),
            text=text,
            author_id=author,
            created_at=T0 + timedelta(minutes=minutes),
            visibility=VISIBILITY[channel],
            title=(text if kind != EntryKind.ANSWER else "") if title is None else title,
            thread_id=thread.source.message_id if thread else None,
            tags=tags,
            channel_name=NAMES[channel],
            knowhow_kind=knowhow_kind,
        )
        entry_id, _ = self.rep.save_entry(new)
        entry = self.rep.get_entry(entry_id)
        assert entry is not None
        return entry

    def ask(
        self,
        channel: ChannelRef,
        text: str,
        author: int,
        *,
        minutes: float = 0,
        tags: tuple[str, ...] = (),
    ) -> Entry:
        return self.say(EntryKind.QUESTION, channel, text, author, minutes=minutes, tags=tags)

    def answer(self, question: Entry, text: str, author: int, *, minutes: float = 1) -> Entry:
        return self.say(
            EntryKind.ANSWER, question.channel_ref, text, author, minutes=minutes, thread=question
        )
