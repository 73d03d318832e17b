"""Read a DiscordChatExporter JSON file (one channel or thread) as core events.

The format: ``guild`` {id, name}, ``channel`` {id, type, categoryId, category,
name, topic}, then ``messages``: [{id, type, timestamp, timestampEdited,
content, author {id, name, nickname, isBot}, reactions [{emoji {id, name},
count, users?}], mentions [{id, name}], reference {messageId, channelId,
guildId}, attachments [{url, fileName}]}].

Streaming with ``ijson`` (through :mod:`knowledge.jsonstream`, which refuses
nesting deeper than 64 levels): the ``messages`` array is parsed one message
at a time, so a multi-gigabyte export runs in constant memory.

Visibility: the file does not say who could read the channel, so its entries
are **private** (seen only in that channel) unless the import says the guild's
channels are public (``public=True``, ``copbot import --public``). A private
thread is always private, a DM always a DM, and a channel type this importer
does not know is private even with ``--public``. A thread exported on
its own (channel type ``Guild*Thread``) is placed as the live adapter places it:
in its parent channel (``categoryId``), its messages in the thread whose id is
the thread's; a message with the thread's own id is a forum post's starter (a
question titled by the thread's name). A private thread is a private channel of
its own. Without a parent id, the thread's first message is its root. Replies by ``reference``
in a plain channel stay top-level with ``reply_to`` set; the core's unthreaded
linker decides what they answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import ijson

from adapters.importers.unknown_kinds import UnknownKinds
from bot.events import Actor, IncomingMessage, ReactionChange, Visibility, Where
from bot.import_replay import ImportItem, Problem, Skipped
from knowledge.jsonstream import JsonLimitError, JsonShapeError, top_level, value_of

PLATFORM = "discord"

KEPT_TYPES = frozenset({"Default", "Reply", "ThreadStarterMessage", "ChatInputCommand"})
SKIPPED_TYPES = frozenset(
    """
    RecipientAdd RecipientRemove Call ChannelNameChange ChannelIconChange ChannelPinnedMessage
    GuildMemberJoin ThreadCreated UserPremiumGuildSubscription GuildBoost GuildBoostTier1
    GuildBoostTier2 GuildBoostTier3 ChannelFollowAdd GuildDiscoveryDisqualified
    GuildDiscoveryRequalified ContextMenuCommand AutoModerationAction StageStart StageEnd
    StageSpeaker StageTopic GuildInviteReminder
    """.split()
)
THREAD_TYPES = frozenset({"GuildPublicThread", "GuildPrivateThread", "GuildNewsThread"})
DM_TYPES = frozenset({"DirectTextChat", "DirectGroupTextChat"})
#: Guild channel types whose entries ``--public`` makes public (DiscordChatExporter's names).
PUBLIC_TYPES = frozenset(
    {"GuildTextChat", "GuildNews", "GuildForum", "GuildMedia", "GuildVoiceChat",
     "GuildStageVoice", "GuildPublicThread", "GuildNewsThread"}
)  # fmt: skip

#: Re-parse a broken file whole to find the line of the error only below this size.
_LOCATE_LIMIT = 16 * 1024 * 1024


class _Counting:
    """A binary file that counts the bytes read through it (for progress)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        return data


