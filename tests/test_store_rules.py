"""The storage interface's smaller promises, read back exactly.

Mutation testing (``make mutate``) found these unguarded by the store's own
tests: finding members by name, the meta table, read marks, titles and tags set
on purpose, an entry moved to the message that now carries it, the newest edit
winning, reactions last-writer-wins, and bulk mode's search documents.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from knowledge.models import ChannelRef, EntryKind, NewEntry, SourceKey
from knowledge.query import parse_query
from knowledge.relational.visibility import visible_to
from knowledge.search import SearchOptions, search
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import Viewer

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HELP = ChannelRef("slack", "T1", "C1")
EVERYTHING = Viewer.operator_including_private()


@pytest.fixture
def repertoire() -> Iterator[Repertoire]:
    opened = Repertoire.open(":memory:")
    yield opened
    opened.close()


def _key(message_id: str, channel: str = "C1") -> SourceKey:
    return SourceKey("slack", "T1", channel, message_id)


def _save(
    repertoire: Repertoire,
    message_id: str,
    text: str,
    kind: EntryKind = EntryKind.QUESTION,
    *,
    thread_id: str | None = None,
    channel: str = "C1",
    visibility: str = "public",
    title: str = "",
) -> int:
    author = repertoire.upsert_member("slack", "T1", "U1", "Ada")
    entry_id, _ = repertoire.save_entry(
        NewEntry(
            kind=kind,
            source=_key(message_id, channel),
            text=text,
            author_id=author,
            created_at=NOW,
            visibility=visibility,
            title=title or (text if kind != EntryKind.ANSWER else ""),
            thread_id=thread_id,
        )
    )
    return entry_id


def _found(repertoire: Repertoire, words: str) -> set[int]:
    return {h.entry.id for h in search(repertoire, parse_query(words), HELP, SearchOptions())}


def test_members_are_found_by_id_handle_name_or_first_name(repertoire: Repertoire) -> None:
    chen = repertoire.upsert_member("slack", "T1", "U-CHEN", "Chen Wei", "chenw")
    ana = repertoire.upsert_member("slack", "T1", "U-ANA", "", "ana_h")
    repertoire.upsert_member("slack", "T1", "U-CHENG", "Chengdu Bot")
    assert [m.id for m in repertoire.find_members("u-chen")] == [chen]
    assert [m.id for m in repertoire.find_members("CHENW")] == [chen]
    assert [m.id for m in repertoire.find_members("chen wei")] == [chen]
    assert [m.id for m in repertoire.find_members("chen")] == [chen]  # a first name, as a word
    assert [(m.id, m.display_name) for m in repertoire.find_members("ana_h")] == [(ana, "ana_h")]
    assert repertoire.find_members("   ") == []
    member = repertoire.get_member(chen)
    assert member is not None
    assert (member.platform, member.workspace, member.user_id, member.display_name) == (
        "slack",
        "T1",
        "U-CHEN",
        "Chen Wei",
    )
    assert repertoire.get_member(chen + 100) is None


def test_meta_values_are_set_and_replaced(repertoire: Repertoire) -> None:
    assert repertoire.get_meta("schema_note") is None
    repertoire.set_meta("schema_note", "one")
    repertoire.set_meta("other", "x")
    repertoire.set_meta("schema_note", "two")
    assert (repertoire.get_meta("schema_note"), repertoire.get_meta("other")) == ("two", "x")


def test_read_marks_per_platform_and_channel(repertoire: Repertoire) -> None:
    repertoire.advance_read_mark(_key("m2"), NOW)
    repertoire.advance_read_mark(_key("m1"), NOW - timedelta(minutes=1))  # older: ignored
    repertoire.advance_read_mark(_key("m9", "C2"), NOW + timedelta(minutes=1))
    repertoire.advance_read_mark(SourceKey("discord", "G1", "C1", "d1"), NOW)
    assert repertoire.read_marks("slack") == {
        ChannelRef("slack", "T1", "C1"): (NOW, "m2"),
        ChannelRef("slack", "T1", "C2"): (NOW + timedelta(minutes=1), "m9"),
    }
    assert repertoire.read_marks("console") == {}


def test_a_title_and_tags_set_on_purpose_are_searchable(repertoire: Repertoire) -> None:
    question = _save(repertoire, "q1", "How do I tune the zorp cache?")
    repertoire.set_title(question, "Tuning the quibble cache")
    repertoire.set_tags(question, ["Perf", "#caching", ""])
    entry = repertoire.get_entry(question)
    assert entry is not None and entry.title == "Tuning the quibble cache"
    assert entry.tags == ("caching", "perf")
    assert _found(repertoire, "quibble") == {question}
    assert _found(repertoire, "tag:caching") == {question}
    repertoire.set_tags(question, ["perf"])
    assert _found(repertoire, "tag:caching") == set()


def test_an_entry_moves_to_the_message_that_carries_it(repertoire: Repertoire) -> None:
    question = _save(repertoire, "draft-1", "How do I tune the zorp cache?")
    repertoire.relink_message(question, "posted-1", "https://x/posted-1")
    repertoire.relink_message(question, "posted-2")  # no new link: the old one stays
    entry = repertoire.get_entry(question)
    assert entry is not None
    assert (entry.source.message_id, entry.permalink) == ("posted-2", "https://x/posted-1")
    assert repertoire.question_for_thread(HELP, "posted-2") == entry
    assert repertoire.question_for_thread(HELP, "draft-1") is None
    assert repertoire.question_for_thread(ChannelRef("slack", "T1", "C2"), "posted-2") is None


def test_the_newest_edit_wins_whatever_order_they_come_in(repertoire: Repertoire) -> None:
    src = _key("m1")
    assert repertoire.record_edit(src, "second", NOW + timedelta(minutes=2))
    assert not repertoire.record_edit(src, "first", NOW + timedelta(minutes=1))
    assert repertoire.latest_edit(src) == ("second", NOW + timedelta(minutes=2))
    assert repertoire.record_edit(src, "third", NOW + timedelta(minutes=3))
    assert repertoire.latest_edit(src) == ("third", NOW + timedelta(minutes=3))
    assert repertoire.latest_edit(_key("m2")) is None


def test_reactions_last_writer_wins_and_none_on_a_deleted_message(repertoire: Repertoire) -> None:
    src = _key("a1")
    repertoire.set_reaction(src, "U2", "white_check_mark", False, NOW + timedelta(seconds=2))
    repertoire.set_reaction(src, "U2", "white_check_mark", True, NOW + timedelta(seconds=1))
    repertoire.set_reaction(src, "U3", "white_check_mark", True, NOW)
    repertoire.set_reaction(src, "U3", "eyes", True, NOW)
    assert repertoire.reactors(src, "white_check_mark") == {"U3"}
    repertoire.set_reaction(src, "U3", "white_check_mark", False, NOW)  # same time: removal wins
    assert repertoire.reactors(src, "white_check_mark") == set()
    gone = _key("gone")
    repertoire.add_tombstone(gone, NOW)
    repertoire.add_tombstone(gone, NOW + timedelta(hours=1))  # twice is harmless
    repertoire.set_reaction(gone, "U2", "eyes", True, NOW + timedelta(hours=2))
    assert repertoire.reactors(gone, "eyes") == set()
    assert repertoire.is_tombstoned(gone) and not repertoire.is_tombstoned(src)


def test_accepting_changes_only_answers_and_says_whether_it_changed(
    repertoire: Repertoire,
) -> None:
    question = _save(repertoire, "q1", "How do I tune the zorp cache?")
    answer = _save(repertoire, "a1", "Set quibble size to 64.", EntryKind.ANSWER, thread_id="q1")
    assert repertoire.set_accepted(answer, True) is True
    assert repertoire.set_accepted(answer, True) is False
    assert repertoire.set_accepted(question, True) is False
    assert _found(repertoire, "is:accepted quibble") == {question}


def test_deleting_an_answer_takes_it_out_of_its_questions_document(
    repertoire: Repertoire,
) -> None:
    question = _save(repertoire, "q1", "How do I tune the zorp cache?")
    _save(repertoire, "a1", "Set quibble size to 64.", EntryKind.ANSWER, thread_id="q1")
    repertoire.set_reaction(_key("a1"), "U2", "eyes", True, NOW)
    repertoire.record_edit(_key("a1"), "Set quibble size to 64.", NOW)
    assert _found(repertoire, "quibble") == {question}
    removed = repertoire.delete_message(_key("a1"))
    assert [e.kind for e in removed] == [EntryKind.ANSWER]
    assert _found(repertoire, "quibble") == set()
    assert repertoire.reactors(_key("a1"), "eyes") == set()
    assert repertoire.latest_edit(_key("a1")) is None


def test_bulk_mode_rebuilds_each_document_once_at_the_end(repertoire: Repertoire) -> None:
    with repertoire.deferred_reindex():
        question = _save(repertoire, "q1", "How do I tune the zorp cache?")
        _save(repertoire, "a1", "Set quibble size to 64.", EntryKind.ANSWER, thread_id="q1")
        tip = _save(repertoire, "k1", "Quibble pools explained", EntryKind.KNOWHOW)
        assert _found(repertoire, "quibble") == set()  # not rebuilt yet
        assert repertoire.flush_reindex() == 2  # the question (for its answer) and the tip
        assert repertoire.flush_reindex() == 0
        assert _found(repertoire, "quibble") == {question, tip}
        _save(repertoire, "a2", "Or a zany eviction policy.", EntryKind.ANSWER, thread_id="q1")
    assert _found(repertoire, "zany") == {question}  # leaving the block flushes


def test_the_visibility_rule_for_one_entry(repertoire: Repertoire) -> None:
    public = _save(repertoire, "p1", "Why is zorp slow?")
    private = _save(repertoire, "g1", "Why is zorp fast?", channel="G1", visibility="private")
    pub, priv = repertoire.get_entry(public), repertoire.get_entry(private)
    assert pub is not None and priv is not None
    own = ChannelRef("slack", "T1", "G1")
    assert visible_to(pub, None) and visible_to(pub, own)
    assert visible_to(priv, own)
    assert not visible_to(priv, None) and not visible_to(priv, HELP)
    assert not visible_to(priv, ChannelRef("slack", "T2", "G1"))
    assert repertoire.count_entries(EVERYTHING) == 2


def test_capture_can_be_stopped_and_resumed_per_channel(repertoire: Repertoire) -> None:
    repertoire.upsert_channel("slack", "T1", "C1", "help", "public")
    repertoire.upsert_channel("slack", "T1", "C2", "tips", "public")
    assert not repertoire.capture_stopped(HELP)  # read once: now remembered
    repertoire.set_capture_stopped(HELP, True)
    assert repertoire.capture_stopped(HELP)
    assert not repertoire.capture_stopped(ChannelRef("slack", "T1", "C2"))
    repertoire.set_capture_stopped(HELP, False)
    assert not repertoire.capture_stopped(HELP)


def test_a_new_title_is_searchable_at_once(repertoire: Repertoire) -> None:
    question = _save(repertoire, "q1", "How do I tune the zorp cache?")
    repertoire.set_title(question, "Tuning the quibble cache")
    assert _found(repertoire, "quibble") == {question}


def test_a_relinked_question_gathers_the_answers_in_its_new_thread(
    repertoire: Repertoire,
) -> None:
    """``/cop ask``: replies can reach the posted message before the entry points at it."""
    _save(repertoire, "a1", "Set quibble size to 64.", EntryKind.ANSWER, thread_id="posted-1")
    question = _save(repertoire, "draft-1", "How do I tune the zorp cache?")
    assert _found(repertoire, "quibble") == set()
    repertoire.relink_message(question, "posted-1")
    assert _found(repertoire, "quibble") == {question}


def test_counting_everything_by_default(repertoire: Repertoire) -> None:
    _save(repertoire, "q1", "How do I tune the zorp cache?")
    _save(repertoire, "k1", "Quibble pools explained", EntryKind.KNOWHOW)
    assert repertoire.count_entries(EVERYTHING) == 2


def test_a_listing_holds_a_hundred_entries_unless_asked(repertoire: Repertoire) -> None:
    for n in range(101):
        _save(repertoire, f"q{n}", f"Why does job {n} fail?")
    assert len(repertoire.entries(EVERYTHING)) == 100
    assert len(repertoire.entries(EVERYTHING, limit=200)) == 101


def test_a_member_is_renamed_only_when_asked_and_never_to_nothing(
    repertoire: Repertoire,
) -> None:
    member = repertoire.upsert_member("slack", "T1", "U1", "Ada", "ada")
    assert repertoire.upsert_member("slack", "T1", "U1", "Ada L.", "", refresh=False) == member
    assert repertoire.upsert_member("slack", "T1", "U1", "", "") == member
    rows = "SELECT display_name, handle FROM members"
    assert repertoire.db.execute(rows).fetchall() == [("Ada", "ada")]
    repertoire.upsert_member("slack", "T1", "U1", "Ada L.")
    assert repertoire.db.execute(rows).fetchall() == [("Ada L.", "ada")]
    repertoire.upsert_member("slack", "T1", "U1", "", "adal")
    assert repertoire.db.execute(rows).fetchall() == [("Ada L.", "adal")]
    other = repertoire.upsert_member("slack", "T1", "U2")
    assert other != member
    assert repertoire.db.execute(
        "SELECT display_name, handle FROM members WHERE id = ?", [other]
    ).fetchall() == [("", "")]


def test_a_channel_row_follows_renames_and_visibility_changes(repertoire: Repertoire) -> None:
    rows = "SELECT name, visibility FROM channels"
    repertoire.upsert_channel("slack", "T1", "C1", "help", "public")
    repertoire.upsert_channel("slack", "T1", "C1", "", "public")  # no name known: kept
    assert repertoire.db.execute(rows).fetchall() == [("help", "public")]
    repertoire.upsert_channel("slack", "T1", "C1", "help", "private")
    assert repertoire.db.execute(rows).fetchall() == [("help", "private")]
    repertoire.upsert_channel("slack", "T1", "C1", "data-help", "private")
    assert repertoire.db.execute(rows).fetchall() == [("data-help", "private")]


def test_saving_a_known_message_again_refreshes_it(repertoire: Repertoire) -> None:
    author = repertoire.upsert_member("slack", "T1", "U1", "Ada")
    base = NewEntry(
        kind=EntryKind.KNOWHOW,
        source=_key("k1"),
        text="Quibble pools explained",
        author_id=author,
        created_at=NOW,
        visibility="public",
    )

    first, created = repertoire.save_entry(
        replace(base, title="Pools", permalink="https://x/k1", knowhow_kind="howto")
    )
    assert created
    again, created = repertoire.save_entry(
        replace(base, text="Quibble pools, explained again", tags=("pools",))
    )
    assert (again, created) == (first, False)
    entry = repertoire.get_entry(first)
    assert entry is not None
    assert (entry.text, entry.title, entry.permalink, entry.knowhow_kind, entry.tags) == (
        "Quibble pools, explained again",
        "Pools",
        "https://x/k1",
        "howto",
        ("pools",),
    )
    repertoire.save_entry(
        replace(base, title="Pool guide", permalink="https://x/k1b", knowhow_kind="resource")
    )
    entry = repertoire.get_entry(first)
    assert entry is not None
    assert (entry.title, entry.permalink, entry.knowhow_kind) == (
        "Pool guide",
        "https://x/k1b",
        "resource",
    )


def test_the_database_file_is_set_up_for_one_writer_and_crash_safety(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "copbot.db"
    opened = Repertoire.open(path)  # its folders are made
    try:
        pragma = opened.db.execute
        assert pragma("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert pragma("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert pragma("PRAGMA foreign_keys").fetchone()[0] == 1
        assert pragma("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert pragma("PRAGMA cache_size").fetchone()[0] == -32768  # 32 MiB
        # The one database thread is not the thread that opened it.
        worker = threading.Thread(target=lambda: opened.set_meta("from", "thread"))
        worker.start()
        worker.join()
        assert opened.get_meta("from") == "thread"
    finally:
        opened.close()
    assert path.exists()


def _document(repertoire: Repertoire, entry_id: int) -> tuple[object, ...]:
    row = repertoire.db.execute(
        "SELECT title, body, answers, tags FROM search_fts WHERE rowid = ?", [entry_id]
    ).fetchone()
    return tuple(row)


def test_a_search_document_holds_the_title_once_the_answers_and_the_tags(
    repertoire: Repertoire,
) -> None:
    question = _save(repertoire, "q1", "How do I tune the zorp cache? It is slow.")
    repertoire.set_title(question, "How do I tune the zorp cache?")
    assert _document(repertoire, question) == (
        "How do I tune the zorp cache?",
        " It is slow.",  # the title is not repeated in the body
        "",
        "",
    )
    _save(repertoire, "a1", "Set quibble size to 64.", EntryKind.ANSWER, thread_id="q1")
    _save(repertoire, "a2", "Or use zany eviction.", EntryKind.ANSWER, thread_id="q1")
    repertoire.set_tags(question, ["cache"])
    assert _document(repertoire, question)[2:] == (
        "Set quibble size to 64.\nOr use zany eviction.",
        "cache",
    )
    answer = repertoire.entries_for_message(_key("a1"))[0]
    assert (
        repertoire.db.execute(
            "SELECT count(*) FROM search_fts WHERE rowid = ?", [answer.id]
        ).fetchone()[0]
        == 0
    )  # answers live in their question's document


def test_a_question_solved_by_an_older_one_borrows_its_answer(repertoire: Repertoire) -> None:
    older = _save(repertoire, "q-old", "How do I tune the zorp cache?")
    _save(repertoire, "a-old", "Set quibble size to 64.", EntryKind.ANSWER, thread_id="q-old")
    newer = _save(repertoire, "q-new", "Zorp cache too slow, how to tune it?")
    tip = _save(repertoire, "k1", "Zany eviction explained", EntryKind.KNOWHOW)
    assert repertoire.linked_answers(newer) == []
    repertoire.db.execute(
        "INSERT INTO similar_links (question_id, entry_id, created_at) VALUES (?, ?, ?)",
        [newer, older, "2026-06-01T12:00:00.000000Z"],
    )
    repertoire.reindex(newer)
    assert [a.text for a in repertoire.linked_answers(newer)] == ["Set quibble size to 64."]
    assert _found(repertoire, "is:accepted quibble") == {newer}  # counts as solved
    assert _document(repertoire, newer)[2] == "Set quibble size to 64."
    counts = "SELECT answer_count, has_accepted FROM entries WHERE id = ?"
    assert tuple(repertoire.db.execute(counts, [newer]).fetchone()) == (1, 1)
    # Solved by know-how: the know-how itself is the answer.
    repertoire.db.execute(
        "UPDATE similar_links SET entry_id = ? WHERE question_id = ?", [tip, newer]
    )
    assert [e.id for e in repertoire.linked_answers(newer)] == [tip]
    # A link to itself is no answer.
    repertoire.db.execute(
        "UPDATE similar_links SET entry_id = ? WHERE question_id = ?", [newer, newer]
    )
    assert repertoire.linked_answers(newer) == []
