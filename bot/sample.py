"""The sample community the demo starts with, turned into ordinary inbound events.

The sample goes through the same capture rules as live chat (questions,
thread answers, ✅ from the asker, shared know-how), so the demo shows what
the core really does. Stable message ids make seeding idempotent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from bot.events import (
    Actor,
    IncomingMessage,
    KnowhowKind,
    ReactionChange,
    SaveRequest,
    Visibility,
    Where,
)

SAMPLE_PLATFORM = "console"
SAMPLE_WORKSPACE = "local"


@dataclass(frozen=True)
class SampleChannel:
    id: str
    name: str
    visibility: Visibility


@dataclass(frozen=True)
class SampleCommunity:
    name: str
    domain: str
    members: dict[str, Actor]
    channels: dict[str, SampleChannel]
    raw: dict[str, Any]

    def where(self, channel_id: str) -> Where:
        channel = self.channels[channel_id]
        return Where(
            platform=SAMPLE_PLATFORM,
            workspace=SAMPLE_WORKSPACE,
            channel=channel.id,
            visibility=channel.visibility,
            channel_name=channel.name,
        )


def load_sample() -> SampleCommunity:
    text = resources.files("bot").joinpath("data/sample_community.json").read_text("utf-8")
    raw = json.loads(text)
    members = {
        m["id"]: Actor(
            platform=SAMPLE_PLATFORM,
            user_id=m["id"],
            display_name=m["display_name"],
            workspace=SAMPLE_WORKSPACE,
        )
        for m in raw["members"]
    }
    channels = {
        c["id"]: SampleChannel(c["id"], c["name"], Visibility(c["visibility"]))
        for c in raw["channels"]
    }
    community = raw["community"]
    return SampleCommunity(community["name"], community["domain"], members, channels, raw)


def sample_events(
    sample: SampleCommunity, now: datetime
) -> list[IncomingMessage | ReactionChange | SaveRequest]:
    """Every sample thread and know-how as events, oldest first."""
    events: list[IncomingMessage | ReactionChange | SaveRequest] = []
    for thread in sample.raw["threads"]:
        where = sample.where(thread["channel"])
        asked_at = now - timedelta(days=float(thread["days_ago"]))
        asker = sample.members[thread["author"]]
        text = thread["text"]
        tags = tuple(thread.get("tags", ()))
        events.append(IncomingMessage(where, asker, thread["id"], text, asked_at, tags=tags))
        for number, reply in enumerate(thread.get("replies", ()), 1):
            reply_id = f"{thread['id']}-r{number}"
            replied_at = asked_at + timedelta(minutes=float(reply["minutes_after"]))
            events.append(
                IncomingMessage(
                    where,
                    sample.members[reply["author"]],
                    reply_id,
                    reply["text"],
                    replied_at,
                    thread_id=thread["id"],
                )
            )
            if reply.get("accepted"):
                events.append(
                    ReactionChange(
                        where,
                        reply_id,
                        asker,
                        "white_check_mark",
                        True,
                        at=replied_at + timedelta(minutes=5),
                    )
                )
            for thanker in reply.get("thanked_by", ()):  # the thanks reaction
                events.append(
                    ReactionChange(
                        where,
                        reply_id,
                        sample.members[thanker],
                        "pray",
                        True,
                        at=replied_at + timedelta(minutes=7),
                    )
                )
    for item in sample.raw["knowhow"]:
        where = sample.where(item["channel"])
        author = sample.members[item["author"]]
        events.append(
            SaveRequest(
                where=where,
                saver=author,
                message_id=item["id"],
                text=item["text"],
                author=author,
                created_at=now - timedelta(days=float(item["days_ago"])),
                title=item["title"],
                tags=tuple(item.get("tags", ())),
                kind=KnowhowKind(item.get("kind", "howto")),
            )
        )
    events.sort(key=lambda e: _when(e))
    return events


def _when(event: IncomingMessage | ReactionChange | SaveRequest) -> datetime:
    if isinstance(event, ReactionChange):
        assert event.at is not None
        return event.at
    return event.created_at
