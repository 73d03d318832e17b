"""Visibility follows the content: an entry is as visible as its channel is now.

A channel that turns private takes everything said in it along, at once:
search (the question's document and its answer snippet), share, digests,
exports, profiles, ``who`` and ``hosts`` stop showing it anywhere else. A
claim that may be stale cannot reopen it; the platform's own word, newer than
the change, can. Answers are shown by their own visibility everywhere.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.app import build_core
from bot.config import DigestSchedule, Settings
from bot.digest import build_digest, resolve_channel
from bot.events import ChannelVisibilityChanged, Outbound, Visibility
from bot.ports import FixedClock
from bot.render_text import render_post
from bot.share import share_result
from knowledge.curation import history
from knowledge.export import export_markdown
from knowledge.models import ChannelRef
from knowledge.query import parse_query
from knowledge.search import SearchOptions, search
from knowledge.sqlite.repertoire import Repertoire
from tests.chat_driver import NOW, Chat, actor, replies, where

SECRET_WORD = "zanzibar"


def shown(outbound: list[Outbound]) -> str:
    """Everything a member would read in the replies: text, titles, snippets, answers."""
    parts: list[str] = []
    for reply in replies(outbound):
        parts.append(reply.text)
        parts.append(found(outbound))
    return "\n".join(parts).lower()


def found(outbound: list[Outbound]) -> str:
    """The results only (not the reply's text, which may repeat the query)."""
    parts: list[str] = []
    for reply in replies(outbound):
        for item in reply.items:
            parts += [item.title, item.snippet, item.answer_snippet, item.answer_author]
    return "\n".join(parts).lower()


def digest_of(chat: Chat, channel: str) -> str:
    services = chat.core.services
    spec = f"test:W1:{channel}"
    schedule = DigestSchedule(channel=spec, period_days=7, empty="note")
    post = build_digest(
        services, resolve_channel(chat.repertoire, spec), schedule, NOW - timedelta(days=7),
        NOW + timedelta(days=1),
    )  # fmt: skip
    return render_post(post).lower() if post else ""


def markdown_of(chat: Chat, folder: Path) -> str:
    export_markdown(chat.repertoire, folder)
    return "\n".join(p.read_text() for p in sorted(folder.rglob("*.md"))).lower()


def turn(chat: Chat, channel: str, visibility: Visibility, minutes: float) -> None:
    """The platform says the channel changed (Slack's conversion notice, a Discord update)."""
    chat.places[channel] = where(channel, visibility)
    chat.core.handle(ChannelVisibilityChanged(chat.places[channel], chat.at(minutes)))


def test_a_reply_after_the_channel_turned_private_shows_nowhere_else(
    chat: Chat, tmp_path: Path
) -> None:
    chat.say("How do I rotate the staging credentials?", mid="q1", user="alice")
    chat.say("Anyone around today?", mid="c2", channel="C2")  # the digest's channel is known
    # Slack sends channel_type=group for a channel made private: the reply says so.
    chat.places["C1"] = where("C1", Visibility.PRIVATE)
    chat.reply("q1", f"Use the vault path secret/{SECRET_WORD}", mid="a1", user="bob", minutes=1)
    chat.react("a1", "alice")

    for query in (SECRET_WORD, "rotate staging credentials"):
        assert found(chat.cop(f"search {query}", channel="C2")) == ""
    question = chat.entry("q1")
    assert question is not None and question.visibility == "private"
    refused = shown(share_result(chat.core.services, question.id, chat.place("C2"), actor("carol")))
    assert "can't be shared here" in refused and SECRET_WORD not in refused
    assert SECRET_WORD not in digest_of(chat, "C2") and "rotate" not in digest_of(chat, "C2")
    assert "rotate" not in markdown_of(chat, tmp_path / "md")
    # In the channel itself, all of it is there, answer included.
    assert SECRET_WORD in shown(chat.cop(f"search {SECRET_WORD}", channel="C1"))


def test_a_channel_made_private_takes_its_entries_and_their_credit_along(chat: Chat) -> None:
    chat.say("How do I rotate vault tokens? #vault", mid="q1", user="alice")
    chat.reply("q1", "Run the vault rotate job nightly", mid="a1", user="bob")
    chat.react("a1", "alice")
    chat.cop("thanks @bob for #" + str(chat.entry_of("a1").id), user="alice")
    chat.say("Hello from the other channel", channel="C2", user="carol")
    assert "bob" in shown(chat.cop("who vault", channel="C2"))

    turn(chat, "C1", Visibility.PRIVATE, minutes=5)

    assert {e.visibility for e in chat.entries()} == {"private"}
    assert "bob" not in shown(chat.cop("who vault", channel="C2"))
    assert "bob" not in shown(chat.cop("hosts vault", channel="C2"))
    profile = shown(chat.cop("profile @bob", channel="C2"))
    assert "nothing here yet" in profile and "thanked" not in profile
    assert found(chat.cop("search vault", channel="C2")) == ""
    assert "bob" in shown(chat.cop("who vault", channel="C1"))  # still known where it was said

    turn(chat, "C1", Visibility.PUBLIC, minutes=10)  # made public again: back everywhere

    assert {e.visibility for e in chat.entries()} == {"public"}
    assert "bob" in shown(chat.cop("who vault", channel="C2"))


def test_a_stale_claim_never_reopens_a_channel_but_the_platforms_newer_word_does(
    chat: Chat,
) -> None:
    chat.say("How do I rotate vault tokens?", mid="q1", user="alice")
    turn(chat, "C1", Visibility.PRIVATE, minutes=5)
    public = where("C1", Visibility.PUBLIC)
    # A reaction and a command carry a cached lookup that still says public.
    chat.places["C1"] = public
    chat.react("q1", "bob", "+1")
    chat.cop("search vault", user="bob")
    # An older export still lists the channel as public: its messages are older.
    chat.say("How did we rotate tokens last year?", mid="q0", user="bob", minutes=-60)
    assert {e.visibility for e in chat.entries()} == {"private"}
    # A message said after the change, in a channel the platform now calls public.
    chat.say("How do I rotate the new tokens?", mid="q2", user="bob", minutes=10)
    assert {e.visibility for e in chat.entries()} == {"public"}


def test_an_answer_lent_by_a_solved_link_follows_its_own_channel(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = Settings.model_validate({"similar": {"min_confidence": 0.0}})
    chat = Chat(build_core(settings, tmp_path / "linked.db", clock=clock), clock)
    try:
        _lent_answer_follows(chat)
    finally:
        chat.repertoire.close()


def _lent_answer_follows(chat: Chat) -> None:
    chat.say("How do I rotate the vault tokens safely?", mid="q1", user="alice")
    chat.reply("q1", f"Use the {SECRET_WORD} rotation job", mid="a1", user="bob")
    chat.react("a1", "alice")
    chat.say("How do I rotate the vault tokens safely and quickly?", mid="q2", user="carol",
             channel="C2", minutes=1)  # fmt: skip
    chat.cop("solved", user="carol", channel="C2", thread="q2")
    viewer = ChannelRef("test", "W1", "C3")

    def hits() -> dict[str, str]:
        found = search(chat.repertoire, parse_query(f"{SECRET_WORD} vault"), viewer,
                       SearchOptions(limit=10))  # fmt: skip
        return {h.entry.source.message_id: h.answer_snippet for h in found}

    assert set(hits()) == {"q1", "q2"}  # q2 borrowed q1's answer
    turn(chat, "C1", Visibility.PRIVATE, minutes=5)
    assert hits() == {"q2": ""}  # its own words still match "vault"; the lent answer is gone
    document = chat.sql(
        "SELECT answers FROM search_fts WHERE rowid = ?", chat.entry_of("q2", "C2").id
    )
    assert document == [("",)]


def test_an_older_database_whose_entries_drifted_from_their_channel_is_put_right(
    tmp_path: Path,
) -> None:
    """A database written before visibility followed the channel is mended when opened."""
    db = tmp_path / "old.db"
    clock = FixedClock(NOW)
    core = build_core(Settings(), db, clock=clock)
    chat = Chat(core, clock)
    chat.say("How do I rotate the staging credentials?", mid="q1")
    chat.reply("q1", f"Use secret/{SECRET_WORD}", mid="a1", user="bob")
    core.repertoire.close()
    with sqlite3.connect(db) as conn:  # as copbot left it: the reply private, the rest public
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        ).fetchall():
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("ALTER TABLE channels DROP COLUMN visibility_at")
        conn.execute("ALTER TABLE message_edits DROP COLUMN author")
        conn.execute("DELETE FROM _sqlite_migrations WHERE migration_set = 'copbot-privacy'")
        conn.execute("UPDATE entries SET visibility = 'private' WHERE message_id = 'a1'")

    repertoire = Repertoire.open(db)
    try:
        visibilities = repertoire.db.execute("SELECT DISTINCT visibility FROM entries").fetchall()
        assert visibilities == [("private",)]
        hits = search(repertoire, parse_query(SECRET_WORD), ChannelRef("test", "W1", "C2"))
        assert hits == []
    finally:
        repertoire.close()


def test_thanks_said_in_a_private_channel_count_nowhere_else(chat: Chat) -> None:
    chat.say("How do I rotate vault tokens?", mid="q1", user="alice")
    chat.reply("q1", "Run the rotate job", mid="a1", user="bob")
    answer = chat.entry("a1")
    assert answer is not None and answer.visibility == "public"
    chat.cop(f"thanks @bob for #{answer.id} the secret migration plan", channel="G1", user="dana")
    elsewhere = shown(chat.cop("profile @bob", channel="C2"))
    assert "thanked" not in elsewhere and "dana" not in elsewhere
    assert "thanked 1 time by dana" in shown(chat.cop("profile @bob", channel="G1"))


def test_undo_answers_alike_for_a_change_it_may_not_see_and_one_that_does_not_exist(
    chat: Chat,
) -> None:
    chat.say("How do we rotate the secret keys?", mid="g1", channel="G1")
    entry = chat.entry("g1", "G1")
    assert entry is not None
    chat.cop(f"retag #{entry.id} +keys", channel="G1")
    (hidden,) = history(chat.repertoire, entry.id)
    missing = hidden.id + 41

    def undo(number: int) -> str:
        text = shown(chat.cop(f"undo c{number}", channel="C1"))
        return text.replace(f"c{number}", "cN").replace(str(entry.id), "#")

    assert undo(hidden.id) == undo(missing)
    assert f"#{entry.id}" not in shown(chat.cop(f"undo c{hidden.id}", channel="C1"))


def test_a_suggestion_whose_channel_turned_private_is_not_named_when_solved(
    tmp_path: Path, clock: FixedClock
) -> None:
    settings = Settings.model_validate({"similar": {"min_confidence": 0.0}})
    chat = Chat(build_core(settings, tmp_path / "named.db", clock=clock), clock)
    try:
        chat.say("How do I rotate the vault tokens safely?", mid="q1", user="alice")
        chat.reply("q1", "Use the rotation job", mid="a1", user="bob")
        chat.react("a1", "alice")
        suggested = chat.say("How do I rotate the vault tokens safely and quickly?", mid="q2",
                             user="carol", channel="C2", minutes=1)  # fmt: skip
        assert "rotate the vault tokens safely" in found(suggested)
        turn(chat, "C1", Visibility.PRIVATE, minutes=5)
        said = shown(chat.cop("solved", user="carol", channel="C2", thread="q2"))
        assert "marked as solved" in said and "rotate" not in said
    finally:
        chat.repertoire.close()
