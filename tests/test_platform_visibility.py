# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""A channel made private on the platform takes what was said in it along, at once.

Slack says so with a ``channel_convert_to_private`` notice in the channel (its
``channel_type`` is then ``group``); Discord with a channel update whose
permission overwrites deny @everyone the View Channel permission. Through the
real Bolt app and the real discord.py client.
"""

from __future__ import annotations

import json
from pathlib import Path

from knowledge.models import ChannelRef
from knowledge.query import parse_query
from knowledge.search import search
from knowledge.storage import Viewer
from tests import discord_harness as dh
from tests.slack_harness import SlackHarness, fake_slack, slack  # noqa: F401

Q_TS, A_TS, CONVERTED_TS = "1800000001.000100", "1800000002.000200", "1800000005.000000"


def _visibilities(slack: SlackHarness) -> set[str]:
    return {str(e["visibility"]) for e in slack.entries()}


async def _search_from_other_channel(slack: SlackHarness) -> str:
    await slack.command("C0OTHER", "U0VOTE", "zanzibar")
    last = slack.fake.of("chat.postEphemeral")[-1]
    return json.dumps(last.get("blocks") or []) + str(last.get("text") or "")


async def test_a_slack_channel_made_private_hides_what_was_said_there(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "How do I rotate the zanzibar credentials?", Q_TS)
    await slack.message("C0PUBLIC", "U0ANS", "The vault has a zanzibar path", A_TS, thread_ts=Q_TS)
    assert "vault has a" in await _search_from_other_channel(slack)

    await slack.event(
        {
            "type": "message",
            "subtype": "channel_convert_to_private",
            "user": "U0ASK",
            "text": "made this channel *private*. Now, it can only be viewed or joined by "
            "invitation.",
            "ts": CONVERTED_TS,
            "event_ts": CONVERTED_TS,
            "channel": "C0PUBLIC",
            "channel_type": "group",
        }
    )

    assert _visibilities(slack) == {"private"}
    seen = await _search_from_other_channel(slack)
    assert "rotate" not in seen and "vault has a" not in seen
    # Later events whose channel lookup is older than the notice do not reopen it.
    await slack.react("C0PUBLIC", "U0VOTE", A_TS, "+1")
    await slack.command("C0PUBLIC", "U0VOTE", "help")
    assert _visibilities(slack) == {"private"}


async def test_a_slack_channel_made_public_stays_public_for_later_reactions(
    slack: SlackHarness,
) -> None:
    await slack.message("C0SECRET", "U0ASK", "How do I rotate the zanzibar credentials?", Q_TS)
    assert _visibilities(slack) == {"private"}
    await slack.event(
        {
            "type": "message",
            "subtype": "channel_convert_to_public",
            "user": "U0ASK",
            "text": "made this channel *public*.",
            "ts": CONVERTED_TS,
            "event_ts": CONVERTED_TS,
            "channel": "C0SECRET",
            "channel_type": "channel",
        }
    )
    assert _visibilities(slack) == {"public"}
    # The adapter looked the channel up as private before; the notice corrected that.
    await slack.react("C0SECRET", "U0VOTE", Q_TS, "+1")
    assert _visibilities(slack) == {"public"}


GENERAL = 210
ALICE, BOB = (11, "Alice"), (12, "Bob")


async def test_a_discord_channel_hidden_from_everyone_takes_its_entries_private(
    tmp_path: Path,
) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(dh.guild([dh.text_channel(GENERAL, "general"), dh.text_channel(220, "x")]))
        question = dh.new_id()
        await h.feed(
            "MESSAGE_CREATE",
            dh.message(question, GENERAL, ALICE, "How do we rotate the zanzibar keys?"),
        )
        other = ChannelRef("discord", str(dh.GUILD_ID), "220")
        assert search(h.core.repertoire, parse_query("zanzibar"), other)

        await h.feed("CHANNEL_UPDATE", dh.text_channel(GENERAL, "general", private=True))

        visibilities = {
            e.visibility for e in h.core.repertoire.entries(Viewer.operator_including_private())
        }
        assert visibilities == {"private"}
        assert search(h.core.repertoire, parse_query("zanzibar"), other) == []

        await h.feed("CHANNEL_UPDATE", dh.text_channel(GENERAL, "general"))  # visible again
        assert search(h.core.repertoire, parse_query("zanzibar"), other)
