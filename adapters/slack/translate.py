"""Slack payloads -> the core's events. Translation only: no rule about what counts.

Whether a message is a question, an answer or nothing is decided by the core
(``bot.capture``). Here we only say what Slack means: which message, in which
channel, by whom, with which visibility, and Slack's ``event_id`` so that a
retried delivery (HTTP ``X-Slack-Retry-Num`` or a Socket Mode redelivery) is
recognised by the core's dedup on ``(platform, event_id)``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.slack.emoji import reaction_name
from bot.events import (
    Actor,
    ChannelVisibilityChanged,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    ReactionChange,
    Visibility,
    Where,
)

PLATFORM = "slack"

#: Message subtypes that carry something a member said. Every other subtype
#: (channel_join, channel_leave, channel_topic, bot_add, ...) is not a message
#: from a person and is ignored.
SPOKEN_SUBTYPES = frozenset({None, "", "thread_broadcast", "file_share", "me_message"})

#: Notices Slack posts in a channel made private or public (with the new ``channel_type``).
CONVERSION_SUBTYPES = {
    "channel_convert_to_private": Visibility.PRIVATE,
    "channel_convert_to_public": Visibility.PUBLIC,
}

#: Slack's ``channel_type`` -> visibility. ``mpim`` (group DM) is a DM.
_CHANNEL_TYPES = {
    "channel": Visibility.PUBLIC,
    "group": Visibility.PRIVATE,
    "im": Visibility.DM,
    "mpim": Visibility.DM,
}

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^<>]*)?>")


def mentioned_users(text: str) -> list[str]:
    """The user ids mentioned in a Slack message's text, in order, once each."""
    if not text or "<@" not in text:  # most messages (an import reads millions)
        return []
    return list(dict.fromkeys(_MENTION.findall(text)))


Payload = dict[str, Any]
#: What one Slack ``message`` event means to the core.
MessageEvent = IncomingMessage | MessageEdited | MessageDeleted | ChannelVisibilityChanged


def visibility_from_channel_type(channel_type: str | None) -> Visibility | None:
    """The visibility Slack's ``channel_type`` says, or ``None`` when it says nothing."""
    return _CHANNEL_TYPES.get(channel_type or "")


def guess_visibility(channel_id: str, channel_name: str = "") -> Visibility:
    """When Slack would not tell us: DMs by their id or name, anything else private.

    Guessing *private* for an unknown channel is the safe side of the
    visibility rule: its entries are then shown only in that same channel.
    """
    if channel_id.startswith("D") or channel_name in {"directmessage"}:
        return Visibility.DM
    if channel_name.startswith("mpdm-"):
        return Visibility.DM
    return Visibility.PRIVATE


def ts_to_datetime(ts: str | float | None) -> datetime:
    """A Slack ``ts`` ("1700000000.000100") as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(float(ts or 0), UTC)
    except (TypeError, ValueError, OverflowError):
        return datetime.fromtimestamp(0, UTC)


def plain_text(text: str, handles: Mapping[str, str] | None = None) -> str:
    """Slack's message markup as readable text.

    ``&amp;`` escapes are undone; ``<https://x|label>`` becomes ``label (https://x)``;
    ``<#C1|name>`` becomes ``#name``; ``<!here>`` becomes ``@here``. A user mention
    ``<@U1>`` becomes ``@handle`` when ``handles`` knows U1, else stays as Slack wrote
    it (the core strips both forms from the start of a question).
    """

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            handle = (handles or {}).get(target[1:]) or label
            return f"@{handle}" if handle else match.group(0)
        if target.startswith("#"):
            return f"#{label}" if label else target
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^", 1)[0])
        return f"{label} ({target})" if label and label != target else target

    if not text or ("<" not in text and "&" not in text):
        return text or ""  # no markup and no escape: as it is (most messages)
    return html.unescape(_LINK.sub(link, text))


def envelope_event_id(body: Payload) -> str:
    """Slack's id for one event delivery; the same on every retry of it."""
    return str(body.get("event_id") or "")


def bot_user_of(body: Payload) -> str:
    """The bot's own user id, from the Events API envelope's ``authorizations``."""
    authorizations = body.get("authorizations") or []
    if authorizations and isinstance(authorizations[0], dict):
        return str(authorizations[0].get("user_id") or "")
    return ""


def team_of(body: Payload) -> str:
    """The workspace (team id) of an Events API, command or interactivity payload."""
    team = body.get("team_id") or body.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    if not team and isinstance(body.get("user"), dict):
        team = body["user"].get("team_id")
    return str(team or "")


