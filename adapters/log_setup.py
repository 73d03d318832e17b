"""Logging for the ``copbot`` commands: the core's secret filter, told the platforms' token shapes.

:mod:`bot.logs` redacts the secrets it can know (the values of the secret
environment variables, database passwords); what a Slack or a Discord token
looks like is each adapter's fact (:mod:`adapters.slack.tokens`,
:mod:`adapters.discord.tokens`), given to it here.
"""

from __future__ import annotations

from adapters.discord.tokens import TOKEN_SHAPE as DISCORD_TOKEN
from adapters.slack.tokens import TOKEN_SHAPE as SLACK_TOKEN
from bot import logs

__all__ = ["TOKEN_SHAPES", "setup_logging"]

#: Every platform's token shape: redacted from every log line, whoever logged it.
TOKEN_SHAPES = (SLACK_TOKEN, DISCORD_TOKEN)


def setup_logging(level: str = "INFO") -> None:
    """The root logger at ``level`` (``COPBOT_LOG_LEVEL`` wins), secrets redacted."""
    logs.setup_logging(level, token_shapes=TOKEN_SHAPES)
