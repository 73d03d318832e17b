"""Discord objects -> the core's neutral events (:mod:`bot.events`). Translation only.

How Discord's places map onto the core's model
-----------------------------------------------
The core's thread model is ``(channel, thread_id = id of the thread's root
message)``. Discord threads are channels of their own, so we map them back:

* **workspace** = the guild id; **channel** = the channel id (both as text).
* A message **in a thread** (text-channel thread or forum post) is located in
  the thread's **parent** channel, with ``thread_id`` = the thread id.
* A thread started from a text-channel message has the **same id as that
  message**, so the message (a top-level question in the parent) is the root
  of the thread and the replies in the thread are its answers.
* A **forum post** is a thread whose starter message also has the thread's id.
  That starter message is sent in the thread, so it is located in the forum
  channel with ``thread_id == message_id``: a top-level message, marked
  ``is_forum_post`` (always a question), titled by the post's name, tagged by
  its forum tags. Replies in the post are answers of it.
* A message's ``message_id`` is always its own id, so creates, edits, deletes
  and reactions of the same message always hit the same entry.
* A thread with no starter message (created from the thread list) has no
  root entry: its messages are kept as answers waiting for a root.
* A **private thread** is seen only by its members, so it is a private
  channel of its own (``channel`` = the thread id, no ``thread_id``): what is
  said there never shows up in searches from the parent channel.

Visibility comes from permissions: a channel the @everyone role cannot view is
``private``; a private thread is ``private``; a DM is ``dm``. When a channel
cannot be resolved at all we say ``private``: an unknown place must never leak.
A server that gates channels behind a member role (``@everyone`` sees nothing
until a member is verified) names that role in ``[discord] everyone_roles``:
a channel such a role may view counts as public too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import discord

from bot.events import (
    Actor,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    ReactionChange,
    Visibility,
    Where,
)

PLATFORM = "discord"

#: Message types people write (default and reply); system messages are skipped.
_CHAT_TYPES = (discord.MessageType.default, discord.MessageType.reply)

AnyChannel = (
    discord.abc.GuildChannel
    | discord.Thread
    | discord.abc.PrivateChannel
    | discord.PartialMessageable
)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a Discord channel sits in the core's model."""

    where: Where
    thread_id: str | None = None
    thread: discord.Thread | None = None
    is_forum: bool = False
    #: The id of the Discord channel that actually holds the messages (the thread's own id).
    source_channel_id: int = 0


#: Roles (ids, or names compared case-insensitively) that count as "everyone".
EveryoneRoles = tuple[int | str, ...]


def _everyone(guild: discord.Guild, roles: EveryoneRoles) -> list[discord.Role]:
    """@everyone (its id is the guild's), and the roles configured to count as it."""
    found = [role for role in (guild.get_role(guild.id),) if role is not None]
    names = {str(r).casefold() for r in roles if isinstance(r, str)}
    ids = {r for r in roles if isinstance(r, int)}
    found += [r for r in guild.roles if r.id in ids or r.name.casefold() in names]
    return found


def visibility_of(channel: AnyChannel | None, everyone_roles: EveryoneRoles = ()) -> Visibility:
    """Public when @everyone (or a role that counts as it) may view the channel (a thread:
    its parent), else private."""
    if isinstance(channel, discord.DMChannel | discord.GroupChannel):
        return Visibility.DM
    if isinstance(channel, discord.Thread):
        if channel.type == discord.ChannelType.private_thread:
            return Visibility.PRIVATE
        parent = channel.parent
        if parent is None:
            return Visibility.PRIVATE
        channel = parent
    if isinstance(channel, discord.abc.GuildChannel):
        if channel.guild.get_role(channel.guild.id) is None:
            return Visibility.PRIVATE  # a guild we have not been sent yet: we cannot tell
        if any(
            channel.permissions_for(role).view_channel
            for role in _everyone(channel.guild, everyone_roles)
        ):
            return Visibility.PUBLIC
        return Visibility.PRIVATE
    return Visibility.PRIVATE


