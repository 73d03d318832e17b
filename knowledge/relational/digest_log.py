"""The digest log and the follow-up log: what was posted, so it is posted once.

Scheduled work must survive restarts, downtime and two runs racing for the
same slot. The scheduler's own job store cannot promise that (APScheduler
recomputes a stored job's next run when it is re-added, and cannot share a
store between processes), so these tables are the source of truth:

* ``digest_log``: one row per (channel, period). A run first **claims** the
  row (an ``INSERT`` on the unique key, in one transaction), then posts, then
  marks it ``posted``. The loser of a race, or a run after a restart, finds
  the row and posts nothing.
* ``follow_ups``: one row per question that got the gentle nudge.

A claim whose post then failed is marked ``failed`` and may be claimed again
(retried); a claim left ``claimed`` by a process that died mid-post is left
alone: it may have been posted, and twice is worse than never for a digest.
"""

from __future__ import annotations

from datetime import datetime

from knowledge.models import DigestRun, from_db_time, to_db_time
from knowledge.storage.sql import Sql

__all__ = ["DigestLog", "DigestRun"]


class DigestLog:
    """Claim, then post, then mark: the exactly-once protocol, on the database's unique keys.

    Portable SQL over :class:`~knowledge.storage.Sql`, so every backend shares it.
    """

    def __init__(self, sql: Sql) -> None:
        self.sql = sql

    # ------------------------------------------------------------------ digests

    def claim(self, channel: str, start: datetime, end: datetime, now: datetime) -> int | None:
        """Take the (channel, period) slot; its row id, or ``None`` when someone has it.

        A ``failed`` slot is taken again (the previous post never went out).
        Both statements are single atomic writes, so two processes cannot both win.
        """
        key = [channel, to_db_time(start), to_db_time(end)]
        taken = self.sql.execute(
            "INSERT INTO digest_log (channel, period_start, period_end, status, claimed_at) "
            "VALUES (?, ?, ?, 'claimed', ?) ON CONFLICT DO NOTHING",
            [*key, to_db_time(now)],
        ) or self.sql.execute(
            "UPDATE digest_log SET status = 'claimed', claimed_at = ? WHERE channel = ? "
            "AND period_start = ? AND period_end = ? AND status = 'failed'",
            [to_db_time(now), *key],
        )
        if taken != 1:
            return None
        row = self.sql.one(
            "SELECT id FROM digest_log WHERE channel = ? AND period_start = ? AND period_end = ?",
            key,
        )
        return int(row[0]) if row else None

    def mark(self, run_id: int, status: str, at: datetime, message_id: str = "") -> None:
        """Record how a claimed run ended: ``posted``, ``empty`` or ``failed``."""
        self.sql.execute(
            "UPDATE digest_log SET status = ?, posted_at = ?, message_id = ? WHERE id = ?",
            [status, to_db_time(at), message_id, run_id],
        )

    def find(self, channel: str, start: datetime, end: datetime) -> DigestRun | None:
        row = self.sql.one(
            f"{_RUN_SELECT} WHERE channel = ? AND period_start = ? AND period_end = ?",
            [channel, to_db_time(start), to_db_time(end)],
        )
        return _to_run(row) if row else None

    def runs(self, channel: str | None = None) -> list[DigestRun]:
        """Every logged run (of one channel), oldest period first."""
        sql = _RUN_SELECT
        params: list[str] = []
        if channel is not None:
            sql += " WHERE channel = ?"
            params.append(channel)
        return [_to_run(r) for r in self.sql.rows(sql + " ORDER BY period_end, id", params)]

    # ------------------------------------------------------------------ follow-ups

    def claim_follow_up(self, entry_id: int, channel: str, now: datetime) -> bool:
        """Take the one follow-up a question may get; ``False`` when it was taken."""
        taken = self.sql.execute(
            "INSERT INTO follow_ups (entry_id, channel, status, claimed_at) "
            "VALUES (?, ?, 'claimed', ?) ON CONFLICT DO NOTHING",
            [entry_id, channel, to_db_time(now)],
        ) or self.sql.execute(
            "UPDATE follow_ups SET status = 'claimed', claimed_at = ? "
            "WHERE entry_id = ? AND status = 'failed'",
            [to_db_time(now), entry_id],
        )
        return taken == 1

    def mark_follow_up(
        self, entry_id: int, status: str, at: datetime, message_id: str = ""
    ) -> None:
        self.sql.execute(
            "UPDATE follow_ups SET status = ?, posted_at = ?, message_id = ? WHERE entry_id = ?",
            [status, to_db_time(at), message_id, entry_id],
        )

    def followed_up(self) -> set[int]:
        """Questions that got (or are getting) their follow-up."""
        rows = self.sql.rows("SELECT entry_id FROM follow_ups WHERE status != 'failed'")
        return {int(r[0]) for r in rows}


_RUN_SELECT = (
    "SELECT id, channel, period_start, period_end, status, claimed_at, posted_at, message_id "
    "FROM digest_log"
)


def _to_run(row: tuple[object, ...]) -> DigestRun:
    run_id, channel, start, end, status, claimed_at, posted_at, message_id = row
    return DigestRun(
        id=int(str(run_id)),
        channel=str(channel),
        period_start=from_db_time(str(start)),
        period_end=from_db_time(str(end)),
        status=str(status),
        claimed_at=from_db_time(str(claimed_at)),
        posted_at=from_db_time(str(posted_at)) if posted_at else None,
        message_id=str(message_id),
    )
