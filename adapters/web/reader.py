"""Read-only access to the repertoire for the web view, off the event loop.

Pages are read on a few worker threads, each with its own connection to the
repertoire, on either backend: a SQLite file (WAL lets readers run beside the
bot's one writer; an authorizer refuses writes) or a PostgreSQL server (each
session's transactions ``READ ONLY``), so a bug in a page can never write.
Each read gets the viewer "the public web" (:meth:`Viewer.public_web`) as of
that moment: a channel that just turned private, or a member who just said
``/cop web off``, is gone from the next page served.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

from bot.config import Settings
from bot.publication import web_viewer
from knowledge.backends import DatabaseTarget, open_storage, open_storage_read_only
from knowledge.models import Viewer
from knowledge.relational.repertoire import RelationalRepertoire

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What a page reads with: the repertoire, the public-web viewer, the settings, now."""

    #: Either backend (both complete the shared relational repertoire).
    repertoire: RelationalRepertoire
    web: Viewer
    settings: Settings
    now: datetime


class WebReader:
    """Runs page reads on worker threads with read-only connections."""

    def __init__(
        self, database: DatabaseTarget | str | Path, settings: Settings, threads: int = 2
    ) -> None:
        #: A SQLite file or a PostgreSQL server (a ``postgresql://`` URL names one).
        self.database = database
        self.settings = settings
        open_storage(self.database).close()  # check, create and migrate once, before readers
        self._local = threading.local()
        self._opened: list[RelationalRepertoire] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="copbot-web")

    def _repertoire(self) -> RelationalRepertoire:
        repertoire: RelationalRepertoire | None = getattr(self._local, "repertoire", None)
        if repertoire is None:
            repertoire = open_storage_read_only(self.database)
            self._local.repertoire = repertoire
            with self._lock:
                self._opened.append(repertoire)
        return repertoire

    def read_now(
        self, fn: Callable[Concatenate[ReadContext, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` with a fresh :class:`ReadContext` on the calling thread."""
        repertoire = self._repertoire()
        ctx = ReadContext(
            repertoire, web_viewer(repertoire, self.settings), self.settings, datetime.now(UTC)
        )
        return fn(ctx, *args, **kwargs)

    async def read(
        self, fn: Callable[Concatenate[ReadContext, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` on a reader thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: self.read_now(fn, *args, **kwargs)
        )

    async def read_timed(
        self, fn: Callable[Concatenate[ReadContext, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> tuple[T, float]:
        """Like :meth:`read`, with the CPU milliseconds the reader thread spent on it."""

        def timed() -> tuple[T, float]:
            started = time.thread_time()
            result = self.read_now(fn, *args, **kwargs)
            return result, (time.thread_time() - started) * 1000

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, timed)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            for repertoire in self._opened:
                repertoire.close()
            self._opened.clear()
