"""Slack's platform operations for the shared delivery step (:mod:`adapters.delivery`).

Private replies -> ``chat.postEphemeral`` to the member (falling back to the
slash command's ``response_url``, then to a DM from the app, when the bot may
not post in that channel); public replies -> ``chat.postMessage``, in the
thread when they have one; posts -> ``chat.postMessage``; a message is read
back through ``conversations.history`` (top level) or ``conversations.replies``.
What to send, and what follows a send, is decided in the delivery step. Rate
limits (HTTP 429) are retried by the client's retry handler, not here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.delivery import Delivery, FetchedMessage, Report, SendFailed, Sent
from adapters.slack.blocks import post_blocks, reply_blocks
from adapters.slack.directory import SlackDirectory, slack_error
from adapters.slack.translate import (
    author_id,
    is_bot_message,
    mentioned_users,
    plain_text,
    ts_to_datetime,
)
from bot.config import Settings
from bot.events import Actor, Outbound, Post, Reply, Where
from bot.runtime import AsyncCore

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]

#: Errors that mean "the bot cannot post in this conversation", not "Slack is down".
CANNOT_POST_HERE = frozenset(
    {"channel_not_found", "not_in_channel", "user_not_in_channel", "is_archived"}
)


@dataclass(frozen=True)
class SlackContext:
    """What one Slack delivery may use: the slash command's ``response_url``, if any."""

    respond: Respond | None = None


class SlackOps:
    """Send, post and read messages through Slack's Web API (``PlatformOps``)."""

    def __init__(self, settings: Settings, client: AsyncWebClient, directory: SlackDirectory):
        self.settings = settings
        self.client = client
        self.directory = directory

    async def send_private(self, reply: Reply, context: SlackContext) -> None:
        text, blocks = reply_blocks(reply, self.settings.community.tz)
        user = reply.recipient.user_id if reply.recipient else ""
        try:
            await self.client.chat_postEphemeral(
                channel=reply.where.channel,
                user=user,
                text=text,
                blocks=blocks,
                thread_ts=reply.thread_id,
            )
            return
        except SlackApiError as exc:
            if slack_error(exc) not in CANNOT_POST_HERE:
                raise SendFailed(slack_error(exc)) from exc
        try:
            if context.respond is not None:
                await context.respond(text=text, blocks=blocks, response_type="ephemeral")
            elif not reply.quiet:  # a note from the app, in the member's DM with it
                await self.client.chat_postMessage(channel=user, text=text, blocks=blocks)
            # A quiet offer ("possibly related") is never turned into a DM.
        except SlackApiError as exc:
            raise SendFailed(slack_error(exc)) from exc

    async def send_public(self, reply: Reply, context: SlackContext) -> Sent | None:
        text, blocks = reply_blocks(reply, self.settings.community.tz)
        channel = reply.where.channel
        try:
            response = await self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=reply.thread_id
            )
        except SlackApiError as exc:
            error = slack_error(exc)
            # Not a member of this channel: a command's response_url may still post there,
            # but gives no message id, so a question posted that way could get no answers.
            if error not in CANNOT_POST_HERE or context.respond is None:
                raise SendFailed(_explain(error)) from exc
            if reply.anchor_entry_id is not None:
                raise SendFailed(_explain(error)) from exc
            await context.respond(
                text=text, blocks=blocks, response_type="in_channel", replace_original=False
            )
            return None
        ts = str(response.get("ts") or "")
        if not ts:
            return None
        permalink = ""
        if reply.anchor_entry_id is not None:
            posted_in = str(response.get("channel") or channel)
            permalink = await self.directory.permalink(posted_in, ts)
        return Sent(ts, permalink)

    async def send_post(self, post: Post) -> str | None:
        """A digest or other post nobody asked for in the moment; returns its ``ts``."""
        text, blocks = post_blocks(post)
        try:
            response = await self.client.chat_postMessage(
                channel=post.where.channel, text=text, blocks=blocks, thread_ts=post.thread_id
            )
        except SlackApiError as exc:
            raise SendFailed(slack_error(exc)) from exc
        return str(response.get("ts") or "") or None

    async def read_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message by its ``ts``, raw: top-level through history, else as a thread reply."""
        history = await self.client.conversations_history(
            channel=channel, latest=ts, inclusive=True, limit=1
        )
        for message in history.get("messages") or []:
            if str(message.get("ts")) == ts:
                return dict(message)
        # A reply: its thread from it on (Slack puts the thread's parent first).
        replies = await self.client.conversations_replies(
            channel=channel, ts=ts, oldest=ts, inclusive=True, limit=2
        )
        for message in replies.get("messages") or []:
            if str(message.get("ts")) == ts:
                return dict(message)
        return None

    async def fetch_message(self, where: Where, message_id: str) -> FetchedMessage | None:
        try:
            message = await self.read_message(where.channel, message_id)
        except SlackApiError as exc:
            log.info("could not read message %s (%s)", message_id, slack_error(exc))
            return None
        if message is None:
            return None
        thread_ts = message.get("thread_ts")
        thread_id = str(thread_ts) if thread_ts and thread_ts != message_id else None
        author = await self.directory.actor(
            where.workspace, author_id(message), is_bot=is_bot_message(message)
        )
        raw = str(message.get("text") or "")
        return FetchedMessage(
            text=plain_text(raw, await self.directory.handles(mentioned_users(raw))),
            author=author,
            created_at=ts_to_datetime(message_id),
            permalink=await self.directory.permalink(where.channel, message_id, thread_id),
            thread_id=thread_id,
        )


def _explain(error: str) -> str:
    if error in ("not_in_channel", "channel_not_found"):
        return "copbot is not a member of this channel: invite it with /invite @copbot"
    if error == "is_archived":
        return "this channel is archived"
    return f"Slack said {error}"


class SlackOutbox:
    """The shared delivery step over Slack's operations."""

    def __init__(
        self, core: AsyncCore, settings: Settings, client: AsyncWebClient, directory: SlackDirectory
    ) -> None:
        self.ops = SlackOps(settings, client, directory)
        self.delivery = Delivery(core, self.ops)

    async def deliver(
        self,
        outbound: list[Outbound],
        *,
        respond: Respond | None = None,
        member: Actor | None = None,
    ) -> Report:
        """Send each value; ``member`` is who acted, shown a private reply that names nobody."""
        return await self.delivery.deliver(outbound, SlackContext(respond), actor=member)

    async def post(self, post: Post) -> str | None:
        return await self.ops.send_post(post)
