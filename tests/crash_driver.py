"""A capture loop to be killed: handles N questions, printing ``ACK <id>`` after each commit.

Run as ``python -m tests.crash_driver DB START COUNT``, or in a process forked
from a server that imported it once (:func:`run_forked`: the crash test starts
dozens of drivers, and the interpreter's start-up would be most of their time).
Every line it writes is a promise that the message is stored: the crash test
holds it to that.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection

from bot.app import build_core
from bot.config import Settings
from bot.events import Actor, IncomingMessage, Visibility, Where

WHERE = Where("slack", "T1", "C1", Visibility.PUBLIC, "help")
ASKER = Actor("slack", "U1", "Asker", "T1")
HELPER = Actor("slack", "U2", "Helper", "T1")


def printed(line: str) -> None:
    print(line, flush=True)


def main(db_path: str, start: int, count: int, say: Callable[[str], None] = printed) -> None:
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
        say(f"ACK {number}")
    core.repertoire.close()
    say("DONE")


def run_forked(db_path: str, start: int, count: int, lines: Connection) -> None:
    """:func:`main` sending each line down ``lines`` (a forked process's entry point)."""
    main(db_path, start, count, lines.send)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
