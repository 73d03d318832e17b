# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""After a restart, copbot reads what was said while it was away, once."""

from __future__ import annotations

from typing import Any

from knowledge.models import SourceKey
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


ASKED = "1800000101.000100"
ANSWERED = "1800000102.000100"
#: When the live reactions were given: before copbot went down (and before now).
REACTED_AT = "1764000000.000100"


def reacted(emoji: str, *users: str) -> dict[str, Any]:
    return {"name": emoji, "users": list(users), "count": len(users)}


async def accepted_and_thanked_live(slack: SlackHarness, *accepting: str) -> None:
    """A question and its answer, accepted by ``accepting`` (the asker among them) and thanked
    with 🙏, all seen live; the fake keeps the messages as Slack will serve them."""
    fake = slack.fake
    fake.messages[("C0PUBLIC", ASKED)] = said(
        ASKED, "U0ASK", "How do I pin a dbt version?", reply_count=1
    )
    fake.messages[("C0PUBLIC", ANSWERED)] = said(
        ANSWERED, "U0ANS", "Set require-dbt-version", ASKED,
        reactions=[reacted("white_check_mark", *accepting), reacted("pray", "U0VOTE")],
    )  # fmt: skip
    await slack.message("C0PUBLIC", "U0ASK", "How do I pin a dbt version?", ASKED)
    await slack.message("C0PUBLIC", "U0ANS", "Set require-dbt-version", ANSWERED, ASKED)
    for user, emoji in [*((u, "white_check_mark") for u in accepting), ("U0VOTE", "pray")]:
        await slack.event(
            {"type": "reaction_added", "user": user, "reaction": emoji, "item_user": "U0ANS",
             "item": {"type": "message", "channel": "C0PUBLIC", "ts": ANSWERED},
             "event_ts": REACTED_AT}
        )  # fmt: skip
    assert accepted(slack)


def accepted(slack: SlackHarness) -> bool:
    [answer] = [e for e in slack.entries() if e["message_id"] == ANSWERED]
    return bool(answer["accepted"])


def held(slack: SlackHarness) -> set[tuple[str, str]]:
    src = SourceKey("slack", "T0TEAM", "C0PUBLIC", ANSWERED)
    return slack.core.services.repertoire.reactions_on(src)


async def test_a_reaction_taken_back_while_away_is_taken_back_at_catch_up(
    slack: SlackHarness,
) -> None:
    await accepted_and_thanked_live(slack, "U0ASK")
    # While copbot was down, the asker took their ✅ back; the 🙏 stays.
    answer = slack.fake.messages[("C0PUBLIC", ANSWERED)]
    answer["reactions"] = [reacted("pray", "U0VOTE")]
    report = await slack.adapter.catch_up()
    assert report.failures == 0
    assert not accepted(slack)
    assert held(slack) == {("U0VOTE", "🙏")}
    again = await slack.adapter.catch_up()  # nothing more to take back
    assert again.failures == 0 and held(slack) == {("U0VOTE", "🙏")}


async def test_a_reactor_slack_did_not_list_is_not_taken_as_gone(slack: SlackHarness) -> None:
    # Slack lists a few users of a reaction ("count" is the whole): the asker's ✅ is
    # among those not listed, and is still there.
    await accepted_and_thanked_live(slack, "U0VOTE", "U0ASK")
    slack.fake.reaction_users_shown = 1
    report = await slack.adapter.catch_up()
    assert report.failures == 0
    assert accepted(slack)
    assert ("U0ASK", "✅") in held(slack)
