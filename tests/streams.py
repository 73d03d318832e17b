"""Random but reproducible community event streams, for order and privacy tests.

A stream is what a platform would deliver for a busy community: questions,
chatter, thread replies, accept reactions added and removed, edits and
deletes, with strictly increasing times and unique event ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from bot.events import (
    Actor,
    InboundEvent,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    ReactionChange,
    Visibility,
    Where,
)

WORDS = (
    "pandas polars airflow dbt kafka spark parquet duckdb schema memory retry backfill "
    "partition index join window csv json s3 docker test fixture lag offset consumer "
    "warehouse snowflake bigquery cost cache queue deploy secret token migration"
).split()

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Community:
    channels: tuple[Where, ...]
    members: tuple[Actor, ...]


def make_community(platform: str = "slack") -> Community:
    """Two public channels, two private ones and a DM, six members."""
    visibilities = [Visibility.PUBLIC, Visibility.PUBLIC, Visibility.PRIVATE, Visibility.PRIVATE]
    channels = [
        Where(platform, "T1", f"C{i}", vis, f"chan-{i}") for i, vis in enumerate(visibilities)
    ]
    channels.append(Where(platform, "T1", "D1", Visibility.DM, "dm"))
    members = tuple(Actor(platform, f"U{i}", f"Member {i}", "T1") for i in range(6))
    return Community(tuple(channels), members)


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def community_stream(seed: int, size: int, platform: str = "slack") -> list[InboundEvent]:
    """``size`` events in the order a well-behaved platform would send them."""
    rng = random.Random(seed)
    community = make_community(platform)
    events: list[InboundEvent] = []
    messages: list[IncomingMessage] = []
    questions: list[IncomingMessage] = []
    alive: set[str] = set()
    at = START
    for number in range(size):
        at += timedelta(seconds=rng.randint(1, 90))
        event_id = f"Ev{seed}-{number}"
        roll = rng.random()
        author = rng.choice(community.members)
        if roll < 0.22 or not questions:
            where = rng.choice(community.channels)
            text = f"How do I {_sentence(rng, rng.randint(2, 8))}?"
            msg = IncomingMessage(where, author, f"m{number}", text, at, event_id=event_id)
            questions.append(msg)
        elif roll < 0.30:
            where = rng.choice(community.channels)
            msg = IncomingMessage(
                where, author, f"m{number}", f"fyi {_sentence(rng, 5)}", at, event_id=event_id
            )
        elif roll < 0.60:
            question = rng.choice(questions)
            msg = IncomingMessage(
                question.where,
                author,
                f"m{number}",
                f"try {_sentence(rng, rng.randint(3, 12))}",
                at,
                thread_id=question.message_id,
                event_id=event_id,
            )
        else:
            msg = None
        if msg is not None:
            events.append(msg)
            messages.append(msg)
            alive.add(msg.message_id)
            continue
        target = rng.choice(messages)
        if roll < 0.82:
            reactor = rng.choice(community.members)
            added = rng.random() < 0.75
            emoji = rng.choice(["white_check_mark", "✅", "+1"])
            events.append(
                ReactionChange(
                    target.where, target.message_id, reactor, emoji, added, event_id, at=at
                )
            )
        elif roll < 0.94:
            prefix = "How do I" if rng.random() < 0.5 else "edited:"
            events.append(
                MessageEdited(
                    target.where,
                    target.message_id,
                    f"{prefix} {_sentence(rng, rng.randint(2, 8))}?",
                    at,
                    event_id,
                )
            )
        elif target.message_id in alive:
            alive.discard(target.message_id)
            events.append(MessageDeleted(target.where, target.message_id, event_id))
    return events


def messy(events: list[InboundEvent], seed: int, duplicate_rate: float = 0.3) -> list[InboundEvent]:
    """The same stream as a bad network delivers it: retried, replayed, shuffled.

    Each event may come again with its event id (a Slack retry), and messages
    may also come again without one (a Discord RESUME replay or a re-import);
    then the whole lot arrives in random order.
    """
    rng = random.Random(seed)
    out: list[InboundEvent] = []
    for event in events:
        out.append(event)
        if rng.random() < duplicate_rate:
            out.append(event)
        if isinstance(event, IncomingMessage) and rng.random() < duplicate_rate / 2:
            out.append(replace(event, event_id=""))
    rng.shuffle(out)
    return out
