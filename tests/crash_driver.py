"""A capture loop to be killed: handles N questions, printing ``ACK <id>`` after each commit.

Run as ``python -m tests.crash_driver DB START COUNT``. Every line it prints
is a promise that the message is stored: the crash test holds it to that.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from bot.app import build_core
from bot.config import Settings
from bot.events import Actor, IncomingMessage, Visibility, Where

WHERE = Where("slack", "T1", "C1", Visibility.PUBLIC, "help")
ASKER = Actor("slack", "U1", "Asker", "T1")
HELPER = Actor("slack", "U2", "Helper", "T1")


def main(db_path: str, start: int, count: int) -> None:
    core = build_core(Settings(), db_path)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    for number in range(start, start + count):
        question = IncomingMessage(
            WHERE,
            ASKER,
            f"q{number}",
            f"How do I tune pipeline number {number}?",
            at + timedelta(seconds=number),
            event_id=f"Evq{number}",
        )
        answer = IncomingMessage(
            WHERE,
            HELPER,
            f"a{number}",
            f"Raise the batch size of pipeline {number}.",
            at + timedelta(seconds=number, milliseconds=500),
            thread_id=f"q{number}",
            event_id=f"Eva{number}",
        )
        core.handle(question)
        core.handle(answer)
        print(f"ACK {number}", flush=True)
    core.repertoire.close()
    print("DONE", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
