# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""Faithful catch-up, platform by platform: page by page, resumable, on every (re)connect.

The behaviours every adapter shares are in ``test_adapter_contract.py``; these
are the platform-specific ways of getting there: Slack's reconnect "hello" and
``member_joined_channel``, a gap cut short by an error, live messages during a
catch-up, Discord's voice-channel text chat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.slack.adapter import SlackAdapter
from bot.config import Settings
from knowledge.models import ChannelRef
from knowledge.storage import Viewer
from tests import discord_harness as dh
from tests.slack_harness import BOT_USER, SlackHarness, fake_slack, slack  # noqa: F401

SEEN = "1800000001.000100"


def said(ts: str, text: str, user: str = "U0ASK", **extra: Any) -> dict[str, Any]:
    return {"type": "message", "user": user, "text": text, "ts": ts, **extra}


def away(slack: SlackHarness, count: int, start: int = 100) -> list[str]:
    """``count`` questions said in #data-help while copbot was down; their ts."""
    stamps = [f"18000{start + n:05d}.000100" for n in range(count)]
    for n, ts in enumerate(stamps):
        slack.fake.messages[("C0PUBLIC", ts)] = said(ts, f"How do I tune knob number {n}?")
    return stamps


def mark(slack: SlackHarness) -> str:
    return slack.core.read_marks("slack")[ChannelRef("slack", "T0TEAM", "C0PUBLIC")][1]


async def seen_before(slack: SlackHarness) -> None:
    slack.fake.messages[("C0PUBLIC", SEEN)] = said(SEEN, "How do I lint configs?")
    await slack.message("C0PUBLIC", "U0ASK", "How do I lint configs?", SEEN)


async def test_a_gap_cut_short_by_an_error_goes_on_from_the_last_page_read(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seen_before(slack)
    stamps = away(slack, 40)
    slack.fake.page_cap = 15
    original = slack.fake.answer
    calls = {"history": 0}

    def third_page_fails(method: str, p: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        if method == "conversations.history":
            calls["history"] += 1
            if calls["history"] == 3:
                return {"ok": False, "error": "internal_error"}, {}
        return original(method, p)

    monkeypatch.setattr(slack.fake, "answer", third_page_fails)
    report = await slack.adapter.catch_up()
    assert report.failures == 1
    assert {e["message_id"] for e in slack.entries()} == {SEEN, *stamps[:30]}
    assert mark(slack) == stamps[29]  # moved page by page: two pages were read

    # A live message now must not move the mark past the unread rest of the gap.
    later = "1800099999.000100"
    await slack.message("C0PUBLIC", "U0VOTE", "How do I rotate logs?", later)
    assert mark(slack) == stamps[29]

    report = await slack.adapter.catch_up()  # the next reconnect reads the rest, once
    assert report.failures == 0
    history = slack.fake.of("conversations.history")
    assert history[-2]["oldest"] == stamps[29]
    assert {e["message_id"] for e in slack.entries()} == {SEEN, later, *stamps}
    assert mark(slack) == stamps[-1]
    await slack.message("C0PUBLIC", "U0VOTE", "How do I rotate keys?", "1800100000.000100")
    assert mark(slack) == "1800100000.000100"  # all read: live messages move it again


async def test_a_socket_mode_reconnect_catches_up_what_was_said_meanwhile(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seen_before(slack)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A0-1-secret")
    socket = SlackAdapter(
        slack.adapter.core, Settings(), http=False, port=None,
        client_base_url=f"{slack.fake.url}/api/",
    )  # fmt: skip
    handler = socket.socket_handler()
    try:
        # Slack says "hello" on each connection: the first is start(), which catches up itself.
        await handler.client.run_message_listeners({"type": "hello"}, "{}")
        assert socket.reconnect_catch_up is None
        [missed] = away(slack, 1)
        await handler.client.run_message_listeners({"type": "hello"}, "{}")
        assert socket.reconnect_catch_up is not None
        report = await socket.reconnect_catch_up
        assert report.messages == 1
        assert missed in {e["message_id"] for e in slack.entries()}
    finally:
        await handler.client.close()  # type: ignore[no-untyped-call]  # slack_sdk leaves it untyped
        await socket.close()


async def test_the_bot_added_back_to_a_channel_reads_what_it_missed_there(
    slack: SlackHarness,
) -> None:
    await seen_before(slack)
    await slack.event({"type": "channel_left", "channel": "C0PUBLIC", "actor_id": "U0ADMIN"})
    [missed] = away(slack, 1)
    await slack.event(
        {"type": "member_joined_channel", "user": BOT_USER, "channel": "C0PUBLIC", "team": "T0TEAM"}
    )
    assert missed in {e["message_id"] for e in slack.entries()}


async def test_a_channel_copbot_cannot_read_does_not_freeze_the_others(
    slack: SlackHarness,
) -> None:
    await seen_before(slack)
    slack.fake.messages[("C0OTHER", "1800000002.000100")] = said("1800000002.000100", "hi")
    await slack.message("C0OTHER", "U0ASK", "hi", "1800000002.000100")
    slack.fake.not_member.add("C0OTHER")
    report = await slack.adapter.catch_up()
    assert report.failures == 0 and report.unreadable == 1
    await slack.message("C0PUBLIC", "U0VOTE", "How do I rotate logs?", "1800099999.000100")
    assert mark(slack) == "1800099999.000100"


VOICE = 240


async def test_discord_voice_channel_text_chat_is_caught_up(tmp_path: Path) -> None:
    voice = dh.text_channel(VOICE, "standup-voice")
    voice.update(type=2, bitrate=64000, user_limit=0, rtc_region=None, video_quality_mode=1)
    async with dh.running(tmp_path) as h:
        h.add_guild(dh.guild([dh.text_channel(210, "general"), voice]))
        first = dh.new_id()
        await h.feed(
            "MESSAGE_CREATE", dh.message(first, VOICE, (11, "Ann"), "How do I share my screen?")
        )
        missed = dh.new_id()
        h.api.said(VOICE, dh.message(missed, VOICE, (12, "Bo"), "How do I mute everyone at once?"))
        report = await h.adapter.catch_up()
        assert report.messages == 1
        ids = {
            e.source.message_id
            for e in h.core.repertoire.entries(Viewer.operator_including_private())
        }
        assert ids == {str(first), str(missed)}


async def test_a_long_thread_said_while_away_is_read_past_its_first_page(
    slack: SlackHarness,
) -> None:
    await seen_before(slack)
    slack.fake.page_cap = 15  # replies come 15 a page: the reader follows next_cursor
    root = "1800000100.000100"
    slack.fake.messages[("C0PUBLIC", root)] = said(root, "How do I shard zorblax?", reply_count=40)
    replies = [f"18000002{n:02d}.000100" for n in range(40)]
    for ts in replies:
        slack.fake.messages[("C0PUBLIC", ts)] = said(ts, f"try {ts}", "U0ANS", thread_ts=root)
    report = await slack.adapter.catch_up()
    assert report.failures == 0
    kinds = {e["message_id"]: e["kind"] for e in slack.entries()}
    assert all(kinds.get(ts) == "answer" for ts in replies)
    calls = [p for p in slack.fake.of("conversations.replies") if p["ts"] == root]
    cursors = [p.get("cursor") for p in calls]  # 41 messages (the parent first), 15 a page
    assert len(cursors) == 3 and cursors[0] is None and all(cursors[1:])
