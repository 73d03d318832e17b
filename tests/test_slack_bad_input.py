# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""Bad Slack payloads: nothing crashes, nothing bogus is kept, the bot keeps capturing.

A corpus of nasty events in Slack's envelope, genuinely signed: missing fields,
wrong types, a 1 MB text with NUL bytes, right-to-left and zero-width
characters, mentions of unknown users, unknown subtypes. Each is answered, a
failing one is logged once with its event id, and a good event after them is
still captured.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.slack_harness import SlackHarness, fake_slack, slack  # noqa: F401

GOOD_TS = "1800000999.000100"

NASTY: list[dict[str, Any]] = [
    {"type": "message", "channel": "C0PUBLIC"},
    {"type": "message", "channel": "C0PUBLIC", "ts": "not-a-ts", "user": "U0ASK", "text": "How?"},
    {"type": "message", "channel": "C0PUBLIC", "ts": "1800000001.1", "user": "U0ASK", "text": 42},
    {"type": "message", "channel": "C0PUBLIC", "subtype": "message_changed", "message": "oops"},
    {"type": "message", "channel": "C0PUBLIC", "subtype": "message_deleted"},
    {
        "type": "message",
        "channel": "C0PUBLIC",
        "ts": "1800000002.1",
        "user": "U0ASK",
        "text": "How do I fix this?",
        "thread_ts": ["not", "a", "ts"],
    },
    {"type": "message", "channel": "C0PUBLIC", "subtype": "no_such_subtype", "ts": "1800000003.1"},
    {
        "type": "message",
        "ts": "1800000004.1",
        "user": "U0ASK",
        "text": "How do I x without a channel?",
    },
    {"type": "reaction_added", "user": "U0ASK", "reaction": "white_check_mark", "item": "x"},
    {"type": "reaction_added", "user": None, "reaction": None, "item": {"type": "message"}},
    {"type": "channel_left", "channel": None},
    {"type": "member_joined_channel", "user": 7, "channel": []},
]

HUGE = {
    "type": "message",
    "channel": "C0PUBLIC",
    "ts": "1800000005.000100",
    "user": "U0ASK",
    "text": "How do I read \u202eltr\u202c\u200b<@U0NOBODY> " + "é" * 1_000_000 + "\x00?",
}


async def test_nasty_events_are_survived_and_a_good_one_still_captured(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for number, event in enumerate([*NASTY, HUGE]):
        response = await slack.event(event, event_id=f"EvBad{number:03d}")
        # Acknowledged (and skipped), or refused as unreadable when Bolt cannot parse
        # it at all; never a server error.
        assert response.status in (200, 400)
    kept = {str(e["message_id"]): e for e in slack.entries()}
    # Kept: the huge question (cut to the size limit, without NUL bytes) and the
    # question whose thread_ts was no ts (read as top-level); nothing else.
    assert set(kept) == {HUGE["ts"], "1800000002.1"}
    assert kept["1800000002.1"]["kind"] == "question"
    assert kept["1800000002.1"]["channel"] == "C0PUBLIC"
    text = str(kept[HUGE["ts"]]["text"])
    assert "\x00" not in text and len(text) <= 40_001
    # Every failure that was logged names its event, once.
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    for record in failures:
        assert "EvBad" in record.getMessage()
    ids = [r.getMessage().split("EvBad")[1][:3] for r in failures]
    assert len(ids) == len(set(ids))
    # And the bot goes on capturing.
    await slack.message("C0PUBLIC", "U0ASK", "How do I still capture questions?", GOOD_TS)
    assert GOOD_TS in {str(e["message_id"]) for e in slack.entries()}
