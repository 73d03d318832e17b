"""What the public web may read: every function takes the :class:`PublicWeb` viewer.

The web view is one more viewer of the repertoire, with the same rule as chat
(:func:`knowledge.relational.visibility.visibility_clause`): public entries of the published
channels, by members who did not opt out. The rule applies to each entry on
its own, answers included: a public question may have an answer given after its
channel turned private, and that answer is never returned here.

Functions return dataclasses, never rows, so the web adapter holds no SQL.
Lists are bounded (``limit``) and newest first; "last modified" covers the
entry, its shown answers, their curation changes and reactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from knowledge.curation import outdated_entries
from knowledge.models import ChannelRef, Entry, EntryKind, PublicWeb, from_db_time
from knowledge.relational.rows import row_to_entry
from knowledge.relational.visibility import visible_to
from knowledge.sqlite.repertoire import ENTRY_SELECT, Repertoire
from knowledge.web_consent import hidden_members

__all__ = [
    "KnowhowPage",
    "PublishedChannel",
    "QuestionThread",
    "answer_page",
    "count_where",
    "entries_where",
    "knowhow_page",
    "page_entry",
    "public_web",
    "published_channels",
    "question_thread",
]


@dataclass(frozen=True, slots=True)
class QuestionThread:
    """A question page: the question, its published answers (accepted first), and
    the earlier answer a member said solved it, when that one is published too."""

    question: Entry
    answers: tuple[Entry, ...]
    linked_answer: Entry | None
    linked_from: Entry | None
    last_modified: datetime

    @property
    def accepted(self) -> Entry | None:
        return next((a for a in self.answers if a.accepted), None)


@dataclass(frozen=True, slots=True)
class KnowhowPage:
    entry: Entry
    valid_until: date | None
    outdated: bool
    last_modified: datetime


@dataclass(frozen=True, slots=True)
class PublishedChannel:
    ref: ChannelRef
    name: str


# ----------------------------------------------------------------------------- reading


def entries_where(
    repertoire: Repertoire,
    where: str,
    params: Sequence[Any],
    order: str = "e.created_at DESC",
    limit: int = 100,
    offset: int = 0,
    *,
    index: str = "",
) -> list[Entry]:
    """Entries (alias ``e``) meeting SQL conditions: the web view's own listings.

    SQLite's SQL (``INDEXED BY``): these readers move into ``knowledge/sqlite/``
    with the rest of the relational code. ``index`` names the index to walk,
    where SQLite (which has no statistics here) would pick one that reads far
    more rows.
    """
    select = ENTRY_SELECT
    if index:
        select = select.replace("FROM entries e", f"FROM entries e INDEXED BY {index}", 1)
    rows = repertoire.db.execute(
        f"{select} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset]
    ).fetchall()
    return [row_to_entry(tuple(r)) for r in rows]


def count_where(repertoire: Repertoire, where: str, params: Sequence[Any]) -> int:
    row = repertoire.db.execute(f"SELECT count(*) FROM entries e WHERE {where}", list(params))
    return int(row.fetchone()[0])


# ----------------------------------------------------------------------------- the viewer


def public_web(repertoire: Repertoire, specs: Sequence[tuple[str, str, str, str]]) -> PublicWeb:
    """The public-web viewer for channel specs ``(platform, workspace, channel id, name)``.

    Empty parts match any value (a spec names a channel by id or by name). A
    channel is published only while the repertoire knows it as public: one
    that turned private, or that copbot never saw, publishes nothing.
    """
    rows = repertoire.db.execute(
        "SELECT platform, workspace, channel, name FROM channels WHERE visibility = 'public'"
    ).fetchall()
    chosen: set[ChannelRef] = set()
    for platform, workspace, channel, name in rows:
        for s_platform, s_workspace, s_channel, s_name in specs:
            if s_platform != platform or (s_workspace and s_workspace != workspace):
                continue
            if (s_channel and s_channel == channel) or (
                s_name and s_name.casefold() == str(name).casefold()
            ):
                chosen.add(ChannelRef(str(platform), str(workspace), str(channel)))
    return PublicWeb(frozenset(chosen), hidden_members(repertoire))


def published_channels(repertoire: Repertoire, web: PublicWeb) -> list[PublishedChannel]:
    """The published channels with their names, by name."""
    out: list[PublishedChannel] = []
    for ref in web.channels:
        row = repertoire.db.execute(
            "SELECT name FROM channels WHERE platform = ? AND workspace = ? AND channel = ?",
            [ref.platform, ref.workspace, ref.channel],
        ).fetchone()
        out.append(PublishedChannel(ref, str(row[0]) if row and row[0] else ref.channel))
    out.sort(key=lambda c: (c.name.casefold(), c.ref.platform, c.ref.channel))
    return out


# ----------------------------------------------------------------------------- one entry


def _published_entry(repertoire: Repertoire, web: PublicWeb, entry_id: int) -> Entry | None:
    entry = repertoire.get_entry(entry_id)
    return entry if entry is not None and visible_to(entry, web) else None


def page_entry(repertoire: Repertoire, web: PublicWeb, entry_id: int) -> Entry | None:
    """The published question or know-how ``entry_id``: an entry that has a page."""
    entry = _published_entry(repertoire, web, entry_id)
    return entry if entry is not None and entry.kind != EntryKind.ANSWER else None


def answer_page(repertoire: Repertoire, web: PublicWeb, answer: Entry) -> Entry | None:
    """The published question an answer is shown under, if it has one."""
    root = repertoire.thread_root(answer)
    if root is None or root.kind != EntryKind.QUESTION or not visible_to(root, web):
        return None
    return root


def question_thread(repertoire: Repertoire, web: PublicWeb, entry_id: int) -> QuestionThread | None:
    """The question page of ``entry_id``; ``None`` unless it is a published question."""
    question = _published_entry(repertoire, web, entry_id)
    if question is None or question.kind != EntryKind.QUESTION:
        return None
    answers = tuple(a for a in repertoire.answers_for(question) if visible_to(a, web))
    linked_answer: Entry | None = None
    linked_from: Entry | None = None
    link = repertoire.db.execute(
        "SELECT entry_id FROM similar_links WHERE question_id = ?", [question.id]
    ).fetchone()
    if link is not None:
        candidates = [a for a in repertoire.linked_answers(question.id) if visible_to(a, web)]
        target = _published_entry(repertoire, web, int(link[0]))
        if candidates and target is not None:
            linked_answer, linked_from = candidates[0], target
    shown = [question, *answers]
    return QuestionThread(
        question, answers, linked_answer, linked_from, _last_modified(repertoire, shown)
    )


def knowhow_page(
    repertoire: Repertoire,
    web: PublicWeb,
    entry_id: int,
    now: datetime,
    update_stale_days: int | None = None,
) -> KnowhowPage | None:
    """The know-how page of ``entry_id``; ``None`` unless it is published know-how."""
    entry = _published_entry(repertoire, web, entry_id)
    if entry is None or entry.kind != EntryKind.KNOWHOW:
        return None
    row = repertoire.db.execute(
        "SELECT valid_until FROM entries WHERE id = ?", [entry.id]
    ).fetchone()
    until = date.fromisoformat(row[0]) if row and row[0] else None
    outdated = entry.id in outdated_entries(
        repertoire, [entry.id], now, update_stale_days=update_stale_days
    )
    return KnowhowPage(entry, until, outdated, _last_modified(repertoire, [entry]))


def _last_modified(repertoire: Repertoire, entries: Iterable[Entry]) -> datetime:
    """The latest change to what a page shows: texts, curation, reactions."""
    entries = list(entries)
    latest = max(max(e.updated_at, e.created_at) for e in entries)
    ids = [e.id for e in entries]
    marks = ", ".join("?" for _ in ids)
    row = repertoire.db.execute(
        f"SELECT max(at) FROM curation_changes WHERE entry_id IN ({marks})", ids
    ).fetchone()
    if row and row[0]:
        latest = max(latest, from_db_time(row[0]))
    for entry in entries:
        src = entry.source
        row = repertoire.db.execute(
            "SELECT max(created_at) FROM reactions WHERE platform = ? AND workspace = ? "
            "AND channel = ? AND message_id = ?",
            [src.platform, src.workspace, src.channel, src.message_id],
        ).fetchone()
        if row and row[0]:
            latest = max(latest, from_db_time(row[0]))
    return latest
