"""Small text helpers shared by capture, search and rendering.

Kept free of SQL and chat: they take and return strings.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MAX_TEXT_CHARS",
    "STOPWORDS",
    "clean_text",
    "extract_tags",
    "fold",
    "highlight",
    "normalize_tag",
    "shorten",
    "strip_tags",
    "title_from",
    "words",
]

#: Common English words that carry no topic. Used to pick the informative
#: terms of a long question, never to drop a word the member quoted.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any anyone are as at be because been before
    being below between both but by can could did do does doing done down during each else ever
    few for from further get gets got had has have having he her here hers him his how i if in
    into is it its itself just know like me might more most my need no nor not now of off on
    once only or other our out over own please same she should so some someone something still
    such than thanks that the their them then there these they this those through to too try
    trying under until up us use using very want was way we were what when where which while who
    whom why will with would you your yours
    """.split()
)

_WORD = re.compile(r"\w+", re.UNICODE)
_TAG = re.compile(r"(?<![\w#])#([\w][\w\-.+]{0,48})", re.UNICODE)
# C0/C1 control characters other than tab and newline: NUL bytes and their
# friends are never stored, and they cannot collide with the result markers.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE = re.compile(r"[ \t]+")

#: Longest text kept for one entry; beyond it the message is cut, not refused.
MAX_TEXT_CHARS = 40_000


def clean_text(text: str) -> str:
    """Strip control characters and lone surrogates, cap the length, keep the rest."""
    if not text.isascii():  # ASCII has no lone surrogate to replace
        text = text.encode("utf-8", "replace").decode("utf-8")
    text = _CONTROL.sub("", text)
    if len(text) > MAX_TEXT_CHARS:
        text = text[:MAX_TEXT_CHARS] + "…"
    return text.strip()


def fold(text: str) -> str:
    """Lower-case and strip accents, as the FTS tokenizer does ("Café" -> "cafe")."""
    if text.isascii():  # nothing to decompose (most chat): the same result, ten times faster
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """The word tokens of ``text`` (letters, digits, underscore; any script)."""
    return _WORD.findall(text)


def normalize_tag(tag: str) -> str:
    """Tags are compared folded and without the leading ``#``."""
    return fold(tag.strip().lstrip("#")).strip(".-")


def extract_tags(text: str) -> tuple[str, ...]:
    """``#hashtags`` in a message, normalised and de-duplicated in order."""
    if "#" not in text:  # most messages: no tag to find
        return ()
    seen: dict[str, None] = {}
    for match in _TAG.finditer(text):
        tag = normalize_tag(match.group(1))
        if tag and not tag.isdigit():
            seen.setdefault(tag, None)
    return tuple(seen)


def strip_tags(text: str) -> str:
    """The text without its ``#hashtags`` (for titles)."""
    return _SPACE.sub(" ", _TAG.sub("", text)).strip()


def title_from(text: str, limit: int = 100) -> str:
    """A one-line title: the first line or sentence, cut at a word boundary."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = strip_tags(first)
    match = re.match(r"(.+?[.?!])(\s|$)", first)
    if match and len(match.group(1)) >= 20:
        first = match.group(1)
    return shorten(first, limit)


def shorten(text: str, limit: int) -> str:
    """Cut ``text`` to at most ``limit`` characters at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def highlight(text: str, terms: list[str], start: str, end: str, limit: int = 200) -> str:
    """A snippet of ``text`` around the first matched term, matched words marked.

    Matching is loose (folded prefix of at least four letters) so that stems
    line up with what FTS5's Porter stemmer matched.
    """
    stems = [fold(t)[: max(4, len(t) - 2)] if len(t) > 4 else fold(t) for t in terms if t]
    flat = " ".join(text.split())
    if not stems:
        return shorten(flat, limit)
    # A long stem matches as a prefix, a short one as the whole word: one regex
    # and one set lookup per distinct word, however many terms (a pasted question
    # brings a hundred).
    prefixes = sorted({s for s in stems if len(s) >= 4}, key=len, reverse=True)
    starts = re.compile("|".join(map(re.escape, prefixes))) if prefixes else None
    whole = {s for s in stems if len(s) < 4}
    seen: dict[str, bool] = {}  # words repeat: fold and compare each distinct one once

    def matches(word: str) -> bool:
        known = seen.get(word)
        if known is None:
            folded = fold(word)
            known = folded in whole or (starts is not None and starts.match(folded) is not None)
            seen[word] = known
        return known

    tokens = list(_WORD.finditer(flat))
    first = next((m.start() for m in tokens if matches(m.group())), 0)
    begin = max(0, first - limit // 3)
    if begin:
        space = flat.find(" ", begin)
        begin = space + 1 if 0 <= space < first else begin
    window = flat[begin : begin + limit]
    out: list[str] = []
    last = 0
    for m in _WORD.finditer(window):
        if matches(m.group()):
            out.append(window[last : m.start()])
            out.append(f"{start}{m.group()}{end}")
            last = m.end()
    out.append(window[last:])
    snippet = "".join(out)
    prefix = "…" if begin else ""
    suffix = "…" if begin + limit < len(flat) else ""
    return prefix + snippet + suffix
