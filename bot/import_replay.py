"""Replaying an export through the core: the import driver.

Importers (``adapters/importers/``) only translate export files into the same
inbound events live chat produces, plus :class:`Skipped` and :class:`Problem`
notes; :func:`run_import` feeds them to :meth:`Core.handle_batch`, so history
is captured by exactly the rules live chat is (a ✅ from the asker accepts, DMs
are never captured unless saved on purpose, private channels stay private).

Unthreaded replies are linked to their question by
:class:`bot.unthreaded.UnthreadedLinker`, which imports always use.
"""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from bot.events import (
    FetchMessage,
    InboundEvent,
    IncomingMessage,
    Outbound,
    SaveRequest,
)
from bot.setwise_import import SetwiseImport, takes
from bot.unthreaded import UnthreadedLinker
from knowledge.models import EntryKind
from knowledge.storage import EntryFilter, Storage, Viewer
from knowledge.storage.errors import is_transient_conflict
from knowledge.storage.roles import RoleLock

if TYPE_CHECKING:
    from bot.core import Core

__all__ = [
    "LOCK_WAIT_SECONDS",
    "ImportItem",
    "ImportStopped",
    "ImportSummary",
    "Problem",
    "Skipped",
    "run_import",
    "saves_for_fetches",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A message an importer read and did not hand to the core, and why."""

    reason: str
    count: int = 1
    #: ``"message"``, or what else was skipped whole (``"conversation"``).
    unit: str = "message"


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in an export file; the import goes on without that part."""

    file: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


ImportItem = InboundEvent | Skipped | Problem

#: How long, in all, an import waits for another writer (a running bot, another
#: import) to let go of the database before it stops and says so.
LOCK_WAIT_SECONDS = 60.0
#: The first pause between tries of a locked batch; it doubles, up to a second.
LOCK_RETRY_PAUSE = 0.05


class ImportStopped(RuntimeError):
    """The import could not go on. What it committed stays; running it again completes it."""

    def __init__(self, message: str, summary: ImportSummary) -> None:
        super().__init__(message)
        self.summary = summary


#: Problems kept for the summary (the rest are counted).
MAX_PROBLEMS = 200


@dataclass
class ImportSummary:
    """What an import did: printed at the end by the CLI."""

    messages_read: int = 0
    events: int = 0
    reactions: int = 0
    entries_before: dict[str, int] = field(default_factory=dict)
    entries_after: dict[str, int] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_messages: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    failed: int = 0
    seconds: float = 0.0

    @property
    def made(self) -> dict[str, int]:
        return {
            kind: self.entries_after.get(kind, 0) - self.entries_before.get(kind, 0)
            for kind in ("question", "answer", "knowhow")
        }

    @property
    def rate(self) -> float:
        return self.messages_read / self.seconds if self.seconds > 0 else 0.0

    def lines(self) -> list[str]:
        made = self.made
        out = [
            f"messages read: {self.messages_read:,} in {self.seconds:.1f} s "
            f"({self.rate:,.0f} messages/s)",
            f"entries made: {sum(made.values()):,} (questions {made['question']:,}, "
            f"answers {made['answer']:,}, know-how {made['knowhow']:,}); "
            f"accepted answers now {self.entries_after.get('accepted', 0):,}",
        ]
        kept = self.messages_read - self.skipped_messages
        out.append(
            f"not entries: {max(0, kept - made['question'] - made['answer']):,} messages read "
            "that capture did not keep (chat that is not a question or an answer, or "
            "already imported)"
        )
        for reason, count in self.skipped.most_common():
            out.append(f"skipped {count:,}: {reason}")
        if self.failed:
            out.append(f"failed {self.failed:,} events (see the log)")
        if self.problem_count:
            out.append(f"problems in the export: {self.problem_count:,}")
            out.extend(f"  {p}" for p in self.problems)
            if self.problem_count > len(self.problems):
                out.append(f"  … and {self.problem_count - len(self.problems):,} more")
        return out


def _entry_counts(repertoire: Storage) -> dict[str, int]:
    """What the repertoire holds, private entries included (the operator runs the import)."""
    everything = Viewer.operator_including_private()
    counts = {
        kind.value: n
        for kind in EntryKind
        if (n := repertoire.count_entries(everything, EntryFilter(kinds=(kind,))))
    }
    counts["accepted"] = repertoire.count_entries(everything, EntryFilter(accepted=True))
    return counts


def run_import(
    core: Core,
    items: Iterable[ImportItem],
    *,
    batch_size: int = 5_000,
    durable: bool = True,
    on_progress: Callable[[ImportSummary], None] | None = None,
    lock_wait: float = LOCK_WAIT_SECONDS,
    setwise: bool = True,
) -> ImportSummary:
    """Replay an importer's items through the core, ``batch_size`` events per transaction.

    Into an empty repertoire (and with ``setwise``), the same batches go through
    the same rules in memory instead (:mod:`bot.setwise_import`), and what they
    captured is written at the end in one transaction, search documents built
    once: the same repertoire, many times faster. An event those rules do not
    take (an edit, a delete) ends that part: what it captured is written, and
    the rest is replayed from there.

    Idempotent: capture keys entries on the message, so re-running an import,
    or importing an overlapping newer export, adds nothing twice; a killed
    import loses at most its last uncommitted batch and re-runs cleanly.

    Another writer on the same file (the running bot, a second import) is
    waited for: a batch that finds the database locked is rolled back and
    tried again whole, for up to ``lock_wait`` seconds in all; then the import
    stops with :class:`ImportStopped`, which names what was not imported. No
    event is ever dropped silently.

    ``durable=False`` turns off syncing to disk for the import only (SQLite's
    ``synchronous = OFF``): a killed process loses nothing committed, but an OS
    crash or power loss during the import may corrupt the file (import into a
    fresh file, or keep a copy).
    """
    repertoire = core.services.repertoire
    summary = ImportSummary(entries_before=_entry_counts(repertoire))
    started = time.perf_counter()
    linker_was, quiet_was = core.linker, core.quiet
    if core.linker is None:
        core.linker = UnthreadedLinker.from_settings(core.services.settings)
    core.quiet = True
    failed_before = core.failed_events
    recent: OrderedDict[tuple[str, str, str, str], IncomingMessage] = OrderedDict()
    # A bigger page cache and fewer checkpoints while the import runs; each try waits
    # for the lock a while (a quarter of the patience, at most the usual busy timeout);
    # the retries of the whole batch make up the rest.
    tuning = ExitStack()
    tuning.enter_context(
        repertoire.bulk_load(durable=durable, lock_wait_ms=int(lock_wait * 1000 / 4))
    )
    flush = _Flusher(core, recent, lock_wait, summary)
    try:
        loader = repertoire.setwise_loader() if setwise else None
        if loader is not None:
            # The choice "the repertoire is empty" must hold until the one write at the
            # end: another import (another process) waits here for this one to end,
            # then finds the repertoire full and goes event by event.
            tuning.enter_context(_sole_bulk_importer(repertoire.role_lock(SETWISE_IMPORT_ROLE)))
            held = loader.not_empty()
            if held:
                log.info("importing event by event: the repertoire already holds %s", held)
            else:
                flush.begin_setwise(SetwiseImport(core, loader))
                tuning.callback(flush.abort)
                tuning.enter_context(_cyclic_gc_paused())
        batch: list[InboundEvent] = []
        for item in items:
            if isinstance(item, Skipped):
                summary.skipped[item.reason] += item.count
                if item.unit == "message":
                    summary.messages_read += item.count
                    summary.skipped_messages += item.count
                continue
            if isinstance(item, Problem):
                summary.problem_count += 1
                if len(summary.problems) < MAX_PROBLEMS:
                    summary.problems.append(item)
                log.warning("%s", item)
                continue
            if isinstance(item, IncomingMessage):
                summary.messages_read += 1
                key = (
                    item.where.platform,
                    item.where.workspace,
                    item.where.channel,
                    item.message_id,
                )
                recent[key] = item
                if len(recent) > 20_000:
                    recent.popitem(last=False)
            else:
                summary.reactions += 1
            summary.events += 1
            batch.append(item)
            if len(batch) >= batch_size:
                flush(batch)
                batch = []
                summary.seconds = time.perf_counter() - started
                if on_progress is not None:
                    on_progress(summary)
        if batch:
            flush(batch)
        flush.finish()
    finally:
        tuning.close()
        core.linker, core.quiet = linker_was, quiet_was
    summary.failed = core.failed_events - failed_before
    summary.entries_after = _entry_counts(repertoire)
    summary.seconds = time.perf_counter() - started
    if on_progress is not None:
        on_progress(summary)
    return summary


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a set-wise import holds millions of rows.

    Each full collection walks every object alive, and the import keeps them all
    alive until the end: at a million messages that walking cost a third of the
    import. The rows hold no reference cycles; reference counting frees the rest.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _Flusher:
    """Commits one batch: tried again whole while another writer holds the lock.

    With :attr:`setwise`, a batch is applied in memory instead, until one holds
    an event the set-wise rules do not take: then what they captured is
    committed (:meth:`finish`) and batches are replayed through the core.
    """

    def __init__(
        self,
        core: Core,
        recent: OrderedDict[tuple[str, str, str, str], IncomingMessage],
        lock_wait: float,
        summary: ImportSummary,
    ) -> None:
        self.core = core
        self.recent = recent
        self.lock_wait = lock_wait
        self.summary = summary
        self.setwise: SetwiseImport | None = None

    def __call__(self, batch: list[InboundEvent]) -> None:
        if self.setwise is not None and not all(takes(event) for event in batch):
            self.finish()
        apply = self.setwise.apply if self.setwise is not None else self._commit
        out: Iterable[object] = apply(batch)
        # The channel the export is in now (the saves below may be for an earlier one).
        current = self.setwise.channel if self.setwise is not None else None
        saves: list[InboundEvent] = list(saves_for_fetches(out, self.recent))
        if saves:
            apply(saves)
        if self.setwise is not None:
            self.setwise.checkpoint(current)

    def begin_setwise(self, setwise: SetwiseImport) -> None:
        """Go set-wise: a storage that writes in parts takes its write lock now."""
        self._retrying(setwise.begin, "the export")
        self.setwise = setwise

    def finish(self) -> None:
        """Commit what the set-wise rules captured (once); later batches are replayed."""
        setwise, self.setwise = self.setwise, None
        if setwise is None:
            return
        repertoire = self.core.services.repertoire
        if setwise.parts is not None:
            try:  # its transaction has been open, holding the write lock, since the start
                setwise.write()
            except BaseException:
                setwise.abort()
                raise
        else:

            def write() -> None:
                with repertoire.transaction():
                    setwise.write()

            self._retrying(write, "the captured messages")
        repertoire.channels.forget()

    def abort(self) -> None:
        """A failed import: roll back what the set-wise part wrote (nothing once committed)."""
        setwise, self.setwise = self.setwise, None
        if setwise is not None:
            setwise.abort()

    def _commit(self, batch: list[InboundEvent]) -> list[Outbound]:
        return self._retrying(
            lambda: self.core.handle_batch(batch), f"this batch of {len(batch):,} events"
        )

    def _retrying(self, action: Callable[[], _T], what: str) -> _T:
        core = self.core
        deadline = time.monotonic() + self.lock_wait
        pause = LOCK_RETRY_PAUSE
        failed_before = core.failed_events
        while True:
            try:
                return action()
            except Exception as exc:
                if not is_transient_conflict(exc):
                    raise
                core.failed_events = failed_before  # the whole batch was rolled back
                left = deadline - time.monotonic()
                if left <= 0:
                    self.summary.failed = core.failed_events
                    raise ImportStopped(
                        f"the database stayed locked by another writer for "
                        f"{self.lock_wait:g} s ({exc}); {what} "
                        "and the rest of the export were not imported. Run the same import "
                        "again when the other writer is done: it adds nothing twice.",
                        self.summary,
                    ) from exc
                log.warning("the database is locked by another writer; trying the batch again")
                time.sleep(min(pause, left))
                pause = min(pause * 2, 1.0)


#: The lock an import holds from choosing the set-wise path to its write.
SETWISE_IMPORT_ROLE = "set-wise import"
#: How often an import waiting for another one's set-wise write asks again.
SETWISE_TURN_POLL_SECONDS = 0.2


@contextmanager
def _sole_bulk_importer(lock: RoleLock) -> Iterator[None]:
    """Hold ``lock`` while the block runs, waiting for another process that holds it."""
    try:
        while not lock.try_acquire():
            time.sleep(SETWISE_TURN_POLL_SECONDS)
        yield
    finally:
        lock.close()


def saves_for_fetches(
    out: Iterable[object], recent: OrderedDict[tuple[str, str, str, str], IncomingMessage]
) -> Iterator[SaveRequest]:
    """Do what an adapter does for a save reaction on a message the core never stored."""
    for item in out:
        if not isinstance(item, FetchMessage):
            continue
        where = item.where
        msg = recent.get((where.platform, where.workspace, where.channel, item.message_id))
        if msg is None:
            continue
        yield item.saved(
            text=msg.text,
            author=msg.author,
            created_at=msg.created_at,
            permalink=msg.permalink,
            thread_id=None if msg.is_top_level else msg.thread_id,
            where=msg.where,
        )
