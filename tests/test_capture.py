"""Capture rules: which chat messages become entries, and how reactions and saves change them."""

from __future__ import annotations

import pytest

from bot.config import CaptureSettings, ChannelRule, ChannelSettings, Settings
from bot.events import FetchMessage, KnowhowKind, Visibility
from knowledge.models import EntryKind
from knowledge.storage import EntryFilter
from tests.chat_driver import EVERYTHING, Chat, MakeChat, replies, where

QUESTION = "How do I reduce the memory usage of a pandas DataFrame?"


# ------------------------------------------------------------------ the question heuristic


@pytest.mark.parametrize(
    "text",
    [
        "My pandas job runs out of memory, any idea?",
        "pandas keeps running out of memory?!",
        "How do I reduce the memory usage of a DataFrame",
        "how, in 2026, do people schedule their jobs",
        "Why does my DAG never start",
        "Is there a way to stream parquet files",
        "Has anyone tried DuckDB with Iceberg",
        "Help: my DAG won't start after the upgrade",
        "What's the cleanest way to dedup rows",
        "Anyone using polars in production",
        "<@U123> how do I get airflow to retry",
        "@bob, why is the nightly job slow",
        "<@U1> <@U2>: can someone look at this",
        "Ça marche comment, ce truc de cache ?",
    ],
)
def test_question_like_top_level_messages_are_captured(chat: Chat, text: str) -> None:
    chat.say(text, mid="q1")
    entry = chat.entry("q1")
    assert entry is not None
    assert entry.kind == EntryKind.QUESTION
    assert entry.title


@pytest.mark.parametrize(
    "text",
    [
        "Deployed the new pipeline to production today.",
        "thanks!",
        "ok?",  # ends with '?' but shorter than min_question_chars
        "<@U123> <@U456> ok?",  # mentions do not count towards the length
        "@bob why",  # a starter, but too short once the mention is gone
        "Showing how we did it",  # 'how' not at the start
        "Howdy everyone, the build is green",  # starts with 'how' but not the word
        "   ",
        "",
    ],
)
def test_non_questions_are_ignored(chat: Chat, text: str) -> None:
    chat.say(text, mid="m1")
    assert chat.entry("m1") is None
    assert chat.entries() == []


def test_min_length_and_starters_are_configurable(make_chat: MakeChat) -> None:
    settings = Settings(
        capture=CaptureSettings(
            question_starters=("quick one",), question_mark=False, min_question_chars=30
        )
    )
    chat = make_chat(settings)
    chat.say("Quick one: where do the nightly logs go", mid="a")  # starter, long enough
    chat.say("Where do the nightly logs go, please?", mid="b")  # '?' is off, 'where' unknown
    chat.say("quick one: logs?", mid="c")  # starter, but too short
    assert chat.entry("a") is not None
    assert chat.entry("b") is None
    assert chat.entry("c") is None


def test_forum_post_is_always_a_question_with_its_title(chat: Chat) -> None:
    chat.say("Our pipeline fails at night.", mid="f1", title="Nightly failures", is_forum_post=True)
    entry = chat.entry("f1")
    assert entry is not None and entry.kind == EntryKind.QUESTION
    assert entry.title == "Nightly failures"


def test_tags_come_from_the_event_and_from_hashtags(chat: Chat) -> None:
    chat.say("How do I profile #Pandas memory use?", mid="q1", tags=("perf",))
    entry = chat.entry("q1")
    assert entry is not None
    assert set(entry.tags) == {"pandas", "perf"}
    assert "#" not in entry.title


# ------------------------------------------------------------------ answers and acceptance


