"""Imports meeting what they do not know: a new kind of message, odd text, missing fields.

A Slack export of a newer workspace carries message subtypes this copbot has
never seen (Slack adds them: canvases, AI assistant threads...). They are not
a fault in the export: ``copbot import`` skips them, imports everything else
exactly as without them, says how many of each kind it left out, and exits 0.
Odd unicode, a huge message and missing optional fields cost nothing either.

Every test runs the real ``copbot import`` (click's CliRunner) on a copy of the
real-format fixture export, extended in ``tmp_path``, then reads the SQLite
file it wrote.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from adapters.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
SLACK = FIXTURES / "slack_export"
DISCORD = FIXTURES / "discord" / "python-help.json"

#: A day of #data-help after the fixture's, as Slack exports it (fields Slack writes and
#: copbot does not read included): a thread with an accepted answer.
ASKED, ANSWERED = "1709452800.000100", "1709452860.000200"
ALICE, BOB = "U01ALICE", "U02BOB"


def said(user: str, ts: str, text: str, **fields: Any) -> dict[str, Any]:
    return {
        "client_msg_id": f"c0ffee00-0000-4000-8000-{ts.replace('.', '')[:12]}",
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": "T0ACME",
        "user_team": "T0ACME",
        "source_team": "T0ACME",
        "blocks": [
            {"type": "rich_text", "block_id": "b1", "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ]}
        ],
        **fields,
    }  # fmt: skip


def good_day() -> list[dict[str, Any]]:
    return [
        said(ALICE, ASKED, "How do I keep a DuckDB file open from two processes?",
             thread_ts=ASKED, reply_count=1, reply_users=[BOB], latest_reply=ANSWERED),
        said(BOB, ANSWERED, "Open it read-only in the second one: read_only=True",
             thread_ts=ASKED, parent_user_id=ALICE,
             reactions=[{"name": "white_check_mark", "users": [ALICE], "count": 1}]),
    ]  # fmt: skip


def unknown_kinds() -> list[dict[str, Any]]:
    """Messages of subtypes copbot does not know, one with a thread and a ✅ of its own."""
    return [
        said(ALICE, "1709452810.000100", "updated the channel canvas",
             subtype="channel_canvas_updated"),
        said(BOB, "1709452820.000100", "How can I help you today?", subtype="assistant_app_thread",
             thread_ts=ASKED,
             reactions=[{"name": "white_check_mark", "users": [ALICE], "count": 1}]),
        said(ALICE, "1709452830.000100", "updated the channel canvas",
             subtype="channel_canvas_updated"),
    ]  # fmt: skip


def export_with(tmp_path: Path, name: str, day: list[dict[str, Any]]) -> Path:
    """The fixture export plus ``day`` as #data-help's 2024-03-03."""
    export = tmp_path / name
    shutil.copytree(SLACK, export)
    (export / "data-help" / "2024-03-03.json").write_text(json.dumps(day, indent=4), "utf-8")
    return export


