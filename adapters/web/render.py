"""Member text to safe HTML, slugs, and the links a page may carry.

Everything a member wrote is escaped before it reaches a page: the only markup
added is ours (paragraphs, line breaks, ``code``, fenced code blocks, and links
for ``http(s)`` URLs). A link is made only from an ``http`` or ``https`` URL, so
``javascript:``, ``data:`` or ``vbscript:`` text stays text. Search snippets
carry the core's match markers (``\\x02``/``\\x03``, which clean text never
holds), turned into ``<mark>`` after escaping.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

from markupsafe import Markup, escape

from knowledge.text import shorten

MARK_START = "\x02"
MARK_END = "\x03"

#: A URL in running text: http(s), up to whitespace or a character that cannot be in one.
_URL = re.compile(r"https?://[^\s<>\"'`\x00-\x1f\x7f]+", re.IGNORECASE)
#: Punctuation that ends a sentence rather than a URL.
_TRAILING = ".,;:!?)]}»”’"
_FENCE = "```"
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")
_PARAGRAPH = re.compile(r"\n\s*\n")
_SLUG_CUT = re.compile(r"[^\w]+", re.UNICODE)

#: Link relations on member links: not an endorsement, user content, no window.opener.
MEMBER_LINK_REL = "nofollow ugc noopener noreferrer"


def safe_url(url: str) -> str | None:
    """``url`` when it is an absolute http(s) URL with a host, else ``None``."""
    url = url.strip()
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def slugify(text: str, limit: int = 60) -> str:
    """A readable URL part: folded words joined by hyphens, cut at a word boundary."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = [w for w in _SLUG_CUT.split(plain.replace("_", " ")) if w]
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > limit:
            break
        slug = candidate
    return slug or (words[0][:limit] if words else "")


def path_part(text: str) -> str:
    """Percent-encode one URL path segment (tags may hold ``+`` or ``.``)."""
    return quote(text, safe="")


def member_text(text: str) -> Markup:
    """A member's message as HTML: paragraphs, line breaks, code, and http(s) links."""
    pieces = text.split(_FENCE)
    out: list[Markup] = []
    for index, piece in enumerate(pieces):
        fenced = index % 2 == 1 and index < len(pieces) - 1  # an unclosed fence stays text
        if fenced:
            body = piece.strip("\n")
            first, newline, rest = body.partition("\n")
            if newline and re.fullmatch(r"[\w+#.-]{1,20}", first.strip()):
                body = rest  # a language name after the fence
            out.append(Markup("<pre><code>{}</code></pre>").format(body))
            continue
        if index % 2 == 1:
            piece = _FENCE + piece
        for paragraph in _PARAGRAPH.split(piece.strip()):
            if paragraph.strip():
                out.append(Markup("<p>{}</p>").format(_inline(paragraph.strip())))
    return Markup("").join(out)


def _inline(text: str) -> Markup:
    parts: list[Markup] = []
    for piece in _INLINE_CODE.split(text):
        if piece.startswith("`") and piece.endswith("`") and len(piece) > 2:
            parts.append(Markup("<code>{}</code>").format(piece[1:-1]))
        else:
            parts.append(linkify(piece))
    return Markup("").join(parts)


def linkify(text: str) -> Markup:
    """Escape ``text``, turning http(s) URLs into links and newlines into ``<br>``."""
    out: list[Markup] = []
    last = 0
    for match in _URL.finditer(text):
        stripped = _trim(match.group(0))
        out.append(_text(text[last : match.start()]))
        target = safe_url(stripped)
        if target is None:
            out.append(_text(stripped))
        else:
            out.append(
                Markup('<a href="{}" rel="{}">{}</a>').format(target, MEMBER_LINK_REL, stripped)
            )
        last = match.start() + len(stripped)
    out.append(_text(text[last:]))
    return Markup("").join(out)


def _trim(url: str) -> str:
    """Drop sentence punctuation after a URL, keeping a bracket the URL opened."""
    while url and url[-1] in _TRAILING:
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def _text(text: str) -> Markup:
    return Markup("<br>\n").join(escape(line) for line in text.split("\n"))


def snippet(text: str) -> Markup:
    """A search snippet: escaped, with the matched words in ``<mark>``."""
    escaped = str(escape(text))
    opened = 0
    out: list[str] = []
    for ch in escaped:
        if ch == MARK_START and not opened:
            out.append("<mark>")
            opened = 1
        elif ch == MARK_END and opened:
            out.append("</mark>")
            opened = 0
        elif ch not in (MARK_START, MARK_END):
            out.append(ch)
    if opened:
        out.append("</mark>")
    return Markup("".join(out))


def plain_summary(text: str, limit: int = 200) -> str:
    """Plain text for a description meta tag or JSON-LD (escaped later by the template)."""
    return shorten(text.replace(_FENCE, " "), limit)