def message_where(event: Payload, where: Where) -> Where:
    """``where`` with the visibility the event's ``channel_type`` gives, when it gives one."""
    vis = visibility_from_channel_type(event.get("channel_type"))
    if vis is None or vis == where.visibility:
        return where
    return Where(where.platform, where.workspace, where.channel, vis, where.channel_name)


def author_id(message: Payload) -> str:
    """The user who wrote ``message`` (a bot's id for bot messages)."""
    return str(message.get("user") or message.get("bot_id") or "")


def is_bot_message(message: Payload) -> bool:
    return bool(message.get("bot_id")) or message.get("subtype") == "bot_message"


def message_event(
    body: Payload,
    event: Payload,
    where: Where,
    author: Actor,
    permalink: str = "",
    handles: Mapping[str, str] | None = None,
) -> MessageEvent | None:
    """One Slack ``message`` event (any subtype) as a core event, or ``None`` to ignore it."""
    event_id = envelope_event_id(body)
    subtype = event.get("subtype")
    if subtype in CONVERSION_SUBTYPES:
        made = CONVERSION_SUBTYPES[str(subtype)]
        changed = Where(where.platform, where.workspace, where.channel, made, where.channel_name)
        return ChannelVisibilityChanged(changed, ts_to_datetime(event.get("ts")), event_id)
    if subtype == "message_changed":
        return _edited(event, where, event_id, handles)
    if subtype == "message_deleted":
        deleted = str(event.get("deleted_ts") or "")
        return MessageDeleted(where, deleted, event_id=event_id) if deleted else None
    if subtype not in SPOKEN_SUBTYPES or not event.get("ts"):
        return None
    ts = str(event["ts"])
    thread_ts = event.get("thread_ts")
    if not isinstance(thread_ts, str | None):
        thread_ts = None  # not a Slack ts: the message is read as a top-level one
    return IncomingMessage(
        where=where,
        author=author,
        message_id=ts,
        text=plain_text(str(event.get("text") or ""), handles),
        created_at=ts_to_datetime(ts),
        thread_id=str(thread_ts) if thread_ts else None,
        permalink=permalink,
        event_id=event_id,
    )


def _edited(
    event: Payload, where: Where, event_id: str, handles: Mapping[str, str] | None
) -> MessageEdited | MessageDeleted | None:
    new: Payload = event.get("message") or {}
    old: Payload = event.get("previous_message") or {}
    ts = str(new.get("ts") or "")
    if not ts:
        return None
    if new.get("subtype") == "tombstone":
        # A thread's root deleted while it has replies: Slack keeps a tombstone.
        return MessageDeleted(where, ts, event_id=event_id)
    text = str(new.get("text") or "")
    if text == str(old.get("text") or "") and old:
        return None  # reply counts, unfurls, pins: nothing the member said changed
    edited: Payload = new.get("edited") or {}
    at = ts_to_datetime(edited.get("ts") or event.get("event_ts") or ts)
    editor_id = str(edited.get("user") or new.get("user") or "")
    editor = Actor(PLATFORM, editor_id, workspace=where.workspace) if editor_id else None
    return MessageEdited(where, ts, plain_text(text, handles), at, event_id=event_id, editor=editor)


def reaction_event(
    body: Payload, event: Payload, where: Where, actor: Actor
) -> ReactionChange | None:
    """``reaction_added`` / ``reaction_removed`` on a message, or ``None`` (files, etc.)."""
    item: Payload = event.get("item") or {}
    if item.get("type") != "message" or not item.get("ts"):
        return None
    return ReactionChange(
        where=where,
        message_id=str(item["ts"]),
        actor=actor,
        emoji=reaction_name(str(event.get("reaction") or "")),
        added=event.get("type") == "reaction_added",
        event_id=envelope_event_id(body),
        at=ts_to_datetime(event.get("event_ts")),
    )


def split_tags(text: str) -> tuple[str, ...]:
    """Tags typed in a modal: ``pandas, #memory  io`` -> ``("pandas", "memory", "io")``."""
    parts = re.split(r"[,\s]+", text or "")
    seen: dict[str, None] = {}
    for part in parts:
        tag = part.strip().lstrip("#").strip()
        if tag:
            seen.setdefault(tag.lower(), None)
    return tuple(seen)


def permalink_from_url(workspace_url: str, channel: str, ts: str, thread_ts: str | None) -> str:
    """A message's link built from the workspace URL, as Slack's own permalinks look."""
    if not workspace_url:
        return ""
    base = workspace_url.rstrip("/")
    link = f"{base}/archives/{channel}/p{ts.replace('.', '')}"
    if thread_ts and thread_ts != ts:
        link += f"?thread_ts={thread_ts}&cid={channel}"
    return link
