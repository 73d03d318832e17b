"""The Discord adapter's set-up: token, intents, invite link, digests, and `copbot run`."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from adapters.discord.adapter import DiscordAdapter
from adapters.discord.client import REQUIRED_PERMISSIONS, SCOPES, copbot_intents, invite_url
from adapters.runner import make_adapters
from bot.app import build_core
from bot.config import ConfigError, DiscordSettings, Settings
from bot.events import Post, PostSection, Visibility, Where
from bot.runtime import AsyncCore
from tests import discord_harness as dh

README = Path(__file__).resolve().parent.parent / "README.md"
GENERAL = 210


def test_without_a_token_the_adapter_says_which_variable_to_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    core = AsyncCore(build_core(Settings(), tmp_path / "c.db"))
    try:
        with pytest.raises(ConfigError, match="DISCORD_TOKEN"):
            DiscordAdapter(core, Settings())
    finally:
        core.close()
        core.core.services.repertoire.close()


def test_copbot_run_with_discord_enabled_and_no_token_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    config = tmp_path / "copbot.toml"
    config.write_text("[discord]\nenabled = true\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["run", "--config", str(config), "--db", str(tmp_path / "c.db")]
    )
    assert result.exit_code == 2
    assert "DISCORD_TOKEN is not set" in result.output


def test_the_runner_builds_the_discord_adapter_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "MTAx.fake.token-value-for-test"
    monkeypatch.setenv("DISCORD_TOKEN", secret)
    settings = Settings(discord=DiscordSettings(enabled=True))
    core = AsyncCore(build_core(settings, tmp_path / "c.db"))
    try:
        [adapter] = make_adapters(core, settings, http=False, port=None)
        assert isinstance(adapter, DiscordAdapter)
        assert adapter.platform == "discord"
        assert secret not in repr(vars(adapter.client))  # the token is not kept on the client
    finally:
        core.close()
        core.core.services.repertoire.close()


def test_intents_are_the_four_the_features_need() -> None:
    intents = copbot_intents()
    enabled = {name for name, on in intents if on}
    assert enabled == {"guilds", "guild_messages", "guild_reactions", "message_content"}


def test_the_readme_invite_link_asks_exactly_for_the_needed_scopes_and_permissions() -> None:
    readme = README.read_text(encoding="utf-8")
    links = re.findall(r"https://discord\.com/oauth2/authorize\?\S+", readme)
    assert links, "the README has no invite link"
    for link in links:
        assert "scope=bot+applications.commands&" in link
        assert f"permissions={REQUIRED_PERMISSIONS.value}" in link
    assert invite_url(42).endswith(
        f"client_id=42&scope={'+'.join(SCOPES)}&permissions={REQUIRED_PERMISSIONS.value}"
    )
    assert not REQUIRED_PERMISSIONS.administrator
    assert not REQUIRED_PERMISSIONS.manage_messages


async def test_a_digest_post_is_an_embed_with_its_chart_attached(tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n fake")
    async with dh.running(tmp_path) as h:
        h.add_guild(dh.guild([dh.text_channel(GENERAL, "general")]))
        post = Post(
            Where("discord", str(dh.GUILD_ID), str(GENERAL), Visibility.PUBLIC, "general"),
            "Weekly digest",
            sections=(PostSection("New know-how", ("Use polars", "Pin your runners"), more=2),),
            image_path=str(chart),
        )
        message_id = await h.adapter.post(post)

        [sent] = h.api.calls_to("POST", f"/channels/{GENERAL}/messages")
        assert sent.body["files"] == ["chart.png"]
        [embed] = sent.body["embeds"]
        assert embed["title"] == "Weekly digest"
        assert embed["image"]["url"] == "attachment://chart.png"
        [section] = embed["fields"]
        assert section["name"] == "New know-how"
        assert section["value"] == "• Use polars\n• Pin your runners\n…and 2 more"
        assert message_id is not None and int(message_id) in h.api.sent
        assert sent.body["allowed_mentions"]["parse"] == []  # a plain digest pings nobody


async def test_a_digest_pings_exactly_the_members_the_core_chose(tmp_path: Path) -> None:
    from bot.mentions import mention

    async with dh.running(tmp_path) as h:
        h.add_guild(dh.guild([dh.text_channel(GENERAL, "general")]))
        expert = mention("4242", "Chen")
        post = Post(
            Where("discord", str(dh.GUILD_ID), str(GENERAL), Visibility.PUBLIC, "general"),
            "Weekly digest",
            sections=(
                PostSection(
                    "Still open",
                    (f"Why is pandas slow? <@999> asked — who knows: {expert}",),
                    more=3,
                    more_command="/cop search is:unanswered",
                ),
            ),
        )
        await h.adapter.post(post)
        [sent] = h.api.calls_to("POST", f"/channels/{GENERAL}/messages")
        [section] = sent.body["embeds"][0]["fields"]
        assert "who knows: <@4242>" in section["value"] and "\x0e" not in section["value"]
        assert section["value"].endswith("…and 3 more: `/cop search is:unanswered`")
        assert sent.body["content"] == "<@4242>"
        assert sent.body["allowed_mentions"] == {"parse": [], "users": [4242]}


async def test_a_rate_limit_and_an_outage_are_retried_and_the_digest_posts_once(
    tmp_path: Path,
) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(dh.guild([dh.text_channel(GENERAL, "general")]))
        path = f"/channels/{GENERAL}/messages"
        h.api.fail_once("POST", path, 429)
        h.api.fail_once("POST", path, 502)
        post = Post(
            Where("discord", str(dh.GUILD_ID), str(GENERAL), Visibility.PUBLIC, "general"),
            "Weekly digest",
            sections=(PostSection("New know-how", ("Use polars",)),),
        )
        message_id = await h.adapter.post(post)
        assert len(h.api.calls_to("POST", path)) == 3  # discord.py's own retries
        assert list(h.api.sent) == [int(message_id or 0)]  # and one message posted
