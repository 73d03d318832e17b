"""`copbot run` with Discord: one loop, the real gateway connection, one shared repertoire.

The runner builds everything itself from the config and the environment, as in
production; only Discord's servers are faked (REST and the gateway websocket).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.client import copbot_intents
from adapters.runner import run
from bot.app import build_core
from bot.config import ConfigError, DiscordSettings, Settings
from bot.events import Actor, IncomingMessage, Visibility, Where
from bot.runtime import AsyncCore
from tests import discord_harness as dh

GENERAL = 210
SLACK = Where("slack", "T0001", "C0DATA", Visibility.PUBLIC, "data-help")


def seed_slack_answer(settings: Settings, db: Path) -> None:
    """A question answered on Slack, in the same repertoire file (the community's Slack side)."""
    core = build_core(settings, db)
    when = dh.NOW - timedelta(days=3)
    try:
        core.handle(
            IncomingMessage(
                SLACK, Actor("slack", "U1", "Dana", "T0001"), "1700000000.000100",
                "How do I speed up a slow Airflow scheduler?", when,
                permalink="https://data.slack.com/archives/C0DATA/p1700000000000100",
            )
        )  # fmt: skip
        core.handle(
            IncomingMessage(
                SLACK, Actor("slack", "U2", "Eli", "T0001"), "1700000000.000200",
                "Raise parsing_processes and check the scheduler loop time", when,
                thread_id="1700000000.000100",
            )
        )  # fmt: skip
    finally:
        core.services.repertoire.close()


async def test_copbot_run_connects_to_discord_and_shares_one_repertoire_with_slack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "fake-token-from-env")
    db = tmp_path / "community.db"
    settings = Settings(database=str(db), discord=DiscordSettings(enabled=True))
    seed_slack_answer(settings, db)

    async with dh.serving() as discord:
        bot = asyncio.create_task(run(settings, db))
        await discord.gateway.identified.wait()
        assert discord.gateway.identify is not None
        assert discord.gateway.identify["token"] == "fake-token-from-env"
        assert discord.gateway.identify["intents"] == copbot_intents().value

        await discord.gateway.dispatch(
            "GUILD_CREATE", dh.guild([dh.text_channel(GENERAL, "general")])
        )
        question = dh.new_id()
        await discord.gateway.dispatch(
            "MESSAGE_CREATE",
            dh.message(question, GENERAL, (11, "Alice"), "Why is the Airflow scheduler slow?"),
        )
        search = dh.slash_command(
            dh.text_channel(GENERAL, "general"), (13, "Carol"), "search", query="airflow scheduler"
        )
        await discord.gateway.dispatch("INTERACTION_CREATE", search)
        results = await discord.wait_for("POST", f"/webhooks/{dh.APP_ID}/{search['token']}")

        links = {embed.get("url") for embed in results.body["embeds"]}
        assert "https://data.slack.com/archives/C0DATA/p1700000000000100" in links
        assert f"https://discord.com/channels/{dh.GUILD_ID}/{GENERAL}/{question}" in links

        bot.cancel()
        with pytest.raises(asyncio.CancelledError):
            await bot


async def test_a_refused_token_is_a_config_error_that_says_what_to_do(tmp_path: Path) -> None:
    core = AsyncCore(build_core(Settings(), tmp_path / "c.db"))
    try:
        async with dh.serving() as discord:
            discord.answer("GET", "/users/@me", {"message": "401: Unauthorized", "code": 0}, 401)
            adapter = DiscordAdapter(core, Settings(), token="revoked")
            with pytest.raises(ConfigError, match="refused DISCORD_TOKEN"):
                await adapter.start()
            await adapter.close()
    finally:
        core.close()
        core.core.services.repertoire.close()


async def test_message_content_intent_not_enabled_is_a_config_error(tmp_path: Path) -> None:
    core = AsyncCore(build_core(Settings(), tmp_path / "c.db"))
    try:
        async with dh.serving() as discord:
            discord.gateway.close_after_identify = 4014  # "Disallowed intent(s)"
            adapter = DiscordAdapter(core, Settings(), token="fake", sync_commands=False)
            with pytest.raises(ConfigError, match="Message Content Intent"):
                await adapter.start()
            await adapter.close()
    finally:
        core.close()
        core.core.services.repertoire.close()


async def test_a_close_cancelled_as_it_begins_still_closes_the_http_session(
    tmp_path: Path,
) -> None:
    # The runner stopping while a retry closes the failed attempt cancels that close.
    # discord.py closes in a task of its own and keeps it: cancelled before it ran, it
    # left the HTTP session open (a ResourceWarning later) and every later close raising.
    async with dh.running(tmp_path) as harness:
        connector = harness.client.http.connector
        assert not connector.closed  # logged in: discord.py's session is open
        closing = asyncio.create_task(harness.adapter.close())
        await asyncio.sleep(0)  # close() began: discord.py's closing task is made, not run
        closing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await closing
        assert connector.closed
        await harness.adapter.close()  # a later close (the runner's, on the way out) is quiet