def test_thread_replies_become_answers_of_the_question(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1")
    chat.reply("q1", "Use category dtypes for repeated strings.", mid="r1", user="chen")
    chat.reply("q1", "Or read fewer columns with usecols.", mid="r2", user="bob")
    question = chat.entry("q1")
    assert question is not None
    answers = chat.repertoire.answers_for(question)
    assert [a.source.message_id for a in answers] == ["r1", "r2"]
    assert all(a.kind == EntryKind.ANSWER for a in answers)
    answered = EntryFilter(message_id="q1", answered=True)
    assert chat.repertoire.count_entries(EVERYTHING, answered) == 1


@pytest.mark.parametrize("emoji", ["white_check_mark", "✅", ":white_check_mark:", "✅\ufe0f"])
def test_the_askers_check_mark_accepts(chat: Chat, emoji: str) -> None:
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    out = chat.react("r1", "alice", emoji)
    answer = chat.entry("r1")
    assert answer is not None and answer.accepted
    said = replies(out)
    assert len(said) == 1 and not said[0].ephemeral
    assert said[0].thread_id == "q1"
    accepted = EntryFilter(message_id="q1", has_accepted=True)
    assert chat.repertoire.count_entries(EVERYTHING, accepted) == 1


def test_someone_elses_single_check_mark_does_not_accept(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    assert chat.react("r1", "bob") == []
    answer = chat.entry("r1")
    assert answer is not None and not answer.accepted


def test_other_reactions_by_the_asker_do_not_accept(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    chat.react("r1", "alice", "+1")
    chat.react("r1", "alice", "🎉")
    answer = chat.entry("r1")
    assert answer is not None and not answer.accepted


def test_accept_votes_members_accept(make_chat: MakeChat) -> None:
    chat = make_chat(Settings(capture=CaptureSettings(accept_votes=2)))
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    chat.react("r1", "bob")
    assert not chat.entry_of("r1").accepted
    chat.react("r1", "dana")
    assert chat.entry_of("r1").accepted
    # one vote goes away: below the threshold again
    chat.react("r1", "dana", added=False)
    assert not chat.entry_of("r1").accepted


def test_the_answerers_own_vote_does_not_count(make_chat: MakeChat) -> None:
    chat = make_chat(Settings(capture=CaptureSettings(accept_votes=2)))
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    chat.react("r1", "chen")
    chat.react("r1", "bob")
    assert not chat.entry_of("r1").accepted
    chat.react("r1", "dana")
    assert chat.entry_of("r1").accepted


def test_asker_accepts_can_be_turned_off(make_chat: MakeChat) -> None:
    chat = make_chat(Settings(capture=CaptureSettings(asker_accepts=False, accept_votes=2)))
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    chat.react("r1", "alice")
    assert not chat.entry_of("r1").accepted


def test_removing_the_reaction_un_accepts(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    chat.react("r1", "alice", "✅")
    assert chat.entry_of("r1").accepted
    # removed in the other form than it was added: the same reaction
    assert chat.react("r1", "alice", "white_check_mark", added=False) == []
    assert not chat.entry_of("r1").accepted
    accepted = EntryFilter(message_id="q1", has_accepted=False)
    assert chat.repertoire.count_entries(EVERYTHING, accepted) == 1


def test_a_custom_accept_reaction(make_chat: MakeChat) -> None:
    chat = make_chat(Settings(capture=CaptureSettings(accept_reaction="heavy_check_mark")))
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    chat.react("r1", "alice", "✅")
    assert not chat.entry_of("r1").accepted
    chat.react("r1", "alice", "✔️")
    assert chat.entry_of("r1").accepted


def test_accepting_again_says_nothing_new(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes.", mid="r1", user="chen")
    assert len(chat.react("r1", "alice", "✅")) == 1
    assert chat.react("r1", "alice", "white_check_mark") == []


# ------------------------------------------------------------------ saving know-how


def test_save_reaction_on_a_captured_message_makes_knowhow(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", user="alice")
    chat.reply("q1", "Use category dtypes for repeated strings #pandas", mid="r1", user="chen")
    out = chat.react("r1", "bob", "📌")
    knowhow = chat.entries(EntryKind.KNOWHOW)
    assert len(knowhow) == 1
    assert knowhow[0].source.message_id == "r1"
    assert knowhow[0].author_name == "Chen"  # the message's author, not the saver
    assert "pandas" in knowhow[0].tags
    assert chat.sql(
        "SELECT m.user_id FROM entries e JOIN members m ON m.id = e.saved_by_id "
        "WHERE e.kind = 'knowhow'"
    ) == [("bob",)]
    assert any("Saved" in r.text for r in replies(out))
    # pinning it again (pushpin by name, another member) does not make a second one
    assert chat.react("r1", "dana", "pushpin") == []
    assert len(chat.entries(EntryKind.KNOWHOW)) == 1


def test_save_reaction_on_an_uncaptured_message_asks_the_adapter_to_fetch_it(chat: Chat) -> None:
    chat.say("We moved the nightly jobs to the new cluster.", mid="m1")
    out = chat.react("m1", "bob", "pushpin")
    assert len(out) == 1 and isinstance(out[0], FetchMessage)
    fetch = out[0]
    assert fetch.message_id == "m1" and fetch.saver.user_id == "bob"
    assert fetch.where.channel == "C1"
    assert chat.entries() == []


def test_removing_a_save_reaction_does_nothing(chat: Chat) -> None:
    chat.say("We moved the nightly jobs to the new cluster.", mid="m1")
    assert chat.react("m1", "bob", "📌", added=False) == []


def test_share_with_kind_and_tags(chat: Chat) -> None:
    out = chat.cop("share kind:resource The Polars user guide is great #polars #Docs", user="zoe")
    knowhow = chat.entries(EntryKind.KNOWHOW)
    assert len(knowhow) == 1
    entry = knowhow[0]
    assert entry.knowhow_kind == "resource"
    assert set(entry.tags) == {"polars", "docs"}
    assert entry.author_name == "Zoe"
    assert "#" not in entry.title and "Polars user guide" in entry.title
    assert any("resource" in r.text for r in replies(out))


def test_share_defaults_to_howto(chat: Chat) -> None:
    chat.cop("share Use scan_csv for huge files #polars")
    assert chat.entries(EntryKind.KNOWHOW)[0].knowhow_kind == KnowhowKind.HOWTO.value


@pytest.mark.parametrize("text", ["share", "share   ", "share #polars #pandas", "share kind:story"])
def test_share_without_text_explains_usage(chat: Chat, text: str) -> None:
    out = replies(chat.cop(text))
    assert len(out) == 1 and "Usage" in out[0].text
    assert chat.entries() == []


def test_share_with_an_unknown_kind_says_which_kinds_exist(chat: Chat) -> None:
    out = replies(chat.cop("share kind:poem roses are red"))
    assert "poem" in out[0].text and "howto" in out[0].text
    assert chat.entries() == []


def test_two_shares_at_the_same_moment_are_two_entries(chat: Chat) -> None:
    chat.cop("share Use scan_csv for huge files", user="zoe", event_id="")
    chat.cop("share Partition parquet by date", user="sam", event_id="")
    assert len(chat.entries(EntryKind.KNOWHOW)) == 2


# ------------------------------------------------------------------ /cop ask


def test_ask_creates_a_question_and_binds_later_thread_replies(chat: Chat) -> None:
    out = replies(chat.cop("ask how do we rotate the warehouse credentials?", user="sam"))
    assert len(out) == 1
    posted = out[0]
    assert not posted.ephemeral and posted.anchor_entry_id is not None
    question = chat.repertoire.get_entry(posted.anchor_entry_id)
    assert question is not None and question.kind == EntryKind.QUESTION
    assert question.author_name == "Sam"

    # the adapter posted the reply as message P1 and tells the core
    chat.core.link_posted_message(posted.anchor_entry_id, "P1", "https://chat/P1")
    chat.reply("P1", "We use the vault CLI, see the runbook.", mid="r1", user="dana")
    question = chat.repertoire.get_entry(posted.anchor_entry_id)
    assert question is not None and question.permalink == "https://chat/P1"
    answers = chat.repertoire.answers_for(question)
    assert [a.source.message_id for a in answers] == ["r1"]
    chat.react("r1", "sam")
    assert chat.entry_of("r1").accepted


def test_ask_without_a_question_explains_usage(chat: Chat) -> None:
    out = replies(chat.cop("ask   "))
    assert "Usage" in out[0].text
    assert chat.entries() == []


def test_two_asks_at_the_same_moment_are_two_questions(chat: Chat) -> None:
    chat.cop("ask how do we rotate credentials?", user="sam", event_id="")
    chat.cop("ask where is the runbook for backfills?", user="zoe", event_id="")
    assert len(chat.entries(EntryKind.QUESTION)) == 2


# ------------------------------------------------------------------ where nothing is captured


def test_bot_authors_are_ignored(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", is_bot=True)
    chat.say(QUESTION, mid="q2")
    chat.reply("q2", "I am a bot, here is a canned answer.", mid="r1", is_bot=True)
    assert chat.entry("q1") is None
    assert chat.entry("r1") is None
    assert chat.entry("q2") is not None


def test_capture_off_by_channel_rule(make_chat: MakeChat) -> None:
    settings = Settings(
        channels=ChannelSettings(
            rules=(
                ChannelRule(channel="test:C9", capture=False),
                ChannelRule(channel="test:#random", capture=False),
            )
        )
    )
    chat = make_chat(settings)
    chat.say(QUESTION, mid="q1", channel="C9")
    chat.places["C8"] = where("C8", name="random")
    chat.say(QUESTION, mid="q2", channel="C8")
    chat.say(QUESTION, mid="q3", channel="C1")
    assert chat.entry("q1", "C9") is None
    assert chat.entry("q2", "C8") is None
    assert chat.entry("q3", "C1") is not None


def test_capture_off_by_default_with_an_opt_in_rule(make_chat: MakeChat) -> None:
    settings = Settings(
        channels=ChannelSettings(
            capture_by_default=False, rules=(ChannelRule(channel="test:C2", capture=True),)
        )
    )
    chat = make_chat(settings)
    chat.say(QUESTION, mid="q1", channel="C1")
    chat.say(QUESTION, mid="q2", channel="C2")
    assert chat.entry("q1", "C1") is None
    assert chat.entry("q2", "C2") is not None


def test_dms_are_never_captured(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", channel="D1")
    chat.reply("q1", "Use category dtypes.", mid="r1", channel="D1", user="chen")
    assert chat.entries() == []


def test_a_save_request_from_a_dm_is_kept_with_dm_visibility(chat: Chat) -> None:
    out = chat.save("d1", "Note to self: vacuum the warehouse weekly.", channel="D1")
    entry = chat.entry("d1", "D1")
    assert entry is not None
    assert entry.kind == EntryKind.KNOWHOW and entry.visibility == Visibility.DM.value
    assert any("Saved" in r.text for r in replies(out))


def test_save_reaction_in_a_dm_fetches_then_keeps_it_private(chat: Chat) -> None:
    chat.say("Note to self: vacuum the warehouse weekly.", mid="d1", channel="D1")
    out = chat.react("d1", "alice", "📌", channel="D1")
    assert len(out) == 1 and isinstance(out[0], FetchMessage)
    chat.save("d1", "Note to self: vacuum the warehouse weekly.", channel="D1")
    assert chat.entry_of("d1", "D1").visibility == "dm"


def test_member_left_channel_stops_capture_there(chat: Chat) -> None:
    chat.say(QUESTION, mid="q1", channel="C1")
    chat.left("C1")
    chat.say("Why does the nightly job fail on Mondays?", mid="q2", channel="C1")
    chat.reply("q1", "Use category dtypes.", mid="r1", channel="C1", user="chen")
    chat.say("Why does the nightly job fail on Mondays?", mid="q3", channel="C2")
    assert chat.entry("q1", "C1") is not None  # what was kept stays
    assert chat.entry("q2", "C1") is None
    assert chat.entry("r1", "C1") is None
    assert chat.entry("q3", "C2") is not None


# ------------------------------------------------------------------ robustness


def test_control_characters_are_not_stored(chat: Chat) -> None:
    chat.say("How do I \x00strip NUL\x07 bytes from a CSV?", mid="q1")
    entry = chat.entry("q1")
    assert entry is not None
    assert "\x00" not in entry.text and "\x07" not in entry.text


def test_a_broken_event_is_skipped_and_the_next_one_works(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    # A lone surrogate cannot be stored as UTF-8: it must not take the bot down.
    chat.say("How do I handle \ud800 in my data?", mid="q1")
    chat.say(QUESTION, mid="q2")
    assert chat.entry("q2") is not None
