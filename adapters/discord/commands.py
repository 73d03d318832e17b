"""Discord's ``/cop`` slash commands, generated from the core's command registry.

Each :class:`~bot.command_registry.CommandSpec` becomes a sub-command of the
``/cop`` group, each of its :class:`~bot.command_registry.Param` an option
(text, integer with its range, or a choice), built with discord.py's own
``app_commands`` objects. A sub-command only turns its options back into the
core's one grammar (:meth:`CommandSpec.text_for`) and hands the text to the
adapter: a command added to the core appears here with no change to this file.

Two message context menus sit beside it: "Save to repertoire" (know-how on
purpose) and "Mark solution" (the core's accept, as the ✅ reaction).
:func:`command_payload` is exactly what :meth:`CommandTree.sync` sends, so
``copbot commands --platform discord --json`` can print it and the client can
register it only when it changed.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from typing import Any, Literal, Protocol

import discord
from discord import app_commands

from bot.command_registry import CommandRegistry, CommandSpec, Param

SAVE_MENU_NAME = "Save to repertoire"
ACCEPT_MENU_NAME = "Mark solution"
GROUP_NAME = "cop"
GROUP_DESCRIPTION = "Our community's answers and know-how"


class CommandTarget(Protocol):
    """What the commands need from the adapter."""

    async def run_command(self, interaction: discord.Interaction, text: str) -> None: ...

    async def save_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None: ...

    async def mark_solution(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None: ...


def _describe(text: str) -> str:
    """A Discord description: 1 to 100 characters, starting with a capital."""
    text = text.strip() or "…"
    text = text[0].upper() + text[1:]
    return text if len(text) <= 100 else text[:99] + "…"


def _annotation(param: Param) -> Any:
    """The Python type discord.py reads an option from (choices, ranges, optional)."""
    annotation: Any
    if param.choices:
        annotation = Literal.__getitem__(param.choices)
    elif param.kind == "integer":
        annotation = app_commands.Range[int, param.min_value, param.max_value]
    else:
        annotation = str
    return annotation if param.required else annotation | None


def _subcommand(
    spec: CommandSpec, target: CommandTarget, group: app_commands.Group
) -> app_commands.Command[Any, ..., None]:
    """One ``/cop <name>`` sub-command whose options are the spec's params."""

    async def invoke(interaction: discord.Interaction, **values: Any) -> None:
        await target.run_command(interaction, spec.text_for(values))

    parameters = [
        inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
    ]
    for param in spec.params:
        parameters.append(
            inspect.Parameter(
                param.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if param.required else None,
                annotation=_annotation(param),
            )
        )
    invoke.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    invoke.__name__ = invoke.__qualname__ = f"cop_{spec.name}"
    if spec.params:
        invoke = app_commands.describe(
            **{param.name: _describe(param.description) for param in spec.params}
        )(invoke)
    return app_commands.Command(
        name=spec.name, description=_describe(spec.summary), callback=invoke, parent=group
    )


def cop_group(registry: CommandRegistry, target: CommandTarget) -> app_commands.Group:
    """``/cop <sub>`` for every command of the registry."""
    group = app_commands.Group(name=GROUP_NAME, description=GROUP_DESCRIPTION)
    for spec in registry:
        group.add_command(_subcommand(spec, target, group))
    return group


def context_menus(target: CommandTarget) -> list[app_commands.ContextMenu]:
    """ "Save to repertoire" and "Mark solution" on any message."""

    async def save(interaction: discord.Interaction, message: discord.Message) -> None:
        await target.save_message(interaction, message)

    async def accept(interaction: discord.Interaction, message: discord.Message) -> None:
        await target.mark_solution(interaction, message)

    return [
        app_commands.ContextMenu(name=SAVE_MENU_NAME, callback=save),
        app_commands.ContextMenu(name=ACCEPT_MENU_NAME, callback=accept),
    ]


def install(
    tree: app_commands.CommandTree[Any], registry: CommandRegistry, target: CommandTarget
) -> None:
    """Put copbot's commands on a command tree."""
    tree.add_command(cop_group(registry, target))
    for menu in context_menus(target):
        tree.add_command(menu)


def command_payload(
    tree: app_commands.CommandTree[Any], guild: discord.abc.Snowflake | None = None
) -> list[dict[str, Any]]:
    """Exactly the JSON :meth:`CommandTree.sync` sends for ``guild`` (``None``: global)."""
    return [command.to_dict(tree) for command in tree.get_commands(guild=guild)]


def payload_hash(payload: list[dict[str, Any]]) -> str:
    """A stable fingerprint of a payload: commands are registered again only when it changes."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class _NoTarget:
    """A target for a tree that is only printed, never run."""

    async def run_command(self, interaction: discord.Interaction, text: str) -> None:
        raise RuntimeError("a printed command tree does not run commands")

    async def save_message(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        raise RuntimeError("a printed command tree does not run commands")

    async def mark_solution(
        self, interaction: discord.Interaction, message: discord.Message
    ) -> None:
        raise RuntimeError("a printed command tree does not run commands")


def registration_payload(registry: CommandRegistry) -> list[dict[str, Any]]:
    """What copbot registers with Discord for this registry (no connection needed)."""
    quiet = logging.getLogger("discord.client")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # "PyNaCl is not installed": no voice is needed to print
    try:
        client = discord.Client(intents=discord.Intents(guilds=True))
    finally:
        quiet.setLevel(level)
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
    install(tree, registry, _NoTarget())
    return command_payload(tree)
