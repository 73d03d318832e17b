"""Platforms fail alone: ``copbot run`` keeps serving the others, retries, or stops cleanly.

The real runner builds everything from the config and the environment, as in
production; Slack's Web API and Discord's REST and gateway are the local fakes.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import socket
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from click.testing import CliRunner

from adapters.cli import cli
from adapters.runner import NothingToRun, run
from adapters.supervisor import Backoff, Supervisor
from bot.config import ConfigError, Settings
from bot.events import Post
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import Viewer
from tests import discord_harness as dh
from tests.slack_harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    TEAM,
    FakeSlackApi,
    running_fake_slack,
    sign,
)

QUICK = Backoff(first=0.01, factor=2.0, cap=0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def slack_http(fake: FakeSlackApi, db: Path, port: int, **discord: object) -> Settings:
    return Settings.model_validate(
        {
            "database": str(db),
            "slack": {
                "enabled": True,
                "mode": "http",
                "http_port": port,
                "api_url": f"{fake.url}/api/",
            },
            "discord": {"enabled": bool(discord), **discord},
        }
    )


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait for something the running bot does (a safety timeout only)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


async def slack_still_captures(port: int, db: Path) -> None:
    """Slack's HTTP endpoint answers and a question said there is kept."""
    async with aiohttp.ClientSession() as http:

        async def healthy() -> bool:
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    return resp.status == 200
            except aiohttp.ClientError:
                return False

        async def started() -> None:
            while not await healthy():
                await asyncio.sleep(0.02)

        await asyncio.wait_for(started(), 60)  # a safety net only: a loaded machine is slow
        event = {
            "type": "event_callback",
            "team_id": TEAM,
            "event_id": "Ev0ALONE",
            "event": {
                "type": "message",
                "channel": "C0PUBLIC",
                "channel_type": "channel",
                "user": "U0ASK",
                "text": "How do I keep serving when Discord is down?",
                "ts": "1800000001.000100",
            },
        }
        body = json.dumps(event)
        headers = {"Content-Type": "application/json", **sign(body)}
        async with http.post(
            f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
        ) as resp:
            assert resp.status == 200

    def kept() -> bool:
        repertoire = Repertoire.open(db)
        try:
            return len(repertoire.entries(Viewer.operator_including_private())) == 1
        finally:
            repertoire.close()

    await until(kept)


@pytest.fixture
def slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("DISCORD_TOKEN", "fake-discord-token")


async def cancelled(bot: asyncio.Task[None]) -> None:
    bot.cancel()
    with pytest.raises(asyncio.CancelledError):
        await bot


async def test_discord_unreachable_at_start_is_retried_while_slack_serves(
    tmp_path: Path, slack_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="adapters")
    db, port = tmp_path / "copbot.db", free_port()
    async with running_fake_slack() as fake:
        settings = slack_http(fake, db, port, guild_ids=[dh.GUILD_ID])
        # Nothing listens on port 9: every connection to "Discord" is refused.
        with dh.rest_base("http://127.0.0.1:9/api/v10"), dh.gateway_url("ws://127.0.0.1:9/"):
            bot = asyncio.create_task(run(settings, db, backoff=QUICK))
            await slack_still_captures(port, db)
            await until(lambda: caplog.text.count("Discord: cannot connect") >= 2)
            await cancelled(bot)
    assert "retrying in" in caplog.text and "(attempt 3)" in caplog.text


async def test_a_refused_discord_token_stops_discord_alone_with_one_error(
    tmp_path: Path, slack_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    db, port = tmp_path / "copbot.db", free_port()
    async with running_fake_slack() as fake, dh.serving() as discord:
        discord.answer("GET", "/users/@me", {"message": "401: Unauthorized", "code": 0}, 401)
        bot = asyncio.create_task(run(slack_http(fake, db, port, guild_ids=[]), db, backoff=QUICK))
        await slack_still_captures(port, db)
        await until(lambda: "Discord: stopped" in caplog.text)
        await asyncio.sleep(0.1)  # several backoff periods: no second login attempt
        assert len(discord.calls("GET", "/users/@me")) == 1
        await cancelled(bot)
    [stopped] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "DISCORD_TOKEN" in stopped.getMessage()


async def test_a_revoked_slack_app_token_stops_slack_instead_of_retrying_forever(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0-revoked")
    db = tmp_path / "copbot.db"
    async with running_fake_slack() as fake:
        fake.errors["apps.connections.open"] = "invalid_auth"
        settings = Settings.model_validate(
            {"database": str(db), "slack": {"enabled": True, "api_url": f"{fake.url}/api/"}}
        )
        with pytest.raises(NothingToRun, match="SLACK_APP_TOKEN"):
            await asyncio.wait_for(run(settings, db, backoff=QUICK), 60)
        assert fake.attempts("apps.connections.open") == 1
    assert "Failed to connect" not in caplog.text


async def test_a_refused_slack_bot_token_stops_slack_alone_while_discord_serves(
    tmp_path: Path, slack_env: None, caplog: pytest.LogCaptureFixture
) -> None:
    db, port = tmp_path / "copbot.db", free_port()
    async with running_fake_slack() as fake, dh.serving() as discord:
        fake.errors["auth.test"] = "token_revoked"
        settings = slack_http(fake, db, port, guild_ids=[])
        bot = asyncio.create_task(run(settings, db, backoff=QUICK))
        await discord.gateway.identified.wait()  # Discord connected despite Slack
        await until(lambda: "Slack: stopped" in caplog.text)
        assert "SLACK_BOT_TOKEN" in caplog.text
        assert fake.attempts("auth.test") == 1
        await cancelled(bot)


def test_copbot_run_with_no_platform_able_to_start_exits_2_naming_each_problem(
    tmp_path: Path,
) -> None:
    config = tmp_path / "copbot.toml"
    config.write_text("[slack]\nenabled = true\n[discord]\nenabled = true\n", encoding="utf-8")
    env = {"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "", "DISCORD_TOKEN": ""}
    result = CliRunner().invoke(
        cli, ["run", "--config", str(config), "--db", str(tmp_path / "c.db")], env=env
    )
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN" in result.output and "DISCORD_TOKEN" in result.output


class Flaky:
    """An adapter whose connection fails ``failures`` times, then whose token is refused."""

    platform = "flaky"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        if self.starts <= self.failures:
            raise OSError("Connection refused")
        raise ConfigError("token refused")

    async def post(self, post: Post) -> str | None:  # pragma: no cover - never posts
        return None

    async def close(self) -> None:
        return None


async def test_backoff_doubles_up_to_its_cap_and_a_config_error_stops_for_good() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    adapter = Flaky(failures=7)
    supervisor = Supervisor(adapter, Backoff(first=1, factor=2, cap=30), sleep=sleep)
    await supervisor.run()
    assert slept == [1, 2, 4, 8, 16, 30, 30]
    assert adapter.starts == 8
    assert supervisor.status == "stopped: token refused"


async def test_a_connection_that_held_resets_the_backoff() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    ticks = itertools.count(0.0, 120.0)  # each attempt ran two minutes: longer than healthy_after
    supervisor = Supervisor(
        Flaky(failures=3), Backoff(first=1), sleep=sleep, clock=lambda: next(ticks)
    )
    await supervisor.run()
    assert slept == [1, 1, 1]
