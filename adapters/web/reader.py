"""Read-only access to the repertoire for the web view, off the event loop.

Pages are read on a few worker threads, each with its own SQLite connection
(WAL lets readers run beside the bot's one writer), marked ``query_only`` so a
bug in a page can never write. Each read gets the viewer "the public web" as
of that moment: a channel that just turned private, or a member who just said
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
from knowledge.backends import DatabaseTarget
from knowledge.dbfile import open_repertoire
from knowledge.models import PublicWeb
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import StorageUnavailable

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ReadContext:
    """What a page reads with: the repertoire, the public-web viewer, the settings, now."""

    repertoire: Repertoire
    web: PublicWeb
    settings: Settings
    now: datetime


class WebViewUnavailable(StorageUnavailable):
    """The web view cannot read this repertoire (it reads SQLite files only, for now)."""


def web_database_file(database: DatabaseTarget | str | Path) -> Path:
    """The SQLite file the web view reads, or :class:`WebViewUnavailable` for a server.

    The web view's pages are written in SQLite's SQL (its query planner hints,
    its read-only authorizer); on PostgreSQL the chat, digests and commands run,
    the web view does not yet, and says so rather than failing page by page.
    """
    if isinstance(database, DatabaseTarget):
        if database.sqlite_path is None:
            raise WebViewUnavailable(
                f"the web view reads a SQLite file and {database.shown} is a PostgreSQL "
                "server: it is not available on PostgreSQL yet"
            )
        return database.sqlite_path
    return Path(database)


class WebReader:
    """Runs page reads on worker threads with read-only connections."""

    def __init__(
        self, db_path: DatabaseTarget | str | Path, settings: Settings, threads: int = 2
    ) -> None:
        self.db_path = web_database_file(db_path)
        self.settings = settings
        open_repertoire(self.db_path).close()  # check, create and migrate once, before readers
        self._local = threading.local()
        self._opened: list[Repertoire] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="copbot-web")

    def _repertoire(self) -> Repertoire:
        repertoire: Repertoire | None = getattr(self._local, "repertoire", None)
        if repertoire is None:
            repertoire = Repertoire.open_read_only(self.db_path)
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
