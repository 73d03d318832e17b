"""An entry row as every backend selects it, and the :class:`Entry` it maps to.

The ``SELECT`` is portable but for one part: how an entry's tags are
aggregated into one string (SQLite's ``group_concat``, PostgreSQL's
``string_agg``), which each backend passes in.
"""

from __future__ import annotations

from typing import Any

from knowledge.models import Entry, EntryKind, SourceKey, from_db_time

__all__ = ["entry_columns", "entry_select", "row_to_entry"]


def entry_columns(tag_list: str) -> str:
    """The columns :func:`row_to_entry` reads; ``tag_list`` aggregates tags (the dialect's way)."""
    return (
        "e.id, e.kind, e.platform, e.workspace, e.channel, e.message_id, e.thread_id, e.title, "
        "e.text, e.author_id, e.created_at, e.updated_at, e.visibility, e.channel_name, "
        "e.permalink, e.accepted, e.knowhow_kind, "
        "coalesce(nullif(m.display_name, ''), nullif(m.handle, ''), m.user_id) AS author_name, "
        f"(SELECT {tag_list} FROM entry_tags t WHERE t.entry_id = e.id) AS tag_list"
    )


def entry_select(tag_list: str) -> str:
    """``SELECT`` of entries with their author and tags, for ``WHERE`` clauses on alias ``e``."""
    return f"SELECT {entry_columns(tag_list)} FROM entries e JOIN members m ON m.id = e.author_id"


def row_to_entry(row: tuple[Any, ...]) -> Entry:
    """The :class:`Entry` of a row that starts with :func:`entry_columns` (more may follow)."""
    (
        entry_id,
        kind,
        platform,
        workspace,
        channel,
        message_id,
        thread_id,
        title,
        text,
        author_id,
        created_at,
        updated_at,
        visibility,
        channel_name,
        permalink,
        accepted,
        knowhow_kind,
        author_name,
        tag_list,
    ) = tuple(row)[:19]
    return Entry(
        id=entry_id,
        kind=EntryKind(kind),
        source=SourceKey(platform, workspace, channel, message_id),
        title=title,
        text=text,
        author_id=author_id,
        author_name=author_name or "",
        created_at=from_db_time(created_at),
        updated_at=from_db_time(updated_at),
        visibility=visibility,
        channel_name=channel_name,
        thread_id=thread_id,
        permalink=permalink,
        accepted=bool(accepted),
        knowhow_kind=knowhow_kind,
        tags=tuple(sorted(tag_list.split())) if tag_list else (),
    )
