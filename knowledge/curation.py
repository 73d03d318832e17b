"""Flat curation: any member may retag an entry, fix its title or flag it outdated.

Every change is kept in ``curation_changes`` with who and when, and any member
may undo any change. An undo is itself a change (``undoes`` points at the one
it reverts), so the history never loses anything and an undo can be undone.
An undo is refused when the field changed again since: undo the later change
first.

This module also owns the expiry of know-how: an ``update`` may carry a
``valid_until`` date after which it is shown as possibly outdated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from knowledge.models import Entry, EntryKind, from_db_time, to_db_time
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.storage.errors import RefusedChange
from knowledge.text import normalize_tag

__all__ = [
    "Change",
    "CurationError",
    "Field",
    "change_field",
    "curable",
    "current_value",
    "get_change",
    "history",
    "latest_undoable",
    "outdated_entries",
    "retag",
    "set_valid_until",
    "undo",
    "valid_until",
]

Field = Literal["tags", "title", "outdated"]


class CurationError(RefusedChange):
    """A curation step that cannot be done; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    entry_id: int
    field: Field
    old: Any
    new: Any
    member_id: int
    member_name: str
    at: datetime
    undoes: int | None = None
    undone_by: int | None = None

    def describe(self) -> str:
        """What the change did, in a few words."""
        if self.field == "tags":
            old, new = set(self.old), set(self.new)
            parts = [f"+#{t}" for t in sorted(new - old)] + [f"-#{t}" for t in sorted(old - new)]
            what = "tags " + (" ".join(parts) or "(same)")
        elif self.field == "title":
            what = f"title “{self.old}” → “{self.new}”"
        else:
            what = "flagged outdated" if self.new else "outdated flag cleared"
        if self.undoes is not None:
            what = f"undo of c{self.undoes}: {what}"
        return what


_CHANGE_SELECT = (
    "SELECT c.id, c.entry_id, c.field, c.old_value, c.new_value, c.member_id, "
    "coalesce(nullif(m.display_name, ''), nullif(m.handle, ''), m.user_id), c.at, c.undoes, "
    "c.undone_by FROM curation_changes c JOIN members m ON m.id = c.member_id"
)


def _row_to_change(row: Any) -> Change:
    (cid, entry_id, field, old, new, member_id, name, at, undoes, undone_by) = tuple(row)
    return Change(
        id=int(cid),
        entry_id=int(entry_id),
        field=field,
        old=json.loads(old),
        new=json.loads(new),
        member_id=int(member_id),
        member_name=str(name),
        at=from_db_time(at),
        undoes=int(undoes) if undoes is not None else None,
        undone_by=int(undone_by) if undone_by is not None else None,
    )


def curable(entry: Entry | None) -> Entry:
    if entry is None:
        raise CurationError("No entry with that number.")
    if entry.kind == EntryKind.ANSWER:
        raise CurationError(
            "Answers share their question's title and tags: curate the question instead."
        )
    return entry


def current_value(repertoire: RelationalRepertoire, entry_id: int, field: Field) -> Any:
    entry = curable(repertoire.get_entry(entry_id))
    if field == "tags":
        return sorted(entry.tags)
    if field == "title":
        return entry.title
    row = repertoire.sql.one("SELECT outdated FROM entries WHERE id = ?", [entry_id])
    return bool(row and row[0])


def _apply(repertoire: RelationalRepertoire, entry_id: int, field: Field, value: Any) -> None:
    if field == "tags":
        repertoire.set_tags(entry_id, value)
    elif field == "title":
        repertoire.sql.execute("UPDATE entries SET title = ? WHERE id = ?", [value, entry_id])
        repertoire.reindex(entry_id)
    else:
        repertoire.sql.execute(
            "UPDATE entries SET outdated = ? WHERE id = ?", [int(bool(value)), entry_id]
        )


def _record(
    repertoire: RelationalRepertoire,
    entry_id: int,
    field: Field,
    old: Any,
    new: Any,
    member_id: int,
    at: datetime,
    undoes: int | None = None,
) -> Change:
    change_id = repertoire.sql.insert(
        "INSERT INTO curation_changes (entry_id, field, old_value, new_value, member_id, at, "
        "undoes) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            entry_id,
            field,
            json.dumps(old, ensure_ascii=False),
            json.dumps(new, ensure_ascii=False),
            member_id,
            to_db_time(at),
            undoes,
        ],
    )
    change = get_change(repertoire, change_id)
    assert change is not None
    return change


def change_field(
    repertoire: RelationalRepertoire,
    entry_id: int,
    field: Field,
    new: Any,
    member_id: int,
    at: datetime,
) -> Change | None:
    """Set one field of an entry and keep the change; ``None`` when nothing changed."""
    if field == "tags":
        new = sorted({t for t in (normalize_tag(str(x)) for x in new) if t})
    elif field == "title":
        new = " ".join(str(new).split())
        if not new:
            raise CurationError("A title cannot be empty.")
    else:
        new = bool(new)
    old = current_value(repertoire, entry_id, field)
    if old == new:
        return None
    _apply(repertoire, entry_id, field, new)
    return _record(repertoire, entry_id, field, old, new, member_id, at)


