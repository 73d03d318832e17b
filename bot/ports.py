"""The interfaces the core talks through, so tests and adapters can supply their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from bot.config import Settings
from bot.events import Post
from knowledge.relational.repertoire import RelationalRepertoire


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at


class Outbox(Protocol):
    """Where posts nobody asked for in the moment (digests, follow-ups) go out."""

    async def post(self, post: Post) -> str | None: ...


@dataclass(frozen=True)
class Services:
    """What every feature of the core needs: the repertoire, the settings, the time."""

    repertoire: RelationalRepertoire
    settings: Settings
    clock: Clock
