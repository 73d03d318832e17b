"""Catch up on what was said while copbot was away (a restart, a lost connection).

The core keeps a read mark per channel: the newest message it saw. On start,
for each channel with a mark, ``conversations.history`` is read from that
mark, and ``conversations.replies`` for threads that grew: new threads, and
the recent questions of that channel (``Core.threads_to_recheck``: a reply in
an old thread never shows in history). Each message goes through the same
listener as a live event, so the same rules apply, and replays are harmless
(entries are keyed on the message).
Rate limits are slack_sdk's to handle (429 + ``Retry-After``); pages are
capped so a long absence cannot turn into an unbounded crawl.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from adapters.slack.directory import slack_error
from bot.runtime import AsyncCore
from knowledge.models import ChannelRef

if TYPE_CHECKING:
    from adapters.slack.app import SlackBridge

log = logging.getLogger(__name__)

MAX_PAGES = 20
PAGE_SIZE = 200


@dataclass
class CatchUpReport:
    channels: int = 0
    messages: int = 0
    failures: int = 0


async def catch_up(core: AsyncCore, bridge: SlackBridge) -> CatchUpReport:
    """Read every marked channel from its mark; returns what was read."""
    report = CatchUpReport()
    marks = await core.run(core.core.read_marks, "slack")
    for ref, (last_at, last_ts) in marks.items():
        report.channels += 1
        try:
            report.messages += await _channel(core, bridge, ref, last_ts, last_at)
        except SlackApiError as exc:
            report.failures += 1
            log.warning("catching up on %s failed (%s)", ref.channel, slack_error(exc))
    if report.messages:
        log.info("caught up on %d message(s) in %d channel(s)", report.messages, report.channels)
    return report


async def _channel(
    core: AsyncCore, bridge: SlackBridge, ref: ChannelRef, last_ts: str, last_at: datetime
) -> int:
    body = {"team_id": ref.workspace}
    seen = 0
    threads: set[str] = set()
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        response = await bridge.client.conversations_history(
            channel=ref.channel, oldest=last_ts, inclusive=False, limit=PAGE_SIZE, cursor=cursor
        )
        messages = sorted(response.get("messages") or [], key=lambda m: float(m.get("ts", 0)))
        for message in messages:
            await bridge.on_message(body, {**message, "channel": ref.channel})
            seen += 1
            if message.get("reply_count"):
                threads.add(str(message["ts"]))
        cursor = (response.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            break
    threads |= await core.run(core.core.threads_to_recheck, ref, last_at)
    for thread_ts in sorted(threads):
        response = await bridge.client.conversations_replies(
            channel=ref.channel, ts=thread_ts, oldest=last_ts, inclusive=False, limit=PAGE_SIZE
        )
        for message in response.get("messages") or []:
            if str(message.get("ts")) == thread_ts:
                continue  # the thread's first message: read above, or long ago
            await bridge.on_message(body, {**message, "channel": ref.channel})
            seen += 1
    return seen
