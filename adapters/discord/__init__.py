"""Discord (discord.py): forums, threads, app commands. See :mod:`.translate` for the mapping.

Inside this package ``import discord`` is the discord.py library: imports are
absolute, and this package is ``adapters.discord``.
"""

from adapters.discord.adapter import DiscordAdapter

__all__ = ["DiscordAdapter"]
