"""The bulk path of history imports: the capture rules, applied a batch at a time.

:meth:`Core.handle_batch` runs every event through :meth:`Core.handle` in one
transaction; that is exact but spends most of its time on work a replay of
history does not need per event (a savepoint through two context managers, a
channel upsert, a ``capture_stopped`` lookup, re-reading the entry just
written, settling acceptance on every answer). :class:`BulkCapture` keeps the
same decisions and the same writes, made through the same code:

* a message is kept, and is a question or an answer, by the same predicates
  (:meth:`Capture.captures_in`, :meth:`Capture.looks_like_question`, the
  unthreaded linker) and written by the same :meth:`Repertoire.save_entry`;
* a reaction goes through :meth:`Capture.on_reaction` itself, except the
  accept reaction, which is stored as it stores it and settled at the end;
* acceptance is settled once per batch, by :meth:`Capture.settle_accepted`,
  for every answer the batch touched that has an accept reaction or was
  accepted (the rule depends only on the reactions and the thread's asker,
  so settling at the end of the batch gives what settling at each event did);
* every other event goes through :meth:`Core.handle` unchanged.

Each event still runs in its own savepoint, so one bad event is logged and
skipped alone. Nothing is posted (imports are quiet). The equivalence with the
one-event-at-a-time path is a test (``tests/test_import_export.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.capture import source_key
from bot.emoji import canonical
from bot.events import InboundEvent, IncomingMessage, Outbound, ReactionChange, Visibility, Where
from knowledge.models import EntryKind, NewEntry, SourceKey
from knowledge.text import clean_text, extract_tags, title_from

if TYPE_CHECKING:
    from bot.core import Core

log = logging.getLogger(__name__)


class BulkCapture:
    """Applies batches of history events with the capture rules (see the module doc)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.capture = core.capture
        self.repertoire = core.services.repertoire
        rules = core.services.settings.capture
        self.accept = canonical(rules.accept_reaction)
        self._captures: dict[Where, bool] = {}
        self._channels: set[Where] = set()
        self._members: dict[tuple[str, str, str, str], int] = {}
        self._emoji: dict[str, str] = {}

    def apply(self, events: Iterable[InboundEvent]) -> list[Outbound]:
        """Apply a batch in one transaction; what the events would have said back."""
        out: list[Outbound] = []
        repertoire = self.repertoire
        conn = repertoire.db.conn
        answers: set[int] = set()
        questions: set[int] = set()
        accepted_keys: set[tuple[str, str, str, str]] = set()
        self.capture.member_cache = self._members
        try:
            with repertoire.transaction(), repertoire.deferred_reindex():
                for event in events:
                    conn.execute("SAVEPOINT bulk_event")
                    try:
                        if isinstance(event, IncomingMessage):
                            self._message(event, answers, questions)
                        elif isinstance(event, ReactionChange):
                            out.extend(self._reaction(event, accepted_keys))
                        else:
                            conn.execute("RELEASE bulk_event")
                            self._captures.clear()  # e.g. the bot left a channel
                            out.extend(self.core.handle(event))
                            continue
                    except Exception:
                        conn.execute("ROLLBACK TO bulk_event")
                        conn.execute("RELEASE bulk_event")
                        self._forget()
                        self.core.failed_events += 1
                        log.exception(
                            "could not import %s event; skipped", type(event).__name__
                        )
                        continue
                    conn.execute("RELEASE bulk_event")
                self._settle(answers, questions, accepted_keys)
        except BaseException:
            self._forget()
            raise
        finally:
            self.capture.member_cache = None
        return out

    def _forget(self) -> None:
        """Something rolled back: caches of what was written go."""
        self._channels.clear()
        self._members.clear()
        self._captures.clear()

    def _message(self, msg: IncomingMessage, answers: set[int], questions: set[int]) -> None:
        where = msg.where
        if where.visibility != Visibility.DM and where not in self._channels:
            self.repertoire.upsert_channel(
                where.platform, where.workspace, where.channel, where.channel_name,
                where.visibility.value,
            )  # fmt: skip
            self._channels.add(where)
        linker = self.core.linker
        capture = self.capture
        if msg.author.is_bot:
            return
        captures = self._captures.get(where)
        if captures is None:
            captures = self._captures[where] = capture.captures_in(where)
        if not captures:
            return
        if linker is not None:
            msg = linker.before(msg, self.repertoire, capture.looks_like_question)
        text = clean_text(msg.text)
        kind: EntryKind | None = None
        if text:
            if msg.is_top_level:
                if msg.is_forum_post or capture.looks_like_question(text):
                    kind = EntryKind.QUESTION
            else:
                kind = EntryKind.ANSWER
        if kind is not None:
            entry_id, _ = self.repertoire.save_entry(
                NewEntry(
                    kind=kind,
                    source=source_key(where, msg.message_id),
                    text=text,
                    author_id=capture.member_id(msg.author, where.workspace),
                    created_at=msg.created_at,
                    visibility=where.visibility.value,
                    title=(clean_text(msg.title) or title_from(text))
                    if kind == EntryKind.QUESTION
                    else "",
                    thread_id=None if msg.is_top_level else msg.thread_id,
                    permalink=msg.permalink,
                    tags=tuple(msg.tags) + extract_tags(text),
                    channel_name=where.channel_name,
                )
            )
            (questions if kind == EntryKind.QUESTION else answers).add(entry_id)
        if linker is not None:
            linker.after(msg, kind)

    def _reaction(
        self, change: ReactionChange, accepted_keys: set[tuple[str, str, str, str]]
    ) -> list[Outbound]:
        emoji = self._emoji.get(change.emoji)
        if emoji is None:
            emoji = self._emoji[change.emoji] = canonical(change.emoji)
        where = change.where
        if where.visibility != Visibility.DM and where not in self._channels:
            self.repertoire.upsert_channel(
                where.platform, where.workspace, where.channel, where.channel_name,
                where.visibility.value,
            )  # fmt: skip
            self._channels.add(where)
        if emoji != self.accept:
            return self.capture.on_reaction(change)  # saves and every other rule, as live
        src = source_key(where, change.message_id)
        at = change.at or self.core.services.clock.now()
        self.repertoire.set_reaction(src, change.actor.user_id, emoji, change.added, at)
        accepted_keys.add((src.platform, src.workspace, src.channel, src.message_id))
        return []

    def _settle(
        self,
        answers: set[int],
        questions: set[int],
        accepted_keys: set[tuple[str, str, str, str]],
    ) -> None:
        """Settle acceptance once for every answer the batch may have changed."""
        repertoire = self.repertoire
        todo: set[int] = set()
        for key in accepted_keys:
            for entry in repertoire.entries_for_message(SourceKey(*key)):
                if entry.kind == EntryKind.ANSWER:
                    todo.add(entry.id)
        todo |= set(repertoire.answers_to_settle(answers, questions, self.accept))
        for entry_id in sorted(todo):
            answer = repertoire.get_entry(entry_id)
            if answer is not None:
                self.capture.settle_accepted(answer)

