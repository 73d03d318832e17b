"""Discord markdown made inert, so member text shows as it was written and does nothing.

Text that leaves copbot for Discord mixes the core's words with members' (a
question's title, an answer, a display name, a thank-you's reason). A member
could write ``[docs](https://evil.example)`` (a masked link), ``# HUGE``, a
``||spoiler||``, ``<@&role>`` or ``@everyone``. :func:`neutral` escapes every
markdown character with a backslash (Discord shows the character, not its
effect), at the start of a line too (headings, quotes, lists), and breaks
``@everyone``/``@here`` with a zero-width space; messages are also sent with
``allowed_mentions`` set to nobody but the members the core chose to ping.

Kept as they are, because they are safe and useful:

* plain ``http(s)://`` links, which Discord shows in full (never masked);
* short inline code spans the core writes (``/cop search …``), when they sit
  between spaces and hold nothing Discord would act on if it did not read
  them as code;
* the core's mention tokens (:mod:`bot.mentions`), which the renderer turns
  into pings of exactly the members the core chose.

``discord.utils.escape_markdown`` is not enough: it escapes only the first
``[`` of a line with several masked links, and leaves ``<@id>``, ``#`` after
spaces and ``@everyone`` alone.
"""

from __future__ import annotations

import re

from bot.mentions import MENTION_END, MENTION_START

#: A plain link, without the characters markdown would act on.
_URL = r"https?://[^\s<>\[\]()`*~|\\\"']+"
#: An inline code span between spaces (or brackets and punctuation) on one line.
_CODE = r"(?<![^\s(“\"'])`[^`\n\\]{1,200}`(?=[\s).,;:!?”\"']|$)"
#: The core's mention tokens, rendered after this (member text never holds these characters).
_MENTION = f"{MENTION_START}[^{MENTION_START}{MENTION_END}]*{MENTION_END}"
_TOKEN = re.compile(f"(?P<url>{_URL})|(?P<code>{_CODE})|(?P<mention>{_MENTION})")
#: What a code span must not hold, in case Discord read it as text after all.
_UNSAFE_IN_CODE = re.compile(r"\]\(|\|\||<(?:[@!/:]|#\d|a:|t:|https?:)|@(?:everyone|here)|https?:")
_SPECIAL = re.compile(r"[\\*_~`|\[\]<>]")
#: Headings, quotes, subtext and bullets (numbered lists stay: the core writes them, harmless).
_LINE_START = re.compile(r"^(\s*)([#>+-])")
_MASS_MENTION = re.compile(r"@(everyone|here)")


def _escape(text: str) -> str:
    text = _SPECIAL.sub(r"\\\g<0>", text)
    return _MASS_MENTION.sub("@\u200b\\1", text)


def _line(line: str) -> str:
    out: list[str] = []
    start = _LINE_START.match(line)
    rest = line
    if start is not None:  # a heading, quote or list marker at the start of a line
        out.append(f"{start.group(1)}\\{start.group(2)}")
        rest = line[start.end() :]
    at = 0
    for token in _TOKEN.finditer(rest):
        code = token.group("code")
        if code is not None and _UNSAFE_IN_CODE.search(code):
            continue  # escaped with the text around it
        out.append(_escape(rest[at : token.start()]))
        out.append(token.group(0))
        at = token.end()
    out.append(_escape(rest[at:]))
    return "".join(out)


def neutral(text: str) -> str:
    """``text`` with every Discord markdown effect neutralised (see the module's notes)."""
    return "\n".join(_line(line) for line in text.split("\n"))


__all__ = ["neutral"]
