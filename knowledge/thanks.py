"""Thanks: who helped whom, counted once per member and entry.

A thank-you goes to a member, on an entry (the answer or know-how that
helped) or not. The same member thanking the same entry twice (a reaction and
a command, a retry) counts once; so does thanking the same member twice
without an entry. Thanks are shown, never scored: no leaderboard unless a
channel turns one on (the caller decides).

Visibility: a thank-you is visible where it was given (a public channel, or
that channel only), and one on an entry only where that entry is visible too:
a thank-you said in a private channel counts nowhere else, whatever it thanks
for. Its visibility follows its channel's, as entries' do.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from knowledge.models import ChannelRef, Member, to_db_time
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visibility_clause

__all__ = [
    "Helper",
    "Via",
    "record_thanks",
    "thanks_leaderboard",
    "thanks_received",
    "withdraw_reaction_thanks",
]

Via = Literal["command", "reaction"]


@dataclass(frozen=True, slots=True)
class Helper:
    """A member who was thanked, with who thanked them and for what."""

    member: Member
    count: int
    givers: tuple[str, ...]
    entry_ids: tuple[int, ...]
    reasons: tuple[str, ...]


def record_thanks(
    repertoire: RelationalRepertoire,
    giver_id: int,
    receiver_id: int,
    *,
    entry_id: int | None,
    where: ChannelRef,
    visibility: str,
    at: datetime,
    reason: str = "",
    via: Via = "command",
) -> bool:
    """Keep a thank-you; ``False`` when this member already thanked for this entry."""
    if giver_id == receiver_id:
        return False
    made = repertoire.sql.execute(
        "INSERT INTO thanks (giver_id, receiver_id, entry_id, reason, via, platform, "
        "workspace, channel, visibility, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        [
            giver_id,
            receiver_id,
            entry_id,
            reason,
            via,
            where.platform,
            where.workspace,
            where.channel,
            visibility,
            to_db_time(at),
        ],
    )
    if made == 1:
        return True
    if via == "command":
        # Said in words too: the thank-you no longer goes away with the reaction.
        repertoire.sql.execute(
            "UPDATE thanks SET via = 'command', reason = CASE WHEN reason = '' THEN ? "
            "ELSE reason END WHERE giver_id = ? AND receiver_id = ? "
            "AND coalesce(entry_id, 0) = coalesce(?, 0)",
            [reason, giver_id, receiver_id, entry_id],
        )
    return False


def withdraw_reaction_thanks(
    repertoire: RelationalRepertoire, giver_id: int, entry_id: int
) -> bool:
    """The thanks reaction was removed: drop the thank-you it made (not a command's)."""
    removed = repertoire.sql.execute(
        "DELETE FROM thanks WHERE giver_id = ? AND entry_id = ? AND via = 'reaction'",
        [giver_id, entry_id],
    )
    return removed > 0


def _visible_thanks(viewer: ChannelRef | None) -> tuple[str, list[Any]]:
    """SQL (aliases ``t`` thanks, ``e`` its entry, LEFT JOINed) for what ``viewer`` may see."""
    entry_sql, entry_params = visibility_clause(viewer, "e")
    own_sql, own_params = visibility_clause(viewer, "t")
    return (
        f"({own_sql} AND (t.entry_id IS NULL OR (e.id IS NOT NULL AND {entry_sql})))",
        [*own_params, *entry_params],
    )


def _helpers(
    repertoire: RelationalRepertoire, condition: str, params: list[Any], viewer: ChannelRef | None
) -> list[Helper]:
    visible_sql, visible_params = _visible_thanks(viewer)
    rows = repertoire.sql.rows(
        "SELECT t.receiver_id, coalesce(nullif(g.display_name, ''), nullif(g.handle, ''), "
        "g.user_id), t.entry_id, t.reason FROM thanks t LEFT JOIN entries e ON e.id = t.entry_id "
        "JOIN members g ON g.id = t.giver_id "
        f"WHERE {visible_sql} AND {condition} ORDER BY t.created_at",
        [*visible_params, *params],
    )
    counts: dict[int, int] = defaultdict(int)
    givers: dict[int, list[str]] = defaultdict(list)
    entries: dict[int, list[int]] = defaultdict(list)
    reasons: dict[int, list[str]] = defaultdict(list)
    for receiver_id, giver, entry_id, reason in rows:
        counts[receiver_id] += 1
        if giver not in givers[receiver_id]:
            givers[receiver_id].append(str(giver))
        if entry_id is not None and entry_id not in entries[receiver_id]:
            entries[receiver_id].append(int(entry_id))
        if reason:
            reasons[receiver_id].append(str(reason))
    out: list[Helper] = []
    for receiver_id, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        member = repertoire.get_member(receiver_id)
        if member is not None:
            out.append(
                Helper(
                    member,
                    count,
                    tuple(givers[receiver_id]),
                    tuple(entries[receiver_id]),
                    tuple(reasons[receiver_id]),
                )
            )
    return out


def thanks_received(
    repertoire: RelationalRepertoire, member_ids: list[int], viewer: ChannelRef | None
) -> Helper | None:
    """Thanks to one person (all their linked identities), as ``viewer`` may see them."""
    if not member_ids:
        return None
    marks = ", ".join("?" for _ in member_ids)
    helpers = _helpers(repertoire, f"t.receiver_id IN ({marks})", list(member_ids), viewer)
    if not helpers:
        return None
    first = helpers[0]
    givers: list[str] = []
    for helper in helpers:
        givers += [g for g in helper.givers if g not in givers]
    return Helper(
        first.member,
        sum(h.count for h in helpers),
        tuple(givers),
        tuple(e for h in helpers for e in h.entry_ids),
        tuple(r for h in helpers for r in h.reasons),
    )


def thanks_leaderboard(
    repertoire: RelationalRepertoire, viewer: ChannelRef | None, since: datetime, limit: int = 10
) -> list[Helper]:
    """Most thanked since ``since``: only where a channel turned the leaderboard on."""
    return _helpers(repertoire, "t.created_at >= ?", [to_db_time(since)], viewer)[:limit]
