"""The semantic stage's background job: entries get their vectors without anyone waiting.

Capture stores a question at once; its vector comes a few seconds later from this
job, which sweeps the repertoire for questions and know-how that lack a vector (new,
or edited since) in batches. The model runs on its own thread, so the database
thread (capture, commands) only ever does the two short steps around it: read a
batch's texts, write its vectors. Until an entry has its vector, similar questions
find it by its words.

Deleted and forgotten entries lose their vectors at once (triggers in both backends'
schemas); each full sweep also drops vectors whose entry is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bot.runtime import AsyncCore
from knowledge.semantic import Embedder, pending, purge, store_vectors

log = logging.getLogger(__name__)

__all__ = ["EMBED_BATCH", "EMBED_EVERY", "EmbeddingJob", "SweepStats", "start_embedding"]

#: Entries embedded per model call: big enough for the model's batching, small
#: enough that each database step stays short.
EMBED_BATCH = 64
#: Seconds between two looks for entries without a vector.
EMBED_EVERY = 5.0
#: Seconds between two full sweeps from the first entry (edited entries, purge);
#: in between, only entries newer than the last one seen are looked at.
RESWEEP_EVERY = 600.0


@dataclass
class SweepStats:
    """What one call of :meth:`EmbeddingJob.run_once` did."""

    embedded: int = 0
    batches: int = 0
    purged: int = 0
    seconds: float = 0.0


class EmbeddingJob:
    """Embeds what lacks a vector, batch by batch, off the database thread."""

    def __init__(
        self,
        core: AsyncCore,
        embedder: Embedder,
        *,
        batch: int = EMBED_BATCH,
        resweep_every: float = RESWEEP_EVERY,
    ) -> None:
        self.core = core
        self.embedder = embedder
        self.batch = batch
        self.resweep_every = resweep_every
        self.cursor = 0  # entries up to this id were looked at in the current sweep
        self._swept_at: float | None = None  # when the last full sweep ended
        self._model = ThreadPoolExecutor(max_workers=1, thread_name_prefix="copbot-embed")
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> SweepStats:
        """Embed every entry found lacking a vector, from the cursor to the newest entry."""
        started = time.perf_counter()
        stats = SweepStats()
        repertoire = self.core.services.repertoire
        model = self.embedder.name
        loop = asyncio.get_running_loop()
        now = time.monotonic()
        if self._swept_at is not None and now - self._swept_at >= self.resweep_every:
            self.cursor = 0  # a full sweep again: edited entries, vectors left behind
            self._swept_at = None
        full_sweep = self.cursor == 0
        while True:
            scan = await self.core.run(pending, repertoire, model, self.cursor, self.batch)
            if scan.items:
                texts = [item.text for item in scan.items]
                vectors = await loop.run_in_executor(self._model, self.embedder.encode, texts)
                stats.embedded += await self.core.run(
                    store_vectors, repertoire, model, scan.items, vectors
                )
                stats.batches += 1
            self.cursor = scan.cursor
            if scan.at_end:
                break
        if full_sweep:
            stats.purged = await self.core.run(purge, repertoire, model)
            self._swept_at = time.monotonic()
        stats.seconds = time.perf_counter() - started
        if stats.embedded:
            log.info("embedded %d entries in %.1f s", stats.embedded, stats.seconds)
        return stats

    async def run_forever(self, every: float = EMBED_EVERY) -> None:
        """Run :meth:`run_once` every ``every`` seconds until cancelled; a failure is logged."""
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad batch must not stop the bot; try again later
                log.exception("embedding entries failed; trying again in %.0f s", every)
            await asyncio.sleep(every)

    def start(self, every: float = EMBED_EVERY) -> None:
        """Start :meth:`run_forever` as a task of the running loop."""
        if self._task is None:
            self._task = asyncio.create_task(self.run_forever(every), name="copbot-embed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._model.shutdown(wait=True)


async def start_embedding(core: AsyncCore) -> EmbeddingJob | None:
    """Start the job when the semantic stage is configured and installed; else ``None``.

    The model is loaded off the event loop (it takes seconds), once per process:
    the suggestions use the same one.
    """
    from bot.suggest import Suggester

    suggester = Suggester(core.services)
    if core.services.settings.similar.semantic == "off":
        return None
    embedder = await asyncio.get_running_loop().run_in_executor(None, suggester.load_embedder)
    if embedder is None:
        return None
    job = EmbeddingJob(core, embedder)
    job.start()
    return job
