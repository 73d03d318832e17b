"""A real PostgreSQL for tests: a given server, or a throwaway cluster started once per session.

Where the server comes from:

* ``COPBOT_TEST_POSTGRES_URL`` set: that server (the role needs ``CREATEDB``);
  every database this module makes there carries the session's process id.
* otherwise the machine's own binaries (``initdb`` and ``pg_ctl`` under
  ``/usr/lib/postgresql/*/bin``, Debian's layout, or on ``PATH``): a cluster
  in a temporary directory, listening on a unix socket only (no TCP port, so
  parallel sessions never collide), stopped and deleted at session end.
  PostgreSQL refuses to run as root and CI runs as root, so there it runs as
  the ``postgres`` system user (``runuser``), which owns the directories.

Neither available: the tests that need PostgreSQL skip with one line saying
why, except under ``CI``, where a skip would hide a missing install and so
fails instead (``.ci/run`` installs the server).

Fixtures (imported by ``tests/conftest.py``; every test that uses one gets the
``postgres`` marker, so ``pytest -m postgres`` runs exactly them):

* ``postgres_server``: the session's :class:`PostgresServer`.
* ``postgres_template``: a database migrated once per session.
* ``pg_dsn``: a migrated database with no rows in it, for one test (its
  conninfo string). It is one database shared by the session and emptied
  before each test (``DELETE``, a few milliseconds), because a database of
  one's own costs half a second (``CREATE DATABASE`` copies files and
  checkpoints); a test that changes the *schema* there fails at teardown.
* ``pg_conn``: an open connection to that database.
* ``pg_fresh_dsn``: a migrated database of the test's own (a copy of the
  template), for tests that change the schema.
* ``pg_empty_dsn``: a database with nothing in it (for migration tests).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

TEST_URL_ENV = "COPBOT_TEST_POSTGRES_URL"
MARKER = "postgres"
#: Fixtures that reach the server; a test that uses one is marked ``postgres``.
FIXTURES = frozenset(
    {
        "postgres_server",
        "postgres_template",
        "postgres_shared",
        "pg_dsn",
        "pg_conn",
        "pg_fresh_dsn",
        "pg_empty_dsn",
    }
)

# Durability is worthless for a throwaway cluster and costs seconds per session.
_FAST_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=60",
    "shared_buffers=32MB",
)


class PostgresUnavailable(Exception):
    """No server could be found or started; the message says why, in one line."""


def server_binaries() -> Path | None:
    """The newest ``bin`` directory holding ``initdb`` and ``pg_ctl``, or ``None``."""
    candidates = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda path: _version_key(path.parent.name),
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.insert(0, Path(on_path).parent)
    usable = [c for c in candidates if (c / "pg_ctl").exists()]
    return usable[-1] if usable else None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


@dataclass
class PostgresServer:
    """A server tests may create and drop databases on."""

    #: conninfo of a maintenance database, as a role that may create databases.
    admin_dsn: str
    #: Seconds it took to have the server ready (0 for a given URL).
    started_in: float = 0.0
    #: The prefix of every database this session makes (unique per session).
    prefix: str = field(default_factory=lambda: f"copbot_test_{os.getpid()}")
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def dsn(self, dbname: str) -> str:
        return make_conninfo(self.admin_dsn, dbname=dbname)

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.admin_dsn, autocommit=True)

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of ``template``); its name."""
        name = f"{self.prefix}_{next(self._counter)}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            # FILE_COPY copies the template's files directly: for a small
            # database it is several times faster than the default WAL_LOG.
            statement += sql.SQL(" TEMPLATE {} STRATEGY FILE_COPY").format(sql.Identifier(template))
        with self.admin() as conn:
            conn.execute(statement)
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


class LocalCluster:
    """A cluster in a temporary directory, reachable only through its unix socket."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="copbot-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "server.log"
        self.run_as: str | None = None
        if os.geteuid() == 0:
            try:
                postgres = pwd.getpwnam("postgres")
            except KeyError:
                shutil.rmtree(self.root, ignore_errors=True)
                raise PostgresUnavailable(
                    "running as root and there is no 'postgres' system user to run the server as"
                ) from None
            self.run_as = "postgres"
            self.socket_dir.mkdir()
            os.chown(self.root, postgres.pw_uid, postgres.pw_gid)
            os.chown(self.socket_dir, postgres.pw_uid, postgres.pw_gid)
        else:
            self.socket_dir.mkdir()

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        # cwd: the postgres user may not be allowed into the caller's directory.
        done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.root)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PostgresUnavailable(
                f"{args[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]} {log}"
            )

    def start(self) -> str:
        """Create and start the cluster; the conninfo of its ``postgres`` database."""
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )  # fmt: skip
        options = " ".join(
            ["-c listen_addresses=''", f"-k {self.socket_dir}"]
            + [f"-c {setting}" for setting in _FAST_SETTINGS]
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        atexit.register(self.stop)  # also when the session dies before its finaliser runs
        return make_conninfo(host=str(self.socket_dir), user="postgres", dbname="postgres")

    def stop(self) -> None:
        if self.data.exists():
            with contextlib.suppress(PostgresUnavailable):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def unavailable(reason: str) -> None:
    """Skip with ``reason``; under CI a skip would hide a broken set-up, so fail."""
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests cannot be skipped under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    given = os.environ.get(TEST_URL_ENV)
    if given:
        server = PostgresServer(admin_dsn=make_conninfo(given))
        try:
            server.admin().close()
        except psycopg.OperationalError as error:
            pytest.fail(f"{TEST_URL_ENV} is set but unreachable: {error}", pytrace=False)
        yield server
        return
    bindir = server_binaries()
    if bindir is None:
        unavailable(
            f"PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin or on "
            f"PATH) and {TEST_URL_ENV} is not set"
        )
        return
    started = time.perf_counter()
    try:
        cluster = LocalCluster(bindir)
        admin_dsn = cluster.start()
    except PostgresUnavailable as error:
        unavailable(f"could not start a throwaway PostgreSQL: {error}")
        return
    try:
        yield PostgresServer(admin_dsn=admin_dsn, started_in=time.perf_counter() - started)
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres_template(postgres_server: PostgresServer) -> Iterator[str]:
    """A database with copbot's schema, migrated once per session, copied per test."""
    from knowledge.postgres.migrations import migrate

    name = postgres_server.create_database()
    with psycopg.connect(postgres_server.dsn(name)) as conn:
        migrate(conn)
    yield name
    postgres_server.drop_database(name)


