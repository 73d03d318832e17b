"""Contract: a channel made private while a lookup runs is not shown to a viewer who lost it.

The finders rank first and read the best entries whole in a second statement.
Outside a transaction each statement sees the database as it is when it runs,
so another process (a second repertoire on the same database, as the import
or a second bot would be) turning the channel private between the two must
win: the read applies the visibility rule again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from knowledge.query import parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.search import SearchOptions, search
from knowledge.similar import find_similar
from tests.contract.support import PUBLIC, Community, open_backend

#: Where each backend's first step (ranking, before the whole entries are read) lives.
SIMILAR_RANKING = {
    "sqlite": ("knowledge.sqlite.similar_candidates", "best_candidates"),
    "postgres": ("knowledge.postgres.text_search", "similar_ranked"),
}
QUESTION = "how do I rotate the vault token for the kafka connector"


@pytest.fixture
def other_process(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[RelationalRepertoire]:
    """A second repertoire on the same database, as another process would open it."""
    dsn = str(request.getfixturevalue("pg_dsn")) if backend == "postgres" else ""
    other = open_backend(backend, tmp_path, dsn)
    try:
        yield other
    finally:
        other.close()


def _turn_private_after(
    monkeypatch: pytest.MonkeyPatch,
    module: str,
    name: str,
    other: RelationalRepertoire,
) -> list[object]:
    """Wrap ``module.name`` so the public channel turns private just after it returns."""
    original: Callable[..., Any] = getattr(__import__(module, fromlist=[name]), name)
    results: list[object] = []

    def ranked_then_turned(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        results.append(result)
        other.upsert_channel(PUBLIC.platform, PUBLIC.workspace, PUBLIC.channel, "help", "private")
        return result

    monkeypatch.setattr(f"{module}.{name}", ranked_then_turned)
    return results


def test_similar_questions_drop_an_entry_whose_channel_turned_private_after_ranking(
    backend: str,
    repertoire: RelationalRepertoire,
    other_process: RelationalRepertoire,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    community = Community(repertoire)
    ana = community.member("U-ana")
    asked = community.ask(PUBLIC, QUESTION, ana)
    community.answer(asked, "run vault token renew before the connector restarts", ana)
    assert [h.entry.id for h in find_similar(repertoire, QUESTION, None)] == [asked.id]

    ranked = _turn_private_after(monkeypatch, *SIMILAR_RANKING[backend], other_process)
    hits = find_similar(repertoire, QUESTION, None)

    assert ranked and ranked[0], "the ranking step ran and found the entry"
    assert hits == []
    # The channel's own members still see it.
    assert [h.entry.id for h in find_similar(repertoire, QUESTION, PUBLIC)] == [asked.id]


@pytest.mark.parametrize("ranking", ["rank_all_words", "rank_any_word"])
@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_postgres_search_drops_an_entry_whose_channel_turned_private_after_ranking(
    repertoire: RelationalRepertoire,
    other_process: RelationalRepertoire,
    monkeypatch: pytest.MonkeyPatch,
    ranking: str,
) -> None:
    """PostgreSQL's search ranks, then reads (SQLite's filters and reads in one statement)."""
    community = Community(repertoire)
    ana = community.member("U-ana")
    asked = community.ask(PUBLIC, QUESTION, ana)
    query = parse_query("vault kafka" if ranking == "rank_all_words" else "vault zookeeper")
    assert [h.entry.id for h in search(repertoire, query, None, SearchOptions())] == [asked.id]

    ranked = _turn_private_after(
        monkeypatch, "knowledge.postgres.text_search", ranking, other_process
    )
    hits = search(repertoire, query, None, SearchOptions())

    assert ranked and ranked[-1], "the ranking step ran and found the entry"
    assert hits == []
