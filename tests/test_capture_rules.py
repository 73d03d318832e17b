"""Capture's finer rules: what reads as a question, what a save keeps, what a ✅ says.

Each test here pins a rule that mutation testing (``make mutate``) showed no
other test held: the edges of the question heuristic, every field a save
keeps, the replies members read, and acceptance when a question goes away.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import TypedDict, Unpack, cast

from bot.config import CaptureSettings, Settings
from bot.events import (
    AcceptMark,
    IncomingMessage,
    KnowhowKind,
    MessageEdited,
    ReactionChange,
    Reply,
    SaveRequest,
    Visibility,
)
from knowledge.curation import valid_until
from knowledge.models import EntryKind
from tests.chat_driver import NOW, Chat, MakeChat, actor, replies, where

# ----------------------------------------------------------------------------- questions


def members(chat: Chat) -> list[tuple[str, str, str, str]]:
    """Every member, oldest first: (platform, workspace, user id, display name)."""
    return [
        (m.platform, m.workspace, m.user_id, m.display_name) for m in chat.repertoire.all_members()
    ]


def test_the_question_mark_counts_only_near_the_end(chat: Chat) -> None:
    """'?' within the last three characters ("…work? :)" is cut to its body) makes a question."""
    chat.say("We shipped the fix?xyz", mid="near")  # '?' fourth from the end
    chat.say("We shipped the fix?xy", mid="end")  # '?' third from the end
    chat.say("We shipped it? no, it was the config", mid="middle")
    assert chat.entry("near") is None and chat.entry("middle") is None
    assert chat.entry("end") is not None


def test_a_question_exactly_as_long_as_the_minimum_is_kept(
    make_chat: MakeChat,
) -> None:
    chat = make_chat(Settings(capture=CaptureSettings(min_question_chars=12)))
    chat.say("Any tips ok?", mid="twelve")  # 12 characters
    chat.say("Any tip ok?", mid="eleven")
    assert chat.entry("twelve") is not None and chat.entry("eleven") is None


# ----------------------------------------------------------------------------- deletes


def test_deleting_a_question_keeps_its_answers_but_not_their_acceptance(chat: Chat) -> None:
    chat.say("How do I pin a pandas version?", mid="q1", user="alice")
    chat.reply("q1", "Use a lock file.", mid="a1", user="bob")
    chat.react("a1", "alice")
    answer = chat.entry("a1")
    assert answer is not None and answer.accepted
    chat.delete("q1")
    answer = chat.entry("a1")
    assert answer is not None and not answer.accepted


# ----------------------------------------------------------------------------- reactions


def test_accepting_replies_in_the_thread_and_thanks_the_answerer(chat: Chat) -> None:
    chat.say("How do I pin a pandas version?", mid="q1", user="alice")
    chat.reply("q1", "Use a lock file.", mid="a1", user="bob")
    (reply,) = replies(chat.react("a1", "alice"))
    assert reply == Reply(
        where=chat.place("C1"),
        text="✅ Marked as the accepted answer. Thanks, Bob!",
        ephemeral=False,
        thread_id="q1",
    )


def test_a_tick_in_a_thread_that_is_not_a_question_accepts_nothing(chat: Chat) -> None:
    chat.save("tip", "Lunch talks are on Thursdays.", saver="alice", author="alice")
    chat.reply("tip", "Great, thanks for the reminder.", mid="r1", user="bob")
    assert replies(chat.react("r1", "alice")) == []
    reply = chat.entry("r1")
    assert reply is not None and reply.kind == EntryKind.ANSWER and not reply.accepted


def test_this_solved_it_is_the_members_accept_mark(chat: Chat) -> None:
    chat.say("How do I pin a pandas version?", mid="q1", user="alice")
    chat.reply("q1", "Use a lock file.", mid="a1", user="bob")
    out = chat.core.handle(AcceptMark(chat.place("C1"), "a1", actor("alice"), "ev-1", NOW))
    assert [r.text for r in replies(out)] == ["✅ Marked as the accepted answer. Thanks, Bob!"]
    answer = chat.entry("a1")
    assert answer is not None and answer.accepted


def test_a_reactor_becomes_a_member_of_the_channels_workspace(chat: Chat) -> None:
    """A reaction whose actor carries no workspace (Discord) files the member under the place's."""
    chat.say("How do I pin a pandas version?", mid="q1", user="alice", name="Alice A")
    reactor = replace(actor("alice", name="ally"), workspace="")
    chat.core.handle(ReactionChange(chat.place("C1"), "q1", reactor, "eyes", True, "", NOW))
    assert members(chat) == [("test", "W1", "alice", "Alice A")]  # a reaction never renames
    chat.react("q1", "voter")  # someone who never wrote: known as a member, for forget
    assert members(chat)[1:] == [("test", "W1", "voter", "Voter")]


