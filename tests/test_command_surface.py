"""One command surface: the core's registry is what every platform offers and registers.

Discord's slash commands are generated from the registry (a command added to
the core appears on Discord with no adapter change); ``copbot commands`` prints
exactly what would be registered; Discord registration happens only when that
payload changed and never stops start-up.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from adapters.slack.manifest import manifest_commands
from bot.app import build_core, command_registry
from bot.command_registry import CommandContext, CommandRegistry, CommandSpec, Param
from bot.config import Settings
from bot.core import Core
from bot.events import Outbound
from bot.ports import FixedClock, Services
from knowledge.models import EntryKind
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import EntryFilter, Viewer
from tests import discord_harness as dh

GENERAL = 210
ALICE = (11, "Alice")
BOB = (12, "Bob")
GUILD_COMMANDS = f"/applications/{dh.APP_ID}/guilds/{dh.GUILD_ID}/commands"
MANIFEST = Path(__file__).parent.parent / "adapters" / "slack" / "manifest.yaml"
#: Discord's rules for command and option names (API reference, "Application Commands":
#: names match ^[-_'\p{L}\p{N}...]{1,32}$, lowercase for CHAT_INPUT); descriptions 1-100.
NAME = re.compile(r"^[-_a-z0-9]{1,32}$")


def guild_settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {"database": str(tmp_path / "copbot.db"), "discord": {"guild_ids": [dh.GUILD_ID]}}
    )


def printed(*args: str) -> str:
    result = CliRunner().invoke(cli, ["commands", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def help_commands() -> set[str]:
    """The sub-commands ``/cop help`` names (``• `/cop name ...` — ...`` lines)."""
    return set(re.findall(r"^• `/cop (\w+)", command_registry().help_text(), re.M))


def test_the_printed_discord_payload_lists_every_command_help_lists() -> None:
    payload = json.loads(printed("--platform", "discord", "--json"))
    [group] = [c for c in payload if c["name"] == "cop"]
    assert {option["name"] for option in group["options"]} == help_commands()
    # Those Discord lacked while its commands were listed by hand:
    assert {"link", "unlink", "profile", "thanks", "hosts", "similar", "undo"} <= help_commands()


def test_discord_names_and_descriptions_fit_discords_documented_limits() -> None:
    payload = json.loads(printed("--platform", "discord", "--json"))
    [group] = [c for c in payload if c["name"] == "cop"]
    # "Application Commands": at most 25 subcommands in a group, 25 options per command.
    assert len(group["options"]) <= 25
    for sub in group["options"]:
        assert NAME.match(sub["name"]) and 1 <= len(sub["description"]) <= 100
        assert len(sub.get("options", [])) <= 25
        for option in sub.get("options", []):
            assert NAME.match(option["name"]) and 1 <= len(option["description"]) <= 100
    menus = [c for c in payload if c["type"] == 3]  # message context menus
    assert {m["name"] for m in menus} == {"Save to repertoire", "Mark solution"}


def test_the_printed_slack_part_is_the_shipped_manifest() -> None:
    part = json.loads(printed("--platform", "slack", "--json"))
    assert part == manifest_commands("/cop", command_registry())
    text = MANIFEST.read_text(encoding="utf-8")
    [command] = part["slash_commands"]
    assert f'usage_hint: "{command["usage_hint"]}"' in text
    assert f"command: {command['command']}" in text
    for shortcut in part["shortcuts"]:
        assert f"callback_id: {shortcut['callback_id']}" in text
        assert f"name: {shortcut['name']}" in text
    for name in help_commands():
        assert name in command["usage_hint"].split(" | ")


async def test_the_printed_payload_is_exactly_what_is_registered(tmp_path: Path) -> None:
    async with dh.running(tmp_path, guild_settings(tmp_path)) as h:
        [sync] = h.api.calls_to("PUT", GUILD_COMMANDS)
    assert sync.body == json.loads(printed("--platform", "discord", "--json"))


async def test_commands_are_registered_again_only_when_they_change(tmp_path: Path) -> None:
    settings = guild_settings(tmp_path)
    async with dh.running(tmp_path, settings) as h:
        assert len(h.api.calls_to("PUT", GUILD_COMMANDS)) == 1
    async with dh.running(tmp_path, settings) as h:  # a restart: nothing changed
        assert h.api.calls_to("PUT", GUILD_COMMANDS) == []

    core = core_with_extra_command(tmp_path, settings)
    try:
        async with dh.running(tmp_path, settings, core=core) as h:  # a new command: registered
            [sync] = h.api.calls_to("PUT", GUILD_COMMANDS)
            [group] = [c for c in sync.body if c["name"] == "cop"]
            assert "ping" in {o["name"] for o in group["options"]}
    finally:
        core.services.repertoire.close()


async def test_a_503_on_command_sync_does_not_stop_start_up_and_is_retried_next_time(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = guild_settings(tmp_path)

    def unavailable(api: dh.FakeDiscord) -> None:
        api.fail_once("PUT", GUILD_COMMANDS, 503)
        api.fail_once("PUT", GUILD_COMMANDS, 503)
        api.fail_once("PUT", GUILD_COMMANDS, 503)
        api.fail_once("PUT", GUILD_COMMANDS, 503)
        api.fail_once("PUT", GUILD_COMMANDS, 503)

    with caplog.at_level(logging.ERROR, logger="adapters.discord.client"):
        async with dh.running(tmp_path, settings, before_login=unavailable) as h:
            assert h.api.calls_to("PUT", GUILD_COMMANDS)
            # Still serving: a message is captured after the failed registration.
            h.add_guild(dh.guild([dh.text_channel(GENERAL, "general")]))
            question = dh.new_id()
            await h.feed(
                "MESSAGE_CREATE",
                dh.message(question, GENERAL, ALICE, "How do I profile a slow dbt model?"),
            )
            assert len(h.core.repertoire.entries(Viewer.operator_including_private())) == 1
    assert "could not register /cop" in caplog.text
    async with dh.running(tmp_path, settings) as h:  # next start: registered, since it failed
        assert len(h.api.calls_to("PUT", GUILD_COMMANDS)) == 1


def core_with_extra_command(tmp_path: Path, settings: Settings) -> Core:
    def ping(ctx: CommandContext) -> list[Outbound]:
        return [ctx.reply(f"pong {ctx.args}")]

    extra = CommandSpec("ping", "ping [words]", "answers pong", ping, (Param("words", "Any"),))
    registry = CommandRegistry([*command_registry(), extra])
    repertoire = Repertoire.open(tmp_path / "copbot.db")
    return Core(Services(repertoire, settings, FixedClock(dh.NOW)), registry)


async def test_a_command_added_to_the_core_works_on_discord_without_adapter_change(
    tmp_path: Path,
) -> None:
    settings = guild_settings(tmp_path)
    core = core_with_extra_command(tmp_path, settings)
    try:
        async with dh.running(tmp_path, settings, core=core) as h:
            h.add_guild(dh.guild([dh.text_channel(GENERAL, "general")]))
            ping = dh.slash_command(dh.text_channel(GENERAL, "general"), ALICE, "ping", words="hi")
            await h.feed("INTERACTION_CREATE", ping)
            [answer] = h.api.calls("POST", f"/webhooks/{dh.APP_ID}/{ping['token']}")
            assert answer.body["content"] == "pong hi"
    finally:
        core.services.repertoire.close()


async def test_mark_solution_menu_accepts_the_answer_as_the_askers_reaction_would(
    tmp_path: Path,
) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(dh.guild([dh.text_channel(GENERAL, "general")]))
        question, answer = dh.new_id(), dh.new_id()
        await h.feed(
            "MESSAGE_CREATE", dh.message(question, GENERAL, ALICE, "How do I pin uv versions?")
        )
        thread = dh.thread(question, GENERAL, "How do I pin uv", ALICE[0])
        await h.feed("THREAD_CREATE", thread)
        target = dh.message(answer, question, BOB, "uv pip compile --upgrade-package")
        await h.feed("MESSAGE_CREATE", target)

        mark = dh.message_command(thread, ALICE, target, "Mark solution")
        await h.feed("INTERACTION_CREATE", mark)
        [entry] = h.core.repertoire.entries(
            Viewer.operator_including_private(), EntryFilter(kinds=(EntryKind.ANSWER,))
        )
        assert entry.accepted
        # The accepted note goes to the thread for everybody, as after a ✅.
        [note] = h.api.calls_to("POST", f"/channels/{question}/messages")
        assert "accepted answer" in note.body["content"]


def test_a_core_answers_exactly_the_registry_it_was_given(tmp_path: Path) -> None:
    """No global list: two cores in one process with different registries differ."""
    settings = Settings()
    full = build_core(settings, tmp_path / "full.db")
    small = Core(
        Services(Repertoire.open(tmp_path / "small.db"), settings, FixedClock(dh.NOW)),
        CommandRegistry(spec for spec in command_registry() if spec.name != "who"),
    )
    try:
        assert "who" in full.commands and "who" not in small.commands
        assert "/cop who" in full.commands.help_text()
        assert "/cop who" not in small.commands.help_text()
    finally:
        full.services.repertoire.close()
        small.services.repertoire.close()


def test_a_registry_refuses_two_commands_of_one_name_and_needs_search() -> None:
    search = command_registry().get("search")
    assert search is not None
    with pytest.raises(ValueError, match="two /cop commands"):
        CommandRegistry([search, search])
    with pytest.raises(ValueError, match="search"):
        CommandRegistry([spec for spec in command_registry() if spec.name != "search"])


def test_typed_options_become_the_one_grammar() -> None:
    registry = command_registry()
    share, thanks = registry.get("share"), registry.get("thanks")
    assert share is not None and thanks is not None
    assert (
        share.text_for({"text": "Pin it #uv", "kind": "update", "until": "2027-01-31"})
        == "share kind:update until:2027-01-31 Pin it #uv"
    )
    assert share.text_for({"text": "Use uv", "kind": None, "until": "  "}) == "share Use uv"
    assert thanks.text_for({"member": "<@12>", "what": "#3"}) == "thanks <@12> for #3"
