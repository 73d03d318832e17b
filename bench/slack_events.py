"""How fast the Slack adapter turns signed HTTP deliveries into repertoire entries.

Drives the real Bolt app over real HTTP (aiohttp, loopback) against the fake
Slack Web API of the tests, on a real SQLite file, and prints figures; it
asserts nothing about speed. Run: ``.venv/bin/python bench/slack_events.py [N]``.

* events: N top-level questions then N thread answers, one request at a time,
  each answered only after the core stored it (``process_before_response``);
* searches: N ``/cop`` searches, each answered after the ephemeral reply is sent;
* acks: N ``/cop`` commands in production mode: time until Slack gets its 200.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.config import Settings
from tests.slack_harness import (
    BOT_TOKEN,
    SIGNING_SECRET,
    harness_for,
    running_fake_slack,
)


def report(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(
        f"{name:<34} n={len(ms):<5} {len(ms) / sum(seconds):8.1f}/s   "
        f"p50 {statistics.median(ms):6.2f} ms   p95 {p95:6.2f} ms   max {ms[-1]:6.2f} ms"
    )


async def main(n: int) -> None:
    import os

    os.environ["SLACK_BOT_TOKEN"] = BOT_TOKEN
    os.environ["SLACK_SIGNING_SECRET"] = SIGNING_SECRET
    topics = ["pandas", "airflow", "spark", "kafka", "dbt", "polars", "parquet", "s3"]
    with tempfile.TemporaryDirectory() as tmp:
        async with running_fake_slack() as fake, harness_for(fake, Path(tmp), Settings()) as h:
            timings: list[float] = []
            for i in range(n):
                start = time.perf_counter()
                await h.message(
                    "C0PUBLIC", "U0ASK", f"How do I tune {topics[i % 8]} job number {i}?",
                    f"1800000000.{i:06d}",
                )  # fmt: skip
                timings.append(time.perf_counter() - start)
            report("question event -> entry stored", timings)
            timings = []
            for i in range(n):
                start = time.perf_counter()
                await h.message(
                    "C0PUBLIC", "U0ANS", f"Try the {topics[(i + 1) % 8]} settings",
                    f"1800100000.{i:06d}", thread_ts=f"1800000000.{i:06d}",
                )  # fmt: skip
                timings.append(time.perf_counter() - start)
            report("thread answer event -> stored", timings)
            timings = []
            for i in range(n):
                start = time.perf_counter()
                await h.command("C0PUBLIC", "U0VOTE", f"{topics[i % 8]} tune")
                timings.append(time.perf_counter() - start)
            report("/cop search -> ephemeral sent", timings)
            print(f"entries stored: {len(h.entries())} (expected {2 * n})")
        async with (
            running_fake_slack() as fake,
            harness_for(fake, Path(tmp) / "acks", Settings(), process_before_response=False) as h,
        ):
            timings = []
            for i in range(n):
                start = time.perf_counter()
                await h.command("C0PUBLIC", "U0VOTE", f"{topics[i % 8]}")
                timings.append(time.perf_counter() - start)
            report("/cop -> HTTP 200 ack (production)", timings)
            await fake.wait_for("chat.postEphemeral", n, timeout=60)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))
