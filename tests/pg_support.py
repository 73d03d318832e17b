"""Writing a small repertoire straight into a PostgreSQL database, for the backend's tests.

The PostgreSQL backend's writers come with the storage interface; until then
these helpers insert rows the way capture would (members, entries, tags,
answers in threads) and rebuild search documents with the real
:func:`knowledge.postgres.documents.reindex`.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from psycopg import Connection
from psycopg.conninfo import conninfo_to_dict

from knowledge.postgres.documents import reindex

START = datetime(2026, 1, 1, tzinfo=UTC)
_ids = itertools.count(1)


def member(conn: Connection[Any], user_id: str, display_name: str = "", handle: str = "") -> int:
    row = conn.execute(
        "INSERT INTO members (platform, workspace, user_id, handle, display_name, created_at) "
        "VALUES ('test', 'W1', %s, %s, %s, %s) ON CONFLICT (platform, workspace, user_id) "
        "DO UPDATE SET display_name = excluded.display_name RETURNING id",
        [user_id, handle, display_name or user_id.capitalize(), START],
    ).fetchone()
    assert row is not None
    return int(row[0])


def entry(
    conn: Connection[Any],
    text: str,
    *,
    kind: str = "question",
    title: str = "",
    channel: str = "C1",
    visibility: str = "public",
    thread: str | None = None,
    accepted: bool = False,
    tags: tuple[str, ...] = (),
    author: str = "alice",
    knowhow_kind: str = "",
    days: float = 0,
    message_id: str | None = None,
    index: bool = True,
) -> int:
    """One entry; its search document (or its question's, for an answer) is rebuilt."""
    author_id = member(conn, author)
    mid = message_id or f"m{next(_ids)}"
    at = START + timedelta(days=days)
    row = conn.execute(
        "INSERT INTO entries (kind, platform, workspace, channel, message_id, thread_id, title, "
        "text, author_id, created_at, updated_at, visibility, channel_name, accepted, "
        "knowhow_kind) VALUES (%s, 'test', 'W1', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "RETURNING id",
        [
            kind,
            channel,
            mid,
            thread,
            title,
            text,
            author_id,
            at,
            at,
            visibility,
            f"name-{channel}",
            accepted,
            knowhow_kind,
        ],
    ).fetchone()
    assert row is not None
    entry_id = int(row[0])
    for tag in tags:
        conn.execute("INSERT INTO entry_tags (entry_id, tag) VALUES (%s, %s)", [entry_id, tag])
    if index:
        reindex(conn, [entry_id])
    return entry_id


def message_id(conn: Connection[Any], entry_id: int) -> str:
    row = conn.execute("SELECT message_id FROM entries WHERE id = %s", [entry_id]).fetchone()
    assert row is not None
    return str(row[0])


def answer(
    conn: Connection[Any], question_id: int, text: str, *, accepted: bool = False, **extra: Any
) -> int:
    """An answer in the question's thread (same channel and visibility)."""
    row = conn.execute(
        "SELECT channel, visibility FROM entries WHERE id = %s", [question_id]
    ).fetchone()
    assert row is not None
    return entry(
        conn,
        text,
        kind="answer",
        channel=str(row[0]),
        visibility=str(row[1]),
        thread=message_id(conn, question_id),
        accepted=accepted,
        **extra,
    )


def document(conn: Connection[Any], entry_id: int) -> str:
    """The entry's search document as text (lexemes, positions and weights)."""
    row = conn.execute(
        "SELECT search_document::text FROM entries WHERE id = %s", [entry_id]
    ).fetchone()
    assert row is not None
    return str(row[0])


def url_of(dsn: str) -> tuple[str, str]:
    """A test database's conninfo as the ``postgresql://`` URL a user types, and its password.

    The password (if the server needs one) is not in the URL: copbot refuses a
    password on the command line, so a test passes it as ``PGPASSWORD``.
    """
    params = conninfo_to_dict(dsn)
    user = quote(str(params.get("user", "")), safe="")
    host, port = str(params.get("host", "")), str(params.get("port", ""))
    dbname = quote(str(params.get("dbname", "")), safe="")
    query = {"host": host} if host.startswith("/") else {}
    netloc = "" if host.startswith("/") else host + (f":{port}" if port else "")
    if host.startswith("/") and port:
        query["port"] = port
    userinfo = f"{user}@" if user else ""
    suffix = f"?{urlencode(query)}" if query else ""
    return f"postgresql://{userinfo}{netloc}/{dbname}{suffix}", str(params.get("password") or "")
