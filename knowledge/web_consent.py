"""Members' consent to the public web: ``/cop web off`` hides a person from every page.

A member who opts out is hidden entirely, not shown under another name: a
question or an answer stays recognisable from its words, so "without the name"
would not keep the promise "what I wrote is not on the web". The opt-out covers
every identity linked to the member (:mod:`knowledge.identity`), also when the
link is confirmed later, because the hidden set is computed when a page is read.

Forgetting a member removes their row with them (``ON DELETE CASCADE``, in
:mod:`knowledge.sqlite.schema_web`).
"""

from __future__ import annotations

from datetime import datetime

from knowledge.identity import identity_group
from knowledge.models import to_db_time
from knowledge.relational.repertoire import RelationalRepertoire

__all__ = ["hidden_members", "is_hidden_from_web", "set_web_optout"]


def set_web_optout(
    repertoire: RelationalRepertoire, member_id: int, hidden: bool, at: datetime
) -> bool:
    """Hide (``/cop web off``) or show again (``on``) a member; ``True`` when that changed."""
    if hidden:
        changed = repertoire.sql.execute(
            "INSERT INTO web_optouts (member_id, at) VALUES (?, ?) "
            "ON CONFLICT (member_id) DO NOTHING",
            [member_id, to_db_time(at)],
        )
    else:
        changed = repertoire.sql.execute("DELETE FROM web_optouts WHERE member_id = ?", [member_id])
    return changed == 1


def is_hidden_from_web(repertoire: RelationalRepertoire, member_id: int) -> bool:
    """Whether the member, or any identity linked to them, opted out."""
    return bool(set(identity_group(repertoire, member_id)) & hidden_members(repertoire))


def hidden_members(repertoire: RelationalRepertoire) -> frozenset[int]:
    """Every member id that must not appear on the web: opted out, or linked to one who did."""
    opted = [int(r[0]) for r in repertoire.sql.rows("SELECT member_id FROM web_optouts")]
    hidden: set[int] = set()
    for member_id in opted:
        if member_id not in hidden:
            hidden.update(identity_group(repertoire, member_id))
    return frozenset(hidden)
