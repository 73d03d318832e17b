"""The ``copbot`` commands on a real PostgreSQL, each against the same command on SQLite.

Every test runs the real command line (click's CliRunner) with ``--db
postgresql://...`` on the session's PostgreSQL (``tests/postgres_cluster.py``)
and, where it says so, the same command on a SQLite file: what a community
sees must not depend on where it is stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from adapters.cli import cli
from adapters.console_transcript import CONSOLE_FILE_PREFIX, Transcript
from bot.config import CONFIG_ENV_VAR
from knowledge.postgres.url import DATABASE_URL_ENV, display_url
from tests.pg_support import url_of
from tests.postgres_cluster import PostgresServer

FIXTURES = Path(__file__).parent / "fixtures"
SLACK = FIXTURES / "slack_export"
DISCORD = FIXTURES / "discord"


@pytest.fixture
def server(pg_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The empty test database as the URL a user passes to ``--db``."""
    url, password = url_of(pg_dsn)
    if password:
        monkeypatch.setenv("PGPASSWORD", password)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    yield url


def copbot(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin)


def stats(db: str | Path) -> dict[str, int]:
    result = copbot("stats", "--json", "--db", db)
    assert result.exit_code == 0, result.output
    counts: dict[str, int] = json.loads(result.stdout)
    return counts


def exported(db: str | Path, out: Path) -> dict[str, Any]:
    """The JSON export, without what only says when it was made."""
    result = copbot("export", "--db", db, "--out", out)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads((out / "repertoire.json").read_text(encoding="utf-8"))
    del data["exported_at"]
    return data


def without_join_times(data: dict[str, Any]) -> dict[str, Any]:
    """An import stamps members with the time it ran: two imports differ only there."""
    members = [{**m, "created_at": None} for m in data["members"]]
    return {**data, "members": members}


def without_scores(found: dict[str, Any]) -> dict[str, Any]:
    """``copbot search --json`` output with each hit's score left out."""
    hits = [
        {key: value for key, value in hit.items() if key != "score"} for hit in found["results"]
    ]
    return {**found, "results": hits}


def imported(db: str | Path) -> Result:
    result = copbot("import", SLACK, DISCORD, "--db", db)
    # The fixture's one unknown subtype is skipped and said; everything else is imported.
    assert result.exit_code == 0 and "entries made: 21" in result.output, result.output
    return result


def test_a_slack_export_imported_into_each_backend_gives_identical_stats(
    server: str, tmp_path: Path
) -> None:
    sqlite_file = tmp_path / "copbot.db"
    imported(sqlite_file)
    imported(server)
    on_postgres = stats(server)
    assert on_postgres == stats(sqlite_file)
    assert on_postgres["questions"] == 5 and on_postgres["members"] == 4  # public ones
    again = copbot("import", SLACK, DISCORD, "--db", server)
    assert "entries made: 0" in again.output  # a second import adds nothing
    assert stats(server) == on_postgres


def test_the_json_export_is_the_same_from_either_backend(server: str, tmp_path: Path) -> None:
    sqlite_file = tmp_path / "copbot.db"
    imported(sqlite_file)
    imported(server)
    from_postgres = exported(server, tmp_path / "pg")
    assert len(from_postgres["entries"]) == 21 and from_postgres["reactions"]
    assert without_join_times(from_postgres) == without_join_times(
        exported(sqlite_file, tmp_path / "sqlite")
    )


def test_a_copbot_export_restores_into_postgres_whole(server: str, tmp_path: Path) -> None:
    sqlite_file = tmp_path / "copbot.db"
    imported(sqlite_file)
    original = exported(sqlite_file, tmp_path / "sqlite")
    restored = copbot("import", tmp_path / "sqlite" / "repertoire.json", "--db", server)
    assert restored.exit_code == 0, restored.output
    assert "restored members 8, channels 5, entries 21" in restored.output
    assert exported(server, tmp_path / "pg") == original
    assert stats(server) == stats(sqlite_file)


