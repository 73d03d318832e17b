"""Configuration: defaults, the documented example, and one clear message per bad file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from bot.config import (
    CONFIG_ENV_VAR,
    ConfigError,
    Settings,
    find_config,
    load_settings,
    parse_settings,
)
from bot.events import Where

ROOT = Path(__file__).resolve().parent.parent
SECRET = "xoxb-1111111111-2222222222-abcdefghijklmnopqrstuvwx"


def write(tmp_path: Path, text: str, name: str = "copbot.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text))
    return str(caught.value)


# ------------------------------------------------------------------ good files


def test_no_file_gives_the_defaults() -> None:
    settings = load_settings(None)
    assert settings == Settings()
    assert settings.capture.accept_reaction == "white_check_mark"


def test_the_example_file_is_valid_and_documents_the_defaults() -> None:
    example = load_settings(ROOT / "config.example.toml")
    defaults = Settings()
    for section in ("capture", "channels", "search", "slack", "discord", "workers"):
        assert getattr(example, section) == getattr(defaults, section), section
    assert example.database == defaults.database
    assert example.community.timezone == defaults.community.timezone


def test_a_small_file_overrides_only_what_it_says(tmp_path: Path) -> None:
    settings = load_settings(
        write(
            tmp_path,
            """
            database = "data/cop.db"
            [community]
            timezone = "Europe/Paris"
            [capture]
            accept_votes = 2
            [[channels.rules]]
            channel = "slack:#random"
            capture = false
            [[digests]]
            channel = "slack:C1"
            time = "08:30"
            """,
        )
    )
    assert settings.database == "data/cop.db"
    assert settings.community.tz.key == "Europe/Paris"
    assert settings.capture.accept_votes == 2
    assert settings.capture.min_question_chars == Settings().capture.min_question_chars
    assert settings.digests[0].time == "08:30"
    assert not settings.rule_for(Where("slack", "T1", "C999", channel_name="random")).capture
    assert settings.rule_for(Where("slack", "T1", "C999", channel_name="general")).capture
    assert settings.rule_for(Where("discord", "G1", "C999", channel_name="random")).capture


def test_a_rule_by_id_wins_over_the_default(tmp_path: Path) -> None:
    settings = parse_settings(
        {"channels": {"capture_by_default": False, "rules": [{"channel": "slack:C1"}]}}
    )
    assert settings.rule_for(Where("slack", "T1", "C1")).capture
    assert not settings.rule_for(Where("slack", "T1", "C2")).capture


def test_a_rule_by_id_wins_over_one_by_name_and_a_workspace_narrows_a_rule() -> None:
    settings = parse_settings(
        {
            "channels": {
                "rules": [
                    {"channel": "slack:#help", "capture": False},
                    {"channel": "slack:C1", "capture": True},
                    {"channel": "slack:T2:C9", "capture": False},
                ]
            }
        }
    )
    assert settings.rule_for(Where("slack", "T1", "C1", channel_name="help")).capture
    assert not settings.rule_for(Where("slack", "T1", "C5", channel_name="HELP")).capture
    assert not settings.rule_for(Where("slack", "T2", "C9")).capture
    assert settings.rule_for(Where("slack", "T1", "C9")).capture


@pytest.mark.parametrize("bad", ["slack", "slack:", "slack:#", ":C1", "a:b:c:d"])
def test_a_channel_that_is_not_platform_id_is_refused_with_the_forms_allowed(bad: str) -> None:
    with pytest.raises(ConfigError, match="platform:ID"):
        parse_settings({"channels": {"rules": [{"channel": bad}]}})


# ------------------------------------------------------------------ finding the file


def test_find_config_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    assert find_config(None) is None
    write(tmp_path, "")
    assert find_config(None) == Path("copbot.toml")
    monkeypatch.setenv(CONFIG_ENV_VAR, str(tmp_path / "from-env.toml"))
    assert find_config(None) == tmp_path / "from-env.toml"
    assert find_config(tmp_path / "explicit.toml") == tmp_path / "explicit.toml"


# ------------------------------------------------------------------ bad files


def test_a_missing_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path / "nope.toml")
    message = str(caught.value)
    assert "nope.toml" in message and "not found" in message
    assert "config.example.toml" in message and CONFIG_ENV_VAR in message


def test_malformed_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    message = config_error(tmp_path, '[capture]\naccept_votes = 2\nsave_reaction = "pushpin\n')
    assert "copbot.toml" in message and "not valid TOML" in message
    assert "line 3" in message


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "copbot.toml"
    path.write_bytes(b'database = "caf\xe9.db"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(path)


@pytest.mark.parametrize(
    ("text", "key", "hint"),
    [
        ("[capture]\nmin_question_chars = 'twelve'", "capture.min_question_chars", "integer"),
        ("[capture]\naccept_votes = 0", "capture.accept_votes", "greater than or equal to 1"),
        ("[search]\nresults = 500", "search.results", "less than or equal to 20"),
        ("database = 5", "database", "string"),
        ("[community]\ntimezone = 'Mars/Olympus'", "community.timezone", "IANA"),
        ("[slack]\nmode = 'pigeon'", "slack.mode", "socket"),
        ("[slack]\nenabled = 'yes please'", "slack.enabled", "boolean"),
        ("[[channels.rules]]\nchannel = 'C0123'", "channels.rules.0.channel", "platform:ID"),
        ("[[channels.rules]]\ncapture = false", "channels.rules.0.channel", "required"),
        ("[[digests]]\nchannel = 'slack:C1'\ntime = '25:00'", "digests.0.time", "0-23"),
        ("[[digests]]\nchannel = 'slack:C1'\ntime = '9am'", "digests.0.time", "HH:MM"),
        ("[capture]\nsave_reaktion = 'pushpin'", "capture.save_reaktion", "unknown key"),
        ("capture = 3", "capture", "valid"),
    ],
)
def test_wrong_values_name_the_key(tmp_path: Path, text: str, key: str, hint: str) -> None:
    message = config_error(tmp_path, text)
    assert "copbot.toml" in message
    assert f"{key}:" in message
    assert hint.lower() in message.lower()
    assert "1 problem" in message


def test_every_problem_is_listed_once(tmp_path: Path) -> None:
    message = config_error(tmp_path, "[search]\nresults = 0\n[capture]\naccept_votes = 0\n")
    assert "2 problem" in message
    assert message.count("search.results:") == 1 and message.count("capture.accept_votes:") == 1


@pytest.mark.parametrize(
    "text",
    [
        f"[slack]\nbot_token = '{SECRET}'",
        f"[slack]\nsigning_secret = '{SECRET}'",
        f"[slack]\nAPP_TOKEN = '{SECRET}'",
        f"[discord]\ntoken = '{SECRET}'",
        f"slack_bot_token = '{SECRET}'",
        f"[community]\npassword = '{SECRET}'",
    ],
)
def test_secrets_are_refused_with_a_pointer_to_the_environment(tmp_path: Path, text: str) -> None:
    message = config_error(tmp_path, text)
    assert "secrets do not belong in the config file" in message
    assert "SLACK_BOT_TOKEN" in message and "DISCORD_TOKEN" in message
    assert SECRET not in message


# ------------------------------------------------------------------ through the command line


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


BAD_FILES = {
    "malformed": ("[capture\nx = 1", "not valid TOML"),
    "wrong type": ("[search]\nresults = 'many'", "search.results:"),
    "secret": (f"[slack]\nbot_token = '{SECRET}'", "slack.bot_token: secrets do not belong"),
    "unknown key": ("[serch]\nresults = 3", "serch: unknown key"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
@pytest.mark.parametrize("command", [["stats"], ["search", "pandas"], ["chat"], ["demo"], ["run"]])
def test_a_bad_config_exits_2_with_one_message(
    runner: CliRunner, tmp_path: Path, command: list[str], case: str
) -> None:
    text, expected = BAD_FILES[case]
    path = write(tmp_path, text, "bad.toml")
    result = runner.invoke(cli, [*command, "--config", str(path), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2, result.output
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and SECRET not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "x.db").exists()  # nothing was started


def test_a_missing_config_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["stats", "--config", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2
    assert "missing.toml not found" in result.stderr


def test_a_missing_config_from_the_environment_exits_2(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CONFIG_ENV_VAR, str(tmp_path / "gone.toml"))
    result = runner.invoke(cli, ["stats", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2
    assert "gone.toml not found" in result.stderr


def test_copbot_toml_in_the_working_directory_is_read(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path, "[search]\nresults = 'many'")
    result = runner.invoke(cli, ["stats", "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 2 and "search.results" in result.stderr


def test_the_real_process_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "[capture]\nmin_question_chars = 'twelve'")
    env = {k: v for k, v in os.environ.items() if k != CONFIG_ENV_VAR}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "copbot"), "stats", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "capture.min_question_chars" in done.stderr
    assert done.stderr.count("\n") <= 3  # one message, no traceback
