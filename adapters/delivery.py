"""Sending what the core says: the reply rules, written once for every platform.

The core answers an event with neutral values (:class:`~bot.events.Reply`,
:class:`~bot.events.Post`, :class:`~bot.events.FetchMessage`). What to do with
them is the same everywhere, so it lives here:

* a private (ephemeral) reply goes to its recipient, else to the member who
  acted; one with nobody to show it to is dropped;
* a public reply goes into its thread when it has one;
* a reply anchored to an entry (``/cop ask``) must get a message id: the
  question is then bound to it (``Core.link_posted_message``) and what the
  core says next (similar past answers) follows in its thread. If the
  platform refuses to post it, the question is withdrawn, so no entry is left
  pointing at a message nobody can see, and the member is told why;
* a reply listing suggestions reports the message id it got
  (``Core.reply_posted``), so reactions and buttons on it count as feedback;
* a :class:`~bot.events.FetchMessage` (a 📌 on a message the core never kept)
  reads the message and hands it back to the core as a
  :class:`~bot.events.SaveRequest`, once (a save never fetches again).

An adapter supplies only its platform's operations (:class:`PlatformOps`):
send a private reply, send a public reply and return its id, send a post,
fetch a message. Each operation turns a refusal from its platform into
:class:`SendFailed`; anything else is a bug and propagates.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from bot.events import Actor, FetchMessage, Outbound, Post, Reply, Where
from bot.runtime import AsyncCore

log = logging.getLogger(__name__)

#: What one delivery carries for its platform (an interaction to answer, a response URL...).
C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)


class SendFailed(Exception):
    """The platform refused to send (no permission, channel gone...); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Sent:
    """A public message the platform accepted: its id, and a link to it when known."""

    message_id: str
    permalink: str = ""


@dataclass(frozen=True, slots=True)
class FetchedMessage:
    """A message read back from the platform, to be saved."""

    text: str
    author: Actor
    created_at: datetime
    permalink: str = ""
    thread_id: str | None = None


class PlatformOps(Protocol[C_contra]):
    """The operations one platform supplies to :class:`Delivery`."""

    async def send_private(self, reply: Reply, context: C_contra) -> None:
        """Show ``reply`` to ``reply.recipient`` only."""
        ...

    async def send_public(self, reply: Reply, context: C_contra) -> Sent | None:
        """Post ``reply`` for everybody (in ``reply.thread_id`` when set).

        ``None`` when it was posted without a message id the core could use.
        An anchored reply (``reply.anchor_entry_id``) is a question being
        asked: a platform with threads opens one under it.
        """
        ...

    async def send_post(self, post: Post) -> str | None:
        """Post a message nobody asked for in the moment (a digest); its id."""
        ...

    async def fetch_message(self, where: Where, message_id: str) -> FetchedMessage | None:
        """Read a message back; ``None`` when it is gone or cannot be read."""
        ...


@dataclass
class Report:
    """What one delivery did: the caller may need to close an interaction."""

    private_replies: int = 0
    public: list[Sent] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


class Delivery(Generic[C]):
    """Sends the core's outbound values through one platform's operations."""

    def __init__(self, core: AsyncCore, ops: PlatformOps[C]) -> None:
        self.core = core
        self.ops = ops

    async def deliver(
        self, outbound: list[Outbound], context: C, *, actor: Actor | None = None
    ) -> Report:
        """Send each value; ``actor`` (who acted) gets private replies that name nobody."""
        report = Report()
        await self._deliver(outbound, context, actor, report, fetches=True)
        return report

    async def _deliver(
        self,
        outbound: list[Outbound],
        context: C,
        actor: Actor | None,
        report: Report,
        *,
        fetches: bool,
    ) -> None:
        for item in outbound:
            try:
                if isinstance(item, Reply) and item.ephemeral:
                    await self._private(item, context, actor, report)
                elif isinstance(item, Reply):
                    await self._public(item, context, actor, report)
                elif isinstance(item, Post):
                    await self.ops.send_post(item)
                elif isinstance(item, FetchMessage) and fetches:
                    await self._fetch_and_save(item, context, report)
            except SendFailed as exc:
                report.failures.append(exc.reason)
                log.warning(
                    "could not send a %s to %s: %s", type(item).__name__, item.where.ref, exc
                )

    async def _private(self, reply: Reply, context: C, actor: Actor | None, report: Report) -> None:
        if reply.recipient is None:
            if actor is None:
                log.info("dropping a private reply with nobody to show it to")
                return
            reply = replace(reply, recipient=actor)
        await self.ops.send_private(reply, context)
        report.private_replies += 1

    async def _public(self, reply: Reply, context: C, actor: Actor | None, report: Report) -> None:
        try:
            sent = await self.ops.send_public(reply, context)
        except SendFailed as exc:
            if reply.anchor_entry_id is None:
                raise
            await self._withdraw(reply, exc.reason, context, actor, report)
            return
        if sent is None:
            if reply.anchor_entry_id is not None:
                await self._withdraw(reply, "no message id came back", context, actor, report)
            return
        report.public.append(sent)
        if reply.anchor_entry_id is not None:
            # A /cop ask question now has its message: similar past answers may follow.
            follow_up = await self.core.link_posted_message(
                reply.anchor_entry_id, sent.message_id, sent.permalink
            )
            await self._deliver(follow_up, context, actor, report, fetches=False)
        if reply.suggestion_id is not None:
            # Reactions and buttons on this message are feedback on the suggestion.
            await self.core.reply_posted(reply, sent.message_id)

    async def _withdraw(
        self, reply: Reply, reason: str, context: C, actor: Actor | None, report: Report
    ) -> None:
        """A question that could not be posted is not kept: nobody could answer it."""
        assert reply.anchor_entry_id is not None
        await self.core.withdraw_question(reply.anchor_entry_id)
        report.failures.append(reason)
        notice = Reply(
            where=reply.where,
            text=f"I could not post your question here ({reason}), so it was not kept. "
            "Ask an admin to let copbot post in this channel, or ask in another one.",
            recipient=reply.recipient or actor,
            thread_id=reply.thread_id,
        )
        await self._private(notice, context, actor, report)

    async def _fetch_and_save(self, fetch: FetchMessage, context: C, report: Report) -> None:
        message = await self.ops.fetch_message(fetch.where, fetch.message_id)
        if message is None:
            notice = "I could not read that message; nothing was saved."
            await self._private(Reply(fetch.where, notice), context, fetch.saver, report)
            return
        request = fetch.saved(
            text=message.text,
            author=message.author,
            created_at=message.created_at,
            permalink=message.permalink,
            thread_id=message.thread_id,
        )
        out = await self.core.handle(request)
        await self._deliver(out, context, fetch.saver, report, fetches=False)


__all__ = ["Delivery", "FetchedMessage", "PlatformOps", "Report", "SendFailed", "Sent"]
