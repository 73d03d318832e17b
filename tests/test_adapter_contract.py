"""The adapter contract: the same behaviours on the terminal, Slack and Discord.

Every test runs once per adapter (``tests/contract_drivers.py`` drives each
the way its platform would). A platform is done when it passes this suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from knowledge.models import EntryKind
from tests.contract_drivers import ACCEPT, Driver, Shown, driving, entries, entry

PLATFORMS = ("console", "slack", "discord")
QUESTION = "How do I make zorblax imports faster?"
ANSWER = "Cache the zorblax index between runs"


@pytest.fixture(params=PLATFORMS)
async def chat(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Driver]:
    async with driving(request.param, tmp_path, monkeypatch) as driver:
        yield driver


def public(shown: list[Shown]) -> list[Shown]:
    return [s for s in shown if not s.private]


async def asked_and_answered(chat: Driver, channel: str = "public") -> tuple[str, str]:
    question = await chat.say(channel, "asker", QUESTION)
    answer = await chat.say(channel, "answerer", ANSWER, thread=question)
    return question, answer


async def test_contract_a_question_and_its_thread_reply_are_captured(chat: Driver) -> None:
    question, answer = await asked_and_answered(chat)
    asked, answered = entry(chat, question), entry(chat, answer)
    assert asked is not None and asked.kind == EntryKind.QUESTION
    assert answered is not None and answered.kind == EntryKind.ANSWER
    assert answered.thread_id == question
    assert asked.visibility == "public"


async def test_contract_an_edit_updates_the_entry(chat: Driver) -> None:
    question = await chat.say("public", "asker", QUESTION)
    await chat.edit("public", question, "asker", "How do I make zorblax exports faster?")
    edited = entry(chat, question)
    assert edited is not None and "exports" in edited.text


async def test_contract_a_delete_removes_the_entry(chat: Driver) -> None:
    question, answer = await asked_and_answered(chat)
    await chat.delete("public", answer)
    await chat.delete("public", question)
    assert entries(chat) == []
    shown = await chat.command("public", "voter", "search zorblax")
    assert shown and "Nothing found" in shown[0].text


async def test_contract_the_askers_reaction_accepts_an_answer(chat: Driver) -> None:
    _question, answer = await asked_and_answered(chat)
    await chat.react("public", answer, "asker", ACCEPT)
    accepted = entry(chat, answer)
    assert accepted is not None and accepted.accepted


async def test_contract_a_voters_reaction_alone_does_not_accept(chat: Driver) -> None:
    _question, answer = await asked_and_answered(chat)
    await chat.react("public", answer, "voter", ACCEPT)
    answered = entry(chat, answer)
    assert answered is not None and not answered.accepted


async def test_contract_mark_solution_accepts_as_the_reaction_would(chat: Driver) -> None:
    _question, answer = await asked_and_answered(chat)
    await chat.mark_solution("public", answer, "asker")
    accepted = entry(chat, answer)
    assert accepted is not None and accepted.accepted


async def test_contract_saving_a_message_keeps_it_as_knowhow_and_tells_only_the_saver(
    chat: Driver,
) -> None:
    tip = await chat.say("public", "answerer", "Tip: pin zorblax to 2.1 for the fast loader")
    shown = await chat.save("public", tip, "saver")
    saved = entry(chat, tip)
    assert saved is not None and saved.kind == EntryKind.KNOWHOW
    assert saved.visibility == "public"
    assert any("Saved" in s.text for s in shown) and public(shown) == []


async def test_contract_a_save_in_a_private_channel_stays_private(chat: Driver) -> None:
    tip = await chat.say("private", "answerer", "Tip: the zorblax staging token rotates weekly")
    await chat.save("private", tip, "saver")
    saved = entry(chat, tip)
    assert saved is not None and saved.visibility == "private"
    elsewhere = await chat.command("public", "voter", "search zorblax token")
    assert "rotates weekly" not in "".join(s.text for s in elsewhere)
    inside = await chat.command("private", "voter", "search zorblax token")
    assert "rotates weekly" in "".join(s.text for s in inside)


async def test_contract_search_results_are_shown_only_to_the_member(chat: Driver) -> None:
    await asked_and_answered(chat)
    shown = await chat.command("other", "voter", "search zorblax")
    assert shown and all(s.private for s in shown)
    assert "zorblax imports" in shown[0].text


async def test_contract_share_posts_a_public_result_for_everybody(chat: Driver) -> None:
    question, _answer = await asked_and_answered(chat)
    asked = entry(chat, question)
    assert asked is not None
    shown = await chat.share("other", "voter", asked.id)
    [post] = public(shown)
    assert "zorblax imports" in post.text


async def test_contract_share_rechecks_visibility_and_never_leaks_a_private_entry(
    chat: Driver,
) -> None:
    secret = await chat.say("private", "asker", "How do we rotate the zorblax vault keys?")
    hidden = entry(chat, secret)
    assert hidden is not None and hidden.visibility == "private"
    shown = await chat.share("other", "voter", hidden.id)
    assert public(shown) == []
    assert any("can't be shared" in s.text for s in shown)
    assert all("vault keys" not in s.text for s in shown)


async def test_contract_a_dm_is_never_captured(chat: Driver) -> None:
    await chat.dm("asker", "How do I get access to the zorblax cluster?")
    assert entries(chat) == []


async def test_contract_ask_posts_the_question_and_its_thread_takes_answers(chat: Driver) -> None:
    shown = await chat.command("public", "asker", "ask Which zorblax loader is fastest?")
    assert any("zorblax loader" in s.text for s in public(shown))
    [asked] = [e for e in entries(chat) if e.kind == EntryKind.QUESTION]
    answer = await chat.say("public", "answerer", "The mmap loader", thread=asked.source.message_id)
    answered = entry(chat, answer)
    assert answered is not None and answered.kind == EntryKind.ANSWER


async def test_contract_catch_up_reads_messages_and_reactions_said_while_away(
    chat: Driver,
) -> None:
    seen = await chat.say("public", "voter", "How do I lint zorblax configs?")
    # copbot is down: a question is asked and answered, and the asker's ✅ accepts it.
    question = await chat.said_away("public", "asker", QUESTION)
    answer = await chat.said_away(
        "public", "answerer", ANSWER, thread=question, reactions={ACCEPT: ["asker"]}
    )
    await chat.catch_up()
    asked, answered = entry(chat, question), entry(chat, answer)
    assert entry(chat, seen) is not None
    assert asked is not None and asked.kind == EntryKind.QUESTION
    assert answered is not None and answered.kind == EntryKind.ANSWER and answered.accepted


async def test_contract_catch_up_reads_a_reply_in_an_older_archived_thread(chat: Driver) -> None:
    question, _answer = await asked_and_answered(chat)
    await chat.say("public", "voter", "What is the zorblax release cadence?")
    late = await chat.said_away("public", "voter", "Also: set ZORBLAX_CACHE=1", thread=question)
    await chat.archive("public", question)
    await chat.catch_up()
    replied = entry(chat, late)
    assert replied is not None and replied.kind == EntryKind.ANSWER
    assert replied.thread_id == question


async def test_contract_catch_up_reads_past_one_page_once(chat: Driver) -> None:
    await chat.say("public", "voter", "How do I lint zorblax configs?")
    missed = []
    for n in range(chat.past_one_page):
        text = f"How do I tune zorblax knob {n}?" if n % 5 == 0 else f"chatter {n}"
        missed.append((await chat.said_away("public", "asker", text), n % 5 == 0))
    await chat.catch_up()
    for mid, is_question in missed:
        assert (entry(chat, mid) is not None) == is_question
    before = len(entries(chat))
    await chat.catch_up()  # a second reconnect: nothing new, nothing twice
    assert len(entries(chat)) == before
