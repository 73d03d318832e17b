# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""Setup made easy: the manifest, `copbot doctor`, missing tokens, HTTP mode's health check."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from adapters.slack.adapter import SlackAdapter, SlackSetupError
from adapters.slack.blocks import ACCEPT_SHORTCUT, SAVE_SHORTCUT
from adapters.slack.scopes import BOT_EVENTS, BOT_SCOPES
from bot.app import build_core
from bot.config import Settings, SlackSettings
from bot.runtime import AsyncCore
from tests.slack_harness import FakeSlackApi, SlackHarness, fake_slack, sign, slack  # noqa: F401

MANIFEST = Path(__file__).parent.parent / "adapters" / "slack" / "manifest.yaml"
BOT_TOKEN = "xoxb-1111-2222-secretsecretsecret"
APP_TOKEN = "xapp-1-A111-2222-secretsecretsecret"


def yaml_list(text: str, key: str) -> list[str]:
    """The items of a block list under ``key:`` (the manifest's simple YAML subset)."""
    match = re.search(rf"^(\s*){re.escape(key)}:\n((?:\1\s+- .*\n)+)", text, re.M)
    assert match, key
    return [line.split("- ", 1)[1].strip() for line in match.group(2).splitlines()]


def test_manifest_asks_for_exactly_the_scopes_events_and_shortcuts_copbot_uses() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    assert yaml_list(text, "bot") == list(BOT_SCOPES)
    assert yaml_list(text, "bot_events") == list(BOT_EVENTS)
    assert f"callback_id: {SAVE_SHORTCUT}" in text and f"callback_id: {ACCEPT_SHORTCUT}" in text
    assert f"command: {SlackSettings().command}" in text
    assert "socket_mode_enabled: true" in text


async def doctor(fake: FakeSlackApi, env: dict[str, str], *args: str) -> tuple[int, str]:
    runner = CliRunner()
    full_env = {"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "", "SLACK_SIGNING_SECRET": "", **env}
    result = await asyncio.to_thread(
        runner.invoke, cli, ["doctor", "--api-url", f"{fake.url}/api/", *args], env=full_env
    )
    return result.exit_code, result.output


async def test_doctor_passes_with_good_tokens(fake_slack: FakeSlackApi) -> None:
    code, out = await doctor(
        fake_slack, {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}
    )
    assert code == 0, out
    assert "bot @copbot in workspace Acme" in out and "Socket Mode is enabled" in out
    assert "secret" not in out


async def test_doctor_names_missing_scopes_and_tokens(fake_slack: FakeSlackApi) -> None:
    fake_slack.scopes = "commands,chat:write,channels:history"
    code, out = await doctor(fake_slack, {"SLACK_BOT_TOKEN": BOT_TOKEN})
    assert code == 1
    assert "reactions:read" in out and "users:read" in out and "reinstall" in out
    assert "commands:" not in out  # granted scopes are not listed as missing
    assert "SLACK_APP_TOKEN is not set" in out
    assert "secret" not in out


async def test_doctor_http_mode_wants_the_signing_secret(fake_slack: FakeSlackApi) -> None:
    code, out = await doctor(fake_slack, {"SLACK_BOT_TOKEN": "xoxp-user-token"}, "--http")
    assert code == 1
    assert "does not look like a bot token" in out and "SLACK_SIGNING_SECRET is not set" in out
    assert "xoxp-user-token" not in out


async def test_missing_tokens_are_a_clear_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    core = build_core(Settings(), tmp_path / "db.sqlite")
    async_core = AsyncCore(core)
    try:
        with pytest.raises(SlackSetupError, match="SLACK_APP_TOKEN"):
            SlackAdapter(async_core, Settings(), http=False, port=None)
        with pytest.raises(SlackSetupError, match="SLACK_SIGNING_SECRET") as info:
            SlackAdapter(async_core, Settings(), http=True, port=None)
        assert BOT_TOKEN not in str(info.value)
    finally:
        async_core.close()
        core.services.repertoire.close()


async def test_http_mode_answers_the_url_check_and_the_health_check(slack: SlackHarness) -> None:
    body = json.dumps({"token": "x", "challenge": "chal-123", "type": "url_verification"})
    async with slack.http.post(
        slack.url, data=body, headers={"Content-Type": "application/json", **sign(body)}
    ) as resp:
        assert resp.status == 200 and "chal-123" in await resp.text()
    async with slack.http.get(slack.url.replace("/slack/events", "/healthz")) as resp:
        assert resp.status == 200


def test_run_without_tokens_says_which_are_missing(tmp_path: Path) -> None:
    config = tmp_path / "copbot.toml"
    config.write_text("[slack]\nenabled = true\n", encoding="utf-8")
    env = {"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "", "SLACK_SIGNING_SECRET": ""}
    result = CliRunner().invoke(
        cli, ["run", "--config", str(config), "--db", str(tmp_path / "db.sqlite")], env=env
    )
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN, SLACK_APP_TOKEN" in result.output
    assert "copbot doctor" in result.output
