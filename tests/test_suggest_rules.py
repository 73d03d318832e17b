"""Suggestions at ask time, read exactly: the words members read, whom each reply goes to,
which items each kind of feedback covers, and feedback withdrawn.

Mutation testing (``make mutate``) showed these unguarded; the behaviour
around them is in ``tests/test_suggest.py``, whose sample community these reuse.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.config import CaptureSettings, ChannelRule, ChannelSettings, Settings, SimilarSettings
from bot.core import Core
from bot.events import (
    CommandInvocation,
    IncomingMessage,
    MessageDeleted,
    ReactionChange,
    Reply,
    SuggestionFeedback,
)
from bot.suggest import Suggester, explain
from knowledge import feedback
from knowledge.models import Entry, EntryKind, SearchHit, SourceKey, from_db_time
from knowledge.text import shorten
from tests.chat_driver import only_reply
from tests.sqlite_file import sqlite_of
from tests.test_suggest import ASKER, DUPLICATE, HELP, NOW, OTHER, ask, make_core, rep_key

POSTED = "bot-msg-1"
#: Every match shown (no confidence bar), so a question gets several suggestions.
ALL_MATCHES = Settings(similar=SimilarSettings(min_confidence=0.0))


def _suggested(core: Core) -> Reply:
    (reply,) = ask(core, DUPLICATE)
    core.reply_posted(reply, POSTED)
    return reply


def _question_id(core: Core) -> int:
    return core.repertoire.entries_for_message(rep_key("new1"))[0].id


def _titles(core: Core, reply: Reply, count: int | None = None) -> str:
    items = reply.items if count is None else reply.items[:count]
    return ", ".join(f"“{shorten(i.title, 80)}”" for i in items)  # titles cut to 80 characters


def test_the_suggestion_says_how_to_answer_it() -> None:
    reply = _suggested(make_core(ALL_MATCHES))
    assert len(reply.items) == 3
    assert reply.text == (
        "💡 This may have been answered before — here are the closest. React ✅ if the first "
        "one solved your question, 👎 if none is related (or `/cop solved N` · `/cop unrelated` "
        "in this thread)."
    )
    assert (reply.where, reply.ephemeral, reply.thread_id) == (HELP, False, "new1")
    (one,) = ask(make_core(), DUPLICATE)
    assert len(one.items) == 1
    assert one.text == (
        "💡 This may have been answered before. React ✅ if it solved your question, 👎 if it "
        "is not related (or `/cop solved` · `/cop unrelated` in this thread)."
    )


def test_an_answer_shows_as_its_first_two_lines() -> None:
    core = make_core()
    core.handle(IncomingMessage(HELP, OTHER, "q-csv", "How do I read a huge CSV in polars?", NOW))
    core.handle(
        IncomingMessage(
            HELP,
            ASKER,
            "a-csv",
            "Use scan_csv.\n\nThen collect(streaming=True).\nDone.",
            NOW,
            "q-csv",
        )
    )
    core.handle(ReactionChange(HELP, "a-csv", OTHER, "✅", at=NOW))
    (reply,) = ask(core, "How do I read a huge CSV in polars lazily?", message_id="q-new")
    assert reply.items[0].answer_snippet == "Use scan_csv. / Then collect(streaming=True)."


def test_a_channel_rule_by_id_turns_suggestions_off() -> None:
    rule = ChannelRule(channel=f"console:{HELP.channel}", suggest_similar=False)
    core = make_core(Settings(channels=ChannelSettings(rules=(rule,))))
    assert ask(core, DUPLICATE) == []


def test_not_related_covers_every_item_and_is_withdrawn_with_the_reaction() -> None:
    core = make_core(ALL_MATCHES)
    reply = _suggested(core)
    noted = only_reply(core.handle(ReactionChange(HELP, POSTED, OTHER, "-1", at=NOW)))
    assert noted == Reply(
        where=HELP,
        text=f"👍 Thanks — noted that {_titles(core, reply)} are not related; I won't suggest "
        "them for this question again.",
        recipient=OTHER,
        thread_id="new1",
    )
    question = _question_id(core)
    assert feedback.not_related_ids(core.repertoire, question) == {i.entry_id for i in reply.items}
    assert core.handle(ReactionChange(HELP, POSTED, OTHER, "-1", added=False, at=NOW)) == []
    assert feedback.not_related_ids(core.repertoire, question) == set()


def test_one_item_not_related_by_button_and_command_say_it() -> None:
    core = make_core(ALL_MATCHES)
    reply = _suggested(core)
    assert reply.suggestion_id is not None
    second = reply.items[1]
    noted = only_reply(
        core.handle(
            SuggestionFeedback(HELP, OTHER, reply.suggestion_id, "not_related", second.entry_id)
        )
    )
    title = shorten(second.title, 80)
    assert noted.text == (
        f"👍 Thanks — noted that “{title}” is not related; I won't suggest it for this "
        "question again."
    )
    assert noted.where == HELP and noted.thread_id == "new1"


def test_a_solved_vote_thanks_the_voter_and_the_askers_tick_links() -> None:
    core = make_core()
    reply = _suggested(core)
    (vote,) = core.handle(ReactionChange(HELP, POSTED, OTHER, "✅", at=NOW))
    assert vote == Reply(
        where=HELP,
        text="Thanks — noted that it helped. The asker's ✅ (or more votes) marks the question as "
        "solved.",
        recipient=OTHER,
        thread_id="new1",
    )
    solved = only_reply(core.handle(ReactionChange(HELP, POSTED, ASKER, "✅", at=NOW)))
    assert solved == Reply(
        where=HELP,
        text=f"✅ Marked as solved by an earlier answer: {_titles(core, reply, 1)}. The two "
        "questions are now linked.",
        ephemeral=False,
        thread_id="new1",
    )
    question = _question_id(core)
    first = reply.items[0].entry_id
    assert feedback.linked_entry(core.repertoire, question) == first
    # Suggesting again leaves out what is linked already.
    entry = core.repertoire.get_entry(question)
    assert entry is not None
    again = Suggester(core.services).suggest(entry, HELP)
    assert all(first not in {i.entry_id for i in r.items} for r in again if isinstance(r, Reply))


def test_a_vote_withdrawn_before_it_counted_unlinks_nothing_and_says_nothing() -> None:
    settings = Settings(capture=CaptureSettings(accept_votes=2, asker_accepts=False))
    core = make_core(settings)
    reply = _suggested(core)
    core.handle(ReactionChange(HELP, POSTED, OTHER, "✅", at=NOW))
    assert core.handle(ReactionChange(HELP, POSTED, OTHER, "✅", added=False, at=NOW)) == []
    question = _question_id(core)
    votes = feedback.voters(core.repertoire, question, reply.items[0].entry_id, "solved_it")
    assert list(votes) == []


def test_a_tick_counts_even_when_the_accept_reaction_is_another_emoji() -> None:
    core = make_core(Settings(capture=CaptureSettings(accept_reaction="heavy_check_mark")))
    reply = _suggested(core)
    solved = only_reply(core.handle(ReactionChange(HELP, POSTED, ASKER, "✅", at=NOW)))
    assert solved.text.startswith("✅ Marked as solved by an earlier answer")
    assert feedback.linked_entry(core.repertoire, _question_id(core)) == reply.items[0].entry_id


def test_buttons_without_an_item_cover_the_first_or_all() -> None:
    core = make_core(ALL_MATCHES)
    reply = _suggested(core)
    assert reply.suggestion_id is not None
    question = _question_id(core)
    core.handle(SuggestionFeedback(HELP, OTHER, reply.suggestion_id, "not_related", None))
    assert feedback.not_related_ids(core.repertoire, question) == {i.entry_id for i in reply.items}
    other = make_core(ALL_MATCHES)
    again = _suggested(other)
    assert again.suggestion_id is not None
    other.handle(SuggestionFeedback(HELP, ASKER, again.suggestion_id, "solved_it", None))
    assert feedback.linked_entry(other.repertoire, _question_id(other)) == again.items[0].entry_id
    (error,) = other.handle(
        SuggestionFeedback(HELP, ASKER, again.suggestion_id, "meh", None, event_id="ev-x")
    )
    assert isinstance(error, Reply) and "Unknown feedback 'meh'." in error.text


def test_commands_say_where_they_work() -> None:
    core = make_core()
    (outside,) = core.handle(CommandInvocation(HELP, ASKER, "solved", NOW, event_id="c1"))
    assert isinstance(outside, Reply)
    assert outside.text.startswith(
        "Use this in the thread of a question where I suggested answers.\n"
    )
    core.handle(IncomingMessage(HELP, ASKER, "plain", "Lunch is at noon today.", NOW))
    (none,) = core.handle(
        CommandInvocation(HELP, ASKER, "unrelated", NOW, thread_id="plain", event_id="c2")
    )
    assert isinstance(none, Reply) and none.text.startswith(
        "I made no suggestion in this thread.\n"
    )


def test_a_tick_on_an_ordinary_message_is_no_feedback_and_no_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    core = make_core()
    core.handle(IncomingMessage(HELP, ASKER, "q-rice", "How do I cook rice at work?", NOW))
    with caplog.at_level(logging.WARNING):
        core.handle(ReactionChange(HELP, "q-rice", OTHER, "✅", at=NOW))
    assert [r.getMessage() for r in caplog.records] == []


def test_a_failing_lookup_is_logged_with_its_entry(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import bot.suggest

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.suggest, "find_similar", broken)
    core = make_core()
    with caplog.at_level(logging.ERROR):
        assert ask(core, DUPLICATE) == []
    question = _question_id(core)
    assert [r.getMessage() for r in caplog.records] == [
        f"could not look for questions similar to entry {question}; skipped"
    ]


def test_commands_pick_items_by_number() -> None:
    core = make_core(ALL_MATCHES)
    reply = _suggested(core)
    question = _question_id(core)
    ids = [i.entry_id for i in reply.items]
    core.handle(
        CommandInvocation(HELP, OTHER, "unrelated 1,3", NOW, thread_id="new1", event_id="u")
    )
    assert feedback.not_related_ids(core.repertoire, question) == {ids[0], ids[2]}
    (bad,) = core.handle(
        CommandInvocation(HELP, OTHER, "unrelated 4", NOW, thread_id="new1", event_id="b")
    )
    assert isinstance(bad, Reply)
    assert bad.text == (
        "'4' is not one of the suggestions (1 to 3).\nUsage: `/cop unrelated [N ...]`"
    )
    core.handle(CommandInvocation(HELP, OTHER, "solved 2", NOW, thread_id="new1", event_id="s"))
    assert feedback.voters(core.repertoire, question, ids[1], "solved_it") == {OTHER.user_id}


def test_a_tick_or_a_button_votes_for_the_first_item_only() -> None:
    core = make_core(
        Settings(
            similar=SimilarSettings(min_confidence=0.0), capture=CaptureSettings(accept_votes=3)
        )
    )
    reply = _suggested(core)
    assert reply.suggestion_id is not None
    question = _question_id(core)
    first, second = reply.items[0].entry_id, reply.items[1].entry_id
    core.handle(ReactionChange(HELP, POSTED, OTHER, "✅", at=NOW))
    core.handle(SuggestionFeedback(HELP, ASKER, reply.suggestion_id, "solved_it", None))
    assert feedback.voters(core.repertoire, question, first, "solved_it") == {
        OTHER.user_id,
        ASKER.user_id,
    }
    assert feedback.voters(core.repertoire, question, second, "solved_it") == set()


def test_changing_ones_mind_replaces_the_earlier_verdict() -> None:
    core = make_core(ALL_MATCHES)
    reply = _suggested(core)
    question = _question_id(core)
    first = reply.items[0].entry_id
    core.handle(ReactionChange(HELP, POSTED, OTHER, "-1", at=NOW))
    assert first in feedback.not_related_ids(core.repertoire, question)
    core.handle(ReactionChange(HELP, POSTED, OTHER, "✅", at=NOW))
    assert first not in feedback.not_related_ids(core.repertoire, question)
    assert feedback.voters(core.repertoire, question, first, "solved_it") == {OTHER.user_id}
    core.handle(ReactionChange(HELP, POSTED, OTHER, "-1", at=NOW))
    assert feedback.voters(core.repertoire, question, first, "solved_it") == set()


def _entry(kind: EntryKind, accepted: bool = False) -> Entry:
    return Entry(
        id=1,
        kind=kind,
        source=SourceKey("slack", "T1", "C1", "m1"),
        title="A title",
        text="A text",
        author_id=1,
        author_name="Ada",
        created_at=NOW,
        updated_at=NOW,
        visibility="public",
        channel_name="help",
        thread_id=None,
        permalink="",
        accepted=accepted,
        knowhow_kind="",
    )


def test_why_a_match_was_suggested() -> None:
    question, knowhow = _entry(EntryKind.QUESTION), _entry(EntryKind.KNOWHOW)
    accepted, answer = _entry(EntryKind.ANSWER, True), _entry(EntryKind.ANSWER)
    words = ("arpeggio", "tracker")
    assert explain(SearchHit(question, 0.714, "", accepted, matched=words)) == (
        "matched: `arpeggio`, `tracker`; accepted answer; 0.71"
    )
    assert explain(SearchHit(question, 0.5, "", answer)) == "answered; 0.50"
    assert explain(SearchHit(question, 0.5, "")) == "0.50"
    assert explain(SearchHit(knowhow, 0.25, "", accepted)) == "know-how; 0.25"


def test_the_quiet_offer_is_for_the_asker_alone_in_the_thread() -> None:
    core = make_core(Settings(similar=SimilarSettings(min_confidence=0.999)))
    (quiet,) = ask(core, DUPLICATE)
    assert quiet.where == HELP and quiet.ephemeral and quiet.quiet
    assert quiet.recipient == ASKER
    assert quiet.text.startswith(
        "🔎 Possibly related (only you see this; I'm not sure enough to say it in the thread): "
        "matched: "
    )


def test_two_suggestions_read_as_several() -> None:
    two = Settings(similar=SimilarSettings(min_confidence=0.0, max_suggestions=2))
    (reply,) = ask(make_core(two), DUPLICATE)
    assert len(reply.items) == 2
    assert reply.text.startswith("💡 This may have been answered before — here are the closest.")


def test_suggesting_again_leaves_out_what_was_shown_and_the_question_itself() -> None:
    core = make_core(ALL_MATCHES)
    reply = _suggested(core)
    question = core.repertoire.get_entry(_question_id(core))
    assert question is not None
    shown = {i.entry_id for i in reply.items}
    core.handle(ReactionChange(HELP, POSTED, ASKER, "✅", at=NOW))  # now answered, by a link
    again = Suggester(core.services).suggest(question, HELP, again=True)
    offered = {i.entry_id for r in again if isinstance(r, Reply) for i in r.items}
    assert offered and not offered & (shown | {question.id})


def test_feedback_is_kept_with_the_time_it_was_given() -> None:
    core = make_core(ALL_MATCHES)
    _suggested(core)
    earlier = NOW - timedelta(hours=1)
    core.handle(ReactionChange(HELP, POSTED, OTHER, "-1", at=earlier))
    times = sqlite_of(core.repertoire).db.execute(
        "SELECT DISTINCT created_at FROM similar_feedback"
    )
    assert [from_db_time(t[0]) for t in times.fetchall()] == [earlier]


def test_feedback_on_a_deleted_suggestion_shows_no_trace_of_it() -> None:
    """The deleted entry's title is gone with it: the reply says "an earlier answer"."""
    core = make_core(ALL_MATCHES)
    reply = _suggested(core)
    assert reply.suggestion_id is not None
    gone = reply.items[1]
    entry = core.repertoire.get_entry(gone.entry_id)
    assert entry is not None
    core.handle(MessageDeleted(HELP, entry.source.message_id, event_id="del-1"))
    noted = only_reply(
        core.handle(
            SuggestionFeedback(HELP, OTHER, reply.suggestion_id, "not_related", gone.entry_id)
        )
    )
    assert "“an earlier answer” is not related" in noted.text
    assert gone.title not in noted.text


def test_a_failing_feedback_lookup_is_logged_with_its_emoji(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    core = make_core()
    _suggested(core)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(feedback, "suggestion_for_message", broken)
    with caplog.at_level(logging.ERROR):
        core.handle(ReactionChange(HELP, POSTED, OTHER, "-1", at=NOW))
    assert [r.getMessage() for r in caplog.records] == [
        "could not read -1 as suggestion feedback; skipped"
    ]


def test_the_askers_tick_taken_back_unlinks_the_questions() -> None:
    core = make_core()
    _suggested(core)
    question = _question_id(core)
    core.handle(ReactionChange(HELP, POSTED, ASKER, "✅", at=NOW))
    assert feedback.linked_entry(core.repertoire, question) is not None
    core.handle(ReactionChange(HELP, POSTED, ASKER, "✅", added=False, at=NOW))
    assert feedback.linked_entry(core.repertoire, question) is None