@pytest.fixture
def pg_fresh_dsn(postgres_server: PostgresServer, postgres_template: str) -> Iterator[str]:
    """A migrated database of this test's own (half a second: prefer ``pg_dsn``)."""
    name = postgres_server.create_database(template=postgres_template)
    yield postgres_server.dsn(name)
    postgres_server.drop_database(name)


@dataclass(frozen=True)
class SharedDatabase:
    """The session's working database and how to empty it."""

    dsn: str
    #: One DELETE per table, rows that refer to others first.
    emptying: tuple[str, ...]


# What a test may not change in the shared database: its tables, indexes,
# functions and applied migrations. Rows are fine (they are deleted).
_SCHEMA_FINGERPRINT = """
    SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace),
           (SELECT count(*) FROM pg_proc WHERE pronamespace = current_schema()::regnamespace),
           (SELECT string_agg(version::text, ',' ORDER BY version) FROM schema_migrations)
"""


def _emptying_order(conn: psycopg.Connection[tuple[object, ...]]) -> tuple[str, ...]:
    """DELETE statements for every table but ``schema_migrations``, referrers first."""
    tables = [
        str(row[0])
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'schema_migrations'"
        )
    ]
    refers: dict[str, set[str]] = {t: set() for t in tables}
    for child, parent in conn.execute(
        "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid <> confrelid"
    ):
        refers.setdefault(str(child), set()).add(str(parent))
    ordered: list[str] = []
    while refers:  # a referrer goes before what it refers to
        free = sorted(t for t in refers if not any(t in p for p in refers.values()))
        if not free:
            raise RuntimeError(f"foreign keys form a cycle among {sorted(refers)}")
        ordered += free
        for table in free:
            del refers[table]
    return tuple(
        sql.SQL("DELETE FROM {}").format(sql.Identifier(t)).as_string(conn) for t in ordered
    )


@pytest.fixture(scope="session")
def postgres_shared(
    postgres_server: PostgresServer, postgres_template: str
) -> Iterator[SharedDatabase]:
    name = postgres_server.create_database(template=postgres_template)
    dsn = postgres_server.dsn(name)
    with psycopg.connect(dsn) as conn:
        emptying = _emptying_order(conn)
    yield SharedDatabase(dsn, emptying)
    postgres_server.drop_database(name)


@pytest.fixture
def pg_dsn(postgres_shared: SharedDatabase) -> Iterator[str]:
    """A migrated database with no rows; shared, so the test must not change its schema."""
    with psycopg.connect(postgres_shared.dsn, autocommit=True) as conn:
        # A connection a test left open must not make the next one hang.
        conn.execute("SET lock_timeout = '5s'")
        with conn.transaction():
            for statement in postgres_shared.emptying:
                conn.execute(statement)
        before = conn.execute(_SCHEMA_FINGERPRINT).fetchone()
    yield postgres_shared.dsn
    with psycopg.connect(postgres_shared.dsn, autocommit=True) as conn:
        after = conn.execute(_SCHEMA_FINGERPRINT).fetchone()
    if after != before:
        pytest.fail(
            "this test changed the schema of the shared database: use pg_fresh_dsn",
            pytrace=False,
        )


@pytest.fixture
def pg_empty_dsn(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database with no schema at all."""
    name = postgres_server.create_database()
    yield postgres_server.dsn(name)
    postgres_server.drop_database(name)


@pytest.fixture
def pg_conn(pg_dsn: str) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """A connection to this test's database (autocommit off: a transaction per block)."""
    with psycopg.connect(pg_dsn) as conn:
        yield conn


class Markable(Protocol):
    """What :func:`mark_postgres_tests` needs of a collected test (a ``pytest.Item``)."""

    def add_marker(self, marker: str) -> None: ...


def mark_postgres_tests(items: Sequence[Markable]) -> None:
    """Give every test that reaches the server the ``postgres`` marker (for ``-m postgres``)."""
    for item in items:
        if FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(MARKER)
