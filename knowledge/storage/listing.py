"""Which entries a listing wants, as typed values instead of SQL conditions.

:class:`EntryFilter` is what digests, follow-ups, profiles and exports ask the
repertoire for; each backend turns it into its own query. The viewer is not
part of it: every listing takes the viewer separately, so it cannot be left out.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from knowledge.models import ChannelRef, EntryKind

__all__ = ["EntryFilter", "EntryOrder"]

#: ``newest``/``oldest``: by creation time (then id); ``id``: in the order entries were made.
EntryOrder = Literal["newest", "oldest", "id"]


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """Conditions an entry must all meet; a field left at its default does not filter."""

    kinds: tuple[EntryKind, ...] = ()
    #: Only these entries.
    ids: tuple[int, ...] | None = None
    #: Only entries by these members (a member and their linked identities).
    authors: tuple[int, ...] | None = None
    platform: str | None = None
    workspace: str | None = None
    #: The channel's id on its platform.
    channel_id: str | None = None
    #: The channel's name, any case (``help`` for ``#help``).
    channel_name: str | None = None
    #: The chat message the entry was made from.
    message_id: str | None = None
    #: Replies in this thread (the thread's root message id).
    thread_id: str | None = None
    #: Created at or after this time.
    created_from: datetime | None = None
    #: Created before this time.
    created_before: datetime | None = None
    #: Created at or before this time.
    created_until: datetime | None = None
    #: Questions that have (``True``) or have not (``False``) an answer.
    answered: bool | None = None
    #: Questions whose answer was accepted (``True``) or not (``False``).
    has_accepted: bool | None = None
    #: Answers that are (``True``) or are not (``False``) the accepted one.
    accepted: bool | None = None
    #: Leave out direct messages.
    exclude_dm: bool = False
    #: Leave out questions that got (or are getting) a follow-up.
    without_follow_up: bool = False

    def in_channel(self, channel: ChannelRef) -> EntryFilter:
        """The same conditions, for entries said in ``channel``."""
        return replace(
            self, platform=channel.platform, workspace=channel.workspace, channel_id=channel.channel
        )
