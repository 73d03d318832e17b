"""Discord (discord.py): forums, threads, app commands. See :mod:`.translate` for the mapping.

Inside this package ``import discord`` is the discord.py library: imports are
absolute, and this package is ``adapters.discord``.

The adapter is :class:`adapters.discord.adapter.DiscordAdapter`. Importing the
package imports nothing else, so a light module here (:mod:`.tokens`) costs no
discord.py import.
"""

__all__ = [
    "adapter",
    "catchup",
    "client",
    "commands",
    "feedback",
    "neutral",
    "outbox",
    "places",
    "render",
    "share_button",
    "tokens",
    "translate",
]
