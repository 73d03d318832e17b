"""Several ``copbot run --http`` processes on one PostgreSQL, as an operator would run them.

Real ``copbot`` subprocesses (``tests/workers_harness.py``) on the session's
real PostgreSQL, Slack's Web API the local fake (which counts every post):

* the same signed event sent to two processes makes one entry (and one
  reaction, one acceptance);
* the scheduler runs in one process; SIGKILL of it hands the role to another
  within the bound, and no digest is posted twice;
* ``GET /readyz`` names the roles each process holds.

The load test (thousands of events, duplicates and disorder, several
processes) is ``tests/test_workers_load.py``; concurrent imports are
``tests/test_workers_import.py``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from tests.slack_harness import TEAM, FakeSlackApi, running_fake_slack
from tests.workers_harness import Worker, Workers, database_url, send_signed, until, worker_config

pytestmark = pytest.mark.workers

#: The failover bound the README promises (a dead scheduler is replaced within it).
FAILOVER_BOUND = 30.0


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlackApi]:
    async with running_fake_slack() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def workers_on(
    pg_dsn: str, fake: FakeSlackApi, tmp_path: Path, extra: str = "", poll_seconds: float = 0.5
) -> Workers:
    config = worker_config(
        tmp_path / "copbot.toml", f"{fake.url}/api/", extra=extra, poll_seconds=poll_seconds
    )
    return Workers(database_url(pg_dsn), config, tmp_path)


@pytest.fixture
def running() -> Iterator[list[Workers]]:
    """Every group of workers a test starts is stopped at its end, whatever happened."""
    groups: list[Workers] = []
    yield groups
    for group in groups:
        group.stop()


def envelope(event: dict[str, Any], event_id: str) -> str:
    return json.dumps(
        {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1_800_000_000,
        }
    )


def message(
    ts: str, text: str, user: str = "U0ASK", thread_ts: str | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "channel": "C0PUBLIC",
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def reaction(ts: str, user: str, emoji: str = "white_check_mark") -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": emoji,
        "item": {"type": "message", "channel": "C0PUBLIC", "ts": ts},
        "event_ts": "1800000100.000100",
    }


def rows(pg_dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(pg_dsn) as conn:
        return list(conn.execute(sql).fetchall())


async def to_both(http: aiohttp.ClientSession, workers: list[Worker], body: str) -> None:
    """The same signed request to every worker at once (a retry landing elsewhere)."""
    statuses = await asyncio.gather(*(send_signed(http, w, body) for w in workers))
    assert statuses == [200] * len(workers)


async def test_the_same_signed_event_sent_to_two_processes_makes_one_entry(
    pg_dsn: str,
    fake: FakeSlackApi,
    http: aiohttp.ClientSession,
    tmp_path: Path,
    running: list[Workers],
) -> None:
    group = workers_on(pg_dsn, fake, tmp_path)
    running.append(group)
    first, second = group.start("first"), group.start("second")
    await group.ready(http)
    both = [first, second]
    question, answer = "1800000001.000100", "1800000002.000100"
    await to_both(http, both, envelope(message(question, "How do I rotate the API keys?"), "Ev1"))
    await to_both(
        http,
        both,
        envelope(message(answer, "Use the vault CLI", "U0ANS", thread_ts=question), "Ev2"),
    )
    # The asker accepts it; both processes get the event, once under its id and once
    # under another (a catch-up racing live capture has no event id to share).
    await to_both(http, both, envelope(reaction(answer, "U0ASK"), "Ev3"))
    await to_both(http, both, envelope(reaction(answer, "U0ASK"), "Ev3-again"))

    async def settled() -> bool:
        accepted = rows(pg_dsn, "SELECT accepted FROM entries WHERE kind = 'answer'")
        return accepted == [(True,)]

    await until(settled, timeout=60, what="the answer accepted")
    await asyncio.sleep(0.5)  # a late duplicate would land now
    entries = rows(pg_dsn, "SELECT kind, message_id, accepted FROM entries ORDER BY kind")
    assert entries == [("answer", answer, True), ("question", question, False)]
    assert rows(pg_dsn, "SELECT user_id, emoji, present FROM reactions") == [("U0ASK", "✅", True)]
    assert rows(pg_dsn, "SELECT count(*) FROM members WHERE user_id = 'U0ASK'") == [(1,)]
    assert rows(
        pg_dsn, "SELECT has_accepted, answer_count FROM entries WHERE kind = 'question'"
    ) == [(True, 1)]
    assert first.problems() == [] and second.problems() == []


DIGEST = """
[[digests]]
channel = "slack:C0PUBLIC"
every_minutes = 1
empty = "note"
catch_up_hours = 1
"""


def digest_posts(fake: FakeSlackApi) -> list[dict[str, Any]]:
    return [p for p in fake.of("chat.postMessage") if p.get("channel") == "C0PUBLIC"]


def claimed_periods(pg_dsn: str) -> list[tuple[Any, ...]]:
    return rows(pg_dsn, "SELECT period_end, status FROM digest_log ORDER BY period_end")


async def holder(http: aiohttp.ClientSession, workers: list[Worker], role: str) -> list[Worker]:
    return [w for w in workers if w.alive and role in await w.roles(http)]


async def test_one_scheduler_whose_sigkill_hands_it_over_within_the_bound_posting_nothing_twice(
    pg_dsn: str,
    fake: FakeSlackApi,
    http: aiohttp.ClientSession,
    tmp_path: Path,
    running: list[Workers],
) -> None:
    group = workers_on(pg_dsn, fake, tmp_path, DIGEST)
    running.append(group)
    workers = [group.start(f"w{i}") for i in range(3)]
    await group.ready(http)

    async def one_scheduler(among: list[Worker]) -> bool:
        return len(await holder(http, among, "scheduler")) == 1

    await until(lambda: one_scheduler(workers), timeout=60, what="a scheduler")
    await asyncio.sleep(1.5)  # three polls later, still one
    bodies = [await w.readiness(http) for w in workers]
    assert all(b is not None and b["ready"] and b["seeking"] == ["scheduler"] for b in bodies)
    assert sorted(len(b["roles"]) for b in bodies if b) == [0, 0, 1]
    assert len({b["pid"] for b in bodies if b}) == 3
    [leader] = await holder(http, workers, "scheduler")
    # It caught up at once: the digest of the period that ended last is posted, once.
    await until(lambda: _true(len(digest_posts(fake)) >= 1), timeout=60, what="a digest")

    leader.kill()
    killed = time.monotonic()
    rest = [w for w in workers if w is not leader]
    await until(
        lambda: one_scheduler(rest), timeout=FAILOVER_BOUND + 5, what="another to take over"
    )
    took = time.monotonic() - killed
    assert took <= FAILOVER_BOUND
    # A graceful stop lets the role go at once; the last process takes it.
    [second] = await holder(http, rest, "scheduler")
    second.stop()
    [last] = [w for w in rest if w is not second]
    await until(lambda: one_scheduler([last]), timeout=60, what="the last to take over")
    # Each new scheduler caught up and found that period posted: nothing twice.
    await asyncio.sleep(1.0)
    periods = claimed_periods(pg_dsn)
    posts = digest_posts(fake)
    assert len(posts) == len(periods) == len({end for end, _ in periods})
    assert all(status == "posted" for _, status in periods)
    assert second.problems() == [] and last.problems() == []
    print(f"scheduler failover after SIGKILL: {took:.2f} s")


async def _true(value: bool) -> bool:
    return value


@pytest.mark.slow  # waits for a minute boundary
async def test_a_period_due_while_no_process_leads_is_posted_once_by_the_next(
    pg_dsn: str,
    fake: FakeSlackApi,
    http: aiohttp.ClientSession,
    tmp_path: Path,
    running: list[Workers],
) -> None:
    """The leader dies just before a digest falls due; the next one posts it, once.

    The default poll (5 s), so the failover time measured is the one operators get.
    """
    group = workers_on(pg_dsn, fake, tmp_path, DIGEST, poll_seconds=5)
    running.append(group)
    workers = [group.start("first"), group.start("second")]
    await group.ready(http)

    async def one_scheduler() -> bool:
        return len(await holder(http, workers, "scheduler")) == 1

    await until(one_scheduler, timeout=60, what="a scheduler")
    await until(lambda: _true(len(digest_posts(fake)) >= 1), timeout=60, what="a first digest")
    # Kill the leader two seconds before the next minute: that period falls due
    # while nobody leads (the other process asks every 5 s).
    await asyncio.sleep((58 - datetime.now(UTC).second) % 60)
    [leader] = await holder(http, workers, "scheduler")
    leader.kill()
    killed = time.monotonic()
    [other] = [w for w in workers if w is not leader]

    async def taken_over() -> bool:
        return "scheduler" in await other.roles(http)

    await until(taken_over, timeout=FAILOVER_BOUND + 5, what="the other process to take over")
    took = time.monotonic() - killed
    assert took <= FAILOVER_BOUND
    await until(lambda: _true(len(digest_posts(fake)) >= 2), timeout=60, what="the due digest")
    await asyncio.sleep(2.0)
    periods = claimed_periods(pg_dsn)
    ends = [end for end, _ in periods]
    assert len(digest_posts(fake)) == len(periods) == len(set(ends)) >= 2
    assert all(status == "posted" for _, status in periods)
    steps = {later - earlier for earlier, later in itertools.pairwise(ends)}
    assert steps == {timedelta(minutes=1)}  # no period lost between them
    print(f"scheduler failover after SIGKILL, 5 s poll: {took:.2f} s")
