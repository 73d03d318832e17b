"""Cross-platform identities: one person's Slack and Discord members, linked.

A link needs a confirmation from both sides. Member A on one platform asks to
link the user id it names on the other (:func:`request_link`): that makes a
*pending* link. It becomes *confirmed* only when that other user, signed in on
their own platform, asks for the link back to A. Nobody can claim someone
else's identity: each side speaks for itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from knowledge.models import Member, to_db_time
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.storage.errors import RefusedChange

__all__ = [
    "IdentityError",
    "LinkResult",
    "LinkStatus",
    "PendingLink",
    "identity_group",
    "linked_identities",
    "pending_links",
    "request_link",
    "unlink",
]

LinkStatus = Literal["pending", "confirmed", "already-pending", "already-linked"]


class IdentityError(RefusedChange):
    """A link that cannot be made (same platform, oneself); the message says why."""


@dataclass(frozen=True, slots=True)
class LinkResult:
    status: LinkStatus
    other: Member | None = None


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A link waiting for its second confirmation."""

    from_member: Member
    to_platform: str
    to_user_id: str
    outgoing: bool


def request_link(
    repertoire: RelationalRepertoire,
    member_id: int,
    to_platform: str,
    to_user_id: str,
    at: datetime,
) -> LinkResult:
    """Member ``member_id`` confirms it is also ``to_platform:to_user_id``.

    Completes the link when the other side asked first; else leaves it pending.
    """
    me = repertoire.get_member(member_id)
    if me is None:  # pragma: no cover - callers pass a member they just made
        raise IdentityError("unknown member")
    to_platform = to_platform.strip().lower()
    to_user_id = to_user_id.strip()
    if not to_platform or not to_user_id:
        raise IdentityError("Name the other identity as platform:user-id, e.g. discord:1234.")
    if to_platform == me.platform:
        raise IdentityError(
            f"Both identities are on {me.platform}; link an identity on another platform."
        )
    others = repertoire.members_with_user_id(to_platform, to_user_id)
    # Already linked either way?
    for other in others:
        if other.id in identity_group(repertoire, me.id):
            return LinkResult("already-linked", other)
    # Did the other side ask for me first? Then this is the second confirmation.
    reverse = repertoire.sql.one(
        "SELECT l.id, l.from_member_id FROM identity_links l "
        "JOIN members m ON m.id = l.from_member_id "
        "WHERE l.status = 'pending' AND l.to_platform = ? AND l.to_user_id = ? "
        "AND m.platform = ? AND m.user_id = ? ORDER BY l.id LIMIT 1",
        [me.platform, me.user_id, to_platform, to_user_id],
    )
    if reverse is not None:
        link_id, from_member_id = int(reverse[0]), int(reverse[1])
        repertoire.sql.execute(
            "UPDATE identity_links SET status = 'confirmed', to_member_id = ?, confirmed_at = ? "
            "WHERE id = ?",
            [me.id, to_db_time(at), link_id],
        )
        repertoire.sql.execute(
            "DELETE FROM identity_links WHERE status = 'pending' AND from_member_id = ? "
            "AND to_platform = ? AND to_user_id = ?",
            [me.id, to_platform, to_user_id],
        )
        return LinkResult("confirmed", repertoire.get_member(from_member_id))
    made = repertoire.sql.execute(
        "INSERT INTO identity_links (from_member_id, to_platform, to_user_id, status, "
        "created_at) VALUES (?, ?, ?, 'pending', ?) ON CONFLICT DO NOTHING",
        [me.id, to_platform, to_user_id, to_db_time(at)],
    )
    return LinkResult("pending" if made == 1 else "already-pending")


def unlink(repertoire: RelationalRepertoire, member_id: int, platform: str, user_id: str) -> bool:
    """Remove a link or a pending request between ``member_id`` and ``platform:user_id``."""
    removed = repertoire.sql.execute(
        "DELETE FROM identity_links WHERE from_member_id = ? AND to_platform = ? "
        "AND to_user_id = ?",
        [member_id, platform.lower(), user_id],
    )
    me = repertoire.get_member(member_id)
    if me is not None:
        for other in repertoire.members_with_user_id(platform.lower(), user_id):
            removed += repertoire.sql.execute(
                "DELETE FROM identity_links WHERE from_member_id = ? AND to_member_id = ?",
                [other.id, me.id],
            )
    return removed > 0


def _neighbours(repertoire: RelationalRepertoire, member_id: int) -> set[int]:
    rows = repertoire.sql.rows(
        "SELECT to_member_id FROM identity_links WHERE status = 'confirmed' "
        "AND from_member_id = ? UNION SELECT from_member_id FROM identity_links "
        "WHERE status = 'confirmed' AND to_member_id = ?",
        [member_id, member_id],
    )
    return {int(r[0]) for r in rows if r[0] is not None}


def identity_group(repertoire: RelationalRepertoire, member_id: int) -> list[int]:
    """Every member id that is the same person as ``member_id`` (itself first)."""
    seen = [member_id]
    todo = [member_id]
    while todo:
        for other in sorted(_neighbours(repertoire, todo.pop())):
            if other not in seen:
                seen.append(other)
                todo.append(other)
    return seen


def linked_identities(repertoire: RelationalRepertoire, member_id: int) -> list[Member]:
    """The member's confirmed identities on other platforms."""
    members = [repertoire.get_member(i) for i in identity_group(repertoire, member_id)[1:]]
    return [m for m in members if m is not None]


def pending_links(repertoire: RelationalRepertoire, member_id: int) -> list[PendingLink]:
    """Links waiting for a confirmation: asked by this member, or asked of them."""
    me = repertoire.get_member(member_id)
    if me is None:
        return []
    out: list[PendingLink] = []
    rows = repertoire.sql.rows(
        "SELECT to_platform, to_user_id FROM identity_links WHERE status = 'pending' "
        "AND from_member_id = ? ORDER BY id",
        [member_id],
    )
    out.extend(PendingLink(me, str(r[0]), str(r[1]), True) for r in rows)
    rows = repertoire.sql.rows(
        "SELECT from_member_id FROM identity_links WHERE status = 'pending' "
        "AND to_platform = ? AND to_user_id = ? ORDER BY id",
        [me.platform, me.user_id],
    )
    for row in rows:
        asker = repertoire.get_member(int(row[0]))
        if asker is not None:
            out.append(PendingLink(asker, me.platform, me.user_id, False))
    return out
