# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""Similar past answers on Slack: the thread reply, its buttons, and the feedback they send."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from knowledge import feedback
from knowledge.models import SourceKey
from tests.slack_harness import TEAM, FakeSlackApi, SlackHarness, fake_slack, harness_for  # noqa: F401

OLD_Q, OLD_A, NEW_Q = "1800000001.000100", "1800000002.000100", "1800000100.000100"


async def test_a_suggestion_has_buttons_and_not_related_is_recorded(
    fake_slack: FakeSlackApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret-0123456789")
    settings = Settings.model_validate({"similar": {"min_confidence": 0.0}})
    async with harness_for(fake_slack, tmp_path, settings, process_before_response=True) as h:
        await h.message("C0PUBLIC", "U0ASK", "How do I read a huge CSV file with pandas?", OLD_Q)
        await h.message("C0PUBLIC", "U0ANS", "Use chunksize or polars scan_csv", OLD_A, OLD_Q)
        await h.react("C0PUBLIC", "U0ASK", OLD_A, "white_check_mark", item_user="U0ANS")
        fake_slack.calls.clear()

        await h.message(
            "C0PUBLIC", "U0VOTE", "Reading a big CSV file in pandas eats my RAM?", NEW_Q
        )
        [suggestion] = [p for p in fake_slack.of("chat.postMessage") if p.get("thread_ts") == NEW_Q]
        buttons = [
            element
            for block in suggestion["blocks"]
            if block["type"] == "actions"
            for element in block["elements"]
        ]
        assert {b["action_id"] for b in buttons} == {"copbot_solved_it", "copbot_not_related"}
        repertoire = h.core.services.repertoire
        posted = feedback.suggestion_in_thread(
            repertoire, SourceKey("slack", TEAM, "C0PUBLIC", NEW_Q)
        )
        assert posted is not None
        message_id = posted.message_id
        assert message_id  # the posted message is known, so reactions on it count as feedback

        not_related = next(b for b in buttons if b["action_id"] == "copbot_not_related")
        await h.interactive(
            {
                "type": "block_actions",
                "team": {"id": TEAM, "domain": "acme"},
                "user": {"id": "U0VOTE", "username": "cy", "team_id": TEAM},
                "channel": {"id": "C0PUBLIC", "name": "data-help"},
                "container": {"type": "message", "message_ts": message_id},
                "trigger_id": "trigger.feedback",
                "actions": [
                    {
                        "action_id": "copbot_not_related",
                        "block_id": "fb",
                        "type": "button",
                        "value": not_related["value"],
                        "action_ts": "1800000200.000000",
                    }
                ],
            }
        )
        for shown in posted.entry_ids:  # one not-related verdict for every suggestion shown
            voted = feedback.voters(repertoire, posted.question_id, shown, feedback.NOT_RELATED)
            assert voted == {"U0VOTE"}
            solved = feedback.voters(repertoire, posted.question_id, shown, feedback.SOLVED_IT)
            assert solved == set()
