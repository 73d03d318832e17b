"""The kinds of know-how (howto, resource, story, update), grouped for digests."""

from __future__ import annotations

from datetime import datetime

from knowledge.models import ChannelRef, Entry, EntryKind
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.storage import EntryFilter, as_viewer

__all__ = ["KNOWHOW_KINDS", "knowhow_by_kind"]

#: The kinds of know-how, in the order digests show them.
KNOWHOW_KINDS = ("howto", "resource", "story", "update")


def knowhow_by_kind(
    repertoire: RelationalRepertoire,
    viewer: ChannelRef | None,
    start: datetime,
    end: datetime,
    limit: int = 50,
) -> dict[str, list[Entry]]:
    """Know-how shared between ``start`` and ``end``, grouped by kind (digests).

    Keys in the order howto, resource, story, update; kinds with nothing are left out.
    """
    wanted = EntryFilter(kinds=(EntryKind.KNOWHOW,), created_from=start, created_before=end)
    entries = repertoire.entries(as_viewer(viewer), wanted, order="newest", limit=limit)
    grouped: dict[str, list[Entry]] = {k: [] for k in KNOWHOW_KINDS}
    for entry in entries:
        grouped.setdefault(entry.knowhow_kind or "howto", []).append(entry)
    return {kind: items for kind, items in grouped.items() if items}
