"""Linking unthreaded answers to the question they answer.

Much history has no threads (old Slack exports, busy Discord channels). There,
a top-level message that is not itself a question is linked to a question, in
this order (:class:`UnthreadedLinker`):

1. **explicit reply**: it replies to the question (Discord ``reference``);
   an explicit reply to anything else is never linked by the rules below;
2. **mention of the asker**: it mentions (``<@id>``) someone who asked a
   question in this channel within :data:`MENTION_WINDOW`; it links to that
   member's latest question there;
3. **time proximity**: it comes from someone other than the asker of the
   channel's latest question, within ``link_window_minutes`` (default 30) of
   that question, with no other question asked in between, and the question
   has no thread yet (in threaded channels, answers go in threads).

The asker's own follow-ups and bot messages are never linked. The rule lives in
the core so live capture can use it too (``capture.link_unthreaded``, off by
default); imports always use it. Its memory is per channel and in process: a
restart forgets the open questions of live chat, which only makes it link less.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.config import Settings
from bot.events import IncomingMessage
from knowledge.models import ChannelRef, Entry, EntryKind

__all__ = ["MENTION_WINDOW", "REMEMBERED_QUESTIONS", "ThreadQuestions", "UnthreadedLinker"]

#: A mention of an asker links to their question asked at most this long before.
MENTION_WINDOW = timedelta(hours=24)
#: Open questions remembered per channel.
REMEMBERED_QUESTIONS = 64

_MENTION = re.compile(r"<@!?([A-Za-z0-9_]+)(?:\|[^>]*)?>")

_ChannelKey = tuple[str, str, str]


class ThreadQuestions(Protocol):
    """Where the linker finds the question an explicit reply points at (the repertoire,
    or what a set-wise import has captured so far)."""

    def question_for_thread(self, ref: ChannelRef, thread_id: str) -> Entry | None: ...


@dataclass(slots=True)
class _Asked:
    message_id: str
    asker: str
    at: datetime
    threaded: bool = False


class UnthreadedLinker:
    """Links top-level replies to recent questions in unthreaded channels (rules above)."""

    def __init__(self, window: timedelta = timedelta(minutes=30)) -> None:
        self.window = window
        self._recent: dict[_ChannelKey, deque[_Asked]] = {}
        #: The same questions by message id (each is remembered once).
        self._by_id: dict[_ChannelKey, dict[str, _Asked]] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> UnthreadedLinker:
        return cls(timedelta(minutes=settings.capture.link_window_minutes))

    @staticmethod
    def _key(msg: IncomingMessage) -> _ChannelKey:
        return (msg.where.platform, msg.where.workspace, msg.where.channel)

    def question_for(self, msg: IncomingMessage, repertoire: ThreadQuestions) -> str | None:
        """The message id of the question ``msg`` answers, or ``None``."""
        if not msg.is_top_level or msg.author.is_bot:
            return None
        recent = self._recent.get(self._key(msg))
        author = msg.author.user_id
        if msg.reply_to:
            if recent is not None:
                for asked in recent:
                    if asked.message_id == msg.reply_to:
                        return asked.message_id if asked.asker != author else None
            where = msg.where
            known = repertoire.question_for_thread(
                ChannelRef(where.platform, where.workspace, where.channel), msg.reply_to
            )
            return known.source.message_id if known is not None else None
        if not recent:
            return None
        mentioned = set(msg.mentions) or set(_MENTION.findall(msg.text))
        mentioned.discard(author)
        if mentioned:
            for asked in reversed(recent):
                if asked.asker in mentioned and _within(asked.at, msg.created_at, MENTION_WINDOW):
                    return asked.message_id
        last = recent[-1]
        if (
            last.asker != author
            and not last.threaded
            and _within(last.at, msg.created_at, self.window)
        ):
            return last.message_id
        return None

    def before(
        self,
        msg: IncomingMessage,
        repertoire: ThreadQuestions,
        looks_like_question: Callable[[str], bool],
    ) -> IncomingMessage:
        """``msg`` as capture should see it: a linked reply gets its question's thread."""
        if not msg.is_top_level or msg.is_forum_post or looks_like_question(msg.text):
            return msg  # threaded already, or a question itself: never linked
        thread = self.question_for(msg, repertoire)
        return replace(msg, thread_id=thread) if thread is not None else msg

    def after(self, msg: IncomingMessage, kind: EntryKind | None) -> None:
        """Remember what capture made of ``msg`` (the kind of entry, or ``None``)."""
        key = self._key(msg)
        if kind == EntryKind.QUESTION and msg.is_top_level:
            recent = self._recent.setdefault(key, deque(maxlen=REMEMBERED_QUESTIONS))
            by_id = self._by_id.setdefault(key, {})
            if msg.message_id not in by_id:
                if len(recent) == REMEMBERED_QUESTIONS:
                    del by_id[recent[0].message_id]  # the oldest is about to be forgotten
                asked = _Asked(msg.message_id, msg.author.user_id, msg.created_at)
                recent.append(asked)
                by_id[asked.message_id] = asked
        elif not msg.is_top_level and msg.thread_id is not None:
            known = self._by_id.get(key)
            asked_in = known.get(msg.thread_id) if known else None
            if asked_in is not None:
                asked_in.threaded = True


def _within(start: datetime, at: datetime, window: timedelta) -> bool:
    return timedelta(0) <= at - start <= window
