"""Reading Slack's history back for the shared catch-up (:mod:`adapters.catchup`).

``conversations.history`` with ``oldest`` and no ``latest`` returns the
messages *closest to* ``oldest`` (newest first within the page) and says
``has_more``; moving ``oldest`` to the newest message of each page walks the
gap forward, oldest first, which is what lets the read mark move page by page.
Slack may return fewer messages than asked (15 for some apps): the walk goes
on while ``has_more`` says so. Threads are read with ``conversations.replies``
(chronological), following ``next_cursor``. Each message carries its
reactions, which are applied too, and which say what was taken back: every
reaction is listed, though its ``users`` may be cut short ("we limit it to X
users, and X might change", Slack's ``reactions.get``; ``count`` is always the
whole), so an emoji whose ``count`` exceeds its ``users`` says nothing about
who took theirs back. Rate limits (429) are slack_sdk's to retry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.catchup import Page, ReadFailed, ReadMessage
from adapters.slack.directory import SlackDirectory, slack_error
from adapters.slack.emoji import reaction_name
from adapters.slack.translate import MessageEvent, Payload, ts_to_datetime
from bot.emoji import canonical
from bot.events import IncomingMessage, ReactionChange
from bot.read_marks import Mark
from knowledge.models import ChannelRef


class MessageSource(Protocol):
    """What the history reader needs from the bridge: its client, directory and translation."""

    client: AsyncWebClient
    directory: SlackDirectory

    async def translate_message(self, body: Payload, event: Payload) -> MessageEvent | None: ...

#: Messages asked for per call (Slack's documented advice: no more than 200).
PAGE_SIZE = 200
#: Errors that mean copbot cannot read the channel at all (not a passing outage).
UNREADABLE = frozenset({"not_in_channel", "channel_not_found", "is_archived", "missing_scope"})


class SlackHistory:
    """A ``HistoryReader`` over Slack's Web API."""

    platform = "slack"

    def __init__(self, bridge: MessageSource) -> None:
        self.bridge = bridge
        self.client = bridge.client

    async def channel_pages(self, ref: ChannelRef, after: Mark) -> AsyncIterator[Page]:
        oldest = after[1] if _is_ts(after[1]) else f"{after[0].timestamp():.6f}"
        while True:
            try:
                response = await self.client.conversations_history(
                    channel=ref.channel, oldest=oldest, inclusive=False, limit=PAGE_SIZE
                )
            except SlackApiError as exc:
                error = slack_error(exc)
                raise ReadFailed(error, lasting=error in UNREADABLE) from exc
            raw = [m for m in response.get("messages") or [] if _is_ts(m.get("ts"))]
            if not raw:
                return
            yield await self._page(ref, raw, after)
            oldest = max((str(m["ts"]) for m in raw), key=float)
            if not response.get("has_more"):
                return

    async def thread_pages(
        self, ref: ChannelRef, thread_id: str, after: Mark
    ) -> AsyncIterator[Page]:
        cursor: str | None = None
        while True:
            try:
                response = await self.client.conversations_replies(
                    channel=ref.channel, ts=thread_id, limit=PAGE_SIZE, cursor=cursor
                )
            except SlackApiError as exc:
                error = slack_error(exc)
                if error == "thread_not_found":
                    return  # deleted since: its delete event says so
                raise ReadFailed(error, lasting=error in UNREADABLE) from exc
            raw = [m for m in response.get("messages") or [] if _is_ts(m.get("ts"))]
            if raw:
                yield await self._page(ref, raw, after)
            cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    async def moved_threads(self, ref: ChannelRef, after: Mark) -> set[str]:
        """Slack does not list threads; the core's recent questions stand for them."""
        return set()

    async def _page(self, ref: ChannelRef, raw: list[Payload], after: Mark) -> Page:
        body: Payload = {"team_id": ref.workspace}
        since = float(after[1]) if _is_ts(after[1]) else after[0].timestamp()
        page: Page = []
        where = await self.bridge.directory.where(ref.workspace, ref.channel)
        for message in sorted(raw, key=lambda m: float(m["ts"])):
            ts = str(message["ts"])
            event = await self.bridge.translate_message(body, {**message, "channel": ref.channel})
            page.append(
                ReadMessage(
                    message_id=ts,
                    at=ts_to_datetime(ts),
                    event=event if isinstance(event, IncomingMessage) else None,
                    new=float(ts) > since,
                    reactions=await self._reactions(ref, ts, message),
                    opens_thread=bool(message.get("reply_count"))
                    and message.get("thread_ts") in (None, ts),
                    where=where,
                    cut_short=_cut_short(message),
                )
            )
        return page

    async def _reactions(
        self, ref: ChannelRef, ts: str, message: Payload
    ) -> tuple[ReactionChange, ...]:
        where = await self.bridge.directory.where(ref.workspace, ref.channel)
        now = datetime.now(UTC)
        found: list[ReactionChange] = []
        for reaction in message.get("reactions") or []:
            name = reaction_name(str(reaction.get("name") or ""))
            for user in reaction.get("users") or []:
                actor = await self.bridge.directory.actor(ref.workspace, str(user))
                found.append(ReactionChange(where, ts, actor, name, True, at=now))
        return tuple(found)


def _cut_short(message: Payload) -> frozenset[str]:
    """The emoji (canonical) of ``message`` whose ``users`` Slack did not list in full."""
    cut: set[str] = set()
    for reaction in message.get("reactions") or []:
        users = reaction.get("users") or []
        try:
            whole = int(reaction.get("count") or len(users))
        except (TypeError, ValueError):
            whole = len(users) + 1  # unreadable: assume some are missing
        if whole > len(users):
            cut.add(canonical(reaction_name(str(reaction.get("name") or ""))))
    return frozenset(cut)


def _is_ts(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return bool(value)
