"""``copbot copy``: a community moves SQLite -> PostgreSQL -> SQLite with nothing lost.

The community is the Slack and Discord fixtures imported, plus everything else
a repertoire holds (deletes, edits, reactions, thanks, curation with an undo,
identity links, expiry, digest and follow-up claims, read marks, seen events,
suggestions with feedback and a "solved it" link, a channel reset, a web
opt-out, a vector, a kept value). After the round trip every copied table
holds the same rows with the same ids, ``stats`` and the JSON export are
equal, and search answers the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner, Result

from adapters.cli import cli
from adapters.importers.discord_export import DiscordExport
from adapters.importers.slack_export import SlackExport
from bot.app import build_core
from bot.config import CONFIG_ENV_VAR, Settings
from bot.events import Actor, MessageDeleted, MessageEdited, ReactionChange, Visibility, Where
from bot.import_replay import run_import
from knowledge import copying
from knowledge.backends import DatabaseTarget, open_storage
from knowledge.copying import COPIED_TABLES, copy_repertoire
from knowledge.curation import change_field, set_valid_until, undo
from knowledge.feedback import link_solved, record_feedback, record_suggestion, reset_channel
from knowledge.identity import request_link
from knowledge.models import ChannelRef, EntryKind, NewEntry, SourceKey
from knowledge.postgres.url import DATABASE_URL_ENV
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.storage import Row
from knowledge.thanks import record_thanks
from knowledge.web_consent import set_web_optout
from tests.pg_support import url_of

FIXTURES = Path(__file__).parent / "fixtures"
AT = datetime(2024, 3, 5, tzinfo=UTC)
DATA_HELP = Where("slack", "T0ACME", "C01DATA", Visibility.PUBLIC, channel_name="data-help")
ALICE = Actor("slack", "U01ALICE", "alice", "T0ACME")


def _question(rep: RelationalRepertoire, message_id: str) -> int:
    found = rep.entries_for_message(SourceKey("slack", "T0ACME", "C01DATA", message_id))
    return found[0].id


def build_community(path: Path) -> None:
    """Every kind of row a repertoire holds, in a SQLite file."""
    core = build_core(Settings(), path)
    try:
        run_import(core, SlackExport(FIXTURES / "slack_export", workspace_url="https://a.slack"))
        run_import(core, DiscordExport(FIXTURES / "discord" / "python-help.json"))
        core.handle(MessageDeleted(DATA_HELP, "1709280220.000400"))
        core.handle(MessageEdited(DATA_HELP, "1709366400.000100", "Why does airflow retry?", AT))
        core.handle(ReactionChange(DATA_HELP, "1709280160.000300", ALICE, "pray", at=AT))
        core.handle(ReactionChange(DATA_HELP, "1709280160.000300", ALICE, "+1", at=AT))
        core.handle(ReactionChange(DATA_HELP, "1709280160.000300", ALICE, "+1", added=False, at=AT))
        rep = core.services.repertoire
        with rep.transaction():
            question = _question(rep, "1709280100.000200")
            other = _question(rep, "1709366400.000100")
            bob = rep.upsert_member("slack", "T0ACME", "U02BOB", "bob")
            alice = rep.upsert_member("slack", "T0ACME", "U01ALICE", "alice")
            change = change_field(rep, question, "outdated", True, bob, AT)
            assert change is not None
            undo(rep, change.id, bob, AT + timedelta(minutes=1))
            change_field(rep, question, "title", "Reading a huge CSV", bob, AT)
            set_valid_until(rep, question, date(2030, 1, 1))
            request_link(rep, bob, "discord", "222", AT)
            ref = ChannelRef("slack", "T0ACME", "C01DATA")
            record_thanks(rep, alice, bob, entry_id=question, where=ref, visibility="public", at=AT)
            thread = SourceKey("slack", "T0ACME", "C01DATA", "1709366400.000100")
            suggestion = record_suggestion(rep, other, thread, [(question, 0.8)], AT)
            assert suggestion
            record_feedback(rep, other, question, "U01ALICE", "solved_it", AT)
            link_solved(rep, other, question, AT)
            reset_channel(rep, ref, AT - timedelta(days=1))
            set_web_optout(rep, bob, True, AT)
            run = rep.digest_log.claim("slack:C01DATA", AT - timedelta(days=7), AT, AT)
            assert run is not None
            rep.digest_log.mark(run, "posted", AT, "1709999999.000100")
            assert rep.digest_log.claim_follow_up(question, "slack:C01DATA", AT)
            rep.mark_event_seen("slack", "Ev0SEEN", AT)
            rep.advance_read_mark(SourceKey("slack", "T0ACME", "C01DATA", "1709999999.1"), AT)
            rep.set_meta("sample_seeded", "42")
            rep.sql.execute(
                "INSERT INTO entry_embeddings (entry_id, model, dim, vector, updated_at) "
                "VALUES (?, 'static:test', 2, ?, ?)",
                [question, b"\x00\x00\x80?\x00\x00\x00@", "2024-03-05T00:00:00.000000Z"],
            )
            rep.save_entry(
                NewEntry(
                    kind=EntryKind.KNOWHOW,
                    source=SourceKey("slack", "T0ACME", "C01DATA", "1709999999.000200"),
                    text="Tip: polars reads CSV files lazily with scan_csv",
                    author_id=alice,
                    created_at=AT,
                    visibility="public",
                    tags=("polars", "csv"),
                )
            )
    finally:
        core.services.repertoire.close()


def table_rows(rep: RelationalRepertoire) -> dict[str, list[Row]]:
    """Every copied table's rows in one order (and each curation change's undo link)."""
    rows = {
        table.name: sorted(
            rep.sql.rows(f"SELECT {', '.join(table.columns)} FROM {table.name}"), key=repr
        )
        for table in COPIED_TABLES
    }
    rows["undone_by"] = sorted(rep.sql.rows("SELECT id, undone_by FROM curation_changes"))
    return rows


@pytest.fixture(scope="module")
def community_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The community, built once per module (each test copies the file)."""
    path = tmp_path_factory.mktemp("community") / "community.db"
    build_community(path)
    return path


