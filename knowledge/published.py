"""What the public web may read: every function takes the public web as its viewer.

The web view is one more viewer of the repertoire (:meth:`Viewer.public_web`), with the same rule as
chat (:func:`knowledge.relational.visibility.visibility_clause`): public entries of the published
channels, by members who did not opt out. The rule applies to each entry on its own, answers
included: a public question may have an answer given after its channel turned private, and that
answer is never returned here.

Functions return dataclasses, never rows, so the web adapter holds no SQL; the queries are portable
SQL on the repertoire's :attr:`~RelationalRepertoire.sql`, so the web view serves a SQLite file and
a PostgreSQL server alike (the one difference, SQLite's index hints, is the backend's
:meth:`~RelationalRepertoire.index_hint`). Lists are bounded (``limit``) and newest first; "last
modified" covers the entry, its shown answers, their curation changes and reactions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from knowledge.curation import outdated_entries, valid_until
from knowledge.models import ChannelRef, Entry, EntryKind, Viewer, from_db_time
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.rows import row_to_entry
from knowledge.web_consent import hidden_members

__all__ = [
    "NEWEST_FIRST",
    "KnowhowPage",
    "PublishedChannel",
    "QuestionThread",
    "answer_page",
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

#: Newest first, ties by id: the same order on every backend (entries said in one
#: instant, as an import or a fixed clock makes them, would otherwise come in any order).
NEWEST_FIRST = "e.created_at DESC, e.id DESC"


def entries_where(
    repertoire: RelationalRepertoire,
    where: str,
    params: Sequence[Any],
    order: str = NEWEST_FIRST,
    limit: int = 100,
    offset: int = 0,
    *,
    index: str = "",
) -> list[Entry]:
    """Entries (alias ``e``) meeting portable SQL conditions: the web view's own listings.

    ``index`` names the index to walk where the backend needs telling
    (:meth:`~RelationalRepertoire.index_hint`: SQLite, which has no statistics
    here, would pick one that reads far more rows).
    """
    select = repertoire.entry_select
    hint = repertoire.index_hint(index) if index else ""
    if hint:
        select = select.replace("FROM entries e", f"FROM entries e {hint}", 1)
    rows = repertoire.sql.rows(
        f"{select} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?", [*params, limit, offset]
    )
    return [row_to_entry(r) for r in rows]


# ----------------------------------------------------------------------------- the viewer


def public_web(
    repertoire: RelationalRepertoire, specs: Sequence[tuple[str, str, str, str]]
) -> Viewer:
    """The public-web viewer for channel specs ``(platform, workspace, channel id, name)``.

    Empty parts match any value (a spec names a channel by id or by name). A
    channel is published only while the repertoire knows it as public: one
    that turned private, or that copbot never saw, publishes nothing.
    """
    rows = repertoire.sql.rows(
        "SELECT platform, workspace, channel, name FROM channels WHERE visibility = 'public'"
    )
    chosen: set[ChannelRef] = set()
    for platform, workspace, channel, name in rows:
        for s_platform, s_workspace, s_channel, s_name in specs:
            if s_platform != platform or (s_workspace and s_workspace != workspace):
                continue
            if (s_channel and s_channel == channel) or (
                s_name and s_name.casefold() == str(name).casefold()
            ):
                chosen.add(ChannelRef(str(platform), str(workspace), str(channel)))
    return Viewer.public_web(chosen, hidden_members(repertoire))


def published_channels(repertoire: RelationalRepertoire, web: Viewer) -> list[PublishedChannel]:
    """The published channels with their names, by name."""
    out: list[PublishedChannel] = []
    for ref in web.published or ():
        row = repertoire.sql.one(
            "SELECT name FROM channels WHERE platform = ? AND workspace = ? AND channel = ?",
            [ref.platform, ref.workspace, ref.channel],
        )
        out.append(PublishedChannel(ref, str(row[0]) if row and row[0] else ref.channel))
    out.sort(key=lambda c: (c.name.casefold(), c.ref.platform, c.ref.channel))
    return out


# ----------------------------------------------------------------------------- one entry


def page_entry(repertoire: RelationalRepertoire, web: Viewer, entry_id: int) -> Entry | None:
    """The published question or know-how ``entry_id``: an entry that has a page."""
    entry = repertoire.entry_for(web, entry_id)
    return entry if entry is not None and entry.kind != EntryKind.ANSWER else None


def answer_page(repertoire: RelationalRepertoire, web: Viewer, answer: Entry) -> Entry | None:
    """The published question an answer is shown under, if it has one."""
    root = repertoire.thread_root(answer)
    if root is None or root.kind != EntryKind.QUESTION or not web.sees(root):
        return None
    return root


def question_thread(
    repertoire: RelationalRepertoire, web: Viewer, entry_id: int
) -> QuestionThread | None:
    """The question page of ``entry_id``; ``None`` unless it is a published question."""
    question = repertoire.entry_for(web, entry_id)
    if question is None or question.kind != EntryKind.QUESTION:
        return None
    answers = tuple(repertoire.visible_answers(question, web, borrowed=False))
    linked_answer: Entry | None = None
    linked_from: Entry | None = None
    link = repertoire.sql.one(
        "SELECT entry_id FROM similar_links WHERE question_id = ?", [question.id]
    )
    if link is not None:
        candidates = [a for a in repertoire.linked_answers(question.id) if web.sees(a)]
        target = repertoire.entry_for(web, int(link[0]))
        if candidates and target is not None:
            linked_answer, linked_from = candidates[0], target
    shown = [question, *answers]
    return QuestionThread(
        question, answers, linked_answer, linked_from, _last_modified(repertoire, shown)
    )


def knowhow_page(
    repertoire: RelationalRepertoire,
    web: Viewer,
    entry_id: int,
    now: datetime,
    update_stale_days: int | None = None,
) -> KnowhowPage | None:
    """The know-how page of ``entry_id``; ``None`` unless it is published know-how."""
    entry = repertoire.entry_for(web, entry_id)
    if entry is None or entry.kind != EntryKind.KNOWHOW:
        return None
    until = valid_until(repertoire, entry.id)
    outdated = entry.id in outdated_entries(
        repertoire, [entry.id], now, update_stale_days=update_stale_days
    )
    return KnowhowPage(entry, until, outdated, _last_modified(repertoire, [entry]))


def _last_modified(repertoire: RelationalRepertoire, entries: Iterable[Entry]) -> datetime:
    """The latest change to what a page shows: texts, curation, reactions."""
    entries = list(entries)
    latest = max(max(e.updated_at, e.created_at) for e in entries)
    ids = [e.id for e in entries]
    marks = ", ".join("?" for _ in ids)
    row = repertoire.sql.one(
        f"SELECT max(at) FROM curation_changes WHERE entry_id IN ({marks})", ids
    )
    if row and row[0]:
        latest = max(latest, from_db_time(row[0]))
    for entry in entries:
        src = entry.source
        row = repertoire.sql.one(
            "SELECT max(created_at) FROM reactions WHERE platform = ? AND workspace = ? "
            "AND channel = ? AND message_id = ?",
            [src.platform, src.workspace, src.channel, src.message_id],
        )
        if row and row[0]:
            latest = max(latest, from_db_time(row[0]))
    return latest