def _every_row_as_text(dsn: str) -> str:
    with psycopg.connect(dsn) as conn:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            )
        ]
        return "\n".join(
            str(row[0]).casefold()
            for table in tables
            for row in conn.execute(f'SELECT t::text FROM "{table}" t')
        )


def test_forget_on_postgres_leaves_no_row_that_names_or_quotes_them(
    server: str, pg_dsn: str
) -> None:
    imported(server)
    before = _every_row_as_text(pg_dsn)
    assert "duckdb" in before and "u04dana" in before  # dana's know-how, dana's id
    dry = copbot("forget", "U04DANA", "--dry-run", "--db", server)
    assert dry.exit_code == 0 and "2 entries" in dry.output and "Dry run" in dry.output
    assert _every_row_as_text(pg_dsn) == before
    result = copbot("forget", "U04DANA", "--yes", "--db", server)
    assert result.exit_code == 0, result.output
    assert "Forgot 1 member(s)." in result.output
    after = _every_row_as_text(pg_dsn)
    # (Another "dana r." on Discord, and answers that greet "@dana", are not her.)
    assert "u04dana" not in after and "duckdb" not in after
    assert "profile a slow sql query" not in after  # dana's question in #old-general


def _demo(db: str | Path, *extra: str) -> Result:
    result = copbot("demo", "--db", db, *extra, stdin="")
    assert result.exit_code == 0, result.output
    assert "Loaded the sample community" in result.output
    return result


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample community, seeded once through the terminal chat into a SQLite file."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    _demo(path, "--no-web")
    return path


@pytest.fixture
def demo_on_both(server: str, demo_file: Path, tmp_path: Path) -> Path:
    """The sample community in a SQLite file and, copied from it, on the server."""
    local = tmp_path / "demo.db"
    local.write_bytes(demo_file.read_bytes())
    copied = copbot("copy", local, server)
    assert copied.exit_code == 0, copied.output
    return local


