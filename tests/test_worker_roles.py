"""One holder per role on a real PostgreSQL: advisory locks, and the loop that seeks them.

The processes here are sessions: a lock's holder "dies" when the server ends
its session (``pg_terminate_backend``, what the server does when a killed
process's socket closes). The end-to-end version with real ``copbot``
processes and SIGKILL is ``tests/test_workers.py``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import psycopg
import pytest

from bot.roles import Role, Roles
from knowledge.postgres.leadership import LOCK_CLASS, AdvisoryLock, role_key
from knowledge.postgres.migrations import LOCK_KEY
from knowledge.storage.roles import SoleProcessLock

pytestmark = pytest.mark.workers


@pytest.fixture
def locks(pg_dsn: str) -> Iterator[list[AdvisoryLock]]:
    made: list[AdvisoryLock] = []
    yield made
    for lock in made:
        lock.close()


def lock_on(pg_dsn: str, locks: list[AdvisoryLock], role: str = "scheduler") -> AdvisoryLock:
    lock = AdvisoryLock(pg_dsn, role)
    locks.append(lock)
    return lock


def holder_pid(pg_dsn: str, role: str) -> int | None:
    """The backend pid holding ``role``'s lock, from the server's own lock table."""
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s::bigint::oid "
            "AND objid = %s::bigint::oid AND objsubid = 2 AND granted",
            [LOCK_CLASS, role_key(role)],
        ).fetchone()
    return int(row[0]) if row else None


def kill_session(pg_dsn: str, pid: int) -> None:
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_one_holder_per_role_and_the_next_takes_over_when_it_lets_go(
    pg_dsn: str, locks: list[AdvisoryLock]
) -> None:
    first, second = lock_on(pg_dsn, locks), lock_on(pg_dsn, locks)
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.still_held() and not second.still_held()
    # Another role is another lock: the second process may hold Discord's gateway.
    gateway = lock_on(pg_dsn, locks, "discord-gateway")
    assert gateway.try_acquire()
    first.release()
    assert not first.still_held()
    assert second.try_acquire() and second.still_held()


def test_a_dead_holders_lock_goes_with_its_session(pg_dsn: str, locks: list[AdvisoryLock]) -> None:
    first, second = lock_on(pg_dsn, locks), lock_on(pg_dsn, locks)
    assert first.try_acquire()
    pid = holder_pid(pg_dsn, "scheduler")
    assert pid is not None
    kill_session(pg_dsn, pid)
    # The old holder learns it lost the role at its next check; the other takes it.
    assert not first.still_held()
    assert second.try_acquire()
    assert holder_pid(pg_dsn, "scheduler") not in (None, pid)
    # The old holder, with a fresh session, now finds the role taken.
    assert not first.try_acquire()


def test_role_locks_do_not_block_migrations(pg_dsn: str, locks: list[AdvisoryLock]) -> None:
    """A role lock and the migration lock are different locks (two-key versus one-key form)."""
    holder = lock_on(pg_dsn, locks)
    assert holder.try_acquire()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()
        assert row is not None and row[0] is True
        conn.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


class Work:
    """What a role starts and stops, counted."""

    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0

    async def start(self) -> None:
        self.started += 1

    async def stop(self) -> None:
        self.stopped += 1


async def test_the_loop_hands_the_role_over_when_the_holders_session_dies(pg_dsn: str) -> None:
    works = [Work(), Work()]
    roles = [
        Role(AdvisoryLock(pg_dsn, "scheduler"), start=w.start, stop=w.stop, poll=0.05)
        for w in works
    ]
    await roles[0].step()
    await roles[1].step()
    assert [r.held for r in roles] == [True, False]
    assert [w.started for w in works] == [1, 0]
    pid = holder_pid(pg_dsn, "scheduler")
    assert pid is not None
    kill_session(pg_dsn, pid)
    tasks = Roles(roles).tasks()
    try:
        async with asyncio.timeout(30):
            while not (roles[1].held and not roles[0].held):
                await asyncio.sleep(0.02)
        # The old holder stopped its work; the new one started it once.
        assert works[0].stopped == 1
        assert works[1].started == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    # Cancelled: the holder stopped its work and let the lock go.
    assert works[1].stopped == 1
    assert holder_pid(pg_dsn, "scheduler") is None


async def test_a_role_that_requires_another_waits_for_it_and_goes_with_it(pg_dsn: str) -> None:
    gateway = Role(AdvisoryLock(pg_dsn, "discord-gateway"), start=Work().start, poll=0.05)
    work = Work()
    scheduler = Role(
        AdvisoryLock(pg_dsn, "scheduler"),
        start=work.start,
        stop=work.stop,
        requires=lambda: gateway.held,
        poll=0.05,
    )
    other = AdvisoryLock(pg_dsn, "discord-gateway")
    try:
        assert other.try_acquire()  # another process holds the gateway
        await gateway.step()
        await scheduler.step()
        assert not scheduler.held and holder_pid(pg_dsn, "scheduler") is None
        other.release()
        await gateway.step()
        await scheduler.step()
        assert scheduler.held and work.started == 1
        # The gateway's session dies: the scheduler follows it out and lets go.
        pid = holder_pid(pg_dsn, "discord-gateway")
        assert pid is not None
        kill_session(pg_dsn, pid)
        await gateway.step()
        await scheduler.step()
        assert not scheduler.held and work.stopped == 1
        assert holder_pid(pg_dsn, "scheduler") is None
    finally:
        other.close()
        gateway.lock.close()
        scheduler.lock.close()


async def test_a_role_whose_start_fails_lets_the_lock_go(pg_dsn: str) -> None:
    async def broken() -> None:
        raise RuntimeError("the scheduler could not start")

    role = Role(AdvisoryLock(pg_dsn, "scheduler"), start=broken, poll=0.05)
    try:
        await role.step()
        assert not role.held
        assert holder_pid(pg_dsn, "scheduler") is None  # another process may try
    finally:
        role.lock.close()


def test_on_sqlite_every_role_is_this_process() -> None:
    lock = SoleProcessLock("scheduler")
    assert not lock.still_held()
    assert lock.try_acquire() and lock.still_held()
    assert SoleProcessLock("scheduler").try_acquire()  # no other process to ask
    lock.close()
    assert not lock.still_held()


class SlowToAsk(AdvisoryLock):
    """The real lock, whose first ask waits until the test lets it go (a slow network)."""

    def __init__(self, conninfo: str, role: str) -> None:
        super().__init__(conninfo, role)
        self.asking = threading.Event()
        self.go = threading.Event()

    def try_acquire(self) -> bool:
        self.asking.set()
        self.go.wait(10)
        return super().try_acquire()


async def test_a_role_cancelled_while_asking_leaves_no_lock_held(pg_dsn: str) -> None:
    """The ask still in flight ends before the lock is closed (else its session kept the role)."""
    lock = SlowToAsk(pg_dsn, "scheduler")
    task = asyncio.create_task(Role(lock, start=Work().start, poll=0.05).run())
    async with asyncio.timeout(30):
        while not lock.asking.is_set():
            await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.2)  # the role's clean-up runs now, the ask is still waiting
    lock.go.set()
    await asyncio.gather(task, return_exceptions=True)
    await asyncio.sleep(0.3)
    assert holder_pid(pg_dsn, "scheduler") is None