def test_a_save_reaction_keeps_the_messages_author_link_and_thread(chat: Chat) -> None:
    chat.say("How do I pin a pandas version?", mid="q1", user="alice", permalink="https://x/q1")
    chat.reply("q1", "Use a lock file.", mid="a1", user="bob", permalink="https://x/a1")
    chat.react("a1", "carol", "pushpin")
    (entry,) = [e for e in chat.entries(EntryKind.KNOWHOW) if e.source.message_id == "a1"]
    (answer,) = [e for e in chat.entries(EntryKind.ANSWER) if e.source.message_id == "a1"]
    assert entry.author_id == answer.author_id and entry.author_name == "Bob"
    assert (entry.permalink, entry.thread_id, entry.knowhow_kind) == ("https://x/a1", "q1", "howto")


# ----------------------------------------------------------------------------- saves


class SaveOptions(TypedDict, total=False):
    """The optional fields of a :class:`SaveRequest`."""

    title: str
    tags: tuple[str, ...]
    kind: KnowhowKind
    permalink: str
    thread_id: str | None
    event_id: str
    valid_until: date | None


def _request(chat: Chat, mid: str, text: str, **extra: Unpack[SaveOptions]) -> SaveRequest:
    return SaveRequest(
        chat.place("C1"),
        actor("carol"),
        mid,
        text,
        actor("bob"),
        NOW,
        **extra,
    )


def test_a_save_says_what_it_kept_to_the_saver_in_the_thread(chat: Chat) -> None:
    request = _request(chat, "m1", "Partition parquet by date.", thread_id="t1")
    (reply,) = replies(chat.core.handle(request))
    entry = chat.entry("m1")
    assert entry is not None
    assert reply == Reply(
        where=chat.place("C1"),
        text=f"📌 Saved to the repertoire as howto #{entry.id}: Partition parquet by date.",
        recipient=actor("carol"),
        thread_id="t1",
    )
    (again,) = replies(chat.core.handle(request))
    assert again.text.startswith(
        f"📌 Already saved; updated to the repertoire as howto #{entry.id}"
    )


def test_a_save_keeps_title_thread_link_channel_and_until(chat: Chat) -> None:
    chat.place("C1")
    chat.places["C1"] = where("C1", Visibility.PUBLIC, "data-help")
    request = _request(
        chat,
        "m1",
        "The staging cluster moves to the new region next month.",
        title="Staging moves region",
        permalink="https://x/m1",
        thread_id="t1",
        kind=KnowhowKind.UPDATE,
        valid_until=date(2027, 3, 1),
    )
    (reply,) = replies(chat.core.handle(request))
    entry = chat.entry("m1")
    assert entry is not None
    assert reply.text.endswith("Staging moves region (still true until 2027-03-01)")
    assert (entry.title, entry.thread_id, entry.permalink) == (
        "Staging moves region",
        "t1",
        "https://x/m1",
    )
    assert (entry.channel_name, entry.knowhow_kind) == ("data-help", "update")
    assert valid_until(chat.repertoire, entry.id) == date(2027, 3, 1)
    assert [m.workspace for m in chat.repertoire.members_with_user_id("test", "carol")] == ["W1"]


def test_a_save_without_a_kind_of_know_how_is_a_howto(chat: Chat) -> None:
    chat.core.handle(
        _request(chat, "m1", "Use uv for lock files.", kind=cast(KnowhowKind, "bogus"))
    )
    entry = chat.entry("m1")
    assert entry is not None and entry.knowhow_kind == "howto"


def test_members_without_a_workspace_are_filed_under_the_places(chat: Chat) -> None:
    nameless = replace(actor("dora"), workspace="")
    chat.core.handle(
        SaveRequest(chat.place("C1"), nameless, "m1", "A tip.", nameless, NOW + timedelta(1))
    )
    assert [m.workspace for m in chat.repertoire.members_with_user_id("test", "dora")] == ["W1"]


def test_nothing_to_save_and_deleted_messages_say_so(chat: Chat) -> None:
    (empty,) = replies(chat.core.handle(_request(chat, "m1", "   ")))
    assert empty == Reply(where=chat.place("C1"), text="That message has no text to save.")
    chat.say("How do I pin a pandas version?", mid="q1")
    chat.delete("q1")
    (deleted,) = replies(chat.core.handle(_request(chat, "q1", "How do I pin it?")))
    assert deleted == Reply(where=chat.place("C1"), text="That message was deleted; nothing saved.")
    assert chat.entries(EntryKind.KNOWHOW) == []


