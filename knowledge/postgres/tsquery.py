"""The search grammar compiled to a PostgreSQL ``tsquery``, with user text never parsed as one.

:func:`knowledge.query.parse_query` has already split what a member typed
into terms, phrases and exclusions. Each of them becomes its own function
call on the server, its text passed as a parameter:

* a term: ``plainto_tsquery('copbot', %(p0)s)``, which reads its argument as
  plain words (``&``, ``|``, ``!``, ``:*``, ``<->`` and brackets are only
  punctuation to it);
* a phrase: ``phraseto_tsquery('copbot', ...)`` (the words, in this order);
* an exclusion: ``!! phraseto_tsquery(...)``.

They are combined with the ``tsquery`` operators ``&&`` (all words) or ``||``
(any word). So the only tsquery syntax in a statement is what this module
writes; a part that holds no word (only punctuation, only emoji) is an empty
``tsquery``, which these operators simply leave out.

Which words are required mirrors :func:`knowledge.query.fts_expression`:
common English words are dropped from an all-words query while other words
or phrases remain (the ``copbot`` configuration keeps every word; choosing is
done here, as on SQLite).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from knowledge.postgres.params import Params
from knowledge.postgres.schema_search import CONFIG
from knowledge.query import ParsedQuery
from knowledge.text import STOPWORDS, clean_text

__all__ = [
    "MatchPart",
    "Mode",
    "combine",
    "compile_tsquery",
    "excluded_parts",
    "exclusion",
    "match_parts",
]

Mode = Literal["and", "or"]


@dataclass(frozen=True, slots=True)
class MatchPart:
    """One term or phrase of a query, as plain text."""

    text: str
    phrase: bool = False

    def __post_init__(self) -> None:
        # Text PostgreSQL accepts as a parameter: no NUL, no lone surrogate, bounded.
        object.__setattr__(self, "text", clean_text(self.text))

    def sql(self, params: Params) -> str:
        """The server-side call that turns this text into a ``tsquery``."""
        function = "phraseto_tsquery" if self.phrase else "plainto_tsquery"
        return f"{function}('{CONFIG}', {params.add(self.text)})"


def match_parts(query: ParsedQuery, mode: Mode = "and") -> list[MatchPart]:
    """The terms and phrases to match, as :func:`knowledge.query.fts_expression` picks them."""
    terms = list(query.terms)
    if mode == "and":
        informative = [t for t in terms if t not in STOPWORDS]
        if informative or query.phrases:
            terms = informative
    parts = [MatchPart(term) for term in terms]
    parts += [MatchPart(" ".join(phrase), phrase=True) for phrase in query.phrases]
    return parts


def excluded_parts(query: ParsedQuery) -> list[MatchPart]:
    """What ``-word`` and ``-"a phrase"`` leave out, each as a phrase."""
    return [MatchPart(" ".join(tokens), phrase=True) for tokens in query.excluded]


def combine(parts: list[MatchPart], params: Params, mode: Mode = "and") -> str | None:
    """``parts`` joined with ``&&`` or ``||``, or ``None`` when there are none."""
    if not parts:
        return None
    joiner = " && " if mode == "and" else " || "
    return "(" + joiner.join(part.sql(params) for part in parts) + ")"


def exclusion(parts: list[MatchPart], params: Params) -> str:
    """``&& !! part`` for each excluded part (empty when nothing is excluded)."""
    return "".join(f" && !!{part.sql(params)}" for part in parts)


def compile_tsquery(query: ParsedQuery, params: Params, mode: Mode = "and") -> str | None:
    """A SQL expression of type ``tsquery`` for ``query``, or ``None`` when there is nothing to
    match (only filters). Its values are in ``params``.

    When the words to match hold no lexeme at all (``-foo 🙂``), the expression
    is ``NULL`` rather than ``!! 'foo'``: a query of exclusions alone would match
    nearly every document. ``@@ NULL`` matches none, and the planner, which
    folds these constant expressions, does not even scan.
    """
    matched = combine(match_parts(query, mode), params, mode)
    if matched is None:
        return None
    return (
        f"(CASE WHEN numnode({matched}) > 0 "
        f"THEN {matched}{exclusion(excluded_parts(query), params)} END)"
    )
