"""The message key: (platform, workspace, channel, message id) names one message.

Slack's ``ts`` is unique only within a channel, and Discord snowflakes are
unique per platform but say nothing of Slack: the same id in two places is
two messages. Confusing them would lose a question and put one channel's text
(and visibility) on another's entry, so these tests put the same id in places
that differ by one part of the key at a time.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import command_registry
from bot.config import Settings
from bot.core import Core
from bot.events import Actor, CommandInvocation, IncomingMessage, Outbound, Visibility, Where
from bot.ports import FixedClock, Services
from knowledge.models import EntryKind, SourceKey
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import Viewer
from tests.chat_driver import NOW, Chat, replies

#: A Slack ``ts``: the same value can be the id of a message in every channel.
TS = "1718000000.000100"


@pytest.mark.parametrize("private_first", [False, True])
def test_the_same_message_id_in_a_public_and_a_private_channel_is_two_entries(
    chat: Chat, private_first: bool
) -> None:
    said = [
        ("C1", "bob", "How do I rotate the quarkle keys in staging?"),
        ("G1", "gina", "Why does the vortigon payroll export fail at night?"),
    ]
    for channel, user, text in reversed(said) if private_first else said:
        chat.say(text, mid=TS, channel=channel, user=user)
    public, private = chat.entry(TS, "C1"), chat.entry(TS, "G1")
    assert public is not None and private is not None and public.id != private.id
    assert (public.text, public.visibility) == (said[0][2], "public")
    assert (private.text, private.visibility) == (said[1][2], "private")
    assert public.author_name == "Bob" and private.author_name == "Gina"
    assert len(chat.entries(EntryKind.QUESTION)) == 2
    # From the public channel: the public question, never the private one's words.
    assert "quarkle" in shown(chat.cop("search quarkle", channel="C1"))
    assert "vortigon" not in shown(chat.cop("search vortigon", channel="C1"))
    assert "vortigon" not in shown(chat.cop("search quarkle", channel="C1"))
    assert "vortigon" in shown(chat.cop("search vortigon", channel="G1"))


def test_replies_with_the_same_ids_in_two_channels_answer_their_own_question(chat: Chat) -> None:
    """Threads too: the same root and reply ids in two channels are two threads."""
    chat.say("How do I tune the quarkle cache?", mid=TS, channel="C1", user="bob")
    chat.say("How do I tune the vortigon cache?", mid=TS, channel="G1", user="gina")
    reply = "1718000001.000200"
    chat.reply(TS, "Set quarkle size to 64.", mid=reply, channel="C1", user="hal")
    chat.reply(TS, "Set vortigon size to 32.", mid=reply, channel="G1", user="ivy")
    chat.react(reply, "gina", channel="G1")  # the private asker accepts the private answer
    public_answer, private_answer = chat.entry(reply, "C1"), chat.entry(reply, "G1")
    assert public_answer is not None and private_answer is not None
    assert public_answer.text == "Set quarkle size to 64." and not public_answer.accepted
    assert private_answer.text == "Set vortigon size to 32." and private_answer.accepted
    assert private_answer.visibility == "private"
    public_question = chat.entry(TS, "C1")
    assert public_question is not None
    assert [a.text for a in chat.repertoire.answers_for(public_question)] == [public_answer.text]
    assert "vortigon" not in shown(chat.cop("search quarkle cache", channel="C1"))


def shown(outbound: list[Outbound]) -> str:
    """What the results show of entries (titles, snippets, answers), not the reply's own words."""
    return "\n".join(
        f"{item.title} {item.snippet} {item.answer_snippet}"
        for reply in replies(outbound)
        for item in reply.items
    )


# ----------------------------------------------------------------------------- property

#: Places that differ from each other by exactly one part of the key (or by several).
PLACES = [
    Where("slack", "T1", "C1", Visibility.PUBLIC, "help"),
    Where("slack", "T1", "C2", Visibility.PUBLIC, "tips"),
    Where("slack", "T1", "G1", Visibility.PRIVATE, "team"),
    Where("slack", "T2", "C1", Visibility.PRIVATE, "help"),  # same channel id, other workspace
    Where("discord", "T1", "C1", Visibility.PUBLIC, "help"),  # same ids, other platform
    Where("discord", "T1", "D1", Visibility.DM, ""),
]
MESSAGE_IDS = ["100", "101"]


@settings(max_examples=40, deadline=None)
@given(
    said=st.lists(
        st.tuples(st.sampled_from(range(len(PLACES))), st.sampled_from(MESSAGE_IDS)),
        min_size=1,
        max_size=12,
    )
)
def test_each_place_and_id_is_its_own_entry_and_is_seen_only_where_allowed(
    said: list[tuple[int, str]],
) -> None:
    """Any mix of places and ids, replays included: one entry per key, own text, own visibility.

    Every message carries a word of its own, so a search shows whose text a
    channel sees: from each place, exactly the public keys and its own.
    """
    with tempfile.TemporaryDirectory() as tmp:
        repertoire = Repertoire.open(Path(tmp) / "k.db")
        try:
            core = Core(Services(repertoire, Settings(), FixedClock(NOW)), command_registry())
            keys = list(dict.fromkeys(said))  # in order of first appearance
            for step, (place, mid) in enumerate(said):
                where = PLACES[place]
                author = Actor(where.platform, f"U{place}", f"Member {place}", where.workspace)
                core.handle(
                    IncomingMessage(
                        where,
                        author,
                        mid,
                        f"Why does {_word(place, mid)} fail?",
                        NOW + timedelta(seconds=step),
                    )
                )
            entries = repertoire.entries(Viewer.operator_including_private(), order="id")
            by_key = {(_place_index(e.source), e.source.message_id): e for e in entries}
            # A DM is never captured from a plain message; every other key is one entry.
            expected = {k for k in keys if PLACES[k[0]].visibility != Visibility.DM}
            assert len(entries) == len(by_key)
            assert set(by_key) == expected
            for (place, mid), entry in by_key.items():
                assert _word(place, mid) in entry.text
                assert entry.visibility == PLACES[place].visibility.value
            for viewer_index, viewer in enumerate(PLACES):
                if viewer.visibility == Visibility.DM:
                    continue
                for place, mid in expected:
                    word = _word(place, mid)
                    reply = core.handle(
                        CommandInvocation(
                            viewer,
                            Actor(viewer.platform, "U-viewer", "Viewer", viewer.workspace),
                            f"search {word}",
                            NOW + timedelta(hours=1),
                        )
                    )
                    may_see = PLACES[place].visibility == Visibility.PUBLIC or place == viewer_index
                    assert (word in shown(reply)) == may_see, (viewer, place, mid)
        finally:
            repertoire.close()


def _word(place: int, mid: str) -> str:
    """A word only the message (place, mid) says; the search engine keeps it whole."""
    return f"zq{place}x{mid}"


def _place_index(source: SourceKey) -> int:
    return next(
        i
        for i, p in enumerate(PLACES)
        if (p.platform, p.workspace, p.channel)
        == (source.platform, source.workspace, source.channel)
    )
