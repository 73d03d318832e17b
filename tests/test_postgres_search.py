"""Search on PostgreSQL: the grammar compiled to tsquery, filters, visibility and ranking."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.models import ChannelRef
from knowledge.postgres.params import Params
from knowledge.postgres.ranking import rank_weights
from knowledge.postgres.repertoire import PostgresRepertoire
from knowledge.postgres.tsquery import compile_tsquery
from knowledge.query import ParsedQuery, parse_query
from tests import pg_support
from tests.pg_support import answer, entry
from tests.postgres_cluster import PostgresServer

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def search_ranked(
    conn: psycopg.Connection[Any], query: ParsedQuery, viewer: ChannelRef | None, limit: int = 5
) -> list[int]:
    """The ids the PostgreSQL repertoire's keyword search finds, best first."""
    matches = PostgresRepertoire(conn).keyword_matches(query, viewer, limit=limit)
    return [match.entry.id for match in matches]


def ids(conn: psycopg.Connection[Any], text: str, viewer: ChannelRef | None = None) -> list[int]:
    return search_ranked(conn, parse_query(text, now=NOW), viewer)


# ---------------------------------------------------------------------------- any input


@pytest.fixture(scope="module")
def corpus(
    postgres_server: PostgresServer, postgres_template: str
) -> Iterator[psycopg.Connection[Any]]:
    """A small repertoire in a database of this module's own, for property tests."""
    name = postgres_server.create_database(template=postgres_template)
    with psycopg.connect(postgres_server.dsn(name)) as conn:
        question = entry(conn, "How do I cache pandas frames?", tags=("pandas",))
        answer(conn, question, "functools.lru_cache or joblib.Memory", accepted=True)
        entry(conn, "Café opening hours & the naïve résumé parser", kind="knowhow")
        entry(conn, "Private: the deploy key rotated", channel="G1", visibility="private")
        conn.commit()
        yield conn
    postgres_server.drop_database(name)


OPERATOR_SOUP = st.text(
    alphabet=st.sampled_from(list("&|!:*()<->'\"\\-_ @#a1é😀\x00\u202e\u05d0")), max_size=80
)
ANY_TEXT = st.one_of(st.text(max_size=300), OPERATOR_SOUP)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ANY_TEXT)
def test_any_search_string_compiles_and_runs(corpus: psycopg.Connection[Any], text: str) -> None:
    query = parse_query(text, now=NOW)
    for mode in ("and", "or"):
        params = Params()
        expression = compile_tsquery(query, params, mode)
        if expression is not None:
            corpus.execute(
                f"SELECT count(*) FROM entries e WHERE e.search_document @@ {expression}",
                params.values,
            ).fetchone()
    search_ranked(corpus, query, ChannelRef("test", "W1", "C1"))
    corpus.rollback()


@settings(max_examples=60, deadline=None)
@given(
    terms=st.lists(st.text(max_size=40), min_size=1, max_size=5),
    phrase=st.lists(st.text(max_size=20), max_size=3),
    excluded=st.text(max_size=20),
)
def test_any_parsed_query_compiles_even_unparsed_text(
    corpus: psycopg.Connection[Any], terms: list[str], phrase: list[str], excluded: str
) -> None:
    # The compiler must not rely on parse_query's cleaning: NUL, lone surrogates, anything.
    query = ParsedQuery(
        terms=tuple(terms), phrases=(tuple(phrase),) if phrase else (), excluded=((excluded,),)
    )
    search_ranked(corpus, query, None)
    corpus.rollback()


def test_a_ten_thousand_character_paste_runs(corpus: psycopg.Connection[Any]) -> None:
    paste = ("cache & | ! :* ( ) <-> \"quoted\" 'x' \x00 😀 \u05e9\u05dc\u05d5\u05dd " * 400)[
        :10_000
    ]
    assert len(paste) == 10_000
    # As one term it must hold all its words, which no document does; it still runs.
    assert search_ranked(corpus, ParsedQuery(terms=(paste,)), None) == []
    # Parsed, its words are terms: not all of them match, but "cache" does.
    assert search_ranked(corpus, parse_query(paste, now=NOW), None)


ACCENTED_AND_INFLECTED = [
    ("Cafés", "cafe"),
    ("caching", "cached"),
    ("Naïve", "naive"),
    ("résumés", "resume"),
    ("connections", "connected"),
    ("ÉCOLE", "ecole"),
    ("deploying", "deploys"),
    ("Übersetzungen", "ubersetzungen"),
]


@settings(max_examples=40, deadline=None)
@given(pairs=st.lists(st.sampled_from(ACCENTED_AND_INFLECTED), min_size=1, max_size=4, unique=True))
def test_an_ordinary_query_finds_its_document(
    corpus: psycopg.Connection[Any], pairs: list[tuple[str, str]]
) -> None:
    with corpus.transaction(force_rollback=True):
        written = " ".join(form for form, _ in pairs)
        wanted = entry(corpus, f"Notes about {written} for the team")
        assert wanted in ids(corpus, " ".join(asked for _, asked in pairs))


# ---------------------------------------------------------------------------- grammar


def test_all_words_first_then_any_word(pg_conn: psycopg.Connection[Any]) -> None:
    both = entry(pg_conn, "Memoization of pandas groupby results")
    only_pandas = entry(pg_conn, "pandas read_csv is slow")
    assert ids(pg_conn, "pandas memoization") == [both]
    pg_conn.execute("DELETE FROM entries WHERE id = %s", [both])
    assert ids(pg_conn, "pandas memoization") == [only_pandas]


