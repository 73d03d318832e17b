"""Contract: keyword search, through the core's real search, the same on every backend.

One community (``search_community.py``), the search grammar's every part, and
the viewers that matter: the public (the command line, a channel that sees
public entries only), a private channel, a DM. The expected hits are what the
grammar and the visibility rule say, so every backend must give them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from knowledge.models import Audience, ChannelRef, Entry, Viewer
from knowledge.query import parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.search import SearchOptions, search
from tests.contract.search_community import build_search_community
from tests.contract.support import DM, OTHER_PUBLIC, PRIVATE, PUBLIC, Community, open_backend
from tests.postgres_cluster import PostgresServer

NOW = datetime(2026, 4, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def built(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[RelationalRepertoire, dict[str, Entry]]]:
    """The community, built once per backend for this module's read-only tests."""
    if backend == "postgres":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = server.create_database(template=request.getfixturevalue("postgres_template"))
        rep = open_backend(backend, Path(), server.dsn(name))
    else:
        rep = open_backend(backend, tmp_path_factory.mktemp("search"))
    try:
        yield rep, build_search_community(rep)
    finally:
        rep.close()
        if backend == "postgres":
            server.drop_database(name)


@pytest.fixture
def searched(built: tuple[RelationalRepertoire, dict[str, Entry]]) -> RelationalRepertoire:
    return built[0]


@pytest.fixture
def named(built: tuple[RelationalRepertoire, dict[str, Entry]]) -> dict[str, Entry]:
    return built[1]


def found(
    repertoire: RelationalRepertoire,
    named: dict[str, Entry],
    text: str,
    viewer: Audience = None,
    limit: int = 20,
) -> list[str]:
    """The names of the hits for ``text``, best first."""
    by_id = {e.id: name for name, e in named.items()}
    hits = search(repertoire, parse_query(text, now=NOW), viewer, SearchOptions(limit=limit))
    return [by_id[h.entry.id] for h in hits]


# (query, viewer, the names expected, in any order)
EXPECTED: list[tuple[str, ChannelRef | None, set[str]]] = [
    ("pandas read_csv", None, {"csv"}),
    ("pandas read_csv", PRIVATE, {"csv", "csv_memory"}),
    ("pyarrow", None, {"csv"}),  # a word of the answer finds its question
    ("chunksize", None, set()),  # a private answer, lent by a link to a public question: no
    ("chunksize", PRIVATE, {"csv_memory"}),
    ("celery pool slots", None, {"airflow", "celery"}),  # a public answer a link lends: yes
    ("airflow", None, {"airflow", "airflow_open"}),
    ("airflow is:unanswered", None, {"airflow_open"}),
    ("airflow is:accepted", None, {"airflow"}),
    ("stuck is:answered", None, {"airflow", "pods"}),
    ("tag:pandas", None, {"csv"}),
    ("tag:airflow queued", None, {"airflow"}),
    ("from:jose", None, {"airflow", "cafe", "kafka"}),
    ("from:josegarcia wifi", None, {"cafe"}),  # a display name without its spaces
    ("in:data", None, {"airflow_open", "docker"}),
    ("in:#data airflow", None, {"airflow_open"}),
    ("kind:knowhow", None, {"docker", "kafka"}),
    ("kind:resource", None, {"kafka"}),
    ("kind:howto docker", None, {"docker"}),
    ("cafe", None, {"cafe"}),  # accents folded
    ("Café", None, {"cafe"}),
    ("naive bakery", None, {"cafe"}),
    ('"cache invalidation"', None, {"cache"}),  # a phrase needs its words in order
    ("cache invalidation", None, {"cache", "cache_layer"}),
    ("cache -layer", None, {"cache"}),
    ('invalidation -"cache layer"', None, {"cache"}),
    ("caching", None, {"cache", "cache_layer"}),  # stemmed
    ("how to cache", None, {"cache", "cache_layer"}),  # common words dropped while others remain
    ("salary", None, set()),
    ("salary", PUBLIC, set()),
    ("salary", DM, {"salary"}),
    ("deploy key", None, {"cache_layer"}),  # no public entry has both: any word ("deploys")
    ("deploy key", PRIVATE, {"team_private"}),
    ("vault script", OTHER_PUBLIC, set()),
    ("kubernetes memory", None, {"pods"}),
    ("airflow kubernetes", None, {"airflow", "airflow_open", "pods"}),  # none has both: any word
    ("docker images", None, {"docker"}),
    ("kafka consumer", None, {"kafka"}),
    ("after:2026-03-10 before:2026-03-12", None, {"cache", "cache_layer"}),
    ("spark after:2026-03-13", None, {"spark_body"}),
    ("zzzunheardof", None, set()),
    ("kind:answer pyarrow", None, {"csv.answer"}),
    ("kind:answer chunksize", None, set()),
    ("kind:answer chunksize", PRIVATE, {"csv_memory.answer"}),
    ("tag:nosuchtag", None, set()),
]


