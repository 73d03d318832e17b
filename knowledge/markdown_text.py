"""Member text written into Markdown files that others will open: shown, never run.

The Markdown export is meant to be published (a static site, a wiki, a Git
forge), where Markdown becomes HTML. Member text must not become markup
there: ``<script>``, ``<img onerror=…>``, ``[x](javascript:…)``, a reference
definition ``[1]: javascript:…``, ``&#106;avascript:``. So:

* everything is HTML-escaped (``&``, ``<``, ``>``), and brackets and
  backslashes are escaped so no link can be formed from the text;
* a link the member wrote, ``[label](target)``, stays a link only when the
  target is ``http://``, ``https://`` or ``mailto:``; an image becomes a
  plain link (nothing loads when the page is opened); any other target
  stays visible as text;
* code keeps its characters: fenced blocks and inline code spans are written
  again with fences copbot chooses (longer than any run of backticks inside),
  since Markdown shows code literally and runs no HTML in it.
"""

from __future__ import annotations

import re

_SAFE_SCHEMES = ("http://", "https://", "mailto:")
_LINK = re.compile(
    r"(?P<image>!?)\[(?P<label>[^\[\]\n]{0,300})\]"
    r"\(\s*<?(?P<target>[^\s()<>]+)>?(?:\s+\"[^\"\n]*\")?\s*\)"
)
_CODE_SPAN = re.compile(r"(`+)(?P<code>[^`\n]|[^\n]*?[^`\n])\1(?!`)")
_FENCE = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_PLAIN = re.compile(r"[\\\[\]`]")
_BACKTICKS = re.compile(r"`+")


def text_escape(text: str) -> str:
    """Plain text for a Markdown page: HTML and link syntax escaped (labels, names, titles)."""
    return _PLAIN.sub(r"\\\g<0>", text.replace("\r", "").translate(_HTML))


_INLINE = re.compile(f"{_CODE_SPAN.pattern}|{_LINK.pattern}")


def safe_url(url: str) -> str:
    """``url`` if it may be a link on a published page (http, https, mailto), else ``""``."""
    url = url.strip()
    if not url.lower().startswith(_SAFE_SCHEMES) or any(c in url for c in " <>\n"):
        return ""
    return url.replace("(", "%28").replace(")", "%29")


def _fence_for(content: str) -> str:
    longest = max((len(run) for run in _BACKTICKS.findall(content)), default=0)
    return "`" * max(3, longest + 1)


def _inline(line: str) -> str:
    """One line outside code blocks: code spans and safe links kept, the rest escaped."""
    out: list[str] = []
    at = 0
    for found in _INLINE.finditer(line):
        out.append(text_escape(line[at : found.start()]))
        if found.group("code") is not None:
            code = found.group("code")
            ticks = "`" * (max((len(r) for r in _BACKTICKS.findall(code)), default=0) + 1)
            pad = " " if code.startswith(("`", " ")) or code.endswith(("`", " ")) else ""
            out.append(f"{ticks}{pad}{code}{pad}{ticks}")
        else:
            url = safe_url(found.group("target"))
            label = text_escape(found.group("label")) or text_escape(found.group("target"))
            out.append(f"[{label}]({url})" if url else text_escape(found.group(0)))
        at = found.end()
    out.append(text_escape(line[at:]))
    return "".join(out)


def md_text(text: str) -> str:
    """A member's message as Markdown that shows it and runs nothing (see the module notes)."""
    lines = text.replace("\r", "").split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if opening is None:
            out.append(_inline(lines[index]))
            index += 1
            continue
        fence = opening.group("fence")
        body: list[str] = []
        index += 1
        while index < len(lines):
            closing = _FENCE.match(lines[index])
            if (
                closing
                and closing.group("fence")[0] == fence[0]
                and len(closing.group("fence")) >= len(fence)
                and not closing.group("info").strip()
            ):
                index += 1
                break
            body.append(lines[index])
            index += 1
        content = "\n".join(body)
        ours = _fence_for(content)
        language = re.sub(r"[^\w+.-]", "", opening.group("info").strip().split(" ")[0])[:20]
        out.extend([f"{ours}{language}", *body, ours])
    return "\n".join(out)


__all__ = ["md_text", "safe_url", "text_escape"]
