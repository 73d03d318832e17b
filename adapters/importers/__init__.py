"""Importers: read platform export files and yield core events (bot.history.ImportItem)."""
