"""The digest and follow-up logs, read back exactly: what ``copbot digest`` and the
scheduler rely on to post a (channel, period) or a question's follow-up once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from knowledge.relational.digest_log import DigestLog, DigestRun
from knowledge.sqlite.repertoire import Repertoire

END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


@pytest.fixture
def repertoire(tmp_path: Path) -> Iterator[Repertoire]:
    opened = Repertoire.open(tmp_path / "log.db")
    yield opened
    opened.close()


@pytest.fixture
def log(repertoire: Repertoire) -> DigestLog:
    return repertoire.digest_log


def test_a_claimed_then_marked_run_reads_back_as_it_was_logged(log: DigestLog) -> None:
    run_id = log.claim("slack:C1", END - WEEK, END, END)
    assert run_id is not None
    claimed = log.find("slack:C1", END - WEEK, END)
    assert claimed is not None and (claimed.status, claimed.posted_at) == ("claimed", None)
    log.mark(run_id, "empty", END + timedelta(seconds=5))
    assert log.find("slack:C1", END - WEEK, END) == DigestRun(
        id=run_id,
        channel="slack:C1",
        period_start=END - WEEK,
        period_end=END,
        status="empty",
        claimed_at=END,
        posted_at=END + timedelta(seconds=5),
        message_id="",
    )
    # Another channel, or the same channel's other periods, are other slots.
    assert log.find("slack:C2", END - WEEK, END) is None
    assert log.find("slack:C1", END - 2 * WEEK, END - WEEK) is None
    assert log.find("slack:C1", END - WEEK, END + WEEK) is None


def test_runs_of_one_channel_oldest_period_first(log: DigestLog) -> None:
    for channel, end in (("slack:C1", END + WEEK), ("slack:C2", END), ("slack:C1", END)):
        run_id = log.claim(channel, end - WEEK, end, end)
        assert run_id is not None
        log.mark(run_id, "posted", end, f"msg-{channel}-{end:%d}")
    assert [(r.channel, r.period_end) for r in log.runs("slack:C1")] == [
        ("slack:C1", END),
        ("slack:C1", END + WEEK),
    ]
    assert [r.message_id for r in log.runs("slack:C1")] == ["msg-slack:C1-02", "msg-slack:C1-09"]
    assert len(log.runs()) == 3


def test_a_failed_slot_is_claimed_again_with_its_own_id(log: DigestLog) -> None:
    first = log.claim("slack:C1", END - WEEK, END, END)
    other = log.claim("slack:C2", END - WEEK, END, END)
    assert first is not None and other is not None and first != other
    assert log.claim("slack:C1", END - WEEK, END, END) is None  # claimed: nobody else
    log.mark(first, "failed", END)
    later = END + timedelta(minutes=5)
    assert log.claim("slack:C1", END - WEEK, END, later) == first
    run = log.find("slack:C1", END - WEEK, END)
    assert run is not None and (run.status, run.claimed_at) == ("claimed", later)
    log.mark(first, "posted", later, "m1")
    assert log.claim("slack:C1", END - WEEK, END, later) is None


def test_a_question_gets_one_follow_up_unless_it_failed(
    log: DigestLog, repertoire: Repertoire
) -> None:
    assert log.claim_follow_up(7, "slack:C1", END)
    assert not log.claim_follow_up(7, "slack:C1", END)
    assert log.claim_follow_up(8, "slack:C1", END)
    assert log.followed_up() == {7, 8}
    log.mark_follow_up(7, "failed", END)
    assert log.followed_up() == {8}
    stored = repertoire.db.execute("SELECT status, message_id FROM follow_ups WHERE entry_id = 7")
    assert stored.fetchall() == [("failed", "")]
    assert log.claim_follow_up(7, "slack:C1", END + timedelta(minutes=10))
    log.mark_follow_up(7, "posted", END, "m7")
    assert not log.claim_follow_up(7, "slack:C1", END)
    assert log.followed_up() == {7, 8}
