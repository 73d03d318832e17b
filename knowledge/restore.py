"""Restore a copbot JSON export (:func:`knowledge.export.export_json`): all of it, or nothing.

The file is read once, as a stream (:mod:`knowledge.jsonstream`: nesting and
item size are bounded), and written in **one transaction**: a file cut short,
a row with a missing field or a wrong type, a section that is not an array,
all roll the whole restore back and raise :class:`RestoreError`, which names
the file, the section, the row and what was wrong. Restoring into a non-empty
database adds what is missing and refreshes the rest (entries are keyed on
their source message, as capture keys them), so restoring twice changes
nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ijson

from knowledge.export_format import (
    CHANNEL_COLUMNS,
    EDIT_COLUMNS,
    FORMAT,
    REACTION_COLUMNS,
    SECTIONS,
    TOMBSTONE_COLUMNS,
    VERSION,
    ExportFormatError,
)
from knowledge.jsonstream import JsonLimitError, JsonShapeError, top_level, value_of
from knowledge.models import ChannelRef, EntryKind, NewEntry, SourceKey, from_db_time
from knowledge.relational.repertoire import RelationalRepertoire

MemberKey = tuple[str, str, str]


class RestoreError(ValueError):
    """A copbot JSON export could not be restored; nothing of it was written."""


def _header(path: Path) -> None:
    """Refuse a file that is not a copbot export of a version this copbot reads."""
    with path.open("rb") as handle:
        head = value_of(handle, "format")
    if head != FORMAT:
        raise ExportFormatError(f"{path}: not a copbot JSON export (format {head!r})")
    with path.open("rb") as handle:
        version = value_of(handle, "version")
    if version != VERSION:
        raise ExportFormatError(f"{path}: export version {version} (this copbot reads {VERSION})")


def _problem(exc: BaseException, refused: tuple[type[Exception], ...]) -> str:
    """A row error in words: which field is missing, or what was wrong with a value."""
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    if isinstance(exc, refused):
        return f"refused by the database ({' '.join(str(exc).split())})"
    return f"bad value ({exc})"


def import_json(repertoire: RelationalRepertoire, path: str | Path) -> dict[str, int]:
    """Restore an export in one transaction; counts of rows read per section.

    Raises :class:`ExportFormatError` for a file that is not a copbot export (or
    of another version) and :class:`RestoreError` for anything wrong inside it;
    in both cases the database is left as it was.
    """
    path = Path(path)
    try:
        _header(path)
    except (ijson.JSONError, JsonLimitError, JsonShapeError, UnicodeDecodeError) as exc:
        raise RestoreError(f"{path}: not readable as JSON ({_first_line(exc)})") from None
    counts = dict.fromkeys(SECTIONS, 0)
    rows = _Rows(repertoire)
    refused = repertoire.integrity_errors  # the backend's "a constraint said no"
    row_errors: tuple[type[Exception], ...] = (KeyError, TypeError, ValueError, *refused)
    section, number = "", 0
    try:
        with repertoire.transaction(), repertoire.deferred_reindex(), path.open("rb") as handle:
            for section, position, row in top_level(handle, arrays=SECTIONS, use_float=True):
                number = position or 0
                if not isinstance(row, dict):
                    raise RestoreError(f"{path}: {section} #{number + 1}: not an object")
                try:
                    rows.add(section, row)
                except row_errors as exc:
                    problem = _problem(exc, refused)
                    raise RestoreError(
                        f"{path}: {section} #{number + 1}: {problem}; nothing was restored"
                    ) from None
                counts[section] += 1
            rows.finish()
    except (ijson.JSONError, JsonLimitError, JsonShapeError, UnicodeDecodeError) as exc:
        after = f" after {section} #{number + 1}" if section else ""
        raise RestoreError(
            f"{path}: damaged or cut short{after} ({_first_line(exc)}); nothing was restored"
        ) from None
    return counts


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


class _Rows:
    """Writes the rows of each section; ids in the file are mapped to this database's."""

    def __init__(self, repertoire: RelationalRepertoire) -> None:
        self.repertoire = repertoire
        self.sql = repertoire.sql
        self.members: dict[MemberKey, int] = {}
        #: Curation change ids in the file -> ids here, and undo links to set at the end.
        self.changes: dict[int, int] = {}
        self.undone_by: list[tuple[int, int]] = []

    def add(self, section: str, row: dict[str, Any]) -> None:
        getattr(self, f"_{section}")(row)

    def finish(self) -> None:
        for new_id, undone_by in self.undone_by:
            self.sql.execute(
                "UPDATE curation_changes SET undone_by = ? WHERE id = ?",
                [self.changes.get(undone_by), new_id],
            )

    # ------------------------------------------------------------------ keys

    def member(self, key: Any) -> int | None:
        if not key:
            return None
        if not isinstance(key, list) or len(key) != 3:
            raise ValueError(f"a member key is [platform, workspace, user id], not {key!r}")
        triple = (str(key[0]), str(key[1]), str(key[2]))
        if triple not in self.members:
            self.members[triple] = self.repertoire.upsert_member(*triple)
        return self.members[triple]

    def entry(self, key: Any) -> int | None:
        if not key:
            return None
        if not isinstance(key, list) or len(key) != 5:
            raise ValueError(f"an entry key has 5 parts, not {key!r}")
        row = self.sql.one(
            "SELECT id FROM entries WHERE platform = ? AND workspace = ? AND channel = ? "
            "AND message_id = ? AND kind = ?",
            [str(k) for k in key],
        )
        return int(row[0]) if row else None

    # ------------------------------------------------------------------ sections

    def _members(self, m: dict[str, Any]) -> None:
        key = (str(m["platform"]), str(m["workspace"]), str(m["user_id"]))
        self.members[key] = self.repertoire.upsert_member(
            *key,
            display_name=str(m.get("display_name") or ""),
            handle=str(m.get("handle") or ""),
            at=from_db_time(str(m["created_at"])),
        )

    def _channels(self, c: dict[str, Any]) -> None:
        platform, workspace, channel = (str(c[column]) for column in CHANNEL_COLUMNS[:3])
        self.repertoire.upsert_channel(
            platform, workspace, channel, str(c.get("name") or ""), str(c["visibility"])
        )
        if c.get("capture_stopped"):
            self.repertoire.set_capture_stopped(ChannelRef(platform, workspace, channel), True)

    def _entries(self, e: dict[str, Any]) -> None:
        author = self.member(e["author"])
        if author is None:
            raise ValueError("an entry needs an author")
        tags = e.get("tags") or ()
        if not isinstance(tags, list | tuple):
            raise ValueError(f"'tags' is a list of words, not {tags!r}")
        entry_id, _ = self.repertoire.save_entry(
            NewEntry(
                kind=EntryKind(e["kind"]),
                source=SourceKey(
                    str(e["platform"]), str(e["workspace"]), str(e["channel"]), str(e["message_id"])
                ),
                text=str(e["text"]),
                author_id=author,
                created_at=from_db_time(str(e["created_at"])),
                visibility=str(e["visibility"]),
                title=str(e.get("title") or ""),
                thread_id=str(e["thread_id"]) if e.get("thread_id") is not None else None,
                permalink=str(e.get("permalink") or ""),
                tags=tuple(str(t) for t in tags),
                knowhow_kind=str(e.get("knowhow_kind") or ""),
                channel_name=str(e.get("channel_name") or ""),
                saved_by_id=self.member(e.get("saved_by")),
            )
        )
        self.sql.execute(
            "UPDATE entries SET accepted = ?, updated_at = ?, title = ?, valid_until = ?, "
            "outdated = ? WHERE id = ?",
            [
                bool(e.get("accepted")),
                str(e["updated_at"]),
                str(e.get("title") or ""),
                _scalar(e.get("valid_until")),
                bool(e.get("outdated")),
                entry_id,
            ],
        )
        self.repertoire.reindex_thread_of(entry_id)

    def _reactions(self, r: dict[str, Any]) -> None:
        self.sql.execute(
            f"INSERT INTO reactions ({', '.join(REACTION_COLUMNS)}) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (platform, workspace, channel, message_id, user_id, emoji) DO UPDATE "
            "SET created_at = excluded.created_at, present = excluded.present",
            [
                bool(_scalar(r.get(c, 1))) if c == "present" else _scalar(r[c])
                for c in REACTION_COLUMNS
            ],
        )

    def _replace(self, table: str, columns: tuple[str, ...], row: dict[str, Any]) -> None:
        """Insert ``row`` or overwrite the one with its key (the first four columns)."""
        key, rest = columns[:4], columns[4:]
        self.sql.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)}) ON CONFLICT ({', '.join(key)}) "
            f"DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in rest)}",
            [_scalar(row[c]) for c in columns],
        )

    def _tombstones(self, t: dict[str, Any]) -> None:
        self._replace("message_tombstones", TOMBSTONE_COLUMNS, t)

    def _edits(self, t: dict[str, Any]) -> None:
        self._replace("message_edits", EDIT_COLUMNS, t)

    def _thanks(self, t: dict[str, Any]) -> None:
        self.sql.execute(
            "INSERT INTO thanks (giver_id, receiver_id, entry_id, reason, via, platform, "
            "workspace, channel, visibility, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [self.member(t["giver"]), self.member(t["receiver"]), self.entry(t.get("entry")),
             *(_scalar(t[c]) for c in ("reason", "via", "platform", "workspace", "channel",
                                       "visibility", "created_at"))],
        )  # fmt: skip

    def _curation_changes(self, c: dict[str, Any]) -> None:
        entry_id, member_id = self.entry(c["entry"]), self.member(c["member"])
        if entry_id is None or member_id is None:
            return
        values = [
            entry_id,
            *(_scalar(c[k]) for k in ("field", "old_value", "new_value")),
            member_id,
            _scalar(c["at"]),
        ]
        known = self.sql.one(
            "SELECT id FROM curation_changes WHERE entry_id = ? AND field = ? AND old_value = ? "
            "AND new_value = ? AND member_id = ? AND at = ?",
            values,
        )
        if known is not None:
            self.changes[int(c["id"])] = int(known[0])
            return
        undoes = self.changes.get(int(c["undoes"])) if c.get("undoes") is not None else None
        self.changes[int(c["id"])] = self.sql.insert(
            "INSERT INTO curation_changes (entry_id, field, old_value, new_value, member_id, at, "
            "undoes) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [*values, undoes],
        )
        if c.get("undone_by") is not None:
            self.undone_by.append((self.changes[int(c["id"])], int(c["undone_by"])))

    def _identity_links(self, link: dict[str, Any]) -> None:
        self.sql.execute(
            "INSERT INTO identity_links (from_member_id, to_platform, to_user_id, "
            "to_member_id, status, created_at, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            [self.member(link["from"]), _scalar(link["to_platform"]),
             _scalar(link["to_user_id"]), self.member(link.get("to")), _scalar(link["status"]),
             _scalar(link["created_at"]), _scalar(link.get("confirmed_at"))],
        )  # fmt: skip


def _scalar(value: Any) -> Any:
    """A value SQLite can store as the export wrote it (text, number, null)."""
    if value is None or isinstance(value, str | int | float):
        return value
    raise ValueError(f"expected text or a number, not {type(value).__name__}")


__all__ = ["ExportFormatError", "RestoreError", "import_json"]
