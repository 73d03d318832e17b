"""A community event stream (``tests/streams.py``) as the signed requests Slack would send.

Each core event becomes the Events API envelope Slack delivers for it: a
message (top-level or in a thread), ``reaction_added``/``reaction_removed``,
a ``message_changed`` edit, a ``message_deleted``. Message ids become Slack
timestamps made from the event's time (Slack's ``ts`` *is* the message's time),
so every process reads the same times from the same payloads. An event the
stream sends again without its id (a replay) gets a fresh id here, as a
catch-up reading history would have no id to share.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime
from typing import Any

from bot.events import (
    InboundEvent,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    ReactionChange,
    Visibility,
    Where,
)
from tests.slack_harness import TEAM

__all__ = ["SlackStream"]

#: Slack's channel_type for each visibility.
_CHANNEL_TYPES = {Visibility.PUBLIC: "channel", Visibility.PRIVATE: "group", Visibility.DM: "im"}
#: Reactions as Slack names them (it sends names, never the emoji itself).
_EMOJI_NAMES = {"✅": "white_check_mark"}


def _ts(at: datetime, serial: int) -> str:
    return f"{int(at.timestamp())}.{serial % 1_000_000:06d}"


class SlackStream:
    """Turns one stream's events into request bodies, consistently across calls."""

    def __init__(self, events: list[InboundEvent]) -> None:
        self._ts: dict[str, str] = {}
        self._authors: dict[str, str] = {}
        for serial, event in enumerate(events):
            if isinstance(event, IncomingMessage) and event.message_id not in self._ts:
                self._ts[event.message_id] = _ts(event.created_at, serial)
                self._authors[event.message_id] = event.author.user_id
        self._replays = itertools.count(1)

    def channels(self, events: list[InboundEvent]) -> dict[str, dict[str, Any]]:
        """``conversations.info``'s channel objects for the stream's channels."""
        out: dict[str, dict[str, Any]] = {}
        for event in events:
            where: Where = event.where
            if where.visibility == Visibility.DM:
                out[where.channel] = {"id": where.channel, "is_im": True}
            else:
                out[where.channel] = {
                    "id": where.channel,
                    "name": where.channel_name,
                    "is_private": where.visibility != Visibility.PUBLIC,
                }
        return out

    def body(self, event: InboundEvent) -> str:
        """The signed request's body for ``event``."""
        event_id = getattr(event, "event_id", "") or f"EvReplay{next(self._replays)}"
        return json.dumps(
            {
                "token": "unused",
                "team_id": TEAM,
                "api_app_id": "A0APP",
                "event": self._event(event),
                "type": "event_callback",
                "event_id": event_id,
                "event_time": 1_800_000_000,
            }
        )

    def _event(self, event: InboundEvent) -> dict[str, Any]:
        where: Where = event.where
        base = {"channel": where.channel, "channel_type": _CHANNEL_TYPES[where.visibility]}
        if isinstance(event, IncomingMessage):
            ts = self._ts[event.message_id]
            message = {**base, "type": "message", "user": event.author.user_id}
            message.update(text=event.text, ts=ts, event_ts=ts)
            if event.thread_id:
                message["thread_ts"] = self._ts[event.thread_id]
            return message
        if isinstance(event, ReactionChange):
            assert event.at is not None
            return {
                "type": "reaction_added" if event.added else "reaction_removed",
                "user": event.actor.user_id,
                "reaction": _EMOJI_NAMES.get(event.emoji, event.emoji),
                "item": {"type": "message", "channel": where.channel, "ts": self._ts_of(event)},
                "event_ts": _ts(event.at, 0),
            }
        if isinstance(event, MessageEdited):
            ts, edit_ts = self._ts_of(event), _ts(event.edited_at, 999_999)
            author = self._authors.get(event.message_id, "")
            return {
                **base,
                "type": "message",
                "subtype": "message_changed",
                "message": {
                    "type": "message",
                    "user": author,
                    "text": event.text,
                    "ts": ts,
                    "edited": {"user": author, "ts": edit_ts},
                },
                "ts": edit_ts,
                "event_ts": edit_ts,
            }
        if isinstance(event, MessageDeleted):
            return {
                **base,
                "type": "message",
                "subtype": "message_deleted",
                "deleted_ts": self._ts_of(event),
                "hidden": True,
                "ts": self._ts_of(event),
                "event_ts": self._ts_of(event),
            }
        raise TypeError(f"no Slack payload for {type(event).__name__}")

    def _ts_of(self, event: ReactionChange | MessageEdited | MessageDeleted) -> str:
        return self._ts[event.message_id]
