"""Bounded candidate sets on PostgreSQL: term statistics, rarest terms first, similar questions."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from knowledge.models import ChannelRef
from knowledge.postgres import termstats
from knowledge.postgres.documents import reindex
from knowledge.postgres.params import Params
from knowledge.postgres.ranking import WeightedPart, rank_any_word
from knowledge.postgres.similar import question_parts, similar_candidates
from knowledge.postgres.tsquery import MatchPart
from knowledge.storage.matches import WeightedTerm, gating_terms
from tests.pg_support import answer, entry

pytestmark = pytest.mark.postgres


def _part(text: str, df: int, weight: float = 1.0) -> WeightedPart:
    return WeightedPart(MatchPart(text), df, weight)


def test_lexemes_are_the_index_terms(pg_conn: psycopg.Connection[Any]) -> None:
    assert termstats.lexemes(pg_conn, ["Caching", "Cafés", "😀", "x_y", "how"]) == [
        "cach",
        "cafe",
        None,  # no lexeme
        None,  # two lexemes: no single term stands for it
        "how",
    ]


def test_document_count_counts_questions_and_knowhow_only(pg_conn: psycopg.Connection[Any]) -> None:
    question = entry(pg_conn, "one")
    answer(pg_conn, question, "two")
    entry(pg_conn, "three", kind="knowhow")
    assert termstats.document_count(pg_conn) == 2


def test_counting_stops_at_the_cap(pg_conn: psycopg.Connection[Any]) -> None:
    for i in range(5):
        entry(pg_conn, f"python {i}")
    parts = [MatchPart("python"), MatchPart("python 3", phrase=True), MatchPart("ruby")]
    assert termstats.count_matches(pg_conn, parts, cap=3) == [3, 1, 0]
    assert termstats.count_matches(pg_conn, parts, cap=100) == [5, 1, 0]


def test_frequencies_are_cached_and_recounted_when_the_corpus_has_grown(
    pg_conn: psycopg.Connection[Any],
) -> None:
    for i in range(4):
        entry(pg_conn, f"caching layer {i}")
    parts = [MatchPart("cached")]
    assert termstats.document_frequencies(pg_conn, parts, 4) == [4]
    assert pg_conn.execute("SELECT term, doc, n_docs FROM term_stats").fetchall() == [
        ("cach", 4, 4)
    ]
    # A cached count is trusted while the corpus is about the same size...
    pg_conn.execute("UPDATE term_stats SET doc = 3")
    assert termstats.document_frequencies(pg_conn, parts, 4) == [3]
    # ...and counted again once it has grown by more than a quarter.
    assert termstats.document_frequencies(pg_conn, parts, 6) == [4]


def test_the_gate_takes_the_rarest_parts_within_the_budget() -> None:
    parts = [_part("common", 900), _part("rare", 3), _part("middling", 60), _part("rarer", 1)]
    assert [p.part.text for p in gating_terms(parts, 100)] == ["rarer", "rare", "middling"]
    # However common, the rarest part always gates.
    assert [p.part.text for p in gating_terms([_part("common", 900)], 10)] == ["common"]


def test_parts_gate_as_the_sqlite_finder_s_terms_do() -> None:
    """One rule for both backends: the same frequencies and weights choose the same words."""
    rows = [("common", 9000, 2.0), ("rare", 40, 8.0), ("mid", 3000, 3.0), ("twin", 3000, 6.0)]
    rows += [("alpha", 3000, 3.0)]  # equally rare and heavy as "mid": the text decides
    terms = [WeightedTerm(word, word, df, weight) for word, df, weight in rows]
    parts = [_part(word, df, weight) for word, df, weight in rows]
    for budget in (10, 5_000, 7_000, 12_000, 100_000):
        expected = [t.word for t in gating_terms(terms, budget)]
        assert [p.part.text for p in gating_terms(parts, budget)] == expected, budget
    assert [t.word for t in gating_terms(terms, 7_000)] == ["rare", "twin", "alpha"]


def test_candidates_come_from_the_rare_words_and_all_words_score(
    pg_conn: psycopg.Connection[Any],
) -> None:
    only_common = [entry(pg_conn, f"python tips {i}") for i in range(6)]
    both = entry(pg_conn, "python memoization")
    rare_only = entry(pg_conn, "memoization explained")
    parts = [_part("python", 7, 0.5), _part("memoization", 2, 3.0)]
    params = Params()
    hits = rank_any_word(pg_conn, parts, [], params, budget=5, limit=10)
    # "python" is over the budget, so it does not bring candidates in; it still scores.
    assert [h.entry_id for h in hits] == [both, rare_only]
    assert not {h.entry_id for h in hits} & set(only_common)


def test_the_candidate_set_is_capped(pg_conn: psycopg.Connection[Any]) -> None:
    for i in range(8):
        entry(pg_conn, f"python tips {i}")
    hits = rank_any_word(pg_conn, [_part("python", 8)], [], Params(), limit=10, cap=3)
    assert len(hits) == 3


def test_question_parts_weigh_words_by_rarity_and_skip_unknown_ones(
    pg_conn: psycopg.Connection[Any],
) -> None:
    for i in range(9):
        entry(pg_conn, f"python note {i}")
    entry(pg_conn, "python memoization")
    parts = {p.part.text: p for p in question_parts(pg_conn, ["python", "memoization", "zebra"])}
    assert set(parts) == {"python", "memoization"}
    assert parts["python"].df == 10 and parts["memoization"].df == 1
    assert parts["memoization"].weight > parts["python"].weight
    boosted = question_parts(pg_conn, ["python"], boosts=[2.0])[0]
    assert boosted.weight == pytest.approx(2 * parts["python"].weight)


def test_similar_candidates_keep_to_answered_visible_entries(
    pg_conn: psycopg.Connection[Any],
) -> None:
    answered = entry(pg_conn, "docker build cache is ignored")
    answer(pg_conn, answered, "copy requirements before the source")
    unanswered = entry(pg_conn, "docker build cache misses")
    knowhow = entry(pg_conn, "docker build cache tips", kind="knowhow")
    private = entry(pg_conn, "docker build cache secret", channel="G1", visibility="private")
    answer(pg_conn, private, "mount the secret")
    parts = question_parts(pg_conn, ["docker", "build", "cache"])
    public_view = ChannelRef("test", "W1", "C1")

    found = {r.entry_id for r in similar_candidates(pg_conn, parts, public_view)}
    assert found == {answered, knowhow}
    found = {
        r.entry_id for r in similar_candidates(pg_conn, parts, public_view, answered_only=False)
    }
    assert found == {answered, unanswered, knowhow}
    in_private = ChannelRef("test", "W1", "G1")
    found = {
        r.entry_id for r in similar_candidates(pg_conn, parts, in_private, exclude_ids=[answered])
    }
    assert found == {knowhow, private}


def test_every_match_of_the_gating_words_is_ranked_not_only_the_newest(
    pg_conn: psycopg.Connection[Any],
) -> None:
    # The question asked long ago, then 1,500 newer ones sharing only its common
    # word: within the finder's posting budget, so all of them are candidates,
    # and the old question must win on its rare words wherever it sits in the index.
    asked = entry(pg_conn, "kafka consumer rebalancing storms")
    author = pg_conn.execute("SELECT author_id FROM entries WHERE id = %s", [asked]).fetchone()
    assert author is not None
    pg_conn.execute(
        "INSERT INTO entries (kind, platform, workspace, channel, message_id, text, author_id, "
        "created_at, updated_at, visibility, channel_name) "
        "SELECT 'question', 'test', 'W1', 'C1', 'filler' || i, 'kafka topic note ' || i, %s, "
        "now(), now(), 'public', 'name-C1' FROM generate_series(1, 1500) AS i",
        [author[0]],
    )
    fillers = [int(r[0]) for r in pg_conn.execute("SELECT id FROM entries WHERE id <> %s", [asked])]
    reindex(pg_conn, fillers)
    parts = question_parts(pg_conn, ["kafka", "consumer", "rebalancing", "storms"])
    assert len(parts) == 4  # every word is in the index
    hits = similar_candidates(pg_conn, parts, None, answered_only=False, limit=5)
    assert hits[0].entry_id == asked
    assert len(hits) == 5


def test_a_rarest_word_over_the_budget_brings_only_the_newest_capped_matches(
    pg_conn: psycopg.Connection[Any],
) -> None:
    ids = [entry(pg_conn, f"python tips {i}") for i in range(8)]
    parts = question_parts(pg_conn, ["python"])
    hits = similar_candidates(pg_conn, parts, None, answered_only=False, budget=5, cap=3)
    assert sorted(h.entry_id for h in hits) == ids[-3:]
    # Within the budget, every match is ranked.
    hits = similar_candidates(pg_conn, parts, None, answered_only=False, budget=8, cap=3)
    assert len(hits) == 8


def test_a_part_whose_count_is_short_still_brings_no_more_than_the_budget(
    pg_conn: psycopg.Connection[Any],
) -> None:
    for i in range(8):
        entry(pg_conn, f"python tips {i}")
    # Counted as 1 (a stale or capped count), though eight documents hold it.
    hits = similar_candidates(pg_conn, [_part("python", 1)], None, answered_only=False, budget=5)
    assert len(hits) == 5
