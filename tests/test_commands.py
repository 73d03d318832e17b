"""The ``/cop`` grammar: help, sub-commands, usage errors, and failures kept from members."""

from __future__ import annotations

import logging

import pytest

from bot.app import command_registry
from tests.chat_driver import Chat, replies

REGISTRY = command_registry()


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP", "-h", "--help", "?", "help me"])
def test_cop_alone_or_help_gives_the_help_text(chat: Chat, text: str) -> None:
    out = replies(chat.cop(text))
    assert len(out) == 1
    assert out[0].text == REGISTRY.help_text()
    assert out[0].ephemeral
    assert chat.entries() == []


def test_the_help_text_lists_every_command_and_the_grammar() -> None:
    text = REGISTRY.help_text()
    for spec in REGISTRY:
        assert f"/cop {spec.usage}" in text
    for element in ("tag:", "from:", "in:", "kind:", "is:", "before:", "after:", '"a phrase"'):
        assert element in text


def test_help_uses_the_platforms_prefix() -> None:
    assert "`/copbot search <query>`" in REGISTRY.help_text("/copbot")


@pytest.mark.parametrize("text", ["pandas memory", "whois airflow", "SEARCHING for x", "ask?"])
def test_unknown_first_words_are_a_search(chat: Chat, text: str) -> None:
    chat.say("How do I reduce pandas memory for whois airflow searching?", mid="q1")
    out = replies(chat.cop(text))
    assert len(out) == 1
    assert out[0].items or "Nothing found" in out[0].text
    assert "“" + text in out[0].text
    assert len(chat.entries()) == 1  # nothing asked or shared by accident


def test_sub_commands_are_case_insensitive(chat: Chat) -> None:
    out = replies(chat.cop("STATS"))
    assert out[0].text.startswith("Repertoire:")


@pytest.mark.parametrize(("text", "usage"), [("who", "/cop who <topic>"), ("ask", "/cop ask")])
def test_a_command_without_its_words_shows_its_usage(chat: Chat, text: str, usage: str) -> None:
    out = replies(chat.cop(text))
    assert usage in out[0].text
    assert out[0].recipient is not None and out[0].recipient.user_id == "alice"


def test_who_names_people_with_the_reason(chat: Chat) -> None:
    chat.say("How do I tune zorblax retries?", mid="q1")
    chat.reply("q1", "Set retries on the zorblax task.", mid="r1", user="chen")
    chat.reply("q1", "Or in default args.", mid="r2", user="bob")
    chat.react("r1", "alice")
    text = replies(chat.cop("who zorblax"))[0].text
    lines = text.splitlines()
    assert lines[1].startswith("1. Chen") and "1 accepted answer" in lines[1]
    assert lines[2].startswith("2. Bob")
    assert "Alice" not in text  # asking is not knowing
    assert "Nobody" in replies(chat.cop("who quuxify"))[0].text


def test_a_command_in_a_thread_replies_in_that_thread(chat: Chat) -> None:
    out = replies(chat.cop("stats", thread="T1"))
    assert out[0].thread_id == "T1"


def test_an_internal_failure_is_a_polite_reply_and_logged(
    chat: Chat, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import bot.commands.search

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("index on fire")

    monkeypatch.setattr(bot.commands.search, "search", boom)
    with caplog.at_level(logging.ERROR):
        out = replies(chat.cop("search pandas", event_id="Ev7"))
    assert len(out) == 1 and "went wrong" in out[0].text
    assert "index on fire" not in out[0].text
    assert any("Ev7" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    # the failed command was rolled back: the platform's retry of Ev7 is answered
    assert "went wrong" not in replies(chat.cop("search pandas", event_id="Ev7"))[0].text
