# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""Tokens and secrets never appear in logs, whatever library logs them, at any level."""

from __future__ import annotations

import logging

import pytest

from adapters.log_setup import setup_logging
from tests.slack_harness import BOT_TOKEN, SIGNING_SECRET, SlackHarness, fake_slack, slack  # noqa: F401


async def test_a_debug_log_of_slack_traffic_holds_no_secret(
    slack: SlackHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging("DEBUG")
    await slack.message("C0PUBLIC", "U0ASK", "How do I rotate a token safely?", "1800000001.000100")
    slack.fake.rate_limit_once("chat.postEphemeral")
    await slack.command("C0PUBLIC", "U0ASK", "search token")
    # An error that carries the token in its text, as a careless library might log it.
    logging.getLogger("somelib").error("auth failed for %s with %s", BOT_TOKEN, SIGNING_SECRET)
    try:
        raise RuntimeError(f"boom {BOT_TOKEN}")
    except RuntimeError:
        logging.getLogger("somelib").exception("while calling Slack")
    err = capsys.readouterr().err
    assert "slack_sdk" in err or "chat.postEphemeral" in err  # the traffic was logged ...
    assert "auth failed for [redacted]" in err
    for secret in (BOT_TOKEN, SIGNING_SECRET, "xoxb-"):
        assert secret not in err  # ... and no secret with it
