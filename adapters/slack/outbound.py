"""Sending what the core says back to Slack.

``Reply.ephemeral`` -> ``chat.postEphemeral`` to the member (falling back to the
slash command's ``response_url``, then to a DM from the app, when the bot may
not post in that channel); other replies -> ``chat.postMessage``, in the thread
when they have one. A reply anchored to an entry (``/cop ask``) tells the core
which message carries it. ``FetchMessage`` reads the message from Slack and
hands it back to the core as a ``SaveRequest``. Rate limits (HTTP 429) are
retried by the client's retry handler, not here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

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
from bot.events import Actor, FetchMessage, Outbound, Post, Reply, SaveRequest
from bot.runtime import AsyncCore

log = logging.getLogger(__name__)

Respond = Callable[..., Awaitable[Any]]

#: Errors that mean "the bot cannot post in this conversation", not "Slack is down".
_CANNOT_POST_HERE = frozenset(
    {"channel_not_found", "not_in_channel", "user_not_in_channel", "is_archived"}
)


class SlackOutbox:
    """Renders and sends the core's outbound values; never raises on a Slack error."""

    def __init__(
        self, core: AsyncCore, settings: Settings, client: AsyncWebClient, directory: SlackDirectory
    ) -> None:
        self.core = core
        self.settings = settings
        self.client = client
        self.directory = directory

    async def deliver(
        self,
        outbound: list[Outbound],
        *,
        respond: Respond | None = None,
        member: Actor | None = None,
        depth: int = 0,
    ) -> None:
        """Send each value; ``member`` is who acted, shown a private reply that names nobody."""
        for item in outbound:
            try:
                if isinstance(item, Reply):
                    if item.ephemeral and item.recipient is None and member is not None:
                        item = replace(item, recipient=member)
                    await self._reply(item, respond)
                elif isinstance(item, Post):
                    await self.post(item)
                elif isinstance(item, FetchMessage) and depth == 0:
                    await self._fetch_and_save(item, respond)
            except SlackApiError as exc:
                log.warning("Slack refused a %s (%s)", type(item).__name__, slack_error(exc))

    async def _reply(self, reply: Reply, respond: Respond | None) -> None:
        text, blocks = reply_blocks(reply, self.settings.community.tz)
        channel = reply.where.channel
        if reply.ephemeral:
            user = reply.recipient.user_id if reply.recipient else ""
            if not user:
                log.info("dropping an ephemeral reply with nobody to show it to")
                return
            try:
                await self.client.chat_postEphemeral(
                    channel=channel,
                    user=user,
                    text=text,
                    blocks=blocks,
                    thread_ts=reply.thread_id,
                )
                return
            except SlackApiError as exc:
                if slack_error(exc) not in _CANNOT_POST_HERE:
                    raise
            if respond is not None:
                await respond(text=text, blocks=blocks, response_type="ephemeral")
            else:
                await self.client.chat_postMessage(channel=user, text=text, blocks=blocks)
            return
        try:
            response = await self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=reply.thread_id
            )
        except SlackApiError as exc:
            if slack_error(exc) not in _CANNOT_POST_HERE or respond is None:
                raise
            # Not a member of this channel: a command's response_url may still post there.
            await respond(
                text=text, blocks=blocks, response_type="in_channel", replace_original=False
            )
            return
        ts = str(response.get("ts") or "")
        if reply.anchor_entry_id is not None and ts:
            permalink = await self.directory.permalink(str(response.get("channel") or channel), ts)
            # A /cop ask question now has its message: similar past answers may follow.
            follow_up = await self.core.link_posted_message(reply.anchor_entry_id, ts, permalink)
            await self.deliver(follow_up)
        if reply.suggestion_id is not None and ts:
            # Reactions on this message are feedback on the suggestion.
            await self.core.reply_posted(reply, ts)

    async def post(self, post: Post) -> str | None:
        """A digest or other post nobody asked for in the moment; returns its ``ts``."""
        text, blocks = post_blocks(post)
        response = await self.client.chat_postMessage(
            channel=post.where.channel, text=text, blocks=blocks, thread_ts=post.thread_id
        )
        return str(response.get("ts") or "") or None

    async def fetch_message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """One message by its ``ts``: top-level through history, else as a thread reply."""
        history = await self.client.conversations_history(
            channel=channel, latest=ts, inclusive=True, limit=1
        )
        for message in history.get("messages") or []:
            if str(message.get("ts")) == ts:
                return dict(message)
        replies = await self.client.conversations_replies(
            channel=channel, ts=ts, latest=ts, inclusive=True, limit=1
        )
        for message in replies.get("messages") or []:
            if str(message.get("ts")) == ts:
                return dict(message)
        return None

    async def _fetch_and_save(self, fetch: FetchMessage, respond: Respond | None) -> None:
        where = fetch.where
        message = await self.fetch_message(where.channel, fetch.message_id)
        if message is None:
            notice = "I could not read that message; nothing was saved."
            await self._reply(Reply(where, notice, recipient=fetch.saver), respond)
            return
        thread_ts = message.get("thread_ts")
        thread_id = str(thread_ts) if thread_ts and thread_ts != fetch.message_id else None
        author = await self.directory.actor(
            where.workspace, author_id(message), is_bot=is_bot_message(message)
        )
        raw = str(message.get("text") or "")
        request = SaveRequest(
            where=where,
            saver=fetch.saver,
            message_id=fetch.message_id,
            text=plain_text(raw, await self.directory.handles(mentioned_users(raw))),
            author=author,
            created_at=ts_to_datetime(fetch.message_id),
            kind=fetch.kind,
            permalink=await self.directory.permalink(where.channel, fetch.message_id, thread_id),
            thread_id=thread_id,
        )
        out = await self.core.handle(request)
        await self.deliver(out, respond=respond, member=fetch.saver, depth=1)
