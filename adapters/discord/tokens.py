"""The shape of a Discord bot token, so a log line never shows one (:mod:`adapters.log_setup`).

Three base64url parts joined by dots: the bot's user id (its first character
``M``, ``N`` or ``O`` for today's ids), a timestamp, and an HMAC.
"""

from __future__ import annotations

import re

__all__ = ["TOKEN_SHAPE"]

TOKEN_SHAPE = re.compile(r"[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}")
