"""Slack's reaction names, as the core compares reactions.

Slack names a reaction by its shortcode (``white_check_mark``), the words the
config speaks too (:mod:`bot.emoji` knows them). What is Slack's alone is the
skin tone appended to the name, ``+1::skin-tone-2``: a toned 👍 is still the
👍 reaction, so the tone goes before the core sees it.
"""

from __future__ import annotations

__all__ = ["reaction_name"]


def reaction_name(slack_name: str) -> str:
    """Slack's name for a reaction without its skin tone (``+1::skin-tone-2`` -> ``+1``)."""
    return slack_name.split("::", 1)[0]
