"""Several processes, thousands of events, duplicates and disorder: the state of one process.

A community stream (``tests/streams.py``: questions, answers in threads,
accept reactions added and removed, edits, deletes) goes as signed Slack
requests to one ``copbot run`` process in order, and, retried, replayed and
shuffled (``messy``), to three processes at once, each request to whichever
process the "load balancer" picks. Both repertoires must end the same: entries,
tags, acceptance, counts, reactions, members, channels and search documents,
with no event failed in any process's log.

The default size keeps ``make test`` quick; ``--runslow`` also sends several
thousand.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import psycopg
import pytest

from tests.slack_harness import CHANNELS, FakeSlackApi, running_fake_slack
from tests.slack_stream import SlackStream
from tests.streams import community_stream, messy
from tests.workers_harness import Worker, Workers, database_url, send_signed, until, worker_config

pytestmark = pytest.mark.workers

PROCESSES = 3
#: A stream whose answers get accepted (by the asker or by two votes) at the default size.
SEED = 3
#: Polls (a second apart) with no change in either repertoire that count as finished.
STILL = 5
#: Requests in flight at once (a busy workspace's retries overlap too).
IN_FLIGHT = 12


State = dict[str, list[tuple[Any, ...]]]


def state(dsn: str) -> State:
    """The repertoire's content keyed by source, free of row ids."""
    queries = {
        "entries": (
            "SELECT e.kind, e.platform, e.workspace, e.channel, e.message_id, e.thread_id, "
            "e.title, e.text, m.user_id, e.visibility, e.accepted, e.knowhow_kind, "
            "e.answer_count, e.has_accepted, e.created_at, e.updated_at, "
            "(SELECT string_agg(tag, ' ' ORDER BY tag) FROM entry_tags t WHERE t.entry_id = e.id), "
            "e.search_document::text "
            "FROM entries e JOIN members m ON m.id = e.author_id"
        ),
        "reactions": (
            "SELECT platform, workspace, channel, message_id, user_id, emoji FROM reactions "
            "WHERE present"
        ),
        "members": "SELECT platform, workspace, user_id, display_name, handle FROM members",
        "channels": "SELECT platform, workspace, channel, name, visibility FROM channels",
        "tombstones": "SELECT platform, workspace, channel, message_id FROM message_tombstones",
    }
    with psycopg.connect(dsn) as conn:
        return {
            name: sorted(tuple(row) for row in conn.execute(sql).fetchall())
            for name, sql in queries.items()
        }


def differences(got: State, want: State) -> str:
    """What the several processes' repertoire has that one process's has not, and back."""
    lines = []
    for name in want:
        extra = sorted(set(got[name]) - set(want[name]))
        missing = sorted(set(want[name]) - set(got[name]))
        lines += [f"{name}: {len(extra)} extra, {len(missing)} missing"]
        lines += [f"  + {row}" for row in extra[:5]] + [f"  - {row}" for row in missing[:5]]
    return "the processes did not reach one process's state:\n" + "\n".join(lines)


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlackApi]:
    async with running_fake_slack() as running:
        yield running


@pytest.fixture
def running() -> Iterator[list[Workers]]:
    groups: list[Workers] = []
    yield groups
    for group in groups:
        group.stop()


async def deliver(
    http: aiohttp.ClientSession, bodies: list[str], workers: list[Worker], seed: int
) -> None:
    """Every body to a worker picked at random, ``IN_FLIGHT`` at a time."""
    rng = random.Random(seed)
    picks = [rng.choice(workers) for _ in bodies]
    gate = asyncio.Semaphore(IN_FLIGHT)

    async def one(body: str, worker: Worker) -> None:
        async with gate:
            assert await send_signed(http, worker, body) == 200

    await asyncio.gather(*(one(b, w) for b, w in zip(bodies, picks, strict=True)))


@pytest.mark.parametrize("size", [300, pytest.param(4_000, marks=pytest.mark.slow)])
async def test_several_processes_with_duplicates_and_disorder_end_as_one_process(
    size: int,
    pg_dsn: str,
    pg_fresh_dsn: str,
    fake: FakeSlackApi,
    tmp_path: Path,
    running: list[Workers],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = community_stream(SEED, size)
    stream = SlackStream(events)
    for channel, info in stream.channels(events).items():
        monkeypatch.setitem(CHANNELS, channel, info)
    clean = [stream.body(e) for e in events]
    shuffled = [stream.body(e) for e in messy(events, SEED)]
    # Two votes accept an answer (the stream's reactors are random members).
    extra = "[capture]\naccept_votes = 2\n"
    config = worker_config(tmp_path / "copbot.toml", f"{fake.url}/api/", extra=extra)
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    alone = Workers(database_url(pg_fresh_dsn), config, tmp_path / "one")
    many = Workers(database_url(pg_dsn), config, tmp_path / "many")
    running += [alone, many]
    single = alone.start("alone")
    several = [many.start(f"worker{i}") for i in range(PROCESSES)]
    async with aiohttp.ClientSession() as http:
        await alone.ready(http)
        await many.ready(http)
        started = time.monotonic()
        for body in clean:  # one process, in order
            assert await send_signed(http, single, body) == 200
        middle = time.monotonic()
        await deliver(http, shuffled, several, seed=SEED)
        sent = time.monotonic()
    print(
        f"sent {len(clean)} in {middle - started:.1f} s, {len(shuffled)} in {sent - middle:.1f} s"
    )
    # Bolt answers Slack before the work is done: wait until both repertoires stop changing.
    seen: list[tuple[State, State]] = []

    async def settled() -> bool:
        seen.append((state(pg_dsn), state(pg_fresh_dsn)))
        del seen[:-STILL]
        if seen[-1][0] == seen[-1][1]:
            return True
        return len(seen) == STILL and all(pair == seen[-1] for pair in seen)

    await until(settled, timeout=60 + size / 10, what="the processes to finish", every=1.0)
    got, expected = seen[-1]
    logs = "\n".join(f"{w.name}: {p}" for w in [single, *several] for p in w.problems()[:3])
    assert got == expected, differences(got, expected) + "\n" + logs
    print(f"settled {time.monotonic() - sent:.1f} s after the last request")
    await asyncio.sleep(1.0)  # nothing late changes it
    assert state(pg_dsn) == state(pg_fresh_dsn) == expected
    # The stream exercised what it claims to.
    assert sum(1 for e in expected["entries"] if e[0] == "answer") > size // 10
    assert any(e[10] for e in expected["entries"]), "no accepted answer"
    assert expected["tombstones"] and expected["reactions"]
    for worker in [single, *several]:
        assert worker.problems() == [], worker.name
    regrouped = sum(w.output().count("applying them one by one") for w in several)
    print(f"groups applied again one by one (deadlocked between workers): {regrouped}")