@pytest.mark.parametrize(
    ("text", "viewer", "expected"),
    EXPECTED,
    ids=[f"{q}|{v.channel if v else 'public'}" for q, v, _ in EXPECTED],
)
def test_the_grammar_and_the_visibility_rule_give_these_hits(
    searched: RelationalRepertoire,
    named: dict[str, Entry],
    text: str,
    viewer: ChannelRef | None,
    expected: set[str],
) -> None:
    hits = found(searched, named, text, viewer)
    assert set(hits) == expected
    assert len(hits) == len(set(hits))  # no entry twice


def test_a_title_match_outranks_a_body_match(
    searched: RelationalRepertoire, named: dict[str, Entry]
) -> None:
    assert found(searched, named, "spark joins") == ["spark", "spark_body"]


def test_an_accepted_answer_outranks_a_plain_answer_and_an_open_question(
    searched: RelationalRepertoire, named: dict[str, Entry]
) -> None:
    # Both "stuck" questions say it once in a title of the same length; "airflow"'s
    # answer is accepted, "pods"' is not.
    assert found(searched, named, "stuck") == ["airflow", "pods"]


def test_hits_show_only_answers_the_viewer_may_see(
    searched: RelationalRepertoire, named: dict[str, Entry]
) -> None:
    [hit] = search(searched, parse_query("billing export huge", now=NOW), None)
    assert hit.entry.id == named["billing"].id
    # The link lends a private thread's answer: never shown to the public.
    assert hit.answer is None and hit.answer_count == 0
    [there] = search(searched, parse_query("billing export huge", now=NOW), PRIVATE)
    assert there.answer is not None and there.answer.id == named["csv_memory.answer"].id
    [lent] = search(searched, parse_query("celery workers", now=NOW), None)
    assert lent.answer is not None and lent.answer.id == named["airflow.answer"].id
    assert "\x02" in lent.snippet  # the matched words are marked


def test_pages_follow_one_another(searched: RelationalRepertoire, named: dict[str, Entry]) -> None:
    query = parse_query("airflow kubernetes cache", now=NOW)
    everything = [h.entry.id for h in search(searched, query, None, SearchOptions(limit=10))]
    first = search(searched, query, None, SearchOptions(limit=2))
    second = search(searched, query, None, SearchOptions(limit=2, offset=2))
    assert [h.entry.id for h in first + second] == everything[:4]
    assert len(everything) == 5


def test_the_public_web_sees_published_channels_only_and_not_hidden_authors(
    searched: RelationalRepertoire, named: dict[str, Entry]
) -> None:
    nothing_published = Viewer.public_web(())
    assert found(searched, named, "airflow", nothing_published) == []
    help_only = Viewer.public_web({PUBLIC})
    assert found(searched, named, "airflow", help_only) == ["airflow"]
    assert found(searched, named, "salary", Viewer.public_web({DM})) == []
    jose = named["airflow"].author_id
    both = frozenset({PUBLIC, OTHER_PUBLIC})
    without_jose = Viewer.public_web(both, {jose})
    assert set(found(searched, named, "airflow", without_jose)) == {"airflow_open"}
    # Ana opted out: a word only her answer holds no longer finds the question on the web.
    ana = named["csv"].author_id
    web = Viewer.public_web({PUBLIC}, {ana})
    assert found(searched, named, "pool slots", web) == []
    assert set(found(searched, named, "pool slots", help_only)) == {"airflow", "celery"}


@pytest.mark.parametrize(
    "text",
    ["", "   ", '"', "-", "tag:", '""""', "AND OR NOT", "NEAR(a b)", "col:val", "a* b^", "🦆"],
)
def test_odd_input_never_raises(
    searched: RelationalRepertoire, named: dict[str, Entry], text: str
) -> None:
    hits = search(searched, parse_query(text, now=NOW), PUBLIC)
    assert all(h.entry.visibility == "public" for h in hits)


@pytest.mark.parametrize("word", ["csv", "parquet", "bucket", "lake", "stage", "example"])
def test_words_joined_by_punctuation_are_found_alone(
    repertoire: RelationalRepertoire, community: Community, word: str
) -> None:
    ana = community.member("U-ana")
    community.ask(
        PUBLIC, "Load big.csv and csv/parquet from s3://bucket/data-lake, multi-stage", ana
    )
    community.ask(PUBLIC, "Something else entirely, see https://example.org/x", ana)
    hits = search(repertoire, parse_query(word, now=NOW), None)
    expected = "Something" if word == "example" else "Load"
    assert [h.entry.title.split()[0] for h in hits] == [expected]
