"""``copbot forget``: a member's entries, reactions and profile go, and stay gone."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from bot.app import build_core
from bot.config import CONFIG_ENV_VAR, Settings
from bot.core import Core
from bot.events import Actor, IncomingMessage, ReactionChange, Visibility, Where
from bot.forget import carry_out, plan_for
from bot.ports import FixedClock
from knowledge.storage import EntryFilter, Viewer
from tests.streams import START

HELP = Where("slack", "T1", "C1", Visibility.PUBLIC, "help")
ASKER = Actor("slack", "U1", "Ada Asker", "T1")
HELPER = Actor("slack", "U2", "Hal Helper", "T1")
VOTERS = [Actor("slack", f"V{i}", f"Voter {i}", "T1") for i in range(3)]

EVERYTHING = Viewer.operator_including_private()


def _thread(core: Core, number: int, asker: Actor = ASKER) -> None:
    at = START + timedelta(minutes=number)
    core.handle(IncomingMessage(HELP, asker, f"q{number}", f"How do I fix build {number}?", at))
    core.handle(
        IncomingMessage(
            HELP, HELPER, f"a{number}", f"Pin the version {number}", at, thread_id=f"q{number}"
        )
    )


def test_forget_removes_entries_reactions_and_profile_and_resettles_votes(tmp_path: Path) -> None:
    settings = Settings.model_validate({"capture": {"accept_votes": 2, "asker_accepts": False}})
    core = build_core(settings, tmp_path / "f.db", clock=FixedClock(START))
    try:
        _thread(core, 1)
        _thread(core, 2, asker=VOTERS[2])
        for voter in VOTERS[:2]:  # two votes accept a2
            core.handle(ReactionChange(HELP, "a2", voter, "white_check_mark", True, at=START))
        answer = core.repertoire.entries_for_message(
            core.repertoire.entries(EVERYTHING, EntryFilter(message_id="a2"))[0].source
        )[0]
        assert answer.accepted
        (plan,) = plan_for(core, "Voter 0")
        carry_out(core, plan)
        # Voter 0's vote is gone: one vote left, below the threshold.
        assert not core.repertoire.entries(EVERYTHING, EntryFilter(message_id="a2"))[0].accepted
        (plan,) = plan_for(core, "ada")
        assert [e.source.message_id for e in plan.entries] == ["q1"]
        carry_out(core, plan)
        repertoire, q1 = core.repertoire, EntryFilter(message_id="q1")
        assert repertoire.members_with_user_id("slack", "U1") == []
        assert repertoire.count_entries(EVERYTHING, q1) == 0
        # A replay of the forgotten member's message does not bring it back.
        core.handle(IncomingMessage(HELP, ASKER, "q1", "How do I fix build 1?", START))
        assert repertoire.count_entries(EVERYTHING, q1) == 0
    finally:
        core.repertoire.close()


def test_forget_dry_run_lists_and_keeps_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "cli.db"
    core = build_core(Settings(), db, clock=FixedClock(START))
    try:
        _thread(core, 1)
    finally:
        core.repertoire.close()
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray ./copbot.toml
    runner = CliRunner()

    def copbot(*args: str) -> str:
        result = runner.invoke(cli, [*args, "--db", str(db)])
        assert result.exit_code == 0, result.output
        return result.stdout

    dry = copbot("forget", "Ada Asker", "--dry-run")
    assert "1 entries" in dry and "Dry run" in dry
    assert json.loads(copbot("stats", "--json"))["questions"] == 1
    copbot("forget", "Ada Asker", "--yes")
    assert json.loads(copbot("stats", "--json"))["questions"] == 0
    # The real process: an unknown member is exit code 1 and one line on stderr.
    unknown = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "forget", "nobody", "--db", str(db)],
        capture_output=True,
        text=True,
    )
    assert unknown.returncode == 1 and "No member called" in unknown.stderr


def test_read_marks_advance_and_never_go_back(tmp_path: Path) -> None:
    core = build_core(Settings(), tmp_path / "m.db", clock=FixedClock(START))
    try:
        core.handle(IncomingMessage(HELP, ASKER, "m2", "later chatter", START + timedelta(hours=2)))
        core.handle(
            IncomingMessage(HELP, ASKER, "m1", "earlier chatter", START + timedelta(hours=1))
        )
        dm = Where("slack", "T1", "D9", Visibility.DM, "dm")
        core.handle(IncomingMessage(dm, ASKER, "d1", "secret", START + timedelta(hours=3)))
        marks = core.read_marks("slack")
        assert [(ref.channel, mark[1]) for ref, mark in marks.items()] == [("C1", "m2")]
    finally:
        core.repertoire.close()


def test_removing_the_bot_stops_capture_until_it_is_back(tmp_path: Path) -> None:
    from bot.events import BotJoinedChannel, MemberLeftChannel

    secret = Where("slack", "T1", "G1", Visibility.PRIVATE, "secret")
    core = build_core(Settings(), tmp_path / "s.db", clock=FixedClock(START))
    try:
        core.handle(MemberLeftChannel(secret, "left-1"))
        core.handle(IncomingMessage(secret, ASKER, "g1", "How do I rotate the key?", START))
        assert core.repertoire.count_entries(EVERYTHING) == 0
        core.handle(BotJoinedChannel(secret, "joined-1"))
        core.handle(IncomingMessage(secret, ASKER, "g2", "How do I rotate the key?", START))
        assert core.repertoire.count_entries(EVERYTHING) == 1
    finally:
        core.repertoire.close()
