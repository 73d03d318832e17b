"""The visibility rule in SQL for a query (:meth:`knowledge.models.Viewer.sees` is its Python).

A result shown in a channel holds public entries and entries said in that
channel; the public web sees public entries of its published channels by
members who did not opt out; the operator's view sees everything. Unknown means
private. Portable SQL: SQLite and PostgreSQL run the same clause.
"""

from __future__ import annotations

from typing import Any

from knowledge.models import Audience, Entry
from knowledge.storage.viewer import Viewer, as_viewer

__all__ = ["visibility_clause", "visible_to"]


def visible_to(entry: Entry, viewer: Audience) -> bool:
    """The visibility rule for one entry in Python (:func:`visibility_clause` is its SQL)."""
    return as_viewer(viewer).sees(entry)


def visibility_clause(viewer: Audience, alias: str = "e") -> tuple[str, list[Any]]:
    """SQL for the visibility rule on an ``entries`` row named ``alias``, and its parameters."""
    viewer = as_viewer(viewer)
    if viewer.includes_private:
        return "1 = 1", []
    if viewer.published is not None:
        return _public_web_clause(viewer, alias)
    if viewer.channel is None:
        return f"{alias}.visibility = 'public'", []
    ref = viewer.channel
    return (
        f"({alias}.visibility = 'public' OR ({alias}.platform = ? AND {alias}.workspace = ? "
        f"AND {alias}.channel = ?))",
        [ref.platform, ref.workspace, ref.channel],
    )


def _public_web_clause(web: Viewer, alias: str) -> tuple[str, list[Any]]:
    if not web.published:
        return "1 = 0", []  # nothing is published until the operator says so
    channels = sorted(web.published, key=lambda c: (c.platform, c.workspace, c.channel))
    rows = ", ".join("(?, ?, ?)" for _ in channels)
    params: list[Any] = [part for c in channels for part in (c.platform, c.workspace, c.channel)]
    sql = (
        f"({alias}.visibility = 'public' AND ({alias}.platform, {alias}.workspace, "
        f"{alias}.channel) IN (VALUES {rows})"
    )
    if web.hidden_authors:
        sql += f" AND {alias}.author_id NOT IN ({', '.join('?' for _ in web.hidden_authors)})"
        params += sorted(web.hidden_authors)
    return sql + ")", params
