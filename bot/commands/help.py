"""``/cop help``: every command with its usage, from the registry the core answers."""

from __future__ import annotations

from bot.command_registry import CommandContext, CommandSpec
from bot.events import Outbound

__all__ = ["HELP_COMMAND"]


def _help(ctx: CommandContext) -> list[Outbound]:
    return [ctx.reply(ctx.registry.help_text())]


HELP_COMMAND = CommandSpec("help", "help", "this help", _help)
