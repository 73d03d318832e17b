"""The part of copbot's Slack app manifest that names its commands and shortcuts.

Slack has one slash command (``/cop``) whose text carries the sub-command, so
every command of the core's registry works there as typed; the usage hint
lists them. ``copbot commands --platform slack --json`` prints this part, and a
test keeps ``manifest.yaml`` equal to it.
"""

from __future__ import annotations

from typing import Any

from adapters.slack.blocks import ACCEPT_SHORTCUT, SAVE_SHORTCUT
from bot.command_registry import CommandRegistry

COMMAND_DESCRIPTION = "Search and grow the community's repertoire"

SHORTCUTS: tuple[dict[str, str], ...] = (
    {
        "name": "Save to repertoire",
        "type": "message",
        "callback_id": SAVE_SHORTCUT,
        "description": "Keep this message as know-how, with a title and tags",
    },
    {
        "name": "This solved it",
        "type": "message",
        "callback_id": ACCEPT_SHORTCUT,
        "description": "Mark this answer as the one that solved the question",
    },
)


def usage_hint(registry: CommandRegistry) -> str:
    """Every sub-command, as Slack shows under the command while it is typed."""
    return " | ".join(registry.names)


def manifest_commands(command: str, registry: CommandRegistry) -> dict[str, Any]:
    """``features.slash_commands`` and ``features.shortcuts`` of the manifest."""
    return {
        "slash_commands": [
            {
                "command": command,
                "description": COMMAND_DESCRIPTION,
                "usage_hint": usage_hint(registry),
                "should_escape": False,
            }
        ],
        "shortcuts": [dict(shortcut) for shortcut in SHORTCUTS],
    }
