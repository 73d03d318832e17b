"""Storage through the core: idempotent capture, out-of-order events, edits and deletes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.ports import FixedClock
from knowledge.models import EntryKind
from knowledge.query import parse_query
from knowledge.search import search
from tests.chat_driver import Chat, MakeCore, first_reply

QUESTION = "How do I reduce the memory usage of a pandas DataFrame?"


def found(chat: Chat, text: str) -> list[str]:
    """Message ids of the public entries a search for ``text`` finds."""
    hits = search(chat.repertoire, parse_query(text), None)
    return [h.entry.source.message_id for h in hits]


def fts_rows(chat: Chat, entry_id: int) -> int:
    [(count,)] = chat.sql("SELECT count(*) FROM search_fts WHERE rowid = ?", entry_id)
    assert isinstance(count, int)
    return count


# ------------------------------------------------------------------ idempotency


def test_the_same_message_twice_without_event_id_is_one_entry(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1")
    chat.say(QUESTION, mid="q1")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    assert len(chat.entries(EntryKind.QUESTION)) == 1
    assert len(chat.entries(EntryKind.ANSWER)) == 1
    assert chat.sql("SELECT count(*) FROM search_fts") == [(1,)]
    assert chat.sql("SELECT answer_count FROM entries WHERE message_id = 'q1'") == [(1,)]


def test_the_same_message_with_different_event_ids_is_one_entry(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", event_id="Ev1")
    chat.say(QUESTION, mid="q1", event_id="Ev2")  # e.g. a re-import of the same message
    assert len(chat.entries()) == 1


def test_the_same_event_id_twice_is_skipped(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", event_id="Ev1")
    # a retry of Ev1 carrying something else must not be applied again
    assert chat.say("Why is the nightly job slow?", mid="q2", event_id="Ev1") == []
    assert chat.entry("q2") is None
    assert chat.sql("SELECT count(*) FROM processed_events WHERE event_id = 'Ev1'") == [(1,)]


def test_a_retried_command_answers_once(chat: Chat) -> None:
    assert chat.cop("ask how do we rotate credentials?", event_id="Ev9") != []
    assert chat.cop("ask how do we rotate credentials?", event_id="Ev9") == []
    assert len(chat.entries(EntryKind.QUESTION)) == 1


def test_event_ids_are_per_platform(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", event_id="Ev1")
    assert chat.repertoire.mark_event_seen("other", "Ev1", chat.at())
    assert not chat.repertoire.mark_event_seen("test", "Ev1", chat.at())


def test_a_saved_message_twice_is_one_knowhow(chat: Chat) -> None:
    chat.save("k1", "Use scan_csv for huge files #polars")
    out = chat.save("k1", "Use scan_csv for huge files #polars")
    assert len(chat.entries(EntryKind.KNOWHOW)) == 1
    assert "Already saved" in first_reply(out).text


def test_a_question_saved_as_knowhow_keeps_both_entries(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1")
    chat.react("q1", "bob", "📌")
    kinds = sorted(e.kind.value for e in chat.entries())
    assert kinds == ["knowhow", "question"]


# ------------------------------------------------------------------ out of order


def test_reply_before_question_is_linked_when_the_question_arrives(chat: Chat) -> None:
    chat.reply("q1", "Use category dtypes for strings.", mid="r1", user="chen", minutes=5)
    assert chat.entry("r1") is not None
    chat.say(QUESTION, mid="q1", user="alice")
    question = chat.entry("q1")
    assert question is not None
    assert [a.source.message_id for a in chat.repertoire.answers_for(question)] == ["r1"]
    assert chat.sql("SELECT answer_count FROM entries WHERE id = ?", question.id) == [(1,)]
    # the answer's words are in the question's search document
    assert found(chat, "category dtypes") == ["q1"]


def test_reaction_before_answer_before_question_ends_accepted(chat: Chat) -> None:
    chat.react("r1", "alice", "white_check_mark")
    chat.reply("q1", "Use category dtypes for strings.", mid="r1", user="chen", minutes=5)
    assert not chat.entry_of("r1").accepted  # no asker known yet
    chat.say(QUESTION, mid="q1", user="alice")
    answer = chat.entry("r1")
    assert answer is not None and answer.accepted
    assert chat.sql("SELECT has_accepted, answer_count FROM entries WHERE message_id = 'q1'") == [
        (1, 1)
    ]
    assert len(chat.entries()) == 2


def test_reaction_by_someone_else_before_the_question_does_not_accept(chat: Chat) -> None:
    chat.react("r1", "bob", "white_check_mark")
    chat.reply("q1", "Use category dtypes for strings.", mid="r1", user="chen")
    chat.say(QUESTION, mid="q1", user="alice")
    assert not chat.entry_of("r1").accepted


def test_reaction_before_answer_with_question_known(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", user="alice")
    chat.react("r1", "alice", "✅")
    chat.reply("q1", "Use category dtypes for strings.", mid="r1", user="chen")
    assert chat.entry_of("r1").accepted


def test_a_removal_before_its_reaction_settles_on_the_last_word(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes for strings.", mid="r1", user="chen")
    chat.react("r1", "alice", "✅")
    chat.react("r1", "alice", "✅", added=False)
    chat.react("r1", "alice", "✅", added=False)  # a duplicate removal is harmless
    assert not chat.entry_of("r1").accepted
    assert chat.sql("SELECT count(*) FROM reactions WHERE present = 1") == [(0,)]


# ------------------------------------------------------------------ edits


def test_an_edit_updates_text_title_and_the_index(chat: Chat) -> None:
    chat.say("How do I speed up my airflow scheduler?", mid="q1")
    chat.edit("q1", "How do I speed up my dagster daemon?")
    entry = chat.entry("q1")
    assert entry is not None
    assert "dagster" in entry.text and "airflow" not in entry.text
    assert "dagster" in entry.title and "airflow" not in entry.title
    assert entry.updated_at >= entry.created_at
    assert found(chat, "airflow") == []
    assert found(chat, "dagster") == ["q1"]


def test_an_edited_answer_updates_its_questions_index(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1")
    chat.reply("q1", "Try the zorblax library.", mid="r1", user="chen")
    assert found(chat, "zorblax") == ["q1"]
    chat.edit("r1", "Try the quuxify library.")
    assert found(chat, "zorblax") == []
    assert found(chat, "quuxify") == ["q1"]


def test_an_edited_saved_message_follows_its_new_text(chat: Chat) -> None:
    chat.say("Tip: the zorblax flag halves the memory.", mid="m1")
    chat.save("m1", "Tip: the zorblax flag halves the memory.")
    chat.edit("m1", "Tip: the quuxify flag halves the memory.")
    entry = chat.entry("m1")
    assert entry is not None and entry.kind == EntryKind.KNOWHOW
    assert "zorblax" not in entry.title
    assert found(chat, "zorblax") == []
    assert found(chat, "quuxify") == ["m1"]


def test_an_edit_keeps_a_title_given_on_purpose(chat: Chat) -> None:
    chat.say("Our nightly job fails.", mid="f1", title="Nightly failures", is_forum_post=True)
    chat.edit("f1", "Our nightly job fails since the upgrade to 2.9.")
    entry = chat.entry("f1")
    assert entry is not None
    assert entry.title == "Nightly failures"
    assert "upgrade" in entry.text


def test_an_edit_of_an_unknown_or_uncaptured_message_is_harmless(chat: Chat) -> None:
    chat.say("Deployed the new pipeline today.", mid="m1")
    assert chat.edit("m1", "Deployed the new pipeline yesterday.") == []
    assert chat.edit("nope", "whatever") == []
    assert chat.entries() == []


def test_an_edit_to_empty_text_keeps_the_entry(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1")
    chat.edit("q1", "   ")
    entry = chat.entry("q1")
    assert entry is not None and entry.text == QUESTION


# ------------------------------------------------------------------ deletes


def test_a_delete_removes_the_entry_its_index_row_and_reactions(chat: Chat) -> None:
    chat.say("How do I tune zorblax caching?", mid="q1", tags=("zorblax",))
    chat.react("q1", "bob", "👍")
    question = chat.entry("q1")
    assert question is not None
    assert fts_rows(chat, question.id) == 1
    chat.delete("q1")
    assert chat.entry("q1") is None
    assert fts_rows(chat, question.id) == 0
    assert chat.sql("SELECT count(*) FROM entry_tags WHERE entry_id = ?", question.id) == [(0,)]
    assert chat.sql("SELECT count(*) FROM reactions WHERE message_id = 'q1'") == [(0,)]
    assert found(chat, "zorblax") == []
    assert chat.sql("SELECT count(*) FROM search_fts WHERE search_fts MATCH 'zorblax'") == [(0,)]


def test_deleting_an_answer_updates_the_question(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Try the zorblax library.", mid="r1", user="chen")
    chat.reply("q1", "Or the usecols argument.", mid="r2", user="bob")
    chat.react("r1", "alice")
    assert chat.sql("SELECT answer_count, has_accepted FROM entries WHERE message_id = 'q1'") == [
        (2, 1)
    ]
    chat.delete("r1")
    assert chat.entry("r1") is None
    assert chat.sql("SELECT answer_count, has_accepted FROM entries WHERE message_id = 'q1'") == [
        (1, 0)
    ]
    assert chat.sql("SELECT count(*) FROM reactions WHERE message_id = 'r1'") == [(0,)]
    assert found(chat, "zorblax") == []
    assert found(chat, "usecols") == ["q1"]


def test_a_replay_of_a_deleted_message_stays_deleted(chat: Chat) -> None:
    # Platforms never reuse a message id, so the same id again is a replay (a retry,
    # a RESUME, a re-import), not a new message: the delete must win.
    chat.say(QUESTION, mid="q1")
    chat.delete("q1")
    chat.say(QUESTION, mid="q1")
    assert chat.entry("q1") is None
    assert chat.sql("SELECT count(*) FROM search_fts") == [(0,)]


def test_deleting_a_message_removes_every_entry_made_from_it(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1")
    chat.react("q1", "bob", "📌")
    assert len(chat.entries()) == 2
    chat.delete("q1")
    assert chat.entries() == []
    assert chat.sql("SELECT count(*) FROM search_fts") == [(0,)]


# ------------------------------------------------------------------ the file itself


def test_the_database_is_wal_and_reopens_migrated(make_core: MakeCore, clock: FixedClock) -> None:
    core = make_core()
    chat = Chat(core, clock)
    chat.say(QUESTION, mid="q1")
    assert chat.sql("PRAGMA journal_mode") == [("wal",)]
    again = make_core()  # a second open of the same file: migrations are a no-op
    assert len(Chat(again, clock).entries()) == 1


def test_a_failed_event_leaves_nothing_half_done(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    mp = monkeypatch

    def boom(*_args: object) -> None:
        raise RuntimeError("disk on fire")

    mp.setattr(chat.repertoire, "reindex_thread_of", boom)
    chat.say(QUESTION, mid="q1", event_id="Ev1")
    mp.undo()
    assert chat.entries() == []
    # the event was rolled back with it, so a retry is applied
    chat.say(QUESTION, mid="q1", event_id="Ev1")
    assert chat.entry("q1") is not None


def test_old_event_ids_are_pruned_but_recent_retries_still_caught(tmp_path: Path) -> None:
    from datetime import timedelta

    from knowledge.relational.events import EVENT_ID_MEMORY, PRUNE_EVERY
    from knowledge.sqlite.repertoire import Repertoire

    repertoire = Repertoire.open(tmp_path / "e.db")
    try:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        assert repertoire.mark_event_seen("slack", "old", start)
        later = start + EVENT_ID_MEMORY + timedelta(hours=1)
        for number in range(PRUNE_EVERY):
            assert repertoire.mark_event_seen("slack", f"new{number}", later)
        # The old id was pruned (a replay that old is caught by the message key instead);
        # a recent retry is still recognised.
        assert repertoire.mark_event_seen("slack", "old", later)
        assert not repertoire.mark_event_seen("slack", "new5", later)
        rows = repertoire.db.execute("SELECT count(*) FROM processed_events").fetchone()[0]
        assert rows == PRUNE_EVERY + 1
    finally:
        repertoire.close()
