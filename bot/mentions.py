"""Mentions in posts: a neutral token each adapter turns into its own ping.

A digest (``mention_experts = true``) or a follow-up may ping members. Writing
``<@U0123>`` into the text would let member text ping too (a Slack question
that mentions someone carries that token), so the core wraps a mention in two
control characters that member text can never contain (capture strips them,
see :func:`knowledge.text.clean_text`), and each adapter renders it: Slack and
Discord as ``<@user id>``, the terminal as ``@name``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MENTION_START = "\x0e"
MENTION_END = "\x0f"
_TOKEN = re.compile(
    f"{MENTION_START}([^|{MENTION_START}{MENTION_END}]+)\\|([^{MENTION_END}]*){MENTION_END}"
)


def mention(user_id: str, name: str) -> str:
    """The neutral token for a ping of ``user_id`` (shown as ``name`` where pings don't exist)."""
    clean_id = user_id.replace("|", "").replace(MENTION_START, "").replace(MENTION_END, "")
    clean_name = name.replace(MENTION_START, "").replace(MENTION_END, "")
    return f"{MENTION_START}{clean_id}|{clean_name}{MENTION_END}"


def render_mentions(text: str, render: Callable[[str, str], str]) -> str:
    """Replace every mention token with ``render(user_id, name)``."""
    return _TOKEN.sub(lambda m: render(m.group(1), m.group(2)), text)


def plain_mentions(text: str) -> str:
    """Mentions as ``@name``: for the terminal, logs and size budgets."""
    return render_mentions(text, lambda _user_id, name: f"@{name}")


def platform_mentions(text: str) -> str:
    """Mentions as ``<@user id>``: the form Slack and Discord both ping."""
    return render_mentions(text, lambda user_id, _name: f"<@{user_id}>")
