"""The visibility rule, in Python for one entry and in SQL for a query.

A result shown in a channel holds public entries and entries said in that
channel; the public web sees public entries of its published channels by
members who did not opt out. Unknown means private.
"""

from __future__ import annotations

from typing import Any

from knowledge.models import Audience, Entry, PublicWeb

__all__ = ["visibility_clause", "visible_to"]


def visible_to(entry: Entry, viewer: Audience) -> bool:
    """The visibility rule for one entry in Python (:func:`visibility_clause` is its SQL)."""
    if isinstance(viewer, PublicWeb):
        return (
            entry.visibility == "public"
            and entry.channel_ref in viewer.channels
            and entry.author_id not in viewer.hidden_authors
        )
    return entry.visibility == "public" or entry.channel_ref == viewer


def visibility_clause(viewer: Audience, alias: str = "e") -> tuple[str, list[Any]]:
    """SQL for the visibility rule: public entries, plus those from the viewer's own channel.

    For the public web: public entries of its published channels, by members who
    did not opt out (``alias`` must be an ``entries`` row).
    """
    if isinstance(viewer, PublicWeb):
        return _public_web_clause(viewer, alias)
    if viewer is None:
        return f"{alias}.visibility = 'public'", []
    return (
        f"({alias}.visibility = 'public' OR ({alias}.platform = ? AND {alias}.workspace = ? "
        f"AND {alias}.channel = ?))",
        [viewer.platform, viewer.workspace, viewer.channel],
    )


def _public_web_clause(web: PublicWeb, alias: str) -> tuple[str, list[Any]]:
    if not web.channels:
        return "0", []  # nothing is published until the operator says so
    channels = sorted(web.channels, key=lambda c: (c.platform, c.workspace, c.channel))
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
