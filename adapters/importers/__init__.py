"""Importers: read platform export files and yield core events (bot.import_replay.ImportItem)."""