def a_copy_of(community: Path, path: Path) -> Path:
    path.write_bytes(community.read_bytes())
    wal = community.with_name(community.name + "-wal")
    if wal.exists():  # (closing the last connection checkpoints it away; in case it did not)
        path.with_name(path.name + "-wal").write_bytes(wal.read_bytes())
    return path


def copbot(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def server(pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url, password = url_of(pg_dsn)
    if password:
        monkeypatch.setenv("PGPASSWORD", password)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    yield url


def exported(db: str | Path, out: Path) -> str:
    result = copbot("export", "--db", db, "--out", out)
    assert result.exit_code == 0, result.output
    text = (out / "repertoire.json").read_text(encoding="utf-8")
    return "\n".join(line for line in text.splitlines() if '"exported_at"' not in line)


def test_a_community_goes_to_postgres_and_back_with_nothing_lost(
    server: str, tmp_path: Path, community_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(copying, "PAGE", 2)  # every table read over several pages
    original, back = a_copy_of(community_file, tmp_path / "original.db"), tmp_path / "back.db"
    there = copbot("copy", original, server)
    assert there.exit_code == 0, there.output
    assert "members" in there.output and "entries" in there.output
    home = copbot("copy", server, back)
    assert home.exit_code == 0, home.output
    before, after = open_storage(original), open_storage(back)
    try:
        rows = table_rows(before)
        assert all(rows.values()), [name for name, found in rows.items() if not found]
        assert table_rows(after) == rows
        assert after.get_meta("sample_seeded") == "42"
    finally:
        before.close()
        after.close()
    for db in (server, back):
        assert copbot("stats", "--json", "--db", db).stdout == (
            copbot("stats", "--json", "--db", original).stdout
        )
    assert exported(back, tmp_path / "b") == exported(original, tmp_path / "o")
    assert exported(server, tmp_path / "s") == exported(original, tmp_path / "o")
    for query in ("csv", "airflow", "tag:polars"):
        found = copbot("search", query, "--json", "--db", back)
        assert found.exit_code == 0, found.output
        assert json.loads(found.stdout)["results"], query  # rebuilt index finds them
        assert found.stdout == copbot("search", query, "--json", "--db", original).stdout


def test_new_rows_after_a_copy_take_new_ids(
    server: str, tmp_path: Path, community_file: Path
) -> None:
    original = a_copy_of(community_file, tmp_path / "original.db")
    assert copbot("copy", original, server).exit_code == 0
    rep = open_storage(DatabaseTarget(server, postgres=True))
    try:
        largest = rep.sql.one("SELECT max(id) FROM members")
        assert largest is not None
        fresh = rep.upsert_member("slack", "T0ACME", "U09NEW", "newcomer")
        assert fresh == int(largest[0]) + 1
    finally:
        rep.close()


def test_a_target_that_holds_a_community_is_refused_and_left_alone(
    server: str, tmp_path: Path, community_file: Path
) -> None:
    original, other = a_copy_of(community_file, tmp_path / "original.db"), tmp_path / "other.db"
    target = open_storage(other)
    try:
        target.upsert_member("slack", "T9", "U9", "someone")
    finally:
        target.close()
    for into in (other, server):
        if into == server:
            assert copbot("copy", other, server).exit_code == 0  # the server holds one now
        refused = copbot("copy", original, into)
        assert refused.exit_code == 2
        assert "already holds a community" in refused.stderr
    assert json.loads(copbot("stats", "--json", "--db", server).stdout)["questions"] == 0


def test_copy_says_what_is_wrong_with_its_arguments(tmp_path: Path) -> None:
    missing = copbot("copy", tmp_path / "none.db", tmp_path / "x.db")
    assert missing.exit_code == 2 and "does not exist: nothing to copy" in missing.stderr
    (tmp_path / "a.db").touch()
    same = copbot("copy", tmp_path / "a.db", tmp_path / "a.db")
    assert same.exit_code == 2 and "the same database" in same.stderr
    secret = copbot("copy", tmp_path / "a.db", "postgresql://u:hunter22@db.example/c")
    assert secret.exit_code == 2 and "hunter22" not in secret.output


def test_a_copy_between_two_files_keeps_everything_too(
    tmp_path: Path, community_file: Path
) -> None:
    original, copied = a_copy_of(community_file, tmp_path / "original.db"), tmp_path / "copied.db"
    source, target = open_storage(original), open_storage(copied)
    try:
        counts = copy_repertoire(source, target)
        assert counts["entries"] == 19 and counts["meta"] >= 1
        assert table_rows(target) == table_rows(source)
    finally:
        source.close()
        target.close()


def test_each_table_is_read_in_pages_of_its_primary_key(
    tmp_path: Path, pg_conn: psycopg.Connection[tuple[object, ...]]
) -> None:
    """Pages follow a key that is unique (else rows sharing one would be skipped), on both."""
    rep = open_storage(tmp_path / "keys.db")
    try:
        for table in COPIED_TABLES:
            on_sqlite = rep.sql.rows(
                "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", [table.name]
            )
            assert tuple(str(row[0]) for row in on_sqlite) == table.key, table.name
            on_postgres = pg_conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
                "ORDER BY array_position(i.indkey, a.attnum)",
                [table.name],
            ).fetchall()
            assert tuple(str(row[0]) for row in on_postgres) == table.key, table.name
    finally:
        rep.close()


#: Tables a copy leaves out on purpose: each is rebuilt on the target or belongs to one
#: database (its migrations, its search index and caches, a process's kept values).
NOT_COPIED = {
    "_sqlite_migrations": "the target's own migrations",
    "meta": "a process's kept values (command hashes, catch-up flags): made again",
    "search_fts": "the search index: rebuilt on the target",
    "search_vocab": "the index's vocabulary view",
    "similar_df": "a cache of document frequencies",
}
#: Columns written after the rows (a change's undo link points forward).
COPIED_AFTER = {("curation_changes", "undone_by")}


def test_the_copy_covers_every_table_and_column_of_the_schema(tmp_path: Path) -> None:
    """A table or column added later and left off the copy's list would be lost by a move
    between backends: the list is held to the schema itself."""
    repertoire = open_storage(tmp_path / "schema.db")
    try:
        tables = {
            str(name)
            for (name,) in repertoire.sql.rows(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
            if not str(name).startswith("search_fts_")  # FTS5's own shadow tables
        }
        copied = {table.name: table for table in COPIED_TABLES}
        assert tables - set(copied) == set(NOT_COPIED)
        for table in copied.values():
            columns = {
                str(name)
                for (name,) in repertoire.sql.rows(
                    "SELECT name FROM pragma_table_info(?)", [table.name]
                )
            }
            left_out = {(table.name, column) for column in columns - set(table.columns)}
            assert left_out <= COPIED_AFTER, left_out
    finally:
        repertoire.close()
