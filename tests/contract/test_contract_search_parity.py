"""Contract: one community gives the same search hits and similar questions on both backends.

One SQLite file and one PostgreSQL database, written the same way, asked the
same things: the hits come in the same order, with about the same scores
(both backends rank with FTS5's bm25 formula and the same boosts; their
tokenizers count a few words differently, hence "about"), and the similar
finder suggests the same entries with about the same confidence.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from knowledge.models import ChannelRef, Entry
from knowledge.postgres.repertoire import PostgresRepertoire
from knowledge.query import parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.search import SearchOptions, search
from knowledge.similar import find_similar, rank_similar
from knowledge.sqlite.repertoire import Repertoire
from tests.contract.search_community import build_search_community
from tests.contract.support import DM, OTHER_PUBLIC, PRIVATE, PUBLIC
from tests.postgres_cluster import PostgresServer

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 4, 1, tzinfo=UTC)
#: Scores may differ this much (relative): the tokenizers count a document's words a little
#: differently (FTS5 counts every token, PostgreSQL what its parser keeps).
SCORE_TOLERANCE = 0.03


@dataclass
class Twins:
    sqlite: RelationalRepertoire
    postgres: RelationalRepertoire
    #: Entry names by id, on each backend (ids may differ).
    sqlite_names: dict[int, str]
    postgres_names: dict[int, str]


def _names(named: dict[str, Entry]) -> dict[int, str]:
    return {e.id: name for name, e in named.items()}


@pytest.fixture(scope="module")
def twins(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server: PostgresServer,
    postgres_template: str,
) -> Iterator[Twins]:
    folder: Path = tmp_path_factory.mktemp("parity")
    lite = Repertoire.open(folder / "twin.db")
    name = postgres_server.create_database(template=postgres_template)
    pg = PostgresRepertoire.connect(postgres_server.dsn(name))
    try:
        yield Twins(
            lite, pg, _names(build_search_community(lite)), _names(build_search_community(pg))
        )
    finally:
        lite.close()
        pg.close()
        postgres_server.drop_database(name)


QUERIES = [
    "pandas read_csv",
    "read_csv large files",
    "pyarrow",
    "airflow",
    "stuck",
    "spark joins",
    "slow",
    "cache invalidation",
    "caching",
    "airflow kubernetes",
    "airflow kubernetes cache docker",
    "memory",
    "wifi",
    "celery",
    "export",
    "deploy key",
    "kafka rebalancing",
    "tag:pandas",
    "from:ana",
    "in:data",
    "kind:knowhow",
    "is:unanswered",
    "kind:answer memory",
    "how do I",
]
VIEWERS: list[ChannelRef | None] = [None, PRIVATE, DM, OTHER_PUBLIC]


@pytest.mark.parametrize("text", QUERIES)
def test_search_ranks_the_same_on_both_backends(twins: Twins, text: str) -> None:
    query = parse_query(text, now=NOW)
    for viewer in VIEWERS:
        options = SearchOptions(limit=20)
        lite = search(twins.sqlite, query, viewer, options)
        pg = search(twins.postgres, query, viewer, options)
        assert [twins.postgres_names[h.entry.id] for h in pg] == [
            twins.sqlite_names[h.entry.id] for h in lite
        ], viewer
        for a, b in zip(lite, pg, strict=True):
            assert b.score == pytest.approx(a.score, rel=SCORE_TOLERANCE, abs=1e-6), viewer
            assert (a.answer is None) == (b.answer is None)
            assert a.answer_count == b.answer_count
            assert a.snippet == b.snippet


SIMILAR = [
    "pandas read_csv is slow on a big file, any tips?",
    "My airflow tasks stay queued and never run",
    "kubernetes pods pending forever",
    "How to invalidate the API cache after a deploy?",
    "Spark broadcast joins are slow since the upgrade",
    "Which café has wifi near the office?",
    "docker image too large",
    "celery workers are waiting",
    "Something entirely unrelated about gardening",
]


@pytest.mark.parametrize("text", SIMILAR)
def test_similar_questions_are_the_same_on_both_backends(twins: Twins, text: str) -> None:
    for viewer in (PUBLIC, PRIVATE):
        for answered_only in (True, False):
            lite = rank_similar(twins.sqlite, text, viewer, answered_only=answered_only)
            pg = rank_similar(twins.postgres, text, viewer, answered_only=answered_only)
            assert [twins.postgres_names[r.entry.id] for r in pg] == [
                twins.sqlite_names[r.entry.id] for r in lite
            ], (viewer, answered_only)
            for a, b in zip(lite, pg, strict=True):
                assert b.confidence == pytest.approx(a.confidence, abs=0.02)
                assert b.matched == a.matched


@pytest.mark.parametrize("text", SIMILAR)
def test_the_bot_would_suggest_the_same_on_both_backends(twins: Twins, text: str) -> None:
    from knowledge.similar import SUGGEST_THRESHOLD

    def suggested(rep: RelationalRepertoire, names: dict[int, str]) -> list[str]:
        hits = find_similar(rep, text, PUBLIC, limit=3, min_confidence=SUGGEST_THRESHOLD)
        return [names[h.entry.id] for h in hits]

    assert suggested(twins.postgres, twins.postgres_names) == suggested(
        twins.sqlite, twins.sqlite_names
    )
