"""How fast Discord events go through discord.py, the adapter, the core and SQLite.

Run: ``.venv/bin/python -m bench.bench_discord [messages]``. Uses the test
harness (real discord.py parsers, a local fake REST API, a real SQLite file),
so it measures our code and discord.py's, not Discord's network. Prints
figures; asserts nothing.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests import discord_harness as dh

CHANNEL = 210
WORDS = "pandas polars airflow dbt kafka spark parquet duckdb postgres docker".split()


async def main(messages: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with dh.running(Path(tmp)) as h:
            h.add_guild(dh.guild([dh.text_channel(CHANNEL, "general")]))
            started = time.perf_counter()
            questions = messages // 5
            for n in range(questions):
                qid = dh.new_id()
                topic = f"{WORDS[n % len(WORDS)]} {WORDS[(n * 3) % len(WORDS)]}"
                text = f"How do I tune {topic} for job {n}?"
                await h.feed("MESSAGE_CREATE", dh.message(qid, CHANNEL, (11, "Alice"), text))
                await h.feed("THREAD_CREATE", dh.thread(qid, CHANNEL, text[:40], 11))
                for k in range(4):
                    reply = f"try the {WORDS[(n + k) % len(WORDS)]} setting number {k}"
                    await h.feed("MESSAGE_CREATE", dh.message(dh.new_id(), qid, (12, "Bob"), reply))
            elapsed = time.perf_counter() - started
            events = questions * 6
            print(
                f"captured {questions} questions + {questions * 4} answers "
                f"({events} gateway events) in {elapsed:.2f} s: "
                f"{events / elapsed:.0f} events/s, {elapsed / events * 1000:.2f} ms/event"
            )

            defer_ms: list[float] = []
            answer_ms: list[float] = []
            channel = dh.text_channel(CHANNEL, "general")
            for n in range(50):
                query = f"{WORDS[n % len(WORDS)]} tune"
                payload = dh.slash_command(channel, (13, "Carol"), "search", query=query)
                h.api.clear()
                start = time.perf_counter()
                await h.feed("INTERACTION_CREATE", payload)
                [callback] = h.api.calls("POST", f"/interactions/{payload['id']}/")
                [followup] = h.api.calls("POST", f"/webhooks/{dh.APP_ID}/")
                defer_ms.append((callback.at - start) * 1000)
                answer_ms.append((followup.at - start) * 1000)
            for name, values in (("defer sent", defer_ms), ("results sent", answer_ms)):
                values.sort()
                p95 = values[int(len(values) * 0.95) - 1]
                print(
                    f"/cop search on {questions * 5} entries, {name}: "
                    f"median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms, "
                    f"max {values[-1]:.1f} ms (Discord's limit: 3000 ms)"
                )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
