"""Importers: read platform export files and yield core events (bot.import_replay.ImportItem)."""

__all__ = [
    "archive",
    "commands",
    "discord_export",
    "slack_export",
    "unknown_kinds",
]