def _when(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class DiscordExport:
    """Iterate one DiscordChatExporter JSON file as import items."""

    def __init__(self, path: str | Path, *, include_dms: bool = False, public: bool = False):
        self.path = Path(path)
        self.include_dms = include_dms
        self.public = public
        self.total_bytes = 0
        self.bytes_done = 0
        self._unknown = UnknownKinds("Discord messages", "type")

    def _header(self, key: str) -> dict[str, Any]:
        with self.path.open("rb") as handle:
            value = value_of(handle, key, use_float=True)
        return value if isinstance(value, dict) else {}

    def _visibility(self, kind: str) -> tuple[Visibility, Problem | None]:
        """Unknown means private: public only when said so, for a channel type we know."""
        if kind in DM_TYPES:
            return Visibility.DM, None
        if not self.public or kind == "GuildPrivateThread":
            return Visibility.PRIVATE, None
        if kind in PUBLIC_TYPES:
            return Visibility.PUBLIC, None
        note = f"channel type '{kind or '(none)'}' unknown: its entries are kept private"
        return Visibility.PRIVATE, Problem(str(self.path), note)

    def __iter__(self) -> Iterator[ImportItem]:
        name = str(self.path)
        try:
            self.total_bytes = self.path.stat().st_size
            guild = self._header("guild")
            channel = self._header("channel")
        except OSError as exc:
            yield Problem(name, f"could not read: {exc}")
            return
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            yield self._locate(exc)
            return
        except (JsonLimitError, JsonShapeError) as exc:
            yield Problem(name, f"{exc}; file skipped")
            return
        if not channel.get("id"):
            yield Problem(name, "no 'channel' with an 'id': not a DiscordChatExporter JSON file")
            return
        kind = str(channel.get("type") or "")
        if kind in DM_TYPES and not self.include_dms:
            yield Skipped(
                "direct-message conversations not read (use --include-dms)", 1, "conversation"
            )
            self.bytes_done = self.total_bytes
            return
        visibility, note = self._visibility(kind)
        if note is not None:
            yield note
        guild_id = str(guild.get("id") or "0")
        channel_id = str(channel["id"])
        name = str(channel.get("name") or "")
        where = Where(PLATFORM, guild_id, channel_id, visibility, name)
        state = _State()
        parent = str(channel.get("categoryId") or "")
        is_thread = kind in THREAD_TYPES and kind != "GuildPrivateThread"
        if is_thread and parent:
            # As the live adapter places it (adapters/discord/translate.py): a thread's
            # messages are in its parent channel, in the thread whose id is the thread's.
            where = Where(
                PLATFORM, guild_id, parent, visibility, str(channel.get("category") or "")
            )
            state.thread = channel_id
            state.thread_name = name
        elif is_thread:
            state.thread_name = name  # no parent known: the thread is its own channel
        with self.path.open("rb") as raw:
            counting = _Counting(raw)
            messages = top_level(counting, arrays=("messages",), required=("messages",))
            try:
                for _key, index, message in messages:
                    self.bytes_done = counting.count
                    yield from self._guarded(message, index or 0, where, is_thread, state)
            except (ijson.JSONError, UnicodeDecodeError) as exc:
                yield self._locate(exc)
            except (JsonLimitError, JsonShapeError) as exc:
                yield Problem(str(self.path), f"{exc}; the rest of the file skipped")
        if state.reactions_without_users:
            yield Problem(
                name,
                f"{state.reactions_without_users} reaction(s) without their users: export with "
                "a recent DiscordChatExporter so that a ✅ from the asker can count",
            )
        self.bytes_done = self.total_bytes

    def _guarded(
        self, message: object, index: int, where: Where, is_thread: bool, state: _State
    ) -> Iterator[ImportItem]:
        """One message's events, or a problem naming it when its fields cannot be read."""
        if not isinstance(message, dict):
            yield Problem(str(self.path), f"message #{index + 1} is not an object; skipped")
            yield Skipped("malformed message")
            return
        try:
            items = list(self._message(message, index, where, is_thread, state))
        except (AttributeError, TypeError, ValueError) as exc:
            label = f"#{index + 1}" + (f" ({message['id']})" if message.get("id") else "")
            yield Problem(str(self.path), f"message {label} unreadable ({exc}); skipped")
            yield Skipped("malformed message")
            return
        yield from items

    def _locate(self, exc: Exception) -> Problem:
        """A problem naming the file and, when it can be found, the line of the error."""
        name = str(self.path)
        if isinstance(exc, UnicodeDecodeError):
            return Problem(name, f"not UTF-8 text: {exc.reason}; the rest of the file skipped")
        try:
            if self.path.stat().st_size <= _LOCATE_LIMIT:
                data = self.path.read_bytes()
                try:
                    text = data.decode("utf-8")
                except UnicodeDecodeError as bad:
                    line = data[: bad.start].count(b"\n") + 1
                    return Problem(name, "not UTF-8 text; the rest of the file skipped", line)
                try:
                    json.loads(text)
                except RecursionError:
                    return Problem(name, "nested too deeply; the rest of the file skipped")
                except json.JSONDecodeError as err:
                    return Problem(
                        name,
                        f"bad JSON: {err.msg} (column {err.colno}); the rest of the file skipped",
                        err.lineno,
                    )
        except OSError:
            pass
        return Problem(name, f"bad JSON ({exc}); the rest of the file skipped")

    def _message(
        self,
        message: dict[str, Any],
        index: int,
        where: Where,
        is_thread: bool,
        state: _State,
    ) -> Iterator[ImportItem]:
        name = str(self.path)
        message_id = str(message.get("id") or "")
        created = _when(message.get("timestamp"))
        if not message_id or created is None:
            yield Problem(name, f"message #{index + 1} has no id or timestamp; skipped")
            yield Skipped("malformed message")
            return
        kind = str(message.get("type") or "Default")
        if kind in SKIPPED_TYPES:
            yield Skipped(f"message type {kind}")
            return
        if kind not in KEPT_TYPES:
            yield self._unknown.skipped(kind)
            return
        author_data = message.get("author") or {}
        author = Actor(
            PLATFORM,
            str(author_data.get("id") or ""),
            str(author_data.get("nickname") or author_data.get("name") or ""),
            where.workspace,
            bool(author_data.get("isBot")),
        )
        text = str(message.get("content") or "")
        links = []
        for attachment in message.get("attachments") or []:
            if isinstance(attachment, dict):
                label = attachment.get("fileName") or "attachment"
                url = attachment.get("url") or ""
                links.append(f"[{label}]({url})" if url else str(label))
        if links:
            text = (text + "\n" if text else "") + " ".join(links)
        reference = message.get("reference") or {}
        reply_to = None
        if isinstance(reference, dict) and reference.get("messageId"):
            same_channel = str(reference.get("channelId") or where.channel) == where.channel
            reply_to = str(reference["messageId"]) if same_channel else None
        thread_id = None
        title = ""
        forum_post = False
        if state.thread is not None:
            # The starter of a forum post has the thread's id; other messages answer it.
            thread_id = state.thread
            if message_id == state.thread:
                forum_post, title = True, state.thread_name
        elif is_thread:
            if state.root is None:
                state.root = message_id
                title = state.thread_name
            else:
                thread_id = state.root
        mentions = tuple(
            str(m.get("id")) for m in message.get("mentions") or [] if isinstance(m, dict)
        )
        yield IncomingMessage(
            where=where,
            author=author,
            message_id=message_id,
            text=text,
            created_at=created,
            thread_id=thread_id,
            permalink=f"https://discord.com/channels/{where.workspace}/"
            f"{state.thread or where.channel}/{message_id}",
            title=title,
            is_forum_post=forum_post,
            reply_to=reply_to,
            mentions=mentions,
        )
        for reaction in message.get("reactions") or []:
            if not isinstance(reaction, dict):
                continue
            emoji = reaction.get("emoji") or {}
            emoji_name = str(emoji.get("name") or "") if isinstance(emoji, dict) else ""
            users = reaction.get("users")
            if not emoji_name:
                continue
            if not isinstance(users, list):
                state.reactions_without_users += 1
                continue
            for user in users:
                if isinstance(user, dict) and user.get("id"):
                    yield ReactionChange(
                        where=where,
                        message_id=message_id,
                        actor=Actor(PLATFORM, str(user["id"]), str(user.get("name") or "")),
                        emoji=emoji_name,
                        at=created,
                    )


class _State:
    def __init__(self) -> None:
        self.root: str | None = None
        self.thread: str | None = None
        self.thread_name = ""
        self.reactions_without_users = 0
