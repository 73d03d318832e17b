"""The core: ``Core.handle(event) -> list[Outbound]``.

It decides what an inbound event means for the community and does it through
the repertoire, in one transaction per event. No I/O but the repertoire: the
adapters render and send what it returns. A :class:`~bot.errors.UserError`
becomes a friendly reply; any other failure is logged once, with the event's
id, and the event is skipped so the bot keeps running.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import dm_policy, messages
from bot.capture import Capture, channel_ref
from bot.command_registry import CommandContext, CommandRegistry
from bot.commands.contribute import ASKED_PREFIX
from bot.errors import UsageError, UserError
from bot.events import (
    AcceptMark,
    Actor,
    BotJoinedChannel,
    ChannelVisibilityChanged,
    CommandInvocation,
    ForumPostChanged,
    InboundEvent,
    IncomingMessage,
    MemberLeftChannel,
    MessageDeleted,
    MessageEdited,
    Outbound,
    ReactionChange,
    Reply,
    SaveRequest,
    ShareRequest,
    Where,
)
from bot.forum import on_forum_post_changed
from bot.ports import Services
from bot.read_marks import ReadMarks
from bot.results import where_said
from bot.share import share_result
from bot.unthreaded import UnthreadedLinker
from knowledge.models import ChannelRef, Entry
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.storage.errors import is_transient_conflict

log = logging.getLogger(__name__)

#: How many times a live event is tried when another writer is in the way: on SQLite
#: each try waits up to the busy timeout (``knowledge.sqlite.database.BUSY_TIMEOUT_MS``);
#: on PostgreSQL a deadlock between workers ends one transaction at once, and under load
#: the same event met other workers' groups three tries in a row.
LOCK_ATTEMPTS = 6
#: The pause before the second try is drawn below this (then below twice it, and so on),
#: so that workers whose transactions deadlocked do not come back in step.
RETRY_PAUSE_SECONDS = 0.05

#: Called with each newly captured question; returns what to say about it
#: (e.g. similar past answers). Registered by features, run in order.
QuestionHook = Callable[[Entry, IncomingMessage], list[Outbound]]
#: Called with every reaction after capture saw it (e.g. feedback on a suggestion).
ReactionHook = Callable[[ReactionChange], list[Outbound]]
#: Called when an adapter reports the message id a public reply got.
PostedHook = Callable[[Reply, str], None]


#: Events whose search-document changes may wait for the end of a group: they never search.
_INDEX_WRITERS = (IncomingMessage, MessageEdited, MessageDeleted)


@dataclass(frozen=True, slots=True)
class PendingQuestion:
    """A question captured in a group whose hooks run after the group's commit.

    ``index`` is its event's place in the group (:meth:`Core.handle_group`).
    """

    index: int
    entry: Entry
    message: IncomingMessage


@dataclass
class Core:
    services: Services
    #: The ``/cop`` commands this core answers (:func:`bot.app.command_registry`).
    commands: CommandRegistry
    question_hooks: list[QuestionHook] = field(default_factory=list)
    #: Links top-level replies to a recent question in unthreaded channels
    #: (``capture.link_unthreaded``; history imports always set one).
    linker: UnthreadedLinker | None = None
    #: History replay: question hooks (which would post suggestions) do not run.
    quiet: bool = False
    #: Events that failed with an unexpected error (logged and skipped).
    failed_events: int = 0
    reaction_hooks: list[ReactionHook] = field(default_factory=list)
    posted_hooks: list[PostedHook] = field(default_factory=list)
    #: Handlers for inbound event types that features add (e.g. SuggestionFeedback).
    event_handlers: dict[type, Callable[[Any], list[Outbound]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.capture = Capture(self.services)
        #: Read marks, and which platforms are being caught up (``adapters.catchup``).
        self.marks = ReadMarks(self.services)
        self._batch_channels: set[Where] | None = None
        #: Inside :meth:`handle_group` with ``later``: questions whose hooks wait.
        self._later: list[PendingQuestion] | None = None
        self._group_index = 0
        if self.linker is None and self.services.settings.capture.link_unthreaded:
            self.linker = UnthreadedLinker.from_settings(self.services.settings)

    @property
    def repertoire(self) -> RelationalRepertoire:
        return self.services.repertoire

    def handle(self, event: InboundEvent) -> list[Outbound]:
        """Apply one inbound event; return what to send. Never raises, but in a batch.

        When another process holds the database's write lock past the busy
        timeout, a live event is tried again (:data:`LOCK_ATTEMPTS` times in
        all) before it is logged as failed; inside :meth:`handle_batch` the lock
        error goes up, so the whole batch is retried (nothing half-applied).
        """
        in_batch = self._batch_channels is not None
        attempts = 1 if in_batch else LOCK_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                return self._handle_once(event, raise_lock_errors=in_batch or attempt < attempts)
            except Exception as exc:
                if in_batch or not is_transient_conflict(exc):
                    raise
                log.warning(
                    "the database is locked by another writer; trying %s event %r again",
                    type(event).__name__,
                    getattr(event, "event_id", "") or "?",
                )
                time.sleep(random.uniform(0, RETRY_PAUSE_SECONDS * 2 ** (attempt - 1)))
        return []  # pragma: no cover - the last attempt never raises

    def _handle_once(self, event: InboundEvent, *, raise_lock_errors: bool) -> list[Outbound]:
        event_id = getattr(event, "event_id", "")
        try:
            with self.services.repertoire.transaction():
                where: Where = event.where
                if event_id and not self.services.repertoire.mark_event_seen(
                    where.platform, event_id, self.services.clock.now()
                ):
                    log.debug("skipping event %s: already handled", event_id)
                    return []
                known = self._batch_channels
                if dm_policy.keeps_conversation(event) and (known is None or where not in known):
                    if known is not None:
                        known.add(where)
                    self._claim_channel(event, where)
                return self._apply(event)
        except UserError as exc:
            self._forget_batch_caches()
            return [self._user_error_reply(event, exc)]
        except Exception as exc:
            self._forget_batch_caches()
            if raise_lock_errors and is_transient_conflict(exc):
                raise
            self.failed_events += 1
            log.exception(
                "could not handle %s event %r; skipped", type(event).__name__, event_id or "?"
            )
            if isinstance(event, CommandInvocation):
                return [
                    Reply(
                        where=event.where,
                        text=messages.INTERNAL_ERROR,
                        recipient=event.actor,
                        thread_id=event.thread_id,
                    )
                ]
            return []

    def _claim_channel(self, event: InboundEvent, where: Where) -> None:
        """What the event says of its channel; the rule is :meth:`ChannelBook.claim`'s.

        A message, an edit or a conversion notice carries the platform's word on
        the channel as it was said (Slack's ``channel_type``, Discord's current
        permissions, an export's channel lists): it may reopen a channel. Other
        events carry what the adapter last looked up, which may be stale: they
        may only close it further.
        """
        authoritative = isinstance(
            event, IncomingMessage | MessageEdited | ChannelVisibilityChanged
        )
        at = _event_time(event) or self.services.clock.now()
        self.services.repertoire.upsert_channel(
            where.platform,
            where.workspace,
            where.channel,
            where.channel_name,
            where.visibility.value,
            at=at,
            authoritative=authoritative,
        )

    def handle_batch(self, events: Iterable[InboundEvent]) -> list[Outbound]:
        """Apply many events in one transaction: the bulk path of history imports.

        The same rules as :meth:`handle` (each event still runs in its own
        savepoint, so one bad event is logged and skipped alone), but one commit
        per batch and the search index rebuilt once per batch for the questions
        it touched (:meth:`RelationalRepertoire.deferred_reindex`).
        """
        out: list[Outbound] = []
        repertoire = self.services.repertoire
        # Within the batch, channels and members already written are not written again.
        self._batch_channels, self.capture.member_cache = set(), {}
        try:
            with repertoire.transaction(), repertoire.deferred_reindex():
                repertoire.take_bulk_turn()  # another process's import: one batch at a time
                for event in events:
                    out.extend(self.handle(event))
        finally:
            self._batch_channels, self.capture.member_cache = None, None
        return out

    def handle_group(
        self, events: Sequence[InboundEvent], *, later: list[PendingQuestion] | None = None
    ) -> list[list[Outbound]]:
        """Apply live events in one transaction (group commit); what to send, per event.

        Each event runs as :meth:`handle` would; only the commit is shared, and
        no event has a savepoint of its own (:meth:`Repertoire.group`: an FTS5
        index flush each). When any event fails, the group is rolled back whole
        and the error goes up (a lock error too), for the caller to apply the
        events one by one with :meth:`handle`.

        The search documents that messages, edits and deletes touch are rebuilt
        once, in id order, before the commit, or before the next event that may
        search (a command, a reaction): FTS5 writes a segment whenever a
        document older than the last one written changes, which an answer to a
        recent question does (measured: most of capture's index work).

        With ``later``, a new question's hooks (the similar-question lookup,
        milliseconds each) do not hold the group up: the question is appended
        to ``later``, and the caller runs :meth:`answer_question` once the
        group has committed.
        """
        out: list[list[Outbound]] = []
        repertoire = self.services.repertoire
        self._batch_channels, self.capture.member_cache = set(), {}
        self._later = later
        try:
            with repertoire.group(), repertoire.deferred_reindex(), self.marks.deferring():
                for index, event in enumerate(events):
                    self._group_index = index
                    if not isinstance(event, _INDEX_WRITERS):
                        repertoire.flush_reindex()  # it may search: it sees every write before it
                    out.append(self.handle(event))
        finally:
            self._batch_channels, self.capture.member_cache = None, None
            self._later = None
        return out

    def answer_question(self, pending: PendingQuestion) -> list[Outbound]:
        """Run the question hooks of a question :meth:`handle_group` deferred.

        The question is read again: an edit or a delete that came after it
        counts (a deleted question gets no reply). Each hook runs its own
        transaction and logs its failures.
        """
        entry = self.services.repertoire.get_entry(pending.entry.id)  # one statement
        if entry is None:
            return []
        out: list[Outbound] = []
        for hook in self.question_hooks:
            out.extend(hook(entry, pending.message))
        return out

    def _forget_batch_caches(self) -> None:
        """An event rolled back: what it wrote may be gone, so the batch caches go too."""
        if self._batch_channels is not None:
            self._batch_channels.clear()
        if self.capture.member_cache is not None:
            self.capture.member_cache.clear()

    def _apply(self, event: InboundEvent) -> list[Outbound]:
        if isinstance(event, IncomingMessage):
            self.marks.saw_live(event.where, event.message_id, event.created_at)
            if self.linker is not None:
                event = self.linker.before(
                    event, self.services.repertoire, self.capture.looks_like_question
                )
            captured = self.capture.on_message(event)
            if self.linker is not None:
                self.linker.after(event, captured[0].kind if captured else None)
            if captured is None:
                return []
            entry, created = captured
            if created and entry.kind.value == "question" and not self.quiet:
                if self._later is not None and self.question_hooks:
                    self._later.append(PendingQuestion(self._group_index, entry, event))
                    return []
                out: list[Outbound] = []
                for hook in self.question_hooks:
                    out.extend(hook(entry, event))
                return out
            return []
        if isinstance(event, MessageEdited):
            self.capture.on_edit(event)
            return []
        if isinstance(event, MessageDeleted):
            self.capture.on_delete(event)
            return []
        if isinstance(event, ReactionChange):
            reacted = self.capture.on_reaction(event)
            for reaction_hook in self.reaction_hooks:
                reacted.extend(reaction_hook(event))
            return reacted
        if isinstance(event, SaveRequest):
            return self.capture.on_save(event)
        if isinstance(event, CommandInvocation):
            return self.commands.dispatch(lambda args: self._context(event, args), event.text)
        if isinstance(event, AcceptMark):
            return self.capture.on_reaction(self.capture.accept_reaction_of(event))
        if isinstance(event, MemberLeftChannel):
            self.services.repertoire.set_capture_stopped(channel_ref(event.where), True)
            return []
        if isinstance(event, ChannelVisibilityChanged):
            return []  # claimed in handle(): its entries and documents followed
        if isinstance(event, BotJoinedChannel):
            self.services.repertoire.set_capture_stopped(channel_ref(event.where), False)
            return []
        if isinstance(event, ShareRequest):
            return share_result(self.services, event.entry_id, event.where, event.actor)
        if isinstance(event, ForumPostChanged):
            return on_forum_post_changed(self.capture, event)
        handler = self.event_handlers.get(type(event))
        if handler is not None:
            return handler(event)
        raise TypeError(f"unknown event type {type(event).__name__}")

    def _context(self, invocation: CommandInvocation, args: str) -> CommandContext:
        return CommandContext(self.services, self.capture, invocation, args, self.commands)

    def _user_error_reply(self, event: InboundEvent, exc: UserError) -> Reply:
        text = str(exc)
        spec = self.commands.get(exc.command) if isinstance(exc, UsageError) else None
        if spec is not None:
            text += f"\nUsage: `/cop {spec.usage}`"
        elif isinstance(exc, UsageError):
            text += "\n" + self.commands.help_text()
        actor = getattr(event, "actor", None)
        return Reply(
            where=event.where,
            text=text,
            recipient=actor,
            thread_id=getattr(event, "thread_id", None),
        )

    def recall(self, key: str) -> str | None:
        """A small value an adapter kept across restarts (e.g. its registered commands' hash)."""
        with self.services.repertoire.reading():
            return self.services.repertoire.get_meta(key)

    def remember(self, key: str, value: str) -> None:
        """Keep a small value across restarts (see :meth:`recall`)."""
        with self.services.repertoire.transaction():
            self.services.repertoire.set_meta(key, value)

    def read_marks(self, platform: str) -> dict[ChannelRef, tuple[datetime, str]]:
        """Where each channel was last read: adapters catch up from here (:attr:`marks`)."""
        return self.marks.marks(platform)

    def link_posted_message(
        self, entry_id: int, message_id: str, permalink: str = ""
    ) -> list[Outbound]:
        """The adapter posted a reply with ``anchor_entry_id``; bind the entry to that message.

        Returns what to say in the new message's thread: a question made with
        ``/cop ask`` goes through the question hooks once it has its message
        (e.g. similar past answers). Adapters send it like any reply.
        """
        with self.services.repertoire.transaction():
            self.services.repertoire.relink_message(entry_id, message_id, permalink)
            entry = self.services.repertoire.get_entry(entry_id)
            if entry is None or entry.kind.value != "question" or not self.question_hooks:
                return []
            where = where_said(entry)
            member = self.services.repertoire.get_member(entry.author_id)
            author = Actor(
                entry.source.platform,
                member.user_id if member else "",
                entry.author_name,
                entry.source.workspace,
            )
            message = IncomingMessage(
                where, author, message_id, entry.text, entry.created_at, permalink=permalink
            )
            out: list[Outbound] = []
            try:
                for hook in self.question_hooks:
                    out.extend(hook(entry, message))
            except Exception:
                log.exception("a question hook failed for asked entry %s; skipped", entry_id)
                return []
            return out

    def withdraw_question(self, entry_id: int) -> bool:
        """A ``/cop ask`` question the platform would not post is not kept.

        Only a question still waiting for its message is removed (one already
        posted belongs to its conversation); ``True`` when it was.
        """
        with self.services.repertoire.transaction():
            entry = self.services.repertoire.get_entry(entry_id)
            if entry is None or not entry.source.message_id.startswith(ASKED_PREFIX):
                return False
            self.services.repertoire.delete_message(entry.source)
            return True

    def reply_posted(self, reply: Reply, message_id: str) -> None:
        """The adapter posted a public ``reply`` as ``message_id`` (for ``suggestion_id``)."""
        if not self.posted_hooks:
            return
        with self.services.repertoire.transaction():
            for hook in self.posted_hooks:
                hook(reply, message_id)


def _event_time(event: InboundEvent) -> datetime | None:
    """When the event happened on the platform, when it says."""
    if isinstance(event, IncomingMessage | SaveRequest):
        return event.created_at
    if isinstance(event, MessageEdited):
        return event.edited_at
    at = getattr(event, "at", None)
    return at if isinstance(at, datetime) else None