def test_the_demo_and_the_terminal_chat_run_on_postgres(
    server: str, demo_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    (cache / "copbot").mkdir(mode=0o755, parents=True)  # as another part may have made it
    seeded = _demo(server)  # with its web view, read from the server too
    assert "Web view of the public channels: http://" in seeded.output
    assert stats(server) == stats(demo_file)
    chat = copbot("chat", "--db", server, stdin="/cop stats\nHow do we rotate the kafka keys?\n")
    assert chat.exit_code == 0, chat.output
    assert f"copbot terminal chat on {display_url(server)}" in chat.output
    assert re.search(r"Repertoire: 25 questions \(20 answered", chat.output), chat.output
    assert stats(server)["questions"] == 26  # the question said in the chat is kept
    # The terminal's own transcript is not on the server, nor in the folder the chat ran in,
    # but in the user's cache folder, for the user alone.
    transcripts = list((cache / "copbot").glob(f"{CONSOLE_FILE_PREFIX}*.db"))
    assert len(transcripts) == 1
    assert not list(tmp_path.glob("*.db"))
    assert (cache / "copbot").stat().st_mode & 0o077 == 0
    assert transcripts[0].stat().st_mode & 0o077 == 0


def test_forget_from_another_folder_cleans_the_terminal_transcript_on_postgres(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    said = "/as Zoe Quill\nHow do we rotate the zebrafish keys?\n"
    chat = copbot("chat", "--db", server, stdin=said)
    assert chat.exit_code == 0, chat.output
    (transcript_path,) = (tmp_path / "cache" / "copbot").glob(f"{CONSOLE_FILE_PREFIX}*.db")
    assert "zebrafish" in transcript_path.read_bytes().decode("utf-8", "replace")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    # The URL spelled another way (options added) names the same database.
    spelled = server + ("&" if "?" in server else "?") + "application_name=copbot-forget"
    forgot = copbot("forget", "Zoe Quill", "--yes", "--db", spelled)
    assert forgot.exit_code == 0, forgot.output
    assert "Forgot 1 member(s)." in forgot.output
    left = b"".join(p.read_bytes() for p in transcript_path.parent.iterdir()).lower()
    assert b"zebrafish" not in left and b"zoe quill" not in left  # no byte of them behind
    transcript = Transcript(transcript_path)
    try:
        assert transcript.places("member") == []
    finally:
        transcript.close()


#: A digest of everything but the open questions (whose "who could help" is a topic search).
WITHOUT_SEARCH = """
[[digests]]
channel = "console:#data-help"
sections = ["knowhow", "answered", "helpers", "activity"]
"""


def test_a_digest_reads_the_same_and_is_posted_once_per_period_on_postgres(
    server: str, demo_on_both: Path, tmp_path: Path
) -> None:
    config = tmp_path / "digests.toml"
    config.write_text(WITHOUT_SEARCH, encoding="utf-8")
    args: list[str | Path] = ["digest", "--channel", "console:#data-help", "--config", config]
    on_postgres = copbot(*args, "--db", server)
    assert on_postgres.exit_code == 0, on_postgres.output
    assert "Weekly digest for #data-help" in on_postgres.output
    assert "Questions asked: " in on_postgres.output  # the activity section's counts
    assert on_postgres.output == copbot(*args, "--db", demo_on_both).output
    first = copbot(*args, "--post", "--db", server)
    assert first.exit_code == 0, first.output
    assert "Weekly digest for #data-help" in first.output and "Posted the digest" in first.output
    second = copbot(*args, "--post", "--db", server)
    assert second.exit_code == 0
    assert "Nothing posted" in second.output and "Weekly digest" not in second.output


def test_the_digest_reads_the_same_on_either_backend(server: str, demo_on_both: Path) -> None:
    for channel in ("console:#data-help", "console:G03PLATFORM"):
        args = ["digest", "--channel", channel, "--days", "30"]
        on_postgres = copbot(*args, "--db", server)
        assert on_postgres.exit_code == 0, on_postgres.output
        assert on_postgres.output == copbot(*args, "--db", demo_on_both).output
    assert "Still open, oldest first" in on_postgres.output


@pytest.mark.parametrize("query", ["kafka", "airflow retries", "tag:python", "from:priya"])
def test_search_answers_the_same_on_either_backend(
    server: str, demo_on_both: Path, query: str
) -> None:
    for channel in ((), ("--channel", "console:local:G03PLATFORM")):
        args = ["search", query, "--json", *channel]
        on_postgres = copbot(*args, "--db", server)
        assert on_postgres.exit_code == 0, on_postgres.output
        on_sqlite = copbot(*args, "--db", demo_on_both)
        postgres_hits, sqlite_hits = json.loads(on_postgres.stdout), json.loads(on_sqlite.stdout)
        # The same hits in the same order; bm25 scores agree to float rounding (FTS5 sums
        # in C doubles, PostgreSQL's rescoring in Python: last digits may differ).
        assert without_scores(postgres_hits) == without_scores(sqlite_hits)
        assert [hit["score"] for hit in postgres_hits["results"]] == pytest.approx(
            [hit["score"] for hit in sqlite_hits["results"]], rel=0.01
        )


def test_a_role_that_may_not_set_the_database_up_is_told_what_to_do(
    pg_empty_dsn: str, postgres_server: PostgresServer
) -> None:
    if conninfo_to_dict(postgres_server.admin_dsn).get("password"):
        pytest.skip("the test server takes passwords; a new role would need one")
    role = f"{postgres_server.prefix}_reader"
    with psycopg.connect(postgres_server.admin_dsn, autocommit=True) as admin:
        try:
            admin.execute(f'CREATE ROLE "{role}" LOGIN')
        except psycopg.errors.InsufficientPrivilege:
            pytest.skip("the test server's role may not create roles")
    try:
        url, _ = url_of(make_conninfo(pg_empty_dsn, user=role))
        result = copbot("stats", "--db", url)
        assert result.exit_code == 2, result.output
        assert "cannot be set up for copbot (permission denied" in result.stderr
        assert "CREATE EXTENSION unaccent" in result.stderr and "Traceback" not in result.output
    finally:
        with psycopg.connect(postgres_server.admin_dsn, autocommit=True) as admin:
            admin.execute(f'DROP ROLE "{role}"')
