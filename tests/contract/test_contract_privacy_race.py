"""Contract: a channel made private while a lookup runs is not shown to a viewer who lost it.

The finders rank first and read the best entries whole in a second statement.
Outside a transaction each statement sees the database as it is when it runs,
so another process (a second repertoire on the same database, as the import
or a second bot would be) turning the channel private between the two must
win: the read applies the visibility rule again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from knowledge.query import parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.search import SearchOptions, search
from knowledge.similar import find_similar
from tests.contract.support import PUBLIC, Community

#: Where each backend's two steps meet: the function, and whether the channel turns private
#: just after it (it ranks) or just before it (it reads the entries whole).
SIMILAR_STEP = {
    "sqlite": ("knowledge.sqlite.similar_candidates", "best_candidates", "after"),
    "postgres": ("knowledge.postgres.text_search", "similar_ranked", "after"),
}
SEARCH_STEP = {
    ("sqlite", "all words"): ("knowledge.sqlite.keyword_search", "read_ranked", "before"),
    ("sqlite", "any word"): ("knowledge.sqlite.keyword_search", "read_ranked", "before"),
    ("postgres", "all words"): ("knowledge.postgres.text_search", "rank_all_words", "after"),
    ("postgres", "any word"): ("knowledge.postgres.text_search", "rank_any_word", "after"),
}
QUESTION = "how do I rotate the vault token for the kafka connector"


def _turn_private_between(
    monkeypatch: pytest.MonkeyPatch,
    step: tuple[str, str, str],
    other: RelationalRepertoire,
) -> list[object]:
    """Wrap the step so the public channel turns private at the seam of the two statements;
    the step's results are returned as they come (those that found something)."""
    module, name, when = step
    original: Callable[..., Any] = getattr(__import__(module, fromlist=[name]), name)
    results: list[object] = []

    def turn() -> None:
        other.upsert_channel(PUBLIC.platform, PUBLIC.workspace, PUBLIC.channel, "help", "private")

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if when == "before":
            results.append(args[1])  # what was ranked: the ids about to be read
            turn()
        result = original(*args, **kwargs)
        if when == "after":
            results.append(result)
            turn()
        return result

    monkeypatch.setattr(f"{module}.{name}", wrapped)
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

    ranked = _turn_private_between(monkeypatch, SIMILAR_STEP[backend], other_process)
    hits = find_similar(repertoire, QUESTION, None)

    assert ranked and ranked[0], "the ranking step ran and found the entry"
    assert hits == []
    # The channel's own members still see it.
    assert [h.entry.id for h in find_similar(repertoire, QUESTION, PUBLIC)] == [asked.id]


@pytest.mark.parametrize("words", ["all words", "any word"])
def test_search_drops_an_entry_whose_channel_turned_private_after_ranking(
    backend: str,
    repertoire: RelationalRepertoire,
    other_process: RelationalRepertoire,
    monkeypatch: pytest.MonkeyPatch,
    words: str,
) -> None:
    community = Community(repertoire)
    ana = community.member("U-ana")
    asked = community.ask(PUBLIC, QUESTION, ana)
    query = parse_query("vault kafka" if words == "all words" else "vault zookeeper")
    assert [h.entry.id for h in search(repertoire, query, None, SearchOptions())] == [asked.id]

    ranked = _turn_private_between(monkeypatch, SEARCH_STEP[(backend, words)], other_process)
    hits = search(repertoire, query, None, SearchOptions())

    assert ranked and ranked[-1], "the ranking step ran and found the entry"
    assert hits == []
