"""The search grammar: turn what a member typed into a safe, structured query.

User text is data. It is never passed raw into FTS5 ``MATCH``: every word is
re-quoted by :func:`fts_expression`, so quotes, ``NEAR``, ``*``, ``:`` or
brackets in a search string can only ever be searched for, never executed.
:func:`parse_query` never raises.

Grammar (space separated, any order)::

    word            match the word (stemmed, accents folded)
    "a phrase"      match the words in this order
    -word -"a b"    exclude
    tag:pandas      entries tagged #pandas          (repeatable: all must match)
    from:alice      entries by that member (name, handle or @mention)
    in:data-help    entries from that channel (name or id, '#' optional)
    kind:question   question | answer | knowhow | howto | resource | story | update
    is:answered     answered | unanswered | accepted
    before:2026-01-31  after:2026-01-01   (dates, UTC; or relative: 7d, 4w, 6m)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from knowledge.text import STOPWORDS, clean_text, fold, normalize_tag, words

__all__ = [
    "FILTER_KEYS",
    "FLAGS",
    "KINDS",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "ParsedQuery",
    "fts_expression",
    "parse_query",
]

#: Filters the grammar knows; ``foo:bar`` with another key is searched as words.
FILTER_KEYS = frozenset({"tag", "from", "in", "kind", "is", "before", "after"})
KINDS = frozenset({"question", "answer", "knowhow", "howto", "resource", "story", "update"})
FLAGS = frozenset({"answered", "unanswered", "accepted"})

#: At most this many terms reach FTS5; a 10,000-character paste is cut, not refused.
MAX_TERMS = 24
MAX_QUERY_CHARS = 2_000

_TOKEN = re.compile(r'(-?)(?:(\w+):)?("([^"]*)("|$)|\S+)', re.UNICODE)
_RELATIVE = re.compile(r"^(\d{1,4})([dwmy])$")
_MENTION = re.compile(r"^<@!?([\w]+)(?:\|[^>]*)?>$")


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A query split into what to match and how to filter."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[tuple[str, ...], ...] = ()
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    before: datetime | None = None
    after: datetime | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_match(self) -> bool:
        """True when there is something to give FTS5 (not only filters)."""
        return bool(self.terms or self.phrases)

    @property
    def is_empty(self) -> bool:
        return not (
            self.has_match
            or self.tags
            or self.authors
            or self.channels
            or self.kinds
            or self.flags
            or self.before
            or self.after
        )

    @property
    def all_words(self) -> list[str]:
        """Every positive word, for highlighting."""
        out = list(self.terms)
        for phrase in self.phrases:
            out.extend(phrase)
        return out


def parse_query(text: str, *, now: datetime | None = None) -> ParsedQuery:
    """Parse ``text`` with the grammar above. Never raises; odd parts become notes."""
    now = now or datetime.now(UTC)
    text = clean_text((text or "")[:MAX_QUERY_CHARS])  # no NULs, no lone surrogates
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    tags: list[str] = []
    authors: list[str] = []
    channels: list[str] = []
    kinds: list[str] = []
    flags: list[str] = []
    notes: list[str] = []
    before: datetime | None = None
    after: datetime | None = None

    for match in _TOKEN.finditer(text):
        negate = match.group(1) == "-"
        key = (match.group(2) or "").lower()
        quoted = match.group(4)
        raw = quoted if quoted is not None else match.group(3)
        if key and key not in FILTER_KEYS:
            # "foo:bar" is not a filter we know: search its words.
            raw = f"{match.group(2)} {raw}"
            key = ""
        if key:
            value = raw.strip()
            if not value:
                continue
            if negate:  # "-tag:pandas" must not keep only pandas: leaving out is not supported
                notes.append(f"-{key}:{value} ignored (filters cannot be excluded)")
                continue
            if key == "tag":
                tag = normalize_tag(value)
                if tag:
                    tags.append(tag)
            elif key == "from":
                mention = _MENTION.match(value)
                authors.append(fold(mention.group(1) if mention else value.lstrip("@")))
            elif key == "in":
                channels.append(fold(value.lstrip("#")))
            elif key == "kind":
                if fold(value) in KINDS:
                    kinds.append(fold(value))
                else:
                    notes.append(f"unknown kind '{value}' ignored (try {', '.join(sorted(KINDS))})")
            elif key == "is":
                if fold(value) in FLAGS:
                    flags.append(fold(value))
                else:
                    notes.append(f"unknown is:{value} ignored (try {', '.join(sorted(FLAGS))})")
            else:
                moment = _parse_when(value, now)
                if moment is None:
                    notes.append(f"could not read the date '{value}' (use YYYY-MM-DD or 7d)")
                elif key == "before":
                    before = moment
                else:
                    after = moment
            continue
        tokens = tuple(fold(w) for w in words(raw))
        if not tokens:
            continue
        if negate:
            excluded.append(tokens)
        elif quoted is not None and len(tokens) > 1:
            phrases.append(tokens)
        else:
            terms.extend(tokens)

    terms = list(dict.fromkeys(terms))
    if len(terms) + len(phrases) > MAX_TERMS:
        notes.append(f"only the first {MAX_TERMS} words were searched")
        terms = terms[: max(0, MAX_TERMS - len(phrases))]
        phrases = phrases[:MAX_TERMS]
    return ParsedQuery(
        terms=tuple(terms),
        phrases=tuple(phrases),
        excluded=tuple(excluded[:MAX_TERMS]),
        tags=tuple(dict.fromkeys(tags)),
        authors=tuple(authors),
        channels=tuple(channels),
        kinds=tuple(dict.fromkeys(kinds)),
        flags=tuple(dict.fromkeys(flags)),
        before=before,
        after=after,
        notes=tuple(notes),
    )


def _parse_when(value: str, now: datetime) -> datetime | None:
    relative = _RELATIVE.match(value.lower())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        days = {"d": 1, "w": 7, "m": 30, "y": 365}[unit] * amount
        try:
            return now - timedelta(days=days)
        except OverflowError:  # "after:9999y": before the calendar starts, so since ever
            return datetime.min.replace(tzinfo=UTC)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _quote(token: str) -> str:
    """One FTS5 string: double quotes inside are doubled, so nothing is an operator."""
    return '"' + token.replace('"', '""') + '"'


def fts_expression(query: ParsedQuery, *, mode: str = "and") -> str | None:
    """The FTS5 MATCH expression for ``query``, or ``None`` when there is nothing to match.

    ``mode="and"`` needs every term (stop words dropped when other terms
    remain); ``mode="or"`` needs any, for the fallback and for long questions.
    """
    terms = list(query.terms)
    if mode == "and":
        informative = [t for t in terms if t not in STOPWORDS]
        if informative or query.phrases:
            terms = informative
    parts = [_quote(t) for t in terms]
    parts += [_quote(" ".join(p)) for p in query.phrases]
    if not parts:
        return None
    joiner = " AND " if mode == "and" else " OR "
    expression = "(" + joiner.join(parts) + ")"
    for tokens in query.excluded:
        expression += " NOT " + _quote(" ".join(tokens))
    return expression
