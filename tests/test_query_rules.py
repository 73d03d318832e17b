"""The search grammar's exact results: what reaches FTS5, what is cut, what a member is told.

These pin the parser's edges that mutation testing (``make mutate``) found
unguarded: the term limit, stop words in all-words mode, exclusions, the
notes a member reads, and the prefixes ``@`` and ``#`` that filters drop.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from knowledge.query import ParsedQuery, fts_expression, parse_query

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
#: The most words a search sends to the index (a longer paste is cut, with a note).
TERM_LIMIT = 24


def _words(count: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{n}x" for n in range(count))


def test_the_term_limit_cuts_only_beyond_it() -> None:
    at_limit = parse_query(_words(TERM_LIMIT), now=NOW)
    assert len(at_limit.terms) == TERM_LIMIT and at_limit.notes == ()
    over = parse_query(_words(TERM_LIMIT + 6), now=NOW)
    assert over.terms == tuple(f"w{n}x" for n in range(TERM_LIMIT))
    assert over.notes == (f"only the first {TERM_LIMIT} words were searched",)


def test_phrases_take_their_share_of_the_limit() -> None:
    two_phrases = parse_query('"a1x b1x" "a2x b2x" ' + _words(30), now=NOW)
    assert len(two_phrases.phrases) == 2 and len(two_phrases.terms) == TERM_LIMIT - 2
    phrases = " ".join(f'"p{n}x q{n}x"' for n in range(TERM_LIMIT))
    all_phrases = parse_query(phrases + " lonely", now=NOW)
    assert len(all_phrases.phrases) == TERM_LIMIT and all_phrases.terms == ()


def test_all_words_mode_drops_stop_words_when_others_remain() -> None:
    query = parse_query("how to read pandas", now=NOW)
    assert fts_expression(query) == '("read" AND "pandas")'
    assert fts_expression(query, mode="or") == '("how" OR "to" OR "read" OR "pandas")'
    only_stop_words = parse_query("how to", now=NOW)
    assert fts_expression(only_stop_words) == '("how" AND "to")'


def test_exclusions_are_quoted_phrases_after_not() -> None:
    query = parse_query('pandas -"slow merge" -csv', now=NOW)
    assert fts_expression(query) == '("pandas") NOT "slow merge" NOT "csv"'


def test_a_double_quote_inside_a_term_is_doubled_never_an_operator() -> None:
    """Defence in depth: the parser never yields such a term, but the quoting holds anyway."""
    query = ParsedQuery(terms=('say "hi" NEAR',))
    assert fts_expression(query) == '("say ""hi"" NEAR")'


def test_notes_tell_the_member_what_was_ignored() -> None:
    query = parse_query("kind:poem is:closed -tag:pandas pandas", now=NOW)
    assert query.notes == (
        "unknown kind 'poem' ignored (try answer, howto, knowhow, question, resource, story, "
        "update)",
        "unknown is:closed ignored (try accepted, answered, unanswered)",
        "-tag:pandas ignored (filters cannot be excluded)",
    )


def test_from_and_in_drop_only_their_leading_sign() -> None:
    query = parse_query("from:@Xavier from:Xena in:#xylo-team in:Xray", now=NOW)
    assert query.authors == ("xavier", "xena")
    assert query.channels == ("xylo-team", "xray")


def test_an_empty_search_is_empty() -> None:
    assert parse_query("", now=NOW).is_empty
    assert parse_query("", now=NOW) == ParsedQuery()


def test_relative_dates_count_back_from_now_in_utc() -> None:
    query = parse_query("after:7d")
    assert query.after is not None and query.after.tzinfo is not None
    assert abs(query.after - (datetime.now(UTC) - timedelta(days=7))) < timedelta(minutes=1)
    since_ever = parse_query("after:9999y", now=NOW)
    assert since_ever.after == datetime.min.replace(tzinfo=UTC)
    assert since_ever.after is not None and since_ever.after.tzinfo is not None
