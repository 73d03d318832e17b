"""The command line when the world is not as expected: one clear line, never a traceback.

``copbot doctor`` without a network, and ``--db`` pointing at a file that is not
an SQLite database, run through the real click commands.
"""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli

TOKENS = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A1-2-def"}


def closed_port() -> int:
    """A local port nothing listens on: connecting to it fails at once, as offline."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("mode", [[], ["--http"]])
def test_doctor_without_a_network_says_so_in_one_line(mode: list[str]) -> None:
    env = {**TOKENS, "SLACK_SIGNING_SECRET": "s3cret"}
    api = f"http://127.0.0.1:{closed_port()}/api/"
    result = CliRunner().invoke(cli, ["doctor", "--api-url", api, *mode], env=env)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    problems = [line for line in result.output.splitlines() if line.startswith("✗")]
    assert len(problems) == 1, result.output
    assert problems[0].startswith("✗ could not reach Slack at 127.0.0.1:")
    assert "check the network connection or proxy" in problems[0]
    assert "Traceback" not in result.output and "xoxb-" not in result.output


NOT_SQLITE = "database = 'copbot.db'\n# my notes, not a database\n"


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["search", "airflow"],
        ["import", str(Path(__file__).parent / "fixtures" / "discord" / "python-help.json")],
        ["export", "--format", "json"],
        ["forget", "alice", "--dry-run"],
        ["chat"],
    ],
)
def test_a_db_file_that_is_not_sqlite_is_one_clear_error(
    tmp_path: Path, command: list[str]
) -> None:
    notes = tmp_path / "notes.toml"
    notes.write_text(NOT_SQLITE, "utf-8")
    result = CliRunner().invoke(
        cli, [*command, "--db", str(notes)], input="", catch_exceptions=True
    )
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert lines == [
        f"copbot: {notes} is not an SQLite database (it does not start with SQLite's "
        "header); pass copbot's database with --db, or a new file name to start one"
    ]
    assert notes.read_text("utf-8") == NOT_SQLITE  # not a byte written into it


def test_a_damaged_database_is_one_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "copbot.db"
    result = CliRunner().invoke(cli, ["stats", "--db", str(db)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)  # the header survives, the pages do not
    db.write_bytes(bytes(data))
    result = CliRunner().invoke(cli, ["stats", "--db", str(db)])
    assert result.exit_code == 2
    assert result.output.startswith(f"copbot: {db} is not a usable SQLite database (")
    assert len(result.output.strip().splitlines()) == 1


def test_a_db_path_under_a_file_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where a folder should be", "utf-8")
    result = CliRunner().invoke(cli, ["stats", "--db", str(blocker / "copbot.db")])
    assert result.exit_code == 2
    assert (
        result.output.strip()
        == f"copbot: cannot create {blocker / 'copbot.db'}: {blocker} is a file"
    )


def test_a_database_setting_that_names_a_folder_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "copbot.toml"
    config.write_text(f'database = "{tmp_path}"\n', "utf-8")
    result = CliRunner().invoke(cli, ["stats", "--config", str(config)])
    assert result.exit_code == 2
    assert result.output.strip() == f"copbot: {tmp_path} is a folder, not a database file"
