"""The set-wise import: the live capture rules applied in memory, then one bulk write.

Replaying a history export through :meth:`Core.handle_batch` costs about a
dozen statements per message. Into an empty repertoire none of them is needed
while the import runs: every answer the rules ask for (is this channel
captured? whose question is this? who reacted with ✅?) can come from what the
import itself has captured so far. :class:`SetwiseImport` therefore walks the
same events, in the same batches, through the same decisions, and keeps the
outcome in an :class:`~bot.import_book.ImportBook`; at the end the storage
writes it all at once and builds the search documents set-wise
(:meth:`~knowledge.storage.setwise.SetwiseLoader.load`).

Where the rules live. The decisions are the live path's own functions and
objects, called here: :meth:`Capture.looks_like_question`,
:meth:`Capture.captures_in` (the config's channel rules and DMs),
:func:`~knowledge.text.clean_text`, :func:`~knowledge.text.title_from`,
:func:`~knowledge.text.extract_tags`, the core's :class:`UnthreadedLinker`
instance, the read-mark rule (:mod:`bot.dm_policy`, :class:`ReadMarks`),
:func:`~bot.capture.accepts`, :func:`~bot.reaction_roles.save_kind_for`,
:func:`~bot.reaction_roles.thanked_entry`, :func:`~knowledge.channels.settle_visibility`.
What is restated is the order in which :class:`Capture` and :class:`Core` call
them for each event (this module mirrors ``Core._handle_once``,
``Capture.on_message``, ``on_reaction``, ``settle_accepted`` and ``on_save``
step by step) and the storage's write semantics (:class:`ImportBook`). That
copy is held to the original by the equivalence test
(``tests/test_setwise_import.py``): the synthetic community, the Slack and
Discord fixtures and edge cases are imported both ways, and the JSON exports
and the search documents must be identical.

Which events: chat messages, reactions added, and the save requests that a save
reaction on an uncaptured message turns into. Any other event (an edit, a
delete, a removed reaction, an event id to de-duplicate) ends the set-wise
part: what it captured is written, and the rest of the import is replayed
through the core, from the same state. Reaction hooks are not called: the only
one (suggestion feedback) reads suggestions, which an empty repertoire has none of.

Written as it goes, where the storage can (``SetwiseLoader.parts()``): after each
batch, the channels the import has moved on from are handed over as a part
(:meth:`ImportBook.close`), written by the storage (in the transaction it
began for the import) and forgotten here, so memory holds the open channels,
not the export. An export that comes back to a closed channel gets its rows
back first (:meth:`SetwiseParts.take_back`): the outcome does not depend on
the order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from bot import dm_policy
from bot.capture import accepts, kind_and_title
from bot.emoji import canonical
from bot.events import (
    Actor,
    FetchMessage,
    InboundEvent,
    IncomingMessage,
    KnowhowKind,
    ReactionChange,
    SaveRequest,
    Where,
)
from bot.import_book import (
    ACCEPTED,
    AUTHOR_ID,
    CREATED_AT,
    KIND,
    PERMALINK,
    TEXT,
    THREAD_ID,
    EntryRecord,
    ImportBook,
)
from bot.reaction_roles import save_kind_for, thanked_entry
from knowledge.models import ChannelRef, EntryKind, SourceKey, from_db_time, to_db_time
from knowledge.storage.setwise import SetwiseLoader, SetwiseParts
from knowledge.text import clean_text, extract_tags, title_from

if TYPE_CHECKING:
    from bot.core import Core

__all__ = ["SetwiseImport", "takes"]


def takes(event: InboundEvent) -> bool:
    """Whether the set-wise rules handle ``event`` (else the import replays from there on)."""
    if isinstance(event, IncomingMessage):
        return not event.event_id
    if isinstance(event, ReactionChange):
        return event.added and not event.event_id
    if isinstance(event, SaveRequest):
        return not event.event_id and event.valid_until is None
    return False


class SetwiseImport:
    """Applies import batches to an :class:`ImportBook` as ``Core.handle_batch`` would."""

    def __init__(self, core: Core, loader: SetwiseLoader) -> None:
        self.core = core
        self.loader = loader
        self.capture = core.capture
        #: The storage's writer of parts, if it has one (else one write at the end).
        self.parts: SetwiseParts | None = loader.parts()
        #: Channels with rows in the book, and the one the last event was said in.
        self._open: dict[tuple[str, str, str], None] = {}
        self._last_channel: tuple[str, str, str] | None = None
        self.book = ImportBook(canonical(core.services.settings.capture.accept_reaction))
        settings = core.services.settings
        self.rules = settings.capture
        self._accept = canonical(self.rules.accept_reaction)
        self._thanks = canonical(self.rules.thanks_reaction)
        self._captured_in: dict[Where, bool] = {}
        self._marks: dict[str, bool] = {}
        # The caches Core.handle_batch keeps for one batch.
        self._batch_channels: set[Where] = set()
        self._member_cache: dict[tuple[str, str, str, str], int] = {}
        self._last_text = ""
        self._last_time: datetime | None = None
        self._last_time_text = ""
        self._last_answer = False

    # ------------------------------------------------------------------ batches

    def apply(self, events: Iterable[InboundEvent]) -> list[FetchMessage]:
        """One batch (``Core.handle_batch``); the messages a save reaction asks to fetch."""
        self._batch_channels, self._member_cache = set(), {}
        out: list[FetchMessage] = []
        for event in events:
            where = event.where
            channel = (where.platform, where.workspace, where.channel)
            if channel != self._last_channel:
                self._enter(channel)
            if dm_policy.keeps_conversation(event) and where not in self._batch_channels:
                self._batch_channels.add(where)
                self._claim(event, where)
            if isinstance(event, IncomingMessage):
                self._message(event)
            elif isinstance(event, ReactionChange):
                out.extend(self._reaction(event))
            elif isinstance(event, SaveRequest):
                self._save(event)
            else:  # pragma: no cover - takes() keeps them out
                raise TypeError(f"not a set-wise event: {type(event).__name__}")
        return out

    def _enter(self, channel: tuple[str, str, str]) -> None:
        """The events move to ``channel``: its rows back from the storage if it was closed."""
        self._last_channel = channel
        self._open[channel] = None
        if self.parts is not None and channel in self.book.closed:
            rows = self.parts.take_back(channel)
            self.book.reopen(channel, rows.entries, rows.tags, rows.reactions, rows.thanks)

    def begin(self) -> None:
        """Before the first batch: the storage's transaction, when it writes in parts."""
        if self.parts is not None:
            self.parts.begin()

    @property
    def channel(self) -> tuple[str, str, str] | None:
        """The channel of the last event applied."""
        return self._last_channel

    def checkpoint(self, current: tuple[str, str, str] | None = None) -> None:
        """After a batch and its saves: hand over every channel but ``current``.

        ``current`` is where the export is (by default, the last event's channel):
        the saves a batch asks for may be said in a channel it has already left.
        """
        if self.parts is None:
            return
        staying = current or self._last_channel
        left = [channel for channel in self._open if channel != staying]
        if left:
            self.parts.write(self.book.close(left))
            for channel in left:
                del self._open[channel]

    def write(self) -> None:
        """Write everything captured so far (in the caller's transaction, unless in parts)."""
        if self.parts is not None:
            self.parts.finish(self.book.plan(), self.book.renamed_members())
        else:
            self.loader.load(self.book.plan())

    def abort(self) -> None:
        """After a failure: what was written in parts is rolled back."""
        if self.parts is not None:
            self.parts.abort()

    def _claim(self, event: InboundEvent, where: Where) -> None:
        """``Core._claim_channel``: a message says what its channel is; others may close it."""
        if isinstance(event, IncomingMessage | SaveRequest):
            at = event.created_at
        else:
            at = getattr(event, "at", None) or self.core.services.clock.now()
        self.book.claim_channel(
            (where.platform, where.workspace, where.channel),
            where.channel_name,
            where.visibility.value,
            at=at,
            authoritative=isinstance(event, IncomingMessage),
        )

    def _member_id(self, actor: Actor, workspace: str) -> int:
        """``Capture.member_id``, with its per-batch cache."""
        key = (actor.platform, actor.workspace or workspace, actor.user_id, actor.display_name)
        known = self._member_cache.get(key)
        if known is None:
            known = self._member_cache[key] = self.book.upsert_member(*key)
        return known

    # ------------------------------------------------------------------ messages

    def _message(self, msg: IncomingMessage) -> None:
        """``Core._apply`` for a message: read mark, linker, capture, linker."""
        where = msg.where
        said_at = self._db_time(msg.created_at)
        if dm_policy.catches_up(where) and not self._catching_up(where.platform):
            self.book.advance_read_mark(
                (where.platform, where.workspace, where.channel), msg.message_id, said_at
            )
        linker = self.core.linker
        if linker is not None:
            msg = linker.before(msg, self.book, self._looks_like_question)
        kind = self._capture(msg, said_at)
        if linker is not None:
            linker.after(msg, kind)

    def _db_time(self, at: datetime) -> str:
        """:func:`to_db_time`, once per time: an export's reactions carry their message's."""
        if at is not self._last_time:
            self._last_time, self._last_time_text = at, to_db_time(at)
        return self._last_time_text

    def _looks_like_question(self, text: str) -> bool:
        """:meth:`Capture.looks_like_question`, asked once for the linker and capture both.

        The linker asks it of the text as said, capture of the cleaned text: the
        same text almost always, so the last answer is kept.
        """
        if text != self._last_text:
            self._last_text = text
            self._last_answer = self.capture.looks_like_question(text)
        return self._last_answer

    def _catching_up(self, platform: str) -> bool:
        known = self._marks.get(platform)
        if known is None:
            known = self._marks[platform] = self.core.marks.catching_up(platform)
        return known

    def _captures(self, where: Where) -> bool:
        known = self._captured_in.get(where)
        if known is None:  # an empty repertoire has no channel where capture was stopped
            known = self._captured_in[where] = self.capture.captures_in(where)
        return known

    def _capture(self, msg: IncomingMessage, said_at: str) -> EntryKind | None:
        """``Capture.on_message`` (no tombstone or edit can exist yet)."""
        if msg.author.is_bot or not self._captures(msg.where):
            return None
        text = clean_text(msg.text)
        if not text:
            return None
        where = msg.where
        decided = kind_and_title(msg, text, msg.is_top_level and self._looks_like_question(text))
        if decided is None:
            return None
        kind, title = decided
        author_id = self._member_id(msg.author, where.workspace)
        entry, _created = self.book.save_entry(
            kind,
            SourceKey(where.platform, where.workspace, where.channel, msg.message_id),
            text,
            author_id,
            said_at,
            where.visibility.value,
            title,
            None if msg.is_top_level else msg.thread_id,
            msg.permalink,
            tuple(msg.tags) + extract_tags(text),
            where.channel_name,
        )
        if kind == EntryKind.ANSWER:
            self._settle(entry)
        else:
            for answer in self.book.answers_for(entry):
                self._settle(answer)
        return kind

    def _settle(self, answer: EntryRecord) -> bool:
        """``Capture.settle_accepted``: ``True`` when the answer became accepted."""
        src = SourceKey(*answer[2:6])
        reactors = self.book.acceptors(src)
        if not reactors and not answer[ACCEPTED]:
            return False
        root = self.book.thread_root(answer)
        if root is None or root[KIND] != EntryKind.QUESTION:
            self.book.set_accepted(answer, False)
            return False
        voters = reactors - {self.book.user_id_of(answer[AUTHOR_ID])}
        accepted = accepts(self.rules, self.book.user_id_of(root[AUTHOR_ID]), voters)
        return self.book.set_accepted(answer, accepted) and accepted

    # ------------------------------------------------------------------ reactions

    def _reaction(self, change: ReactionChange) -> list[FetchMessage]:
        """``Capture.on_reaction`` and thanks by reaction, for a reaction added."""
        emoji = canonical(change.emoji)
        where = change.where
        src = SourceKey(where.platform, where.workspace, where.channel, change.message_id)
        at = change.at or self.core.services.clock.now()
        actor = change.actor
        self.book.upsert_member(
            actor.platform, actor.workspace or where.workspace, actor.user_id,
            actor.display_name, refresh=False,
        )  # fmt: skip
        reacted_at = self._db_time(at)
        self.book.add_reaction(src, actor.user_id, emoji, reacted_at)
        if emoji == self._accept:
            for entry in self.book.entries_for_message(src):
                if entry[KIND] == EntryKind.ANSWER:
                    self._settle(entry)
        out: list[FetchMessage] = []
        save_kind = save_kind_for(self.rules, emoji)
        if save_kind is not None:
            out.extend(self._save_by_reaction(change, src, save_kind))
        if emoji == self._thanks and not actor.is_bot:
            self._thank(change, src, reacted_at)
        return out

    def _save_by_reaction(
        self, change: ReactionChange, src: SourceKey, kind: KnowhowKind
    ) -> list[FetchMessage]:
        entries = self.book.entries_for_message(src)
        if any(e[KIND] == EntryKind.KNOWHOW for e in entries):
            return []
        if not entries:
            return [
                FetchMessage(
                    where=change.where, message_id=change.message_id, saver=change.actor, kind=kind
                )
            ]
        known = entries[0]
        author = Actor(
            platform=src.platform,
            user_id=self.book.user_id_of(known[AUTHOR_ID]),
            display_name=self.book.name_of(known[AUTHOR_ID]),
            workspace=src.workspace,
        )
        self._save(
            SaveRequest(
                where=change.where,
                saver=change.actor,
                message_id=change.message_id,
                text=known[TEXT],
                author=author,
                created_at=from_db_time(known[CREATED_AT]),
                permalink=known[PERMALINK],
                thread_id=known[THREAD_ID],
                kind=kind,
            )
        )
        return []

    def _thank(self, change: ReactionChange, src: SourceKey, at: str) -> None:
        """``bot.reaction_roles.thank_by_reaction`` for a reaction added."""
        records = self.book.entries_for_message(src)
        chosen = thanked_entry([self.book.as_entry(r) for r in records])
        if chosen is None:
            return
        giver_id = self._member_id(change.actor, change.where.workspace)
        self.book.record_thanks(
            giver_id,
            chosen.author_id,
            chosen.id,
            ChannelRef(src.platform, src.workspace, src.channel),
            change.where.visibility.value,
            at,
        )

    # ------------------------------------------------------------------ saves

    def _save(self, request: SaveRequest) -> None:
        """``Capture.on_save`` (no "still true until" date: :func:`takes` keeps those out)."""
        text = clean_text(request.text)
        if not text:
            return
        where = request.where
        saver_id = self._member_id(request.saver, where.workspace)
        author_id = self._member_id(request.author, where.workspace)
        kind = request.kind if isinstance(request.kind, KnowhowKind) else KnowhowKind.HOWTO
        self.book.save_entry(
            EntryKind.KNOWHOW,
            SourceKey(where.platform, where.workspace, where.channel, request.message_id),
            text,
            author_id,
            to_db_time(request.created_at),
            where.visibility.value,
            clean_text(request.title) or title_from(text),
            request.thread_id,
            request.permalink,
            tuple(request.tags) + extract_tags(text),
            where.channel_name,
            knowhow_kind=kind.value,
            saved_by_id=saver_id,
        )
