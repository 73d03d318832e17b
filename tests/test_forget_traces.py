"""``copbot forget`` for a member who took part in the practice: thanked, thanking, curating.

Forgetting a member leaves no byte of them behind: not their entries, not
the thank-yous they got or gave, not their name on another entry's curation
history. These are the rows that point at a member from other tables, so a
forget that removes the member row first trips over them (FOREIGN KEY) or,
worse, leaves them behind.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from bot.app import build_core
from bot.config import CONFIG_ENV_VAR, Settings
from bot.core import Core
from bot.errors import UserError
from bot.events import Actor, CommandInvocation, IncomingMessage, ReactionChange, Visibility, Where
from bot.forget import carry_out, plan_for
from bot.ports import FixedClock
from knowledge.models import Entry
from knowledge.storage import EntryFilter, Viewer
from tests.sqlite_file import sqlite_of

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HELP = Where("slack", "W1", "C-HELP", Visibility.PUBLIC, "data-help")
ALICE = Actor("slack", "UALICE", "Alice", "W1")
BOB = Actor("slack", "UBOB", "Bob", "W1")
#: The member to forget: an id and a name found nowhere else.
ZEPH = Actor("slack", "UZEPHYRINE", "Zephyrine", "W1")
#: A word only Zephyrine wrote.
HER_WORD = "quuxolate"


def _community(core: Core) -> None:
    def say(who: Actor, mid: str, text: str, thread: str | None = None) -> None:
        core.handle(IncomingMessage(HELP, who, mid, text, NOW - timedelta(hours=2), thread))

    def cop(who: Actor, text: str) -> None:
        commands.append(text)
        core.handle(CommandInvocation(HELP, who, text, NOW, event_id=f"cmd-{len(commands)}"))

    commands: list[str] = []

    say(ALICE, "q1", "How do I shrink a pandas DataFrame?")
    say(ZEPH, "a1", f"Downcast the columns, then {HER_WORD} the strings.", "q1")
    say(BOB, "q2", "Why is my airflow sensor stuck?")
    say(BOB, "a2", "Found it: the pool was full.", "q2")
    # Zephyrine is thanked twice (a reaction on her answer, and in words) ...
    core.handle(ReactionChange(HELP, "a1", ALICE, "pray", True, at=NOW))
    cop(BOB, "thanks zephyrine for the pairing session")
    # ... thanks someone herself, and curates another member's question.
    cop(ZEPH, "thanks bob for the airflow fix")
    question = _by_message(core, "q1")[0]
    cop(ZEPH, f"retag #{question.id} +memory")
    cop(ZEPH, f"retitle #{question.id} Shrinking pandas DataFrames")


def test_forget_a_member_who_was_thanked_and_curated_leaves_nothing_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.db"
    core = build_core(Settings(), path, clock=FixedClock(NOW))
    try:
        _community(core)
        member = core.repertoire.find_members("Zephyrine")[0]
        db = sqlite_of(core.repertoire).db
        # The setup did what it says: she is referenced from thanks and curation.
        assert (
            db.execute("SELECT count(*) FROM thanks WHERE receiver_id = ?", [member.id]).fetchone()[
                0
            ]
            == 2
        )
        assert (
            db.execute("SELECT count(*) FROM thanks WHERE giver_id = ?", [member.id]).fetchone()[0]
            == 1
        )
        assert (
            db.execute(
                "SELECT count(*) FROM curation_changes WHERE member_id = ?", [member.id]
            ).fetchone()[0]
            == 2
        )
    finally:
        core.repertoire.close()

    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["forget", "Zephyrine", "--yes", "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert "Forgot 1 member(s)." in result.output

    conn = sqlite3.connect(path)
    try:
        assert not _rows_pointing_at(conn, member.id)
        assert not _values_mentioning(conn, (ZEPH.user_id, ZEPH.display_name, HER_WORD))
        assert (
            conn.execute(
                "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", [HER_WORD]
            ).fetchone()[0]
            == 0
        )
        # Everyone else's part stays: Alice's question, Bob's thread and Bob's other thanks.
        assert (
            conn.execute(
                "SELECT count(*) FROM entries WHERE message_id IN ('q1', 'q2', 'a2')"
            ).fetchone()[0]
            == 3
        )
    finally:
        conn.close()


def _tables(conn: sqlite3.Connection) -> list[str]:
    """Ordinary tables, without FTS5's shadow tables (their segments keep deleted tokens
    until a merge; the index itself is checked with a MATCH)."""
    names = [
        str(r[0])
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    ]
    fts = [n for n in names if n.endswith("_fts") or "_fts_" in n]
    return [n for n in names if n not in fts and not n.startswith("sqlite_")]


def _rows_pointing_at(conn: sqlite3.Connection, member_id: int) -> list[tuple[str, str]]:
    """(table, column) of every row whose foreign key to ``members`` holds ``member_id``."""
    found = []
    for table in _tables(conn):
        for fk in conn.execute(f"PRAGMA foreign_key_list('{table}')").fetchall():
            target, column = fk[2], fk[3]
            if target != "members":
                continue
            hits = conn.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}" = ?', [member_id]
            ).fetchone()[0]
            if hits:
                found.append((table, column))
    return found


def _values_mentioning(conn: sqlite3.Connection, needles: tuple[str, ...]) -> list[str]:
    """``table: value`` for every text value that contains one of ``needles`` (any case)."""
    lowered = [n.casefold() for n in needles]
    found = []
    for table in _tables(conn):
        for row in conn.execute(f'SELECT * FROM "{table}"').fetchall():
            for value in row:
                text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
                if isinstance(text, str) and any(n in text.casefold() for n in lowered):
                    found.append(f"{table}: {text[:80]}")
    return found


# ----------------------------------------------------------------------------- what forget takes


def test_forget_finds_the_member_by_at_name_on_the_platform_asked(tmp_path: Path) -> None:
    core = build_core(Settings(), tmp_path / "p.db", clock=FixedClock(NOW))
    try:
        on_discord = Where("discord", "G1", "900", Visibility.PUBLIC, "general")
        for where, user in ((HELP, "UXIO"), (on_discord, "777")):
            who = Actor(where.platform, user, "Xiomara", where.workspace)
            core.handle(IncomingMessage(where, who, f"q-{user}", "Why is xio slow?", NOW))
        assert {p.member.platform for p in plan_for(core, "@Xiomara")} == {"slack", "discord"}
        (plan,) = plan_for(core, "@Xiomara", "discord")
        assert (plan.member.platform, plan.member.user_id) == ("discord", "777")
        with pytest.raises(UserError, match="No member called 'nobody'"):
            plan_for(core, "nobody")
    finally:
        core.repertoire.close()


def test_forgetting_an_asker_keeps_the_answers_but_not_their_acceptance(tmp_path: Path) -> None:
    """The answer was accepted by another member's vote: the asker's forget still unsettles it
    (there is no question left to accept it for)."""
    settings = Settings.model_validate({"capture": {"accept_votes": 1}})
    core = build_core(settings, tmp_path / "a.db", clock=FixedClock(NOW))
    try:
        core.handle(IncomingMessage(HELP, ALICE, "q1", "How do I shrink a DataFrame?", NOW))
        core.handle(IncomingMessage(HELP, BOB, "a1", "Use category dtype.", NOW, "q1"))
        core.handle(ReactionChange(HELP, "a1", ZEPH, "white_check_mark", True, at=NOW))
        core.handle(ReactionChange(HELP, "q1", ALICE, "eyes", True, at=NOW))
        assert _by_message(core, "a1")[0].accepted
        (plan,) = plan_for(core, "Alice")
        assert plan.reactions == 1
        carry_out(core, plan)
        (answer,) = _by_message(core, "a1")
        assert answer.text == "Use category dtype." and not answer.accepted
        assert _by_message(core, "q1") == []
        reactions = (
            sqlite_of(core.repertoire).db.execute("SELECT user_id FROM reactions").fetchall()
        )
        assert [tuple(r) for r in reactions] == [(ZEPH.user_id,)]  # others' reactions stay
    finally:
        core.repertoire.close()


def test_the_plan_holds_every_entry_of_a_prolific_member(tmp_path: Path) -> None:
    """More entries than any listing's default page: forget takes them all."""
    core = build_core(Settings(), tmp_path / "many.db", clock=FixedClock(NOW))
    try:
        for n in range(130):
            core.handle(
                IncomingMessage(HELP, BOB, f"q{n}", f"Why does job {n} fail?", NOW + timedelta(n))
            )
        (plan,) = plan_for(core, "Bob")
        assert len(plan.entries) == 130
        carry_out(core, plan)
        assert (
            sqlite_of(core.repertoire).db.execute("SELECT count(*) FROM entries").fetchone()[0] == 0
        )
    finally:
        core.repertoire.close()


def _by_message(core: Core, message_id: str) -> list[Entry]:
    return core.repertoire.entries(
        Viewer.operator_including_private(), EntryFilter(message_id=message_id)
    )
