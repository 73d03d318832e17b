"""PostgreSQL's set-wise load refuses to merge: a write that slips in before it is not overwritten.

The import checks that the repertoire is empty before it chooses the set-wise
path, then runs the rules in memory; another bot process on the same database
may capture something meanwhile. The load checks again once it holds the
tables' locks and refuses, leaving that write and the schema as they were.
(Its equivalence with the replay is ``tests/test_setwise_import.py``.)
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bot.app import assemble_core
from bot.config import Settings
from bot.events import Actor, InboundEvent, IncomingMessage, Outbound, Visibility, Where
from bot.import_replay import run_import
from bot.ports import Services, SystemClock
from knowledge.postgres.repertoire import PostgresRepertoire
from knowledge.postgres.setwise_load import NoLongerEmpty
from knowledge.storage.setwise import LoadPlan
from tests.postgres_cluster import PostgresServer

T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
SCHEMA = (
    "SELECT (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes "
    "WHERE tablename IN ('entries', 'entry_tags')), (SELECT string_agg(conname || ':' || "
    "convalidated::text, ',' ORDER BY conname) FROM pg_constraint WHERE contype = 'f'), "
    "(SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger "
    "WHERE NOT tgisinternal)"
)


def test_a_write_after_the_check_is_kept_and_the_load_refused(pg_dsn: str) -> None:
    importing = PostgresRepertoire.connect(pg_dsn)
    live = PostgresRepertoire.connect(pg_dsn)
    try:
        loader = importing.setwise_loader()
        assert loader is not None and loader.not_empty() == ""
        schema = importing.sql.one(SCHEMA)
        live.upsert_member("slack", "T1", "U9", "zed", at=T0)  # another process, meanwhile
        plan = LoadPlan(members=[(1, "slack", "T1", "U1", "", "ann", "2024-05-01T09:00:00Z")])
        with pytest.raises(NoLongerEmpty, match="members"), importing.transaction():
            loader.load(plan)
        assert importing.sql.rows("SELECT user_id, display_name FROM members") == [("U9", "zed")]
        assert importing.sql.one(SCHEMA) == schema  # rolled back whole: nothing set aside
    finally:
        importing.close()
        live.close()


def test_an_entry_takes_its_channels_visibility_as_the_insert_trigger_gives_it(
    pg_dsn: str,
) -> None:
    """The trigger is off while the rows go in; its rule is applied to them all after."""
    rep = PostgresRepertoire.connect(pg_dsn)
    try:
        loader = rep.setwise_loader()
        assert loader is not None
        at = "2024-05-01T09:00:00.000000Z"
        plan = LoadPlan(
            members=[(1, "slack", "T1", "U1", "", "ann", at)],
            channels=[("slack", "T1", "G1", "secret", "private", at, False)],
            entries=[
                (1, "question", "slack", "T1", "G1", "1", None, "how do I rotate it?",
                 "how do I rotate it?", 1, None, at, at, "public", "secret", "", False, ""),
            ],
        )
        with rep.transaction():
            loader.load(plan)
        assert rep.sql.rows("SELECT id, visibility FROM entries") == [(1, "private")]
        # The trigger is back on: a later entry in that channel is made private too.
        rep.sql.execute(
            "INSERT INTO entries (kind, platform, workspace, channel, message_id, text, "
            "author_id, created_at, updated_at, visibility) VALUES ('question', 'slack', 'T1', "
            "'G1', '2', 'why?', 1, now(), now(), 'public')"
        )
        assert rep.sql.rows("SELECT id, visibility FROM entries ORDER BY id") == [
            (1, "private"),
            (2, "private"),
        ]
    finally:
        rep.close()


def test_the_databases_owner_needs_no_superuser_for_the_load(
    postgres_server: PostgresServer,
) -> None:
    """Disabling a trigger, dropping and making indexes and keys: what owning the tables allows.

    (``session_replication_role`` would need a superuser: a hosted PostgreSQL gives none.)
    """
    if conninfo_to_dict(postgres_server.admin_dsn).get("password"):
        pytest.skip("the test server takes passwords; a new role would need one")
    role = f"{postgres_server.prefix}_owner"
    name = f"{postgres_server.prefix}_owned"
    with psycopg.connect(postgres_server.admin_dsn, autocommit=True) as admin:
        try:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        except psycopg.errors.InsufficientPrivilege:
            pytest.skip("the test server's role may not create roles")
        owned_by = sql.SQL("CREATE DATABASE {} OWNER {}")
        admin.execute(owned_by.format(sql.Identifier(name), sql.Identifier(role)))
    try:
        where = Where("slack", "T1", "C1", Visibility.PUBLIC, "help")
        ann, bob = Actor("slack", "U1", "ann", "T1"), Actor("slack", "U2", "bob", "T1")
        events = [
            IncomingMessage(where, ann, "1", "how do I pin a dependency?", T0),
            IncomingMessage(
                where, bob, "2", "use a lock file", T0 + timedelta(minutes=1), thread_id="1"
            ),
        ]
        rep = PostgresRepertoire.connect(make_conninfo(postgres_server.dsn(name), user=role))
        try:
            superuser = rep.sql.one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            assert superuser == (False,)
            core = assemble_core(Services(rep, Settings(), SystemClock()))

            def replay_only(events: Iterable[InboundEvent]) -> list[Outbound]:
                raise AssertionError("the import replayed instead of loading set-wise")

            core.handle_batch = replay_only  # type: ignore[method-assign]
            run_import(core, events)
            found = rep.sql.one(
                "SELECT answer_count, search_document @@ to_tsquery('copbot', 'lock') "
                "FROM entries WHERE kind = 'question'"
            )
            assert found == (1, True)
        finally:
            rep.close()
    finally:
        postgres_server.drop_database(name)
        with psycopg.connect(postgres_server.admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
