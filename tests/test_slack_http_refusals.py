# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""HTTP mode is quiet and firm: what Slack did not sign is refused in one short log line.

Requests go to the real adapter's aiohttp application (tests/slack_harness.py);
the log is captured at DEBUG, every logger, as an operator's file would get it.
"""

from __future__ import annotations

import io
import json
import logging
import time

import pytest

from tests.slack_harness import SlackHarness, fake_slack, sign, slack  # noqa: F401


async def post(slack: SlackHarness, body: str, headers: dict[str, str], form: bool = False) -> int:
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    data = io.BytesIO(body.encode())
    async with slack.http.post(
        slack.url, data=data, headers={"Content-Type": content_type, **headers}
    ) as response:
        await response.read()
        return response.status


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """The log as an operator's file gets it: messages and any traceback."""
    formatter = logging.Formatter("%(levelname)s %(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def big_event(text_bytes: int) -> str:
    event = {"type": "message", "channel": "C0PUBLIC", "user": "U0ASK", "ts": "1800000001.1"}
    event["text"] = "How do I fill the log? " + "x" * text_bytes
    return json.dumps({"type": "event_callback", "team_id": "T0TEAM", "event": event})


async def test_three_forged_4_mb_posts_add_a_few_lines_to_the_log(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = big_event(4_000_000)
    forged = [
        sign(body, secret="not-the-signing-secret"),
        sign(body, timestamp=int(time.time()) - 600),  # signed, but ten minutes old
        {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},
    ]
    for headers in forged:
        assert await post(slack, body, headers) == 401
    log = logged(caplog)
    assert len(log) < 3 * 600, log[:2000]  # each refusal: one short line (and the access line)
    assert "fill the log" not in log and "xxxxxxxxxx" not in log
    assert log.count("refused a request to /slack/events") == 3
    assert "Traceback" not in log
    assert slack.entries() == [] and slack.fake.calls == []


@pytest.mark.parametrize(
    ("timestamp", "why"),
    [
        ("tomorrow", "X-Slack-Request-Timestamp is not a Unix time"),
        ("1e9", "X-Slack-Request-Timestamp is not a Unix time"),
        ("", "no X-Slack-Request-Timestamp header"),
    ],
)
async def test_a_timestamp_that_is_no_number_is_refused_without_a_traceback(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, timestamp: str, why: str
) -> None:
    caplog.set_level(logging.DEBUG)
    body = big_event(10)
    headers = {**sign(body), "X-Slack-Request-Timestamp": timestamp}
    assert await post(slack, body, headers) == 401
    log = logged(caplog)
    assert why in log
    assert "Traceback" not in log and "ERROR" not in log


async def test_no_signature_or_a_body_that_is_not_utf8_is_refused(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = big_event(10)
    headers = {"X-Slack-Request-Timestamp": str(int(time.time()))}
    assert await post(slack, body, headers) == 401
    raw = b'{"type": "event_callback", "text": "caf\xe9"}'  # latin-1, as no Slack request is
    async with slack.http.post(
        slack.url,
        data=io.BytesIO(raw),
        headers={"Content-Type": "application/json", **sign(raw.decode("latin-1"))},
    ) as response:
        assert response.status == 401
    log = logged(caplog)
    assert "no X-Slack-Signature header" in log and "the body is not UTF-8" in log
    assert "Traceback" not in log


MALFORMED = [
    ("{not json", False, "the body is not JSON"),
    ("[1, 2, 3]", False, "the body is unreadable"),
    ('"just a string"', False, "the body is unreadable"),
    (
        '{"type": "event_callback", "team": 5, "event": {"type": "message"}}',
        False,
        "the body is un",
    ),
    ('{"type": "event_callback", "event": "oops"}', False, "'event' is str, not an object"),
    ("payload=%7Bnope", True, "the body is not JSON"),
    ("payload=%5B1%5D", True, "the body is unreadable"),
    ('payload={"type": "view_submission", "view": 3}', True, "'view' is int, not an object"),
    ('payload={"type": "block_actions", "actions": 3}', True, "'actions' is not a list"),
    ('payload={"type": "block_actions", "actions": [3]}', True, "'actions' is not a list"),
]


@pytest.mark.parametrize(("body", "form", "why"), MALFORMED)
async def test_a_signed_but_malformed_body_is_a_400_without_a_traceback(
    slack: SlackHarness, caplog: pytest.LogCaptureFixture, body: str, form: bool, why: str
) -> None:
    caplog.set_level(logging.DEBUG)
    assert await post(slack, body, sign(body), form) == 400
    log = logged(caplog)
    assert f"refused a signed request to /slack/events: {why}" in log
    assert "Traceback" not in log and "ERROR" not in log
    # And the next real event is served as ever.
    await slack.message("C0PUBLIC", "U0ASK", "How do I still get answers?", "1800000009.000100")
    assert [e["message_id"] for e in slack.entries()] == ["1800000009.000100"]
