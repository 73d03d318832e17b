"""The shape of Slack's tokens, so a log line never shows one (:mod:`adapters.log_setup`).

Slack prefixes every token with its kind: ``xoxb-`` bot, ``xoxp-`` user,
``xoxe-`` refresh, ``xoxa-``/``xoxo-``/``xoxr-``/``xoxs-`` older kinds, and
``xapp-`` the app-level token Socket Mode connects with.
"""

from __future__ import annotations

import re

__all__ = ["TOKEN_SHAPE"]

TOKEN_SHAPE = re.compile(r"xox[abeposr]-[0-9A-Za-z-]{6,}|xapp-[0-9A-Za-z-]{6,}")
