"""Export the repertoire: JSON that round-trips, or Markdown to share.

JSON (``copbot-repertoire`` version 1, :mod:`knowledge.export_format`) holds
everything the repertoire is: members, channels (with their visibility),
entries (with their source, thread, tags, acceptance, who saved know-how) and
reactions. It is written as a stream, so a large repertoire needs no more
memory than a small one; :func:`knowledge.restore.import_json` of an export
into an empty database gives the same repertoire.

Markdown is a small static knowledge base: ``index.md`` (topics and the
latest questions), one file per topic in ``topics/``, one per question in
``questions/`` (answers below it, the accepted one first and marked), one per
know-how entry in ``knowhow/``; each links back to the chat. Only public
entries are written unless ``include_private`` is set, as the files are meant
to be shared.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from knowledge.export_format import (
    CHANNEL_COLUMNS,
    EDIT_COLUMNS,
    FORMAT,
    MEMBER_COLUMNS,
    REACTION_COLUMNS,
    TOMBSTONE_COLUMNS,
    VERSION,
)
from knowledge.markdown_text import md_text, safe_url, text_escape
from knowledge.models import Entry, EntryKind, to_db_time
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.rows import row_to_entry
from knowledge.storage import EntryFilter, Row, Viewer
from knowledge.text import shorten

__all__ = ["export_json", "export_markdown", "slug"]

_MEMBER_KEY = "{a}.platform, {a}.workspace, {a}.user_id"
_ENTRY_KEY = "{a}.platform, {a}.workspace, {a}.channel, {a}.message_id, {a}.kind"


# --------------------------------------------------------------------------- JSON out


#: Rows read per statement: a large repertoire is exported in pages, never held whole.
PAGE = 2_000


def _pages(
    repertoire: RelationalRepertoire, select: str, params: Sequence[object] = ()
) -> Iterator[Row]:
    """Every row of ``select``, read a page at a time by its first column (an id).

    ``select`` ends with ``WHERE ... > ?`` on that id and is given its
    ``ORDER BY`` and ``LIMIT`` here; ids only grow, so no row is read twice.
    """
    last = 0
    while True:
        rows = repertoire.sql.rows(f"{select} ORDER BY 1 LIMIT ?", [*params, last, PAGE])
        yield from rows
        if len(rows) < PAGE:
            return
        last = int(rows[-1][0])


def _plain(value: Any) -> Any:
    """A flag as the export writes it (``0``/``1``), whichever backend read it."""
    return int(value) if isinstance(value, bool) else value


def _tags_by_entry(repertoire: RelationalRepertoire, first: int, last: int) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = {}
    for entry_id, tag in repertoire.sql.rows(
        "SELECT entry_id, tag FROM entry_tags WHERE entry_id BETWEEN ? AND ?", [first, last]
    ):
        tags.setdefault(int(entry_id), []).append(str(tag))
    return tags


def _entry_rows(repertoire: RelationalRepertoire) -> Iterator[dict[str, Any]]:
    select = (
        "SELECT e.id, e.kind, e.platform, e.workspace, e.channel, e.message_id, e.thread_id, "
        "e.title, e.text, a.platform, a.workspace, a.user_id, s.platform, s.workspace, "
        "s.user_id, e.created_at, e.updated_at, e.visibility, e.channel_name, e.permalink, "
        "e.accepted, e.knowhow_kind, e.valid_until, e.outdated "
        "FROM entries e JOIN members a ON a.id = e.author_id "
        "LEFT JOIN members s ON s.id = e.saved_by_id WHERE e.id > ?"
    )
    page: list[Row] = []
    for row in _pages(repertoire, select):
        page.append(row)
        if len(page) == PAGE:
            yield from _entry_page(repertoire, page)
            page = []
    yield from _entry_page(repertoire, page)


def _entry_page(repertoire: RelationalRepertoire, page: list[Row]) -> Iterator[dict[str, Any]]:
    if not page:
        return
    tags = _tags_by_entry(repertoire, int(page[0][0]), int(page[-1][0]))
    for entry_id, *row in page:
        yield {
            "kind": row[0],
            "platform": row[1],
            "workspace": row[2],
            "channel": row[3],
            "message_id": row[4],
            "thread_id": row[5],
            "title": row[6],
            "text": row[7],
            "author": [row[8], row[9], row[10]],
            "saved_by": [row[11], row[12], row[13]] if row[13] is not None else None,
            "created_at": row[14],
            "updated_at": row[15],
            "visibility": row[16],
            "channel_name": row[17],
            "permalink": row[18],
            "accepted": bool(row[19]),
            "knowhow_kind": row[20],
            "tags": sorted(tags.get(int(entry_id), [])),
            "valid_until": row[21],
            "outdated": bool(row[22]),
        }


def _table_rows(
    repertoire: RelationalRepertoire, table: str, columns: tuple[str, ...]
) -> Iterator[dict[str, Any]]:
    """A table with an ``id``, in the order its rows were made."""
    select = f"SELECT id, {', '.join(columns)} FROM {table} WHERE id > ?"
    for _id, *row in _pages(repertoire, select):
        yield dict(zip(columns, map(_plain, row), strict=True))


def _keyed_table_rows(
    repertoire: RelationalRepertoire, table: str, columns: tuple[str, ...], key_width: int
) -> Iterator[dict[str, Any]]:
    """A table keyed on its first ``key_width`` columns, in the order of its key.

    Sorted here, by code point, so both backends write the same order whatever
    the server's collation.
    """
    rows = repertoire.sql.rows(f"SELECT {', '.join(columns)} FROM {table}")
    rows.sort(key=lambda row: tuple(str(v) for v in row[:key_width]))
    for row in rows:
        yield dict(zip(columns, map(_plain, row), strict=True))


def _keyed_rows(
    repertoire: RelationalRepertoire, sql: str, names: tuple[str, ...]
) -> Iterator[dict[str, Any]]:
    """Rows whose member and entry ids are written as keys (``[platform, workspace, ...]``).

    ``sql`` selects the row's own id first (for paging; not written).
    """
    for _id, *row in _pages(repertoire, sql):
        out: dict[str, Any] = {}
        at = 0
        for name in names:
            width = 3 if name.endswith("@member") else 5 if name.endswith("@entry") else 1
            value = [_plain(v) for v in row[at : at + width]]
            at += width
            key = name.split("@")[0]
            if width == 1:
                out[key] = value[0]
            else:
                out[key] = None if value[-1] is None else value
        yield out


def _thanks(repertoire: RelationalRepertoire) -> Iterator[dict[str, Any]]:
    return _keyed_rows(
        repertoire,
        f"SELECT t.id, {_MEMBER_KEY.format(a='g')}, {_MEMBER_KEY.format(a='r')}, "
        f"{_ENTRY_KEY.format(a='e')}, t.reason, t.via, t.platform, t.workspace, t.channel, "
        "t.visibility, t.created_at FROM thanks t JOIN members g ON g.id = t.giver_id "
        "JOIN members r ON r.id = t.receiver_id LEFT JOIN entries e ON e.id = t.entry_id "
        "WHERE t.id > ?",
        ("giver@member", "receiver@member", "entry@entry", "reason", "via", "platform",
         "workspace", "channel", "visibility", "created_at"),
    )  # fmt: skip


def _curation(repertoire: RelationalRepertoire) -> Iterator[dict[str, Any]]:
    return _keyed_rows(
        repertoire,
        f"SELECT c.id, c.id, {_ENTRY_KEY.format(a='e')}, c.field, c.old_value, c.new_value, "
        f"{_MEMBER_KEY.format(a='m')}, c.at, c.undoes, c.undone_by FROM curation_changes c "
        "JOIN entries e ON e.id = c.entry_id JOIN members m ON m.id = c.member_id WHERE c.id > ?",
        ("id", "entry@entry", "field", "old_value", "new_value", "member@member", "at",
         "undoes", "undone_by"),
    )  # fmt: skip


def _identity_links(repertoire: RelationalRepertoire) -> Iterator[dict[str, Any]]:
    return _keyed_rows(
        repertoire,
        f"SELECT l.id, {_MEMBER_KEY.format(a='f')}, l.to_platform, l.to_user_id, "
        f"{_MEMBER_KEY.format(a='t')}, l.status, l.created_at, l.confirmed_at "
        "FROM identity_links l JOIN members f ON f.id = l.from_member_id "
        "LEFT JOIN members t ON t.id = l.to_member_id WHERE l.id > ?",
        ("from@member", "to_platform", "to_user_id", "to@member", "status", "created_at",
         "confirmed_at"),
    )  # fmt: skip


def export_json(repertoire: RelationalRepertoire, out: IO[str]) -> dict[str, int]:
    """Write the whole repertoire as one JSON document, streamed; counts per section."""
    counts: dict[str, int] = {}
    out.write("{\n")
    out.write(f'"format": "{FORMAT}",\n"version": {VERSION},\n')
    out.write(f'"exported_at": "{to_db_time(datetime.now(UTC))}",\n')
    sections: list[tuple[str, Iterator[dict[str, Any]]]] = [
        ("members", _table_rows(repertoire, "members", MEMBER_COLUMNS)),
        ("channels", _table_rows(repertoire, "channels", CHANNEL_COLUMNS)),
        ("entries", _entry_rows(repertoire)),
        ("reactions", _keyed_table_rows(repertoire, "reactions", REACTION_COLUMNS, 6)),
        # Deleted messages stay deleted and the newest edits win after a restore,
        # even when the chat history is imported again on top of it.
        ("tombstones", _keyed_table_rows(repertoire, "message_tombstones", TOMBSTONE_COLUMNS, 4)),
        ("edits", _keyed_table_rows(repertoire, "message_edits", EDIT_COLUMNS, 4)),
        ("thanks", _thanks(repertoire)),
        ("curation_changes", _curation(repertoire)),
        ("identity_links", _identity_links(repertoire)),
    ]
    for number, (name, rows) in enumerate(sections):
        out.write(f'"{name}": [')
        n = 0
        for row in rows:
            out.write(",\n  " if n else "\n  ")
            out.write(json.dumps(row, ensure_ascii=False))
            n += 1
        out.write("\n]" + (",\n" if number < len(sections) - 1 else "\n"))
        counts[name] = n
    out.write("}\n")
    return counts


# --------------------------------------------------------------------------- Markdown

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str, limit: int = 50) -> str:
    out = _SLUG.sub("-", text.lower()).strip("-")[:limit].rstrip("-")
    return out or "entry"


def _entry_path(entry: Entry) -> str:
    folder = "questions" if entry.kind == EntryKind.QUESTION else "knowhow"
    return f"{folder}/{entry.id}-{slug(entry.title or entry.text)}.md"


def _md_escape(text: str) -> str:
    """A member's text on a page that may be published: shown, never run (markdown_text)."""
    return md_text(text)


