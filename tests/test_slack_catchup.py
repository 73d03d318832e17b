# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""After a restart, copbot reads what was said while it was away, once."""

from __future__ import annotations

from typing import Any

from tests.slack_harness import SlackHarness, fake_slack, slack  # noqa: F401

SEEN_Q = "1800000001.000100"
AWAY_Q = "1800000050.000100"
AWAY_A = "1800000051.000100"
OLD_THREAD_A = "1800000052.000100"


def said(
    ts: str, user: str, text: str, thread_ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    message = {"type": "message", "user": user, "text": text, "ts": ts, **extra}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return message


async def test_messages_missed_while_away_are_caught_up_once(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "How do I tune kafka consumers?", SEEN_Q)
    # While copbot was down: a new question with an answer, and an answer in an old thread.
    fake = slack.fake
    fake.messages[("C0PUBLIC", SEEN_Q)] = said(SEEN_Q, "U0ASK", "How do I tune kafka consumers?")
    fake.messages[("C0PUBLIC", AWAY_Q)] = said(
        AWAY_Q, "U0ASK", "How do I backfill a dbt model?", reply_count=1
    )
    fake.messages[("C0PUBLIC", AWAY_A)] = said(AWAY_A, "U0ANS", "Use --full-refresh", AWAY_Q)
    fake.messages[("C0PUBLIC", OLD_THREAD_A)] = said(
        OLD_THREAD_A, "U0ANS", "Raise max.poll.records", SEEN_Q
    )

    report = await slack.adapter.catch_up()
    assert report.failures == 0
    kinds = {str(e["message_id"]): e["kind"] for e in slack.entries()}
    assert kinds == {
        SEEN_Q: "question",
        AWAY_Q: "question",
        AWAY_A: "answer",
        OLD_THREAD_A: "answer",
    }
    # Reading again (another restart) adds nothing: the mark moved, and replays are idempotent.
    again = await slack.adapter.catch_up()
    assert len(slack.entries()) == 4
    assert again.messages == 0
    history = [c for c in fake.calls if c.method == "conversations.history"]
    assert history[-1].params["oldest"] == OLD_THREAD_A