def place_of(
    channel: AnyChannel | None,
    guild_id: int | None,
    channel_id: int,
    everyone_roles: EveryoneRoles = (),
) -> Place:
    """Locate a channel (thread, forum post, text channel, DM) in the core's model."""
    workspace = str(guild_id) if guild_id else ""
    if channel is None or isinstance(channel, discord.PartialMessageable):
        if not guild_id:
            return Place(
                Where(PLATFORM, "", str(channel_id), Visibility.DM, "DM"),
                source_channel_id=channel_id,
            )
        return Place(
            Where(PLATFORM, workspace, str(channel_id), Visibility.PRIVATE),
            source_channel_id=channel_id,
        )
    visibility = visibility_of(channel, everyone_roles)
    if isinstance(channel, discord.DMChannel | discord.GroupChannel):
        return Place(
            Where(PLATFORM, "", str(channel.id), Visibility.DM, "DM"),
            source_channel_id=channel.id,
        )
    if isinstance(channel, discord.Thread) and channel.type == discord.ChannelType.private_thread:
        # Only its members see a private thread: it is a private channel of its own, so
        # what is said there never shows up in searches from the parent channel.
        return Place(
            Where(
                PLATFORM, str(channel.guild.id), str(channel.id), Visibility.PRIVATE, channel.name
            ),
            thread=channel,
            source_channel_id=channel.id,
        )
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        parent_name = parent.name if parent is not None else ""
        return Place(
            Where(PLATFORM, str(channel.guild.id), str(channel.parent_id), visibility, parent_name),
            thread_id=str(channel.id),
            thread=channel,
            is_forum=isinstance(parent, discord.ForumChannel),
            source_channel_id=channel.id,
        )
    name = getattr(channel, "name", "") or ""
    guild = getattr(channel, "guild", None)
    workspace = str(guild.id) if guild is not None else workspace
    return Place(
        Where(PLATFORM, workspace, str(channel.id), visibility, name),
        source_channel_id=channel.id,
    )


def actor_of(user: discord.abc.User, workspace: str = "", *, webhook: bool = False) -> Actor:
    return Actor(
        platform=PLATFORM,
        user_id=str(user.id),
        display_name=user.display_name,
        workspace=workspace,
        is_bot=bool(user.bot) or webhook,
    )


def split_tags(names: Iterable[str], solved_tags: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """A post's tag names as (our topic tags, solved?): a 'solved' tag is a state, not a topic."""
    solved = {s.casefold() for s in solved_tags}
    names = tuple(names)
    topics = tuple(n for n in names if n.casefold() not in solved)
    return topics, any(n.casefold() in solved for n in names)


def forum_tags(thread: discord.Thread, solved_tags: tuple[str, ...]) -> tuple[str, ...]:
    """The post's forum tags as our tags (without the 'solved' ones)."""
    return split_tags((t.name for t in thread.applied_tags), solved_tags)[0]


def is_solved(thread: discord.Thread, solved_tags: tuple[str, ...]) -> bool:
    """Whether one of the configured 'solved' tags is applied to the post."""
    return split_tags((t.name for t in thread.applied_tags), solved_tags)[1]


def is_chat_message(message: discord.Message) -> bool:
    """Messages people wrote (not joins, pins, 'thread created' notices)."""
    return message.type in _CHAT_TYPES


def message_event(
    message: discord.Message, place: Place, solved_tags: tuple[str, ...]
) -> IncomingMessage:
    """A chat message as the core sees it (see the module docstring for the mapping)."""
    workspace = place.where.workspace
    message_id = str(message.id)
    is_forum_post = place.is_forum and place.thread_id == message_id
    title = ""
    tags: tuple[str, ...] = ()
    if is_forum_post and place.thread is not None:
        title = place.thread.name
        tags = forum_tags(place.thread, solved_tags)
    return IncomingMessage(
        where=place.where,
        author=actor_of(message.author, workspace, webhook=message.webhook_id is not None),
        message_id=message_id,
        text=message.content,
        created_at=message.created_at.astimezone(UTC),
        thread_id=place.thread_id,
        permalink=message.jump_url,
        event_id=f"create:{message.id}",
        tags=tags,
        title=title,
        is_forum_post=is_forum_post,
    )


def edit_event(message: discord.Message, place: Place) -> MessageEdited | None:
    """A user's edit; ``None`` for updates that are not edits (embeds resolving, pins)."""
    if message.edited_at is None:
        return None
    edited_at = message.edited_at.astimezone(UTC)
    return MessageEdited(
        where=place.where,
        message_id=str(message.id),
        text=message.content,
        edited_at=edited_at,
        event_id=f"edit:{message.id}:{edited_at.isoformat()}",
        editor=actor_of(message.author, place.where.workspace),
    )


def delete_event(message_id: int, place: Place) -> MessageDeleted:
    return MessageDeleted(
        where=place.where, message_id=str(message_id), event_id=f"delete:{message_id}"
    )


def reaction_event(
    payload: discord.RawReactionActionEvent, place: Place, user: discord.abc.User | None
) -> ReactionChange:
    """A reaction added or removed. Unicode emoji arrive as the character (✅)."""
    emoji = payload.emoji.name or str(payload.emoji)
    workspace = place.where.workspace
    actor = (
        actor_of(user, workspace)
        if user is not None
        else Actor(PLATFORM, str(payload.user_id), "", workspace)
    )
    return ReactionChange(
        where=place.where,
        message_id=str(payload.message_id),
        actor=actor,
        emoji=emoji,
        added=payload.event_type == "REACTION_ADD",
        at=datetime.now(UTC),
    )
