"""Who and where in the terminal chat: its members and channels, kept in the transcript.

A member or a channel is made the first time it is named (``/as Chen``,
``/channel data-help private``) and remembered in the transcript, so the next
run knows them. A DM is with copbot and is never among the channels.
"""

from __future__ import annotations

import re

from adapters.console_output import BOT_ID
from adapters.console_transcript import Transcript
from bot.events import Actor, Visibility, Where
from bot.sample import SAMPLE_PLATFORM, SAMPLE_WORKSPACE

__all__ = ["DM_NAME", "PLATFORM", "WORKSPACE", "ConsolePlaces"]

PLATFORM = SAMPLE_PLATFORM
WORKSPACE = SAMPLE_WORKSPACE
#: The name a conversation with copbot shows under.
DM_NAME = "dm-with-copbot"


def _ident(prefix: str, name: str) -> str:
    return prefix + re.sub(r"\W+", "-", name.lower()).strip("-")


class ConsolePlaces:
    """The console's members and channels, loaded from and remembered in the transcript."""

    def __init__(self, transcript: Transcript) -> None:
        self.transcript = transcript
        self.members: dict[str, Actor] = {}
        self.channels: dict[str, Where] = {}
        for ident, name, _extra in transcript.places("member"):
            self.members[ident] = Actor(PLATFORM, ident, name, WORKSPACE)
        for ident, name, extra in transcript.places("channel"):
            self.channels[ident] = Where(PLATFORM, WORKSPACE, ident, Visibility(extra), name)

    def add_member(self, actor: Actor) -> None:
        self.members[actor.user_id] = actor
        self.transcript.remember_place("member", actor.user_id, actor.display_name)

    def add_channel(self, where: Where) -> None:
        self.channels[where.channel] = where
        self.transcript.remember_place(
            "channel", where.channel, where.channel_name, where.visibility.value
        )

    def member(self, name: str) -> Actor:
        """The member called ``name`` (id, full or first name); made when new."""
        for actor in self.members.values():
            if name.lower() in (
                actor.user_id.lower(),
                actor.display_name.lower(),
                actor.display_name.split()[0].lower(),
            ):
                return actor
        actor = Actor(PLATFORM, _ident("U-", name), name, WORKSPACE)
        self.add_member(actor)
        return actor

    def channel(self, name: str, private: bool) -> Where:
        """The channel called ``name`` (with or without ``#``); made when new."""
        name = name.lstrip("#")
        for where in self.channels.values():
            if name.lower() in (where.channel.lower(), where.channel_name.lower()):
                return where
        visibility = Visibility.PRIVATE if private else Visibility.PUBLIC
        where = Where(PLATFORM, WORKSPACE, _ident("C-", name), visibility, name)
        self.add_channel(where)
        return where

    @staticmethod
    def dm_with(member: Actor) -> Where:
        """The member's private conversation with copbot."""
        return Where(PLATFORM, WORKSPACE, f"D-{member.user_id}", Visibility.DM, DM_NAME)

    def where_of(self, channel: str, here: Where) -> Where:
        """Where a transcript message was said: a DM is not in ``channels`` but stays a DM."""
        if channel in self.channels:
            return self.channels[channel]
        if channel.startswith("D-"):
            return Where(PLATFORM, WORKSPACE, channel, Visibility.DM, DM_NAME)
        return here

    def author(self, user_id: str) -> Actor:
        """The member behind a transcript author id (copbot itself is a bot)."""
        if user_id == BOT_ID:
            return Actor(PLATFORM, BOT_ID, "copbot", WORKSPACE, is_bot=True)
        return self.members.get(user_id) or Actor(PLATFORM, user_id, user_id, WORKSPACE)

    def name(self, user_id: str) -> str:
        return self.author(user_id).display_name