def _source_line(entry: Entry) -> str:
    where = f"#{entry.channel_name}" if entry.channel_name else entry.source.channel
    when = entry.created_at.strftime("%Y-%m-%d %H:%M UTC")
    url = safe_url(entry.permalink)
    link = f" · [open in {text_escape(entry.source.platform.title())}]({url})" if url else ""
    return (
        f"*{text_escape(entry.author_name)}* in {text_escape(where)} "
        f"({text_escape(entry.source.platform)}), {when}{link}"
    )


def _iter_entries(
    repertoire: RelationalRepertoire, condition: str, params: list[Any], page: int = 1_000
) -> Iterator[Entry]:
    last = 0
    while True:
        rows = repertoire.sql.rows(
            f"{repertoire.entry_select} WHERE e.id > ? AND {condition} ORDER BY e.id LIMIT ?",
            [last, *params, page],
        )
        if not rows:
            return
        for row in rows:
            entry = row_to_entry(row)
            last = entry.id
            yield entry


def export_markdown(
    repertoire: RelationalRepertoire,
    out_dir: str | Path,
    *,
    include_private: bool = False,
    title: str = "",
) -> dict[str, int]:
    """Write the repertoire as Markdown files under ``out_dir``; counts of files per kind."""
    out = Path(out_dir)
    for folder in ("questions", "knowhow", "topics"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    visible = "1 = 1" if include_private else "e.visibility = 'public'"
    counts = {"questions": 0, "knowhow": 0, "topics": 0}
    for entry in _iter_entries(repertoire, f"{visible} AND e.kind != 'answer'", []):
        lines = [f"# {text_escape(entry.title or shorten(entry.text, 80))}", ""]
        if entry.kind == EntryKind.KNOWHOW:
            lines.append(f"**Know-how** ({entry.knowhow_kind or 'howto'})")
            lines.append("")
        lines += [_source_line(entry), "", _md_escape(entry.text), ""]
        if entry.tags:
            tag_links = ", ".join(
                f"[#{text_escape(t)}](../topics/{slug(t)}.md)" for t in entry.tags
            )
            lines += [f"Topics: {tag_links}", ""]
        if entry.kind == EntryKind.QUESTION:
            answers = (
                repertoire.answers_for(entry)
                if include_private
                else repertoire.visible_answers(entry, None, borrowed=False)
            )
            lines.append(f"## Answers ({len(answers)})" if answers else "## No answer yet")
            for answer in answers:
                mark = "✅ Accepted answer — " if answer.accepted else ""
                lines += ["", f"### {mark}{_source_line(answer)}", "", _md_escape(answer.text)]
            lines.append("")
        lines.append("[← back to the index](../index.md)")
        (out / _entry_path(entry)).write_text("\n".join(lines) + "\n", encoding="utf-8")
        counts["questions" if entry.kind == EntryKind.QUESTION else "knowhow"] += 1
    tags = repertoire.sql.rows(
        "SELECT t.tag, count(*) FROM entry_tags t JOIN entries e ON e.id = t.entry_id "
        f"WHERE {visible} AND e.kind != 'answer' GROUP BY t.tag"
    )
    tags.sort(key=lambda row: (-int(row[1]), str(row[0])))
    for tag, n in tags:
        lines = [f"# #{text_escape(tag)}", "", f"{n} entries.", ""]
        for entry in _iter_entries(
            repertoire,
            f"{visible} AND e.kind != 'answer' AND e.id IN "
            "(SELECT entry_id FROM entry_tags WHERE tag = ?)",
            [tag],
        ):
            lines.append(_index_line(entry, "../"))
        lines += ["", "[← back to the index](../index.md)"]
        (out / "topics" / f"{slug(tag)}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        counts["topics"] += 1
    index = [f"# {text_escape(title or 'Repertoire')}", ""]
    index.append(
        f"{counts['questions']} questions, {counts['knowhow']} know-how entries, "
        f"{counts['topics']} topics."
    )
    index += ["", "## Topics", ""]
    index += [f"- [#{text_escape(tag)}](topics/{slug(tag)}.md) ({n})" for tag, n in tags]
    index += ["", "## Latest questions and know-how", ""]
    viewer = Viewer.operator_including_private() if include_private else Viewer.public()
    wanted = EntryFilter(kinds=(EntryKind.QUESTION, EntryKind.KNOWHOW))
    latest = repertoire.entries(viewer, wanted, order="newest", limit=100)
    index += [_index_line(e, "") for e in latest]
    (out / "index.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    return counts


def _index_line(entry: Entry, up: str) -> str:
    badge = ""
    if entry.kind == EntryKind.KNOWHOW:
        badge = " (know-how)"
    day = entry.created_at.strftime("%Y-%m-%d")
    text = text_escape(entry.title or shorten(entry.text, 80))
    return f"- [{text}]({up}{_entry_path(entry)}){badge} — {text_escape(entry.author_name)}, {day}"
