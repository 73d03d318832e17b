"""Contract: entries and threads, through the storage interface."""

from __future__ import annotations

from datetime import timedelta

import pytest

from knowledge.models import EntryKind, NewEntry, SourceKey
from knowledge.query import parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.search import search
from knowledge.storage import EntryFilter, Viewer
from tests.contract.support import PRIVATE, PUBLIC, T0, Community

EVERYTHING = Viewer.operator_including_private()


def test_saving_the_same_message_twice_makes_one_entry_and_refreshes_it(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana = community.member("U-ana", "Ana")
    first = community.ask(PUBLIC, "How do I read a huge CSV?", ana)
    again = NewEntry(
        kind=EntryKind.QUESTION,
        source=first.source,
        text="How do I read a huge CSV file lazily?",
        author_id=ana,
        created_at=T0 + timedelta(hours=1),
        visibility="public",
        tags=("pandas",),
    )
    entry_id, created = repertoire.save_entry(again)
    assert (entry_id, created) == (first.id, False)
    stored = repertoire.get_entry(first.id)
    assert stored is not None
    assert stored.text == "How do I read a huge CSV file lazily?"
    assert stored.tags == ("pandas",)
    assert stored.created_at == T0  # a refresh keeps when it was first said
    assert repertoire.count_entries(EVERYTHING) == 1


def test_a_thread_lists_its_answers_accepted_first_then_oldest(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben, cam = (community.member(u) for u in ("U-ana", "U-ben", "U-cam"))
    question = community.ask(PUBLIC, "Why is my DAG not scheduled?", ana)
    early = community.answer(question, "Check start_date", ben, minutes=1)
    late = community.answer(question, "Is catchup off?", cam, minutes=2)
    assert [a.id for a in repertoire.answers_for(question)] == [early.id, late.id]
    assert repertoire.set_accepted(late.id, True)
    assert not repertoire.set_accepted(late.id, True)  # nothing changed the second time
    assert [a.id for a in repertoire.answers_for(question)] == [late.id, early.id]
    root = repertoire.thread_root(late)
    assert root is not None and root.id == question.id
    found = repertoire.question_for_thread(PUBLIC, question.source.message_id)
    assert found is not None and found.id == question.id
    assert repertoire.question_for_thread(PRIVATE, question.source.message_id) is None


def test_an_edit_follows_a_derived_title_but_keeps_one_given_on_purpose(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana = community.member("U-ana")
    derived = community.ask(PUBLIC, "How to tune Spark joins?", ana)
    named = community.ask(PUBLIC, "Spark joins are slow, what now?", ana)
    repertoire.set_title(named.id, "Slow Spark joins")
    for entry in (derived, named):
        repertoire.update_text(
            entry.source, "How to tune Spark shuffles?", "How to tune Spark shuffles?", T0
        )
    titles = {e.id: e.title for e in repertoire.entries(EVERYTHING)}
    assert titles == {derived.id: "How to tune Spark shuffles?", named.id: "Slow Spark joins"}


def test_deleting_a_message_removes_its_entries_and_its_answer_from_the_thread(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    question = community.ask(PUBLIC, "Where are the Airflow logs?", ana)
    answer = community.answer(question, "In the scheduler pod under /opt/logs", ben)
    removed = repertoire.delete_message(answer.source)
    assert [e.id for e in removed] == [answer.id]
    assert repertoire.get_entry(answer.id) is None
    assert repertoire.answers_for(question) == []
    assert repertoire.count_entries(EVERYTHING, EntryFilter(answered=True)) == 0


def test_relinking_points_an_entry_at_the_message_that_now_carries_it(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana = community.member("U-ana")
    question = community.ask(PUBLIC, "Who owns the billing tables?", ana)
    repertoire.relink_message(question.id, "posted-1", "https://chat/posted-1")
    [entry] = repertoire.entries_for_message(SourceKey("slack", "T1", PUBLIC.channel, "posted-1"))
    assert (entry.id, entry.permalink) == (question.id, "https://chat/posted-1")
    assert repertoire.entries_for_message(question.source) == []


def test_tags_are_normalised_and_replaced(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana = community.member("U-ana")
    entry = community.ask(PUBLIC, "dbt or plain SQL?", ana, tags=("DBT", "#sql"))
    stored = repertoire.get_entry(entry.id)
    assert stored is not None and stored.tags == ("dbt", "sql")
    repertoire.set_tags(entry.id, ["Analytics"])
    stored = repertoire.get_entry(entry.id)
    assert stored is not None and stored.tags == ("analytics",)


def test_a_transaction_that_fails_leaves_nothing_and_a_nested_one_joins_it(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana = community.member("U-ana")
    with pytest.raises(RuntimeError), repertoire.transaction():
        community.ask(PUBLIC, "Half-written?", ana)
        with repertoire.transaction():
            repertoire.set_meta("half", "written")
        raise RuntimeError("the event's handling failed")
    assert repertoire.count_entries(EVERYTHING) == 0
    assert repertoire.get_meta("half") is None
    with repertoire.transaction():
        repertoire.set_meta("k", "one")
        repertoire.set_meta("k", "two")
    assert repertoire.get_meta("k") == "two"


def test_bulk_mode_defers_search_documents_until_the_flush(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    question = community.ask(PUBLIC, "Which Kafka client for Python?", ana)

    def found(words: str) -> set[int]:
        return {h.entry.id for h in search(repertoire, parse_query(words, now=T0), None)}

    with repertoire.deferred_reindex():
        community.answer(question, "confluent-kafka is the maintained one", ben)
        assert found("confluent") == set()  # noted, not yet rebuilt
        assert repertoire.flush_reindex() == 1  # the question's document, once
        assert found("confluent") == {question.id}
        community.answer(question, "aiokafka when you need asyncio", ana)
    assert found("aiokafka") == {question.id}  # leaving the block flushes what is left