def imported(export: Path, db: Path) -> Result:
    result = CliRunner().invoke(cli, ["import", str(export), "--no-progress", "--db", str(db)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def entries(db: Path) -> dict[str, tuple[Any, ...]]:
    """message id -> what its entry holds (kind, thread, accepted, visibility, text)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT message_id, kind, thread_id, accepted, visibility, text FROM entries"
        ).fetchall()
    return {row[0]: tuple(row[1:]) for row in rows}


def skipped_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("skipped ")]


def test_unknown_slack_subtypes_are_skipped_counted_and_cost_nothing_else(tmp_path: Path) -> None:
    plain = export_with(tmp_path, "plain", good_day())
    newer = export_with(tmp_path, "newer", [*good_day(), *unknown_kinds()])
    imported(plain, tmp_path / "plain.db")
    result = imported(newer, tmp_path / "newer.db")
    # Exactly what the export without them gives: the ✅ on the unknown message included.
    assert entries(tmp_path / "newer.db") == entries(tmp_path / "plain.db")
    assert entries(tmp_path / "newer.db")[ANSWERED][:2] == ("answer", ASKED)
    assert entries(tmp_path / "newer.db")[ANSWERED][2] == 1  # the asker's ✅
    # Said kind by kind, with how many; not an error: exit code 0.
    assert result.exit_code == 0, result.output
    assert "problem" not in result.output
    kinds = "(a kind copbot does not read yet)"
    assert f"skipped 2: Slack messages of subtype 'channel_canvas_updated' {kinds}" in (
        result.output
    )
    assert f"skipped 1: Slack messages of subtype 'assistant_app_thread' {kinds}" in result.output
    assert f"skipped 1: Slack messages of subtype 'mystery_subtype' {kinds}" in result.output


def test_many_unknown_subtypes_are_named_a_few_and_counted_all(tmp_path: Path) -> None:
    odd = ["new\nline", "x" * 500, "<b>bold</b>", "ünïcode"]
    day = [
        said(ALICE, f"17094528{n:02d}.000100", "a new kind of message", subtype=kind)
        for n, kind in enumerate([*odd, *(f"future_kind_{k}" for k in range(26))])
    ]
    result = imported(export_with(tmp_path, "export", [*good_day(), *day]), tmp_path / "c.db")
    assert result.exit_code == 0, result.output
    lines = [line for line in skipped_lines(result.output) if "Slack messages of" in line]
    named = [line for line in lines if "Slack messages of subtype '" in line]
    # At most 20 kinds named (one line each), the rest on one line: no million-line summary.
    assert len(named) == 20 and len(lines) == 21
    # Every message is counted: the fixture's one unknown subtype and these 30.
    assert sum(int(line.split()[1].rstrip(":")) for line in lines) == 31
    # A kind is shown cleaned and short: nothing from the file breaks or floods a line.
    for line in named:
        shown = line.split("'")[1]
        assert len(shown) <= 41 and re.fullmatch(r"[\w.:?…-]+", shown), line
    assert "<b>" not in result.output
    assert entries(tmp_path / "c.db")[ANSWERED][2] == 1  # the rest went in


def test_odd_text_a_huge_message_and_missing_fields_are_imported(tmp_path: Path) -> None:
    huge = "How do I parse this? " + "data " * 200_000  # a megabyte: past any platform's cap
    odd = [
        said(ALICE, "1709452900.000100", "Why does \ud83d break my \x00 parser \u202eltr?"),
        said(ALICE, "1709452910.000100", huge),
        said("U09GHOST", "1709452920.000100", "How do I reach a member not in users.json?",
             user_profile="not an object"),
        said(BOB, "1709452930.000100", "How do I count reactions?",
             reactions=[{"name": "+1", "users": "U03CHEN", "count": 1},
                        {"name": "eyes", "users": [None, 7, {"id": "U03CHEN"}], "count": 3}]),
        {"type": "message", "user": ALICE, "ts": "1709452940.000100"},  # no text at all
        {"type": "message", "text": "How do I tell who wrote this?", "ts": "1709452950.000100"},
    ]  # fmt: skip
    result = imported(export_with(tmp_path, "export", [*odd, *good_day()]), tmp_path / "c.db")
    assert result.exit_code == 0, result.output
    assert "problem" not in result.output and "malformed" not in result.output
    got = entries(tmp_path / "c.db")
    # The lone surrogate and the NUL are dropped, the rest of the text is kept.
    assert got["1709452900.000100"][0] == "question"
    assert "break my" in got["1709452900.000100"][4] and "\x00" not in got["1709452900.000100"][4]
    assert got["1709452910.000100"][0] == "question"
    assert got["1709452910.000100"][4].startswith("How do I parse this? data data")
    assert got["1709452920.000100"][0] == "question"  # a bad optional field costs only the name
    assert got["1709452930.000100"][0] == "question"
    assert got["1709452950.000100"][0] == "question"
    assert got[ANSWERED][2] == 1  # and what follows them went in
    with sqlite3.connect(tmp_path / "c.db") as conn:
        members = {row[0] for row in conn.execute("SELECT user_id FROM members")}
        reactors = {row[0] for row in conn.execute("SELECT user_id FROM reactions")}
    assert "U09GHOST" in members
    # A reaction whose users are not a list of ids names nobody (not "U", "0", "3"...).
    assert reactors <= {ALICE, BOB, "U03CHEN", "U04DANA"}, reactors


def test_an_unknown_discord_message_type_is_skipped_and_counted(tmp_path: Path) -> None:
    export = json.loads(DISCORD.read_text("utf-8"))
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(export), "utf-8")
    first = next(m for m in export["messages"] if m["type"] == "Default")
    poll = {**first, "id": "1999", "type": "PollResult", "content": "The poll has closed"}
    export["messages"].insert(1, poll)
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps(export), "utf-8")
    imported(plain, tmp_path / "plain.db")
    result = imported(newer, tmp_path / "newer.db")
    assert result.exit_code == 0, result.output
    assert (
        "skipped 1: Discord messages of type 'PollResult' (a kind copbot does not read yet)"
        in result.output
    )
    assert entries(tmp_path / "newer.db") == entries(tmp_path / "plain.db")
    assert entries(tmp_path / "newer.db")  # the file's questions and answers went in
