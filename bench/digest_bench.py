"""How long a digest and a follow-up scan take on a big repertoire. Prints figures; asserts nothing.

    .venv/bin/python bench/digest_bench.py [questions]

Builds a community with ``questions`` questions over a year (two answers
each for two thirds of them, one accepted; a know-how for every fifth) in
four channels, one private, then times the weekly digest of a public and of
the private channel, a 30-day digest, and a follow-up scan.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bot.app import build_core
from bot.config import DigestSchedule, Settings
from bot.digest import build_digest, resolve_channel
from bot.events import Actor, IncomingMessage, ReactionChange, SaveRequest, Visibility, Where
from bot.followup import FollowUps
from bot.periods import period_for
from bot.ports import FixedClock
from bot.render_text import render_post

WORDS = (
    "pandas polars airflow dbt kafka spark parquet duckdb schema memory retry backfill partition "
    "index join window csv json s3 docker test fixture lag offset consumer warehouse snowflake"
).split()
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def populate(path: Path, questions: int) -> None:
    rng = random.Random(5)
    settings = Settings.model_validate(
        {"channels": {"rules": [{"channel": "slack:C0", "follow_up_hours": 24}]}}
    )
    core = build_core(settings, path, clock=FixedClock(NOW))
    channels = [
        Where("slack", "T", f"C{i}", Visibility.PRIVATE if i == 3 else Visibility.PUBLIC, f"ch{i}")
        for i in range(4)
    ]
    members = [Actor("slack", f"U{i}", f"Member {i}", "T") for i in range(60)]
    with core.services.repertoire.transaction():
        for n in range(questions):
            where = rng.choice(channels)
            asker = rng.choice(members)
            at = NOW - timedelta(minutes=rng.randrange(365 * 24 * 60))
            topic = " ".join(rng.sample(WORDS, 3))
            core.capture.on_message(
                IncomingMessage(where, asker, f"q{n}", f"How do I {topic} without pain?", at)
            )
            if n % 3:
                for r in range(2):
                    who = rng.choice(members)
                    reply_at = at + timedelta(minutes=rng.randrange(5, 600))
                    core.capture.on_message(
                        IncomingMessage(
                            where,
                            who,
                            f"q{n}-r{r}",
                            f"Try {topic} with care",
                            reply_at,
                            thread_id=f"q{n}",
                        )
                    )
                core.capture.on_reaction(
                    ReactionChange(where, f"q{n}-r0", asker, "white_check_mark", True, at=at)
                )
            if n % 5 == 0:
                core.capture.on_save(
                    SaveRequest(
                        where, asker, f"k{n}", f"Tip: {topic}", asker, at, title=f"Tip {topic}"
                    )
                )
    core.services.repertoire.close()


T = TypeVar("T")


def timed(label: str, fn: Callable[[], T], repeat: int = 5) -> T:
    best = float("inf")
    start = time.perf_counter()
    result = fn()
    best = time.perf_counter() - start
    for _ in range(repeat - 1):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    print(f"{label:<44} {best * 1000:8.1f} ms (best of {repeat})")
    return result


def main() -> None:
    questions = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        start = time.perf_counter()
        populate(path, questions)
        print(f"populated {questions} questions in {time.perf_counter() - start:.1f} s")
        core = build_core(Settings(), path, clock=FixedClock(NOW))
        services = core.services
        tz = services.settings.community.tz
        for spec, days in (("slack:C0", 7), ("slack:C3", 7), ("slack:C0", 30)):
            schedule = DigestSchedule(channel=spec, period_days=days)
            target = resolve_channel(services.repertoire, spec)
            s, e = period_for(NOW, days, tz)
            post = timed(
                f"digest {spec} ({days} days)",
                lambda: build_digest(services, target, schedule, s, e),  # noqa: B023
            )
            assert post is not None
            print(f"{'':<44} {len(render_post(post))} characters rendered")
        follow_core = build_core(
            Settings.model_validate(
                {"channels": {"rules": [{"channel": "slack:C0", "follow_up_hours": 24}]}}
            ),
            path,
            clock=FixedClock(NOW),
        )
        follow = FollowUps(follow_core.services)
        due = timed("follow-up scan (find due questions)", follow.due)
        print(f"{'':<44} {len(due)} due")
        if due:
            entry_id, rule = due[0]
            entry = follow_core.services.repertoire.get_entry(entry_id)
            assert entry is not None
            timed("follow-up build (similar + experts)", lambda: follow.build(entry, rule))


if __name__ == "__main__":
    main()
