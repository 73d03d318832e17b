"""HTTP mode's front door: a request is Slack's, and shaped as Slack sends it, or it is refused.

Anyone on the internet can POST to ``/slack/events``. Bolt verifies Slack's
signature too, but only after parsing the body, and it logs a refused
request's whole body (a forged 4 MB post puts 4 MB in the log). So the raw
bytes are checked here first, as Slack documents
(https://docs.slack.dev/authentication/verifying-requests-from-slack/): a
numeric ``X-Slack-Request-Timestamp`` within five minutes, and an
``X-Slack-Signature`` that is the HMAC-SHA256 of ``v0:timestamp:body`` with
the signing secret (computed by slack_sdk's :class:`SignatureVerifier`).
Refused: 401 and one short log line saying why; the body is never logged.

A signed body is then parsed as Bolt parses it, and its shape checked where
Bolt reads it without checking (an ``event`` that is a string makes Bolt
fail deep inside): refused with 400 and one short line, no traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_sdk.signature import Clock, SignatureVerifier

#: Slack's documented window for a request's timestamp, in seconds.
MAX_AGE_SECONDS = 5 * 60
#: Keys Bolt reads without checking their type: objects in everything Slack sends...
_OBJECTS = ("event", "view")
#: ... and a list of objects.
_LISTS = ("actions",)


def refusal(secret: str, body: bytes, headers: Mapping[str, str], now: float) -> str | None:
    """Why this request is not from Slack (for the log line), or ``None`` when it is."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp:
        return "no X-Slack-Request-Timestamp header"
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        return "X-Slack-Request-Timestamp is not a Unix time"
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return "X-Slack-Request-Timestamp is more than 5 minutes away (a replay, or a wrong clock)"
    if not signature:
        return "no X-Slack-Signature header"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "the body is not UTF-8"
    verifier = SignatureVerifier(secret, clock=_Fixed(now))
    if not verifier.is_valid(text, timestamp, signature):
        return "bad signature"
    return None


def shape_problem(body: dict[str, Any]) -> str | None:
    """What is wrong with a signed, parsed body where Bolt trusts its shape (``None``: fine).

    Bolt copes with most odd shapes (it answers 404, "unhandled request"), but
    fails with a traceback when these keys hold something else.
    """
    for key in _OBJECTS:
        value = body.get(key)
        if value is not None and not isinstance(value, dict):
            return f"'{key}' is {type(value).__name__}, not an object"
    for key in _LISTS:
        value = body.get(key)
        if value is not None and not (
            isinstance(value, list) and all(isinstance(v, dict) for v in value)
        ):
            return f"'{key}' is not a list of objects"
    return None


def unreadable(exc: Exception) -> str:
    """A parse error of a signed body, in a few words."""
    if isinstance(exc, json.JSONDecodeError):
        return f"the body is not JSON ({exc.msg})"
    return f"the body is unreadable ({type(exc).__name__})"


class _Fixed(Clock):
    """The verifier's clock, at the moment the request was received."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


__all__ = ["MAX_AGE_SECONDS", "refusal", "shape_problem", "unreadable"]
