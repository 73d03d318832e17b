"""How far copbot has read each channel, so that what it missed is read once, in order.

The core keeps a read mark per channel: the newest message it took in. After
a restart, a reconnect, or being added back to a channel, an adapter reads
the history after each mark (``adapters.catchup``) and moves the mark page by
page, oldest first: if that reading stops half-way, the next one goes on from
where it stopped, and nothing older than the mark is ever skipped.

While a platform is being caught up, live messages do not move its marks: a
message said just after a reconnect would otherwise carry the mark past the
gap before the gap was read. That state is kept in the database, so a catch-up
cut short by a crash is resumed at the next start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from bot import dm_policy
from bot.capture import source_key
from bot.config import CaptureSettings
from bot.emoji import canonical
from bot.events import Where
from bot.ports import Services
from bot.suggest import NOT_RELATED_REACTIONS
from knowledge.models import ChannelRef, SourceKey, to_db_time
from knowledge.storage import Viewer

#: Catch-up re-reads the threads of questions asked this long before a read mark ...
RECHECK_WINDOW = timedelta(days=14)
#: ... at most this many of them per channel.
RECHECK_LIMIT = 200

Mark = tuple[datetime, str]


class ReadMarks:
    """Read marks of every channel, and which platforms are being caught up."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._pending: dict[str, bool] = {}
        #: Inside :meth:`deferring`: per channel, the newest live message seen (its time first).
        self._held: dict[tuple[str, str, str], tuple[str, SourceKey, datetime]] | None = None

    @staticmethod
    def _key(platform: str) -> str:
        return f"catch_up.pending.{platform}"

    def marks(self, platform: str) -> dict[ChannelRef, Mark]:
        """Where each channel of ``platform`` was last read (a read: it takes no write lock)."""
        with self.services.repertoire.reading():
            return self.services.repertoire.read_marks(platform)

    def catching_up(self, platform: str) -> bool:
        known = self._pending.get(platform)
        if known is None:
            known = self._pending[platform] = (
                self.services.repertoire.get_meta(self._key(platform)) == "1"
            )
        return known

    def begin(self, platform: str) -> dict[ChannelRef, Mark]:
        """A (re)connection: live messages stop moving marks until :meth:`finish`.

        Returns the marks to read from (a catch-up cut short left them where it stopped).
        """
        with self.services.repertoire.transaction():
            self.services.repertoire.set_meta(self._key(platform), "1")
            self._pending[platform] = True
            return self.services.repertoire.read_marks(platform)

    def finish(self, platform: str) -> None:
        """Every gap was read: live messages move the marks again."""
        with self.services.repertoire.transaction():
            self.services.repertoire.set_meta(self._key(platform), "0")
            self._pending[platform] = False

    def advance(self, ref: ChannelRef, message_id: str, at: datetime) -> None:
        """A page of history was taken in: the channel was read up to ``message_id``."""
        with self.services.repertoire.transaction():
            self.services.repertoire.advance_read_mark(
                SourceKey(ref.platform, ref.workspace, ref.channel, message_id), at
            )

    def saw_live(self, where: Where, message_id: str, at: datetime) -> None:
        """A live message (inside the event's transaction): the mark follows it."""
        if dm_policy.catches_up(where) and not self.catching_up(where.platform):
            src = source_key(where, message_id)
            if self._held is None:
                self.services.repertoire.advance_read_mark(src, at)
                return
            # As the statement would: only a strictly newer message moves the mark.
            key, when = (src.platform, src.workspace, src.channel), to_db_time(at)
            held = self._held.get(key)
            if held is None or when > held[0]:
                self._held[key] = (when, src, at)

    @contextmanager
    def deferring(self) -> Iterator[None]:
        """A group of live events (one transaction): each channel's mark is written once.

        The mark of a channel is the newest message seen in it, so of a group's
        messages only the newest per channel can move it: one statement per
        channel at the end of the block (still inside the group's transaction)
        instead of one per message. Nothing is written when the block fails: the
        group is rolled back and its events are applied again one by one.
        """
        self._held = {}
        try:
            yield
            held, self._held = self._held, None
            for _, src, at in held.values():
                self.services.repertoire.advance_read_mark(src, at)
        finally:
            self._held = None

    def reactions_held(self, ref: ChannelRef, message_id: str) -> set[tuple[str, str]]:
        """The reactions the repertoire holds on a message: ``(user_id, canonical emoji)``."""
        src = SourceKey(ref.platform, ref.workspace, ref.channel, message_id)
        with self.services.repertoire.reading():
            return self.services.repertoire.reactions_on(src)

    def threads_to_recheck(self, ref: ChannelRef, last_read: datetime) -> set[str]:
        """Questions of a channel whose threads may have grown while copbot was away.

        A reply in an old thread never shows in a channel's history, so catch-up
        re-reads the threads of the questions asked in the :data:`RECHECK_WINDOW`
        before the channel's read mark.
        """
        since = last_read - RECHECK_WINDOW
        with self.services.repertoire.reading():
            entries = self.services.repertoire.questions_asked(
                Viewer.in_channel(ref), ref, since, RECHECK_LIMIT
            )
        return {entry.source.message_id for entry in entries}


def reactions_that_matter(rules: CaptureSettings) -> frozenset[str]:
    """The reactions the core acts on (canonical form): catch-up asks who gave only these.

    Accept, save (and the other know-how kinds), thanks, and "not related" on a
    suggestion; any other reaction changes nothing, and asking a platform who
    gave it would cost a call.
    """
    names = {rules.accept_reaction, rules.save_reaction, rules.thanks_reaction}
    names |= set(rules.kind_reactions)
    return frozenset(canonical(name) for name in names) | NOT_RELATED_REACTIONS
