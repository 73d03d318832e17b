"""knowledge.similar: informative terms, visibility, exclusions, confidence, safety."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from knowledge.models import ChannelRef, EntryKind, NewEntry, SourceKey
from knowledge.similar import (
    DEFAULT_CONFIG,
    find_similar,
    margin_confidence,
    question_terms,
    rank_similar,
    weighted_terms,
)
from knowledge.sqlite.repertoire import Repertoire
from knowledge.sqlite.similar_candidates import mlt_expression
from knowledge.sqlite.vocabulary import document_count, stems_of, stems_present
from knowledge.storage import Viewer

NOW = datetime(2026, 11, 1, tzinfo=UTC)
HELP = ChannelRef("slack", "T1", "C-help")
PRIVATE = ChannelRef("slack", "T1", "G-private")


def add(
    rep: Repertoire,
    title: str,
    answer: str | None = "An answer.",
    channel: ChannelRef = HELP,
    visibility: str = "public",
    kind: EntryKind = EntryKind.QUESTION,
    tags: tuple[str, ...] = (),
) -> int:
    author = rep.upsert_member(channel.platform, channel.workspace, "U1", "Ann")
    helper = rep.upsert_member(channel.platform, channel.workspace, "U2", "Bo")
    message_id = f"m{rep.count_entries(Viewer.operator_including_private()) + 1}"
    entry_id, _ = rep.save_entry(
        NewEntry(
            kind=kind,
            source=SourceKey(channel.platform, channel.workspace, channel.channel, message_id),
            text=title,
            author_id=author,
            created_at=NOW - timedelta(days=3),
            visibility=visibility,
            title=title,
            tags=tags,
        )
    )
    if answer is not None and kind == EntryKind.QUESTION:
        answer_id, _ = rep.save_entry(
            NewEntry(
                kind=EntryKind.ANSWER,
                source=SourceKey(
                    channel.platform, channel.workspace, channel.channel, message_id + "-a"
                ),
                text=answer,
                author_id=helper,
                created_at=NOW - timedelta(days=2),
                visibility=visibility,
                thread_id=message_id,
            )
        )
        rep.set_accepted(answer_id, True)
    return entry_id


@pytest.fixture
def rep() -> Repertoire:
    rep = Repertoire.open(":memory:")
    add(rep, "How do I reduce the memory usage of a pandas DataFrame?", "Use category.")
    add(rep, "How do I make an Airflow task retry when the upstream API times out?", "retries=3")
    add(rep, "What is a sensible Parquet partitioning scheme for 50 GB a day?", "By day.")
    add(rep, "Can DuckDB query Parquet files in S3 directly?", "Yes, httpfs.")
    add(rep, "Which Kafka client do people use in Python?", "confluent-kafka")
    add(rep, "How do incremental models work in dbt?", "is_incremental()")
    return rep


def test_finds_the_matching_answered_question(rep: Repertoire) -> None:
    hits = find_similar(
        rep, "my pandas dataframe uses way too much memory, how to reduce it?", HELP
    )
    assert hits
    assert "pandas" in hits[0].entry.title
    assert hits[0].answer is not None and hits[0].answer.text == "Use category."
    assert all(0.0 <= h.score <= 1.0 for h in hits)


def test_confidence_separates_a_duplicate_from_a_stranger(rep: Repertoire) -> None:
    dup = find_similar(rep, "How do incremental models work in dbt?", HELP)
    far = find_similar(rep, "Which pizza topping is best for a team lunch?", HELP)
    assert dup and dup[0].score >= 0.4
    assert not far or far[0].score < dup[0].score


def test_visibility_rule(rep: Repertoire) -> None:
    secret = add(
        rep,
        "How do we rotate the Snowflake service account key?",
        "Vault.",
        channel=PRIVATE,
        visibility="private",
    )
    text = "how to rotate the snowflake service account key"
    assert all(h.entry.id != secret for h in find_similar(rep, text, HELP))
    assert any(h.entry.id == secret for h in find_similar(rep, text, PRIVATE))
    assert all(h.entry.id != secret for h in find_similar(rep, text, None))


def test_exclusions_and_answered_only(rep: Repertoire) -> None:
    open_q = add(rep, "How do incremental models work in dbt exactly?", answer=None)
    text = "How do incremental models work in dbt?"
    assert all(h.entry.id != open_q for h in find_similar(rep, text, HELP))
    assert any(
        h.entry.id == open_q for h in find_similar(rep, text, HELP, answered_only=False, limit=5)
    )
    first = find_similar(rep, text, HELP)[0].entry.id
    assert all(h.entry.id != first for h in find_similar(rep, text, HELP, exclude_entry_id=first))
    assert all(h.entry.id != first for h in find_similar(rep, text, HELP, exclude_ids=[first]))


def test_knowhow_is_suggested(rep: Repertoire) -> None:
    tip = add(
        rep,
        "Use pyarrow string dtype to cut pandas memory",
        kind=EntryKind.KNOWHOW,
        tags=("pandas",),
    )
    hits = find_similar(rep, "pyarrow string dtype in pandas?", HELP, limit=3)
    assert tip in [h.entry.id for h in hits]


def test_min_confidence_and_limit(rep: Repertoire) -> None:
    assert len(find_similar(rep, "parquet files", HELP, limit=1)) <= 1
    assert find_similar(rep, "parquet files", HELP, min_confidence=1.01) == []


@pytest.mark.parametrize(
    "text",
    [
        'pandas" OR NEAR(a b) *',
        "title:pandas AND (memory",
        '"unterminated',
        "-- ; DROP TABLE entries; \x00",
        "",
        "the and of to",
        "x" * 50_000,
        "🦆 日本語 café",
    ],
)
def test_user_text_is_data(rep: Repertoire, text: str) -> None:
    find_similar(rep, text, HELP)  # never raises
    assert rep.count_entries(Viewer.operator_including_private()) > 0


def test_terms_come_stemmed_with_idf_and_quoted_words_weigh_more(rep: Repertoire) -> None:
    terms = question_terms(rep, 'Is "parquet" partitioning sensible? parquet files')
    stems = [t.stem for t in terms]
    assert "parquet" in stems
    top = terms[0]
    assert top.stem == "parquet" and top.boost > 1
    expression = mlt_expression(weighted_terms(terms))
    assert expression is not None and expression.count('"parquet"') >= 2
    assert all(t.df > 0 for t in terms)  # unknown words cannot match: left out


def test_stems_match_the_index_tokenizer(rep: Repertoire) -> None:
    stems = stems_of(rep, {1: "caching Cafés", 2: "retries"})
    assert set(stems[1]) == {"cach", "cafe"}
    assert set(stems[2]) == {"retri"}


def test_stems_present_is_stems_of_restricted_to_the_wanted_stems(rep: Repertoire) -> None:
    texts = {
        1: "Caching Cafés: the cache was cached, caches everywhere",
        2: "retries retried; RETRYING with backoff",
        3: "",
        4: "naïve résumé parsing — résumés of naive parsers " * 40,
        5: "caché",
    }
    wanted = ["cach", "cafe", "retri", "naiv", "pars", "absent", "resum"]
    present = stems_present(rep, texts, wanted)
    full = stems_of(rep, texts)
    assert present == {k: frozenset(full[k]) & frozenset(wanted) for k in texts}
    assert present[1] == {"cach", "cafe"} and present[3] == frozenset()
    assert stems_present(rep, texts, []) == {k: frozenset() for k in texts}
    # The scratch rows are gone: a second call sees only its own texts.
    assert stems_present(rep, {9: "retries"}, wanted) == {9: frozenset({"retri"})}


def test_document_count_reads_fts_averages(rep: Repertoire) -> None:
    indexed = rep.db.execute("SELECT count(*) FROM search_fts").fetchone()[0]
    assert document_count(rep) == indexed == 6


def test_margin_confidence_bounds() -> None:
    assert margin_confidence(10, 0, 5) == 1.0
    assert margin_confidence(6, 4, 10) == pytest.approx(0.2)
    assert margin_confidence(3, 4, 10) == 0.0
    assert margin_confidence(3, 0, 0) == 0.0


def test_rank_similar_default_config(rep: Repertoire) -> None:
    ranked = rank_similar(rep, "dbt incremental models", HELP, config=DEFAULT_CONFIG)
    assert ranked and "dbt" in ranked[0].entry.title


def test_posting_budget_keeps_the_best_two_then_what_fits() -> None:
    from knowledge.similar import Term, select_terms

    terms = [
        Term("a", "a", 1, 4000, 5.0),
        Term("b", "b", 1, 5000, 4.0),
        Term("c", "c", 1, 3000, 3.0),
        Term("d", "d", 1, 500, 2.0),
        Term("e", "e", 1, 100, 1.0),
    ]
    chosen = [t.word for t in select_terms(terms, max_terms=16, max_postings=10_000)]
    assert chosen == ["a", "b", "d", "e"]
    assert [t.word for t in select_terms(terms, max_terms=2)] == ["a", "b"]


def test_gating_terms_are_the_rarest_within_the_budget_and_at_least_one() -> None:
    from knowledge.storage.matches import WeightedTerm, gating_terms

    terms = [
        WeightedTerm("common", "common", 9000, 1.0, 2),
        WeightedTerm("rare", "rare", 40, 8.0),
        WeightedTerm("mid", "mid", 3000, 3.0),
        WeightedTerm("twin", "twin", 3000, 3.0, 2),
    ]
    # Rarest first, the heavier of two equally rare first, while within the budget.
    assert [t.word for t in gating_terms(terms, 5_000)] == ["rare", "twin"]
    assert [t.word for t in gating_terms(terms, 100_000)] == ["rare", "twin", "mid", "common"]
    # The rarest gates even when it alone is over the budget.
    assert [t.word for t in gating_terms(terms[:1], 5_000)] == ["common"]
    assert gating_terms([], 5_000) == []


def test_document_frequencies_are_cached(rep: Repertoire) -> None:
    question_terms(rep, "parquet partitioning scheme")
    cached = dict(rep.db.execute("SELECT term, doc FROM similar_df").fetchall())
    assert cached.get("parquet") == 2
