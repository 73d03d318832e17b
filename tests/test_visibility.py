"""Visibility: what is shown in channel C is public, or came from C itself; nothing else."""

from __future__ import annotations

import pytest

from knowledge.models import ChannelRef
from knowledge.query import parse_query
from knowledge.search import SearchOptions, search
from knowledge.stats import repertoire_stats
from tests.chat_driver import Chat, replies

# Channel ids: C... public, G... private, D... direct messages (see conftest.Chat.place).


@pytest.fixture
def spread(chat: Chat) -> Chat:
    """The same topic ("zorblax") asked, answered and saved in every kind of place."""
    for channel in ("C1", "C2", "G1", "G2"):
        chat.say(f"How do I tune zorblax in {channel}?", mid=f"q-{channel}", channel=channel)
        chat.reply(f"q-{channel}", "Raise the zorblax pool size.", mid=f"r-{channel}",
                   channel=channel, user=f"helper{channel.lower()}")  # fmt: skip
        chat.react(f"r-{channel}", "alice", channel=channel)
    chat.save("d-1", "Note to self: zorblax pool size 32.", channel="D1", saver="dana",
              author="dana")  # fmt: skip
    chat.save("d-2", "Note to self: zorblax pool size 64.", channel="D2", saver="erin",
              author="erin")  # fmt: skip
    chat.cop("share zorblax tip from the private team #zorblax", channel="G1", user="gina")
    chat.cop("share zorblax tip for everyone #zorblax", channel="C2", user="pat")
    return chat


def visible_channels(chat: Chat, channel: str | None, text: str = "zorblax") -> set[str]:
    viewer = None if channel is None else ChannelRef("test", "W1", channel)
    hits = search(chat.repertoire, parse_query(text), viewer, SearchOptions(limit=50))
    return {h.entry.source.channel for h in hits}


@pytest.mark.parametrize(
    ("viewer", "expected"),
    [
        ("C1", {"C1", "C2"}),
        ("C2", {"C1", "C2"}),
        ("G1", {"C1", "C2", "G1"}),
        ("G2", {"C1", "C2", "G2"}),
        ("D1", {"C1", "C2", "D1"}),
        ("D2", {"C1", "C2", "D2"}),
        ("C9", {"C1", "C2"}),  # a channel the bot never saw
        (None, {"C1", "C2"}),  # no channel at all (the CLI): public only
    ],
)
def test_search_shows_public_and_own_channel_only(
    spread: Chat, viewer: str | None, expected: set[str]
) -> None:
    assert visible_channels(spread, viewer) == expected


@pytest.mark.parametrize("text", ["tag:zorblax", "kind:knowhow", "is:accepted", "kind:answer"])
def test_filter_only_searches_respect_visibility(spread: Chat, text: str) -> None:
    assert visible_channels(spread, "G1", text) <= {"C1", "C2", "G1"}
    assert visible_channels(spread, "C1", text) <= {"C1", "C2"}


def test_cop_search_respects_visibility(spread: Chat) -> None:
    for viewer, hidden in (("C1", ("G1", "G2", "D1")), ("G1", ("G2", "D1", "D2"))):
        out = replies(spread.cop("search zorblax", channel=viewer))
        items = out[0].items
        assert items
        for item in items:
            assert item.channel_name not in hidden
        shown = {i.channel_name for i in items}
        if viewer == "G1":
            assert "G1" in shown


def test_the_same_channel_id_in_another_workspace_is_not_the_same_channel(spread: Chat) -> None:
    other = ChannelRef("test", "W2", "G1")
    hits = search(spread.repertoire, parse_query("zorblax"), other, SearchOptions(limit=50))
    assert {h.entry.source.channel for h in hits} == {"C1", "C2"}


def _who(chat: Chat, channel: str) -> str:
    return replies(chat.cop("who zorblax", channel=channel))[0].text


def test_who_counts_only_what_the_channel_may_see(spread: Chat) -> None:
    from_public = _who(spread, "C1")
    assert "Helperc1" in from_public and "Helperc2" in from_public
    assert "Helperg1" not in from_public and "Helperg2" not in from_public
    assert "Gina" not in from_public and "Dana" not in from_public
    from_private = _who(spread, "G1")
    assert "Helperg1" in from_private and "Gina" in from_private
    assert "Helperg2" not in from_private


def test_stats_count_only_what_the_channel_may_see(spread: Chat) -> None:
    public = repertoire_stats(spread.repertoire, ChannelRef("test", "W1", "C1"))
    private = repertoire_stats(spread.repertoire, ChannelRef("test", "W1", "G1"))
    assert (public.questions, public.answers, public.accepted, public.knowhow) == (2, 2, 2, 1)
    assert (private.questions, private.answers, private.accepted, private.knowhow) == (3, 3, 3, 2)
    # nor do the totals give away the private channels, the DMs, and who is only seen there:
    # public: C1, C2; alice (asker), helperc1, helperc2, pat (shared in C2)
    assert (public.channels, public.members) == (2, 4)
    # from G1, also G1 itself, helperg1 and gina (shared in G1)
    assert (private.channels, private.members) == (3, 6)


def test_cop_stats_reply_respects_visibility(spread: Chat) -> None:
    public = replies(spread.cop("stats", channel="C1"))[0].text
    private = replies(spread.cop("stats", channel="G1"))[0].text
    assert public.startswith("Repertoire: 2 questions")
    assert private.startswith("Repertoire: 3 questions")


def test_a_question_asked_in_a_private_channel_stays_there(chat: Chat) -> None:
    chat.cop("ask how do we rotate the zorblax keys?", channel="G1", user="sam")
    assert visible_channels(chat, "C1") == set()
    assert visible_channels(chat, "G1") == {"G1"}