def test_a_late_tick_older_than_its_removal_says_nothing(chat: Chat) -> None:
    """Reactions are last-writer-wins by event time: an add older than the removal is stale."""
    chat.say("How do I pin a pandas version?", mid="q1", user="alice")
    chat.reply("q1", "Use a lock file.", mid="a1", user="bob")
    place, alice = chat.place("C1"), actor("alice")
    removed = ReactionChange(place, "a1", alice, "white_check_mark", False, "ev-2", NOW)
    stale_add = replace(removed, added=True, event_id="ev-1", at=NOW - timedelta(minutes=1))
    chat.core.handle(removed)
    assert replies(chat.core.handle(stale_add)) == []
    answer = chat.entry("a1")
    assert answer is not None and not answer.accepted


# ----------------------------------------------------------------------------- order and batches


def test_an_edit_that_came_before_its_message_is_applied(chat: Chat) -> None:
    """Events can arrive swapped: the edit is kept and applied when the message arrives."""
    chat.core.handle(MessageEdited(chat.place("C1"), "q1", "How do I tune the quibble cache?", NOW))
    chat.say("How do I tune the zorp cache?", mid="q1", minutes=-1)
    entry = chat.entry("q1")
    assert entry is not None
    assert (entry.text, entry.title) == (
        "How do I tune the quibble cache?",
        "How do I tune the quibble cache?",
    )
    assert entry.updated_at == NOW
    # An edit older than the message it edits is not applied on top of it.
    chat.core.handle(MessageEdited(chat.place("C1"), "q2", "Old words?", NOW - timedelta(hours=1)))
    chat.say("How do I size the zorp pool?", mid="q2")
    later = chat.entry("q2")
    assert later is not None and later.text == "How do I size the zorp pool?"


def test_an_edit_at_the_same_instant_as_its_message_is_applied(chat: Chat) -> None:
    chat.core.handle(MessageEdited(chat.place("C1"), "q1", "How do I tune the quibble cache?", NOW))
    chat.say("How do I tune the zorp cache?", mid="q1")  # the same instant
    entry = chat.entry("q1")
    assert entry is not None and entry.text == "How do I tune the quibble cache?"


def test_no_question_words_configured_leaves_the_question_mark(
    make_chat: MakeChat,
) -> None:
    chat = make_chat(Settings(capture=CaptureSettings(question_starters=())))
    chat.say("Anyone tried polars with delta tables?", mid="q1")
    chat.say("How to read it", mid="s1")
    assert chat.entry("q1") is not None and chat.entry("s1") is None


def test_a_batch_writes_each_member_once_and_files_them_under_the_place(chat: Chat) -> None:
    nameless = replace(actor("bob"), workspace="")
    events = [
        IncomingMessage(chat.place("C1"), nameless, f"q{n}", f"Why does job {n} fail?", NOW)
        for n in range(3)
    ]
    chat.core.handle_batch(events)
    assert [m[:3] for m in members(chat)] == [("test", "W1", "bob")]
    authors = {e.author_id for e in chat.entries(EntryKind.QUESTION)}
    assert len(authors) == 1 and len(chat.entries(EntryKind.QUESTION)) == 3


def test_this_solved_it_keeps_its_event_id_and_time(chat: Chat) -> None:
    chat.say("How do I pin a pandas version?", mid="q1", user="alice")
    chat.reply("q1", "Use a lock file.", mid="a1", user="bob")
    mark = AcceptMark(chat.place("C1"), "a1", actor("alice"), "ev-9", NOW - timedelta(minutes=3))
    change = chat.core.capture.accept_reaction_of(mark)
    assert (change.event_id, change.at, change.added) == ("ev-9", NOW - timedelta(minutes=3), True)
    without_time = chat.core.capture.accept_reaction_of(replace(mark, at=None))
    assert without_time.at == chat.clock.now()


def test_a_save_reaction_files_the_author_as_who_wrote_it(chat: Chat) -> None:
    chat.say("How do I pin a pandas version?", mid="q1", user="alice", name="Alice A")
    chat.react("q1", "carol", "pushpin")
    assert members(chat) == [("test", "W1", "alice", "Alice A"), ("test", "W1", "carol", "Carol")]


def test_what_a_captured_message_keeps(chat: Chat) -> None:
    chat.places["C1"] = where("C1", Visibility.PUBLIC, "data-help")
    chat.say("How do I pin a pandas version?", mid="q1", thread="q1")  # Slack: thread_ts = ts
    chat.reply("q1", "Use a lock file.", mid="a1", user="bob")
    question, answer = chat.entry("q1"), chat.entry("a1")
    assert question is not None and answer is not None
    assert (question.thread_id, question.channel_name) == (None, "data-help")
    assert (answer.thread_id, answer.title, answer.channel_name) == ("q1", "", "data-help")