def test_common_words_are_dropped_only_while_others_remain(
    pg_conn: psycopg.Connection[Any],
) -> None:
    about_cache = entry(pg_conn, "cache invalidation strategies")
    how_to = entry(pg_conn, "how to")
    assert ids(pg_conn, "how to cache") == [about_cache]
    assert ids(pg_conn, "how to") == [how_to]


def test_a_phrase_needs_its_words_in_order(pg_conn: psycopg.Connection[Any]) -> None:
    ordered = entry(pg_conn, "cache invalidation is hard")
    entry(pg_conn, "invalidation of the cache")
    assert ids(pg_conn, '"cache invalidation"') == [ordered]


def test_excluded_words_leave_documents_out(pg_conn: psycopg.Connection[Any]) -> None:
    entry(pg_conn, "cache with redis")
    plain = entry(pg_conn, "cache in memory")
    assert ids(pg_conn, "cache -redis") == [plain]


def test_exclusions_alone_match_nothing(pg_conn: psycopg.Connection[Any]) -> None:
    entry(pg_conn, "cache in memory")
    # An emoji holds no lexeme: what is left to match must not become "everything but redis".
    assert search_ranked(pg_conn, ParsedQuery(terms=("😀",), excluded=(("redis",),)), None) == []


def test_filters_narrow_the_hits(pg_conn: psycopg.Connection[Any]) -> None:
    tagged = entry(pg_conn, "cache layers", tags=("perf",), days=10)
    by_jose = entry(pg_conn, "cache keys", author="jgarcia", days=20)
    pg_support.member(pg_conn, "jgarcia", display_name="José García")
    howto = entry(pg_conn, "cache warming", kind="knowhow", channel="C7", days=30)
    answered = entry(pg_conn, "cache eviction", days=40)
    answer(pg_conn, answered, "LRU", accepted=True)
    assert ids(pg_conn, "cache tag:perf") == [tagged]
    assert ids(pg_conn, "cache from:jose") == [by_jose]
    assert ids(pg_conn, "cache in:name-C7") == [howto]
    assert ids(pg_conn, "cache kind:howto") == [howto]
    assert ids(pg_conn, "cache is:accepted") == [answered]
    assert set(ids(pg_conn, "cache is:unanswered")) == {tagged, by_jose}
    assert ids(pg_conn, "cache after:2026-01-25 before:2026-02-05") == [howto]


def test_private_entries_show_only_in_their_own_channel(pg_conn: psycopg.Connection[Any]) -> None:
    public = entry(pg_conn, "rotate the deploy key")
    private = entry(pg_conn, "rotate the deploy key now", channel="G1", visibility="private")
    dm = entry(pg_conn, "rotate the deploy key today", channel="D1", visibility="dm")
    assert ids(pg_conn, "deploy key") == [public]
    assert set(ids(pg_conn, "deploy key", ChannelRef("test", "W1", "C1"))) == {public}
    assert set(ids(pg_conn, "deploy key", ChannelRef("test", "W1", "G1"))) == {public, private}
    assert set(ids(pg_conn, "deploy key", ChannelRef("test", "W1", "D1"))) == {public, dm}
    # The same channel id in another workspace is another channel.
    assert ids(pg_conn, "deploy key", ChannelRef("test", "W2", "G1")) == [public]


# ---------------------------------------------------------------------------- ranking


def test_ts_rank_weights_are_the_field_weights_in_class_order() -> None:
    # {D, C, B, A} from (title 8, body 3, answers 1.5, tags 5), over the largest.
    assert rank_weights() == [1.5 / 8, 3 / 8, 5 / 8, 1.0]
    assert rank_weights((2.0, 1.0, 0.5, 2.0)) == [0.25, 0.5, 1.0, 1.0]


def test_a_title_match_outranks_a_body_match(pg_conn: psycopg.Connection[Any]) -> None:
    in_body = entry(pg_conn, "Question about our setup: the webhook retries twice")
    in_title = entry(pg_conn, "Webhook retries: why twice?", title="Webhook retries")
    assert ids(pg_conn, "webhook retries")[:2] == [in_title, in_body]


def test_answered_beats_open_and_accepted_beats_answered(pg_conn: psycopg.Connection[Any]) -> None:
    text = (
        "kubernetes pod stuck in pending since this morning after we moved the cluster to the "
        "new node pool with the spot instances and the bigger disks, what should I check first"
    )
    accepted = entry(pg_conn, text)
    answered = entry(pg_conn, text)
    still_open = entry(pg_conn, text)
    answer(pg_conn, accepted, "add memory", accepted=True)
    answer(pg_conn, answered, "add memory")
    # Equal text, so the boosts decide (a short answer lengthens a document a little,
    # which bm25 weighs, as FTS5 does); ties would put the newest (still_open) first.
    assert ids(pg_conn, "kubernetes pending") == [accepted, answered, still_open]


def test_any_word_ranks_a_rare_word_above_a_common_one(pg_conn: psycopg.Connection[Any]) -> None:
    rare = entry(pg_conn, "memoization")  # older: it would lose a tie
    for i in range(12):
        entry(pg_conn, f"python note {i}")
    common = entry(pg_conn, "python")
    hits = ids(pg_conn, "python memoization")  # no document has both: any word
    assert hits[0] == rare
    assert common in hits
