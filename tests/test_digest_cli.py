"""``copbot digest`` and the demo's scheduled digest, driven as a user would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from bot.ports import FixedClock


def _seeded(tmp_path: Path) -> Path:
    db = tmp_path / "demo.db"
    result = CliRunner().invoke(cli, ["demo", "--db", str(db)], input="")
    assert result.exit_code == 0, result.output
    return db


def test_dry_run_prints_the_channel_digest(tmp_path: Path) -> None:
    db = _seeded(tmp_path)
    result = CliRunner().invoke(
        cli, ["digest", "--channel", "console:#data-help", "--days", "30", "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    assert "30-day digest for #data-help" in result.output
    assert "Still open, oldest first" in result.output
    # The private channel's open questions never show in a public channel's digest.
    assert "Kafka Connect S3 sink" not in result.output
    private = CliRunner().invoke(
        cli, ["digest", "--channel", "console:G03PLATFORM", "--days", "3", "--db", str(db)]
    )
    assert "Kafka Connect S3 sink" in private.output


def test_post_posts_a_period_once(tmp_path: Path) -> None:
    db = _seeded(tmp_path)
    args = ["digest", "--channel", "console:C01HELP", "--post", "--db", str(db)]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert "Weekly digest for #data-help" in first.output and "Posted the digest" in first.output
    second = CliRunner().invoke(cli, args)
    assert second.exit_code == 0
    assert "Nothing posted" in second.output and "is posted" in second.output
    assert "Weekly digest" not in second.output


def test_a_bad_channel_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["digest", "--channel", "data-help", "--db", str(tmp_path / "x.db")]
    )
    assert result.exit_code == 2
    assert "'platform:ID' or 'platform:#name'" in result.output


def test_demo_posts_the_scheduled_digest_as_it_fires(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # copbot's clock stands still: which minute is "the last one" must not depend on how
    # long a loaded machine takes to run the demo (crossing a minute made a second post).
    clock = FixedClock(datetime.now(UTC).replace(second=30, microsecond=0))
    monkeypatch.setattr("bot.app.SystemClock", lambda: clock)
    db = _seeded(tmp_path)
    demo = ["demo", "--db", str(db), "--digest-every", "1", "--no-web"]
    result = CliRunner().invoke(cli, demo, input="/cop stats\n")
    assert result.exit_code == 0, result.output
    # The last minute's digest was missed (the demo was not running): it is caught up once.
    assert result.output.count("copbot posted in #data-help") == 1
    assert "Weekly digest for #data-help" in result.output
    again = CliRunner().invoke(cli, demo, input="")
    assert again.exit_code == 0, again.output
    # A restart within the same minute posts nothing more; a later minute is a new period.
    assert again.output.count("copbot posted in") == 0
    clock.at += timedelta(minutes=1)
    later = CliRunner().invoke(cli, demo, input="")
    assert later.exit_code == 0, later.output
    assert later.output.count("copbot posted in #data-help") == 1