def retag(
    repertoire: RelationalRepertoire,
    entry_id: int,
    member_id: int,
    at: datetime,
    *,
    add: tuple[str, ...] = (),
    remove: tuple[str, ...] = (),
    replace: tuple[str, ...] | None = None,
) -> Change | None:
    """Replace the tags (``replace``) or add and remove some."""
    current = set(current_value(repertoire, entry_id, "tags"))
    if replace is not None:
        current = {normalize_tag(t) for t in replace}
    current |= {normalize_tag(t) for t in add}
    current -= {normalize_tag(t) for t in remove}
    return change_field(repertoire, entry_id, "tags", sorted(current), member_id, at)


def get_change(repertoire: RelationalRepertoire, change_id: int) -> Change | None:
    row = repertoire.sql.one(f"{_CHANGE_SELECT} WHERE c.id = ?", [change_id])
    return _row_to_change(row) if row else None


def history(repertoire: RelationalRepertoire, entry_id: int, limit: int = 20) -> list[Change]:
    """The entry's changes, newest first."""
    rows = repertoire.sql.rows(
        f"{_CHANGE_SELECT} WHERE c.entry_id = ? ORDER BY c.id DESC LIMIT ?", [entry_id, limit]
    )
    return [_row_to_change(r) for r in rows]


def latest_undoable(repertoire: RelationalRepertoire, entry_id: int) -> Change | None:
    """The newest change on the entry not undone yet, undos aside: repeated undos walk back.

    (An undo can still be undone by its own id: that is a redo.)
    """
    row = repertoire.sql.one(
        f"{_CHANGE_SELECT} WHERE c.entry_id = ? AND c.undone_by IS NULL AND c.undoes IS NULL "
        "ORDER BY c.id DESC LIMIT 1",
        [entry_id],
    )
    return _row_to_change(row) if row else None


def undo(repertoire: RelationalRepertoire, change_id: int, member_id: int, at: datetime) -> Change:
    """Revert one change (any member may); returns the new change that reverts it."""
    change = get_change(repertoire, change_id)
    if change is None:
        raise CurationError(f"No change c{change_id}.")
    if change.undone_by is not None:
        raise CurationError(f"c{change.id} was already undone by c{change.undone_by}.")
    current = current_value(repertoire, change.entry_id, change.field)
    if current != change.new:
        raise CurationError(
            f"The {change.field} of #{change.entry_id} changed since c{change.id}; "
            "undo the later change first (see `/cop history`)."
        )
    _apply(repertoire, change.entry_id, change.field, change.old)
    reverting = _record(
        repertoire,
        change.entry_id,
        change.field,
        change.new,
        change.old,
        member_id,
        at,
        undoes=change.id,
    )
    repertoire.sql.execute(
        "UPDATE curation_changes SET undone_by = ? WHERE id = ?", [reverting.id, change.id]
    )
    return reverting


# --------------------------------------------------------------------------- expiry


def set_valid_until(repertoire: RelationalRepertoire, entry_id: int, until: date | None) -> None:
    """An update holds until this day (inclusive); ``None`` clears it."""
    repertoire.sql.execute(
        "UPDATE entries SET valid_until = ? WHERE id = ?",
        [until.isoformat() if until else None, entry_id],
    )


def valid_until(repertoire: RelationalRepertoire, entry_id: int) -> date | None:
    row = repertoire.sql.one("SELECT valid_until FROM entries WHERE id = ?", [entry_id])
    return date.fromisoformat(row[0]) if row and row[0] else None


def outdated_entries(
    repertoire: RelationalRepertoire,
    entry_ids: list[int],
    now: datetime,
    *,
    update_stale_days: int | None = None,
) -> set[int]:
    """Which of ``entry_ids`` to show as possibly outdated at ``now``.

    Flagged by a member; or past its "still true until" date; or an ``update``
    with no such date older than ``update_stale_days`` (when configured).
    """
    if not entry_ids:
        return set()
    marks = ", ".join("?" for _ in entry_ids)
    rows = repertoire.sql.rows(
        f"SELECT id, kind, knowhow_kind, outdated, valid_until, created_at FROM entries "
        f"WHERE id IN ({marks})",
        entry_ids,
    )
    today = now.date()
    out: set[int] = set()
    for entry_id, kind, knowhow_kind, flagged, until, created_at in rows:
        if flagged:
            out.add(int(entry_id))
        elif until:
            if date.fromisoformat(until) < today:
                out.add(int(entry_id))
        elif (
            update_stale_days is not None
            and kind == "knowhow"
            and knowhow_kind == "update"
            and from_db_time(created_at) < now - timedelta(days=update_stale_days)
        ):
            out.add(int(entry_id))
    return out
