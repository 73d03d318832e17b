"""Config that says two things at once is refused, naming the keys (exit code 2).

Through the real command line: ``copbot stats --config FILE``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli


def refused(tmp_path: Path, toml: str) -> str:
    config = tmp_path / "copbot.toml"
    config.write_text(toml, "utf-8")
    result = CliRunner().invoke(
        cli, ["stats", "--config", str(config), "--db", str(tmp_path / "c.db")]
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize(
    ("capture", "message"),
    [
        (
            'accept_reaction = "pushpin"',
            "capture.accept_reaction and capture.save_reaction are the same reaction (📌)",
        ),
        (  # a name and its emoji are one reaction
            'save_reaction = "✅"',
            "capture.accept_reaction and capture.save_reaction are the same reaction (✅)",
        ),
        (
            'thanks_reaction = ":white_check_mark:"',
            "capture.accept_reaction and capture.thanks_reaction are the same reaction (✅)",
        ),
        (
            'kind_reactions = { pray = "story" }',
            "capture.thanks_reaction and capture.kind_reactions.pray are the same reaction (🙏)",
        ),
    ],
)
def test_one_emoji_for_two_reaction_roles_is_refused(
    tmp_path: Path, capture: str, message: str
) -> None:
    output = refused(tmp_path, f"[capture]\n{capture}\n")
    assert message in output and "give each role its own emoji" in output


@pytest.mark.parametrize(
    ("capture", "key"),
    [
        ('accept_reaction = ""', "capture.accept_reaction"),
        ('save_reaction = "::"', "capture.save_reaction"),
        ('thanks_reaction = "  "', "capture.thanks_reaction"),
        ('kind_reactions = { "" = "story" }', "capture.kind_reactions"),
    ],
)
def test_an_empty_reaction_name_is_refused(tmp_path: Path, capture: str, key: str) -> None:
    output = refused(tmp_path, f"[capture]\n{capture}\n")
    assert f"{key}: " in output
    assert "reaction" in output.split(f"{key}: ", 1)[1].splitlines()[0]


@pytest.mark.parametrize(("extra", "named"), [('days = "mon"', "days"), ('time = "08:00"', "time")])
def test_every_minutes_with_days_or_time_is_refused(tmp_path: Path, extra: str, named: str) -> None:
    output = refused(tmp_path, f'[[digests]]\nchannel = "slack:C1"\nevery_minutes = 30\n{extra}\n')
    assert f"digests.0: every_minutes fires every N minutes, so {named} would be ignored" in output


def test_every_minutes_alone_and_days_alone_are_fine(tmp_path: Path) -> None:
    config = tmp_path / "copbot.toml"
    config.write_text(
        '[[digests]]\nchannel = "slack:C1"\nevery_minutes = 30\n'
        '[[digests]]\nchannel = "slack:C2"\ndays = "mon,thu"\ntime = "08:00"\n',
        "utf-8",
    )
    result = CliRunner().invoke(
        cli, ["stats", "--config", str(config), "--db", str(tmp_path / "c.db")]
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("first", "second"),
    [("slack:C0123", "slack:C0123"), ("slack:#Random", "slack:#random"), ("Slack:C9", "slack:C9")],
)
def test_two_rules_for_one_channel_are_refused(tmp_path: Path, first: str, second: str) -> None:
    output = refused(
        tmp_path,
        f'[[channels.rules]]\nchannel = "{first}"\ncapture = false\n'
        '[[channels.rules]]\nchannel = "slack:COTHER"\n'
        f'[[channels.rules]]\nchannel = "{second}"\nsuggest_similar = false\n',
    )
    assert f"channels.rules 1 and 3 are both for {second}" in output
    assert "merge them into one [[channels.rules]]" in output
