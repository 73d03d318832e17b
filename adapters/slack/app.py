"""The Bolt app: Slack's events, command, shortcuts and buttons -> the core.

Every listener acknowledges first (Slack wants an answer within 3 seconds),
then translates the payload, awaits the core on its database thread, and
sends what the core says. Events need no explicit ``ack``: Bolt answers 200
as soon as the listener is scheduled (or, with ``process_before_response``,
when it is done, which is what the tests use to wait without sleeping).

Retries never make duplicates: Slack's ``event_id`` travels on every core
event and the core keeps each one once; entries are keyed on the message too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Coroutine
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.catchup import CatchUp
from adapters.slack.blocks import (
    ACCEPT_SHORTCUT,
    FEEDBACK_ACTIONS,
    MAX_METADATA_CHARS,
    SAVE_MODAL,
    SAVE_SHORTCUT,
    SHARE_ACTION,
    save_modal,
)
from adapters.slack.catchup import SlackHistory
from adapters.slack.directory import SlackDirectory, slack_error
from adapters.slack.outbound import SlackOutbox
from adapters.slack.translate import (
    SPOKEN_SUBTYPES,
    MessageEvent,
    Payload,
    author_id,
    bot_user_of,
    envelope_event_id,
    is_bot_message,
    mentioned_users,
    message_event,
    message_where,
    plain_text,
    reaction_event,
    split_tags,
    team_of,
    ts_to_datetime,
)
from bot.capture import channel_ref
from bot.config import Settings
from bot.events import (
    AcceptMark,
    Actor,
    BotJoinedChannel,
    CommandInvocation,
    InboundEvent,
    KnowhowKind,
    MemberLeftChannel,
    SaveRequest,
    ShareRequest,
    SuggestionFeedback,
    Where,
)
from bot.runtime import AsyncCore
from knowledge.text import extract_tags, title_from

log = logging.getLogger(__name__)


class _QuietClientWarning(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN goes unused when a client is given; the client uses it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


BOLT_LOGGER = logging.getLogger("copbot.slack.bolt")
BOLT_LOGGER.addFilter(_QuietClientWarning())


async def skip_if_malformed(body: Payload, work: Coroutine[Any, Any, None]) -> None:
    """Run an event listener; a payload it cannot read is logged once, with its id, and skipped.

    Slack would retry an event whose delivery failed, three times, with the same
    broken payload: acknowledging and skipping it is the friendly answer.
    """
    try:
        await work
    except SlackApiError:
        raise  # Slack refused a call: Bolt's error handler reports it
    except Exception:
        raw = body.get("event")
        event: Payload = raw if isinstance(raw, dict) else {}
        log.exception(
            "skipped Slack event %s (%s): its payload could not be read",
            envelope_event_id(body) or "?",
            event.get("type") or "?",
        )


class SlackBridge:
    """Listeners that turn Slack payloads into core events and send the results."""

    def __init__(self, core: AsyncCore, settings: Settings, client: AsyncWebClient) -> None:
        self.core = core
        self.settings = settings
        self.client = client
        self.directory = SlackDirectory(client, settings.slack.workspace_url)
        self.outbox = SlackOutbox(core, settings, client, self.directory)
        self.catchup = CatchUp(core, SlackHistory(self), self.handle)

    # ------------------------------------------------------------------ events

    async def on_message(self, body: Payload, event: Payload) -> None:
        if not isinstance(event.get("channel"), str) or not event.get("channel"):
            log.warning("skipped Slack event %s: no channel", envelope_event_id(body))
            return
        core_event = await self.translate_message(body, event)
        if core_event is not None:
            await self.handle(core_event)

    async def handle(self, event: InboundEvent, member: Actor | None = None) -> None:
        """Let the core answer an event and send what it says (live or caught up)."""
        await self.outbox.deliver(await self.core.handle(event), member=member)

    async def translate_message(self, body: Payload, event: Payload) -> MessageEvent | None:
        """A ``message`` event (or a message read from history) as the core's event."""
        team = team_of(body)
        subtype = event.get("subtype")
        message: Payload = event
        if subtype == "message_changed":
            message = event.get("message") or {}
        where = message_where(event, await self.directory.where(team, str(event.get("channel"))))
        self.directory.note_visibility(where.channel, where.visibility)
        bot = is_bot_message(message)
        author = await self.directory.actor(team, author_id(message), is_bot=bot)
        permalink = ""
        if subtype in SPOKEN_SUBTYPES and not bot and event.get("ts"):
            permalink = await self.directory.permalink(
                where.channel, str(event["ts"]), event.get("thread_ts")
            )
        handles = await self.directory.handles(mentioned_users(str(message.get("text") or "")))
        return message_event(body, event, where, author, permalink, handles)

    async def on_reaction(self, body: Payload, event: Payload) -> None:
        team = team_of(body)
        item: Payload = event.get("item") or {}
        if item.get("type") != "message":
            return
        where = await self.directory.where(team, str(item.get("channel")))
        actor = await self.directory.actor(team, str(event.get("user") or ""))
        change = reaction_event(body, event, where, actor)
        if change is not None:
            await self.handle(change, member=actor)

    async def on_bot_membership(self, body: Payload, channel: str, *, joined: bool) -> None:
        """The bot was removed from (or added back to) a channel: capture stops (resumes)."""
        if not channel:
            return
        where = await self.directory.where(team_of(body), channel)
        event_id = envelope_event_id(body)
        change = BotJoinedChannel(where, event_id) if joined else MemberLeftChannel(where, event_id)
        await self.core.handle(change)
        if joined:  # back in the channel: read what was said while copbot was out of it
            await self.catchup.run(only={channel_ref(where)})

    # ------------------------------------------------------------------ /cop

    async def on_command(self, ack: AsyncAck, body: Payload, respond: AsyncRespond) -> None:
        await ack()
        team = team_of(body)
        where = await self.directory.where(
            team, str(body.get("channel_id")), str(body.get("channel_name") or "")
        )
        actor = await self.directory.actor(
            team, str(body.get("user_id")), fallback_name=str(body.get("user_name") or "")
        )
        invocation = CommandInvocation(
            where=where,
            actor=actor,
            text=str(body.get("text") or ""),
            at=self.core.services.clock.now(),
            event_id=f"cmd:{body.get('trigger_id') or ''}" if body.get("trigger_id") else "",
        )
        out = await self.core.handle(invocation)
        await self.outbox.deliver(out, respond=respond, member=actor)

    # ------------------------------------------------------------------ buttons

    async def on_share(self, ack: AsyncAck, body: Payload, respond: AsyncRespond) -> None:
        """A "Share in channel" button: the core re-checks that the entry may be shown here."""
        await ack()
        action: Payload = (body.get("actions") or [{}])[0]
        try:
            entry_id = int(str(action.get("value")))
        except ValueError:
            return
        where, actor = await self._where_and_actor(body)
        request = ShareRequest(
            where,
            actor,
            entry_id,
            event_id=f"share:{action.get('action_ts') or ''}:{actor.user_id}",
        )
        await self.outbox.deliver(await self.core.handle(request), respond=respond, member=actor)

    async def on_feedback(self, ack: AsyncAck, body: Payload) -> None:
        """ "Solved it" / "Not related" on a suggested past answer."""
        await ack()
        action: Payload = (body.get("actions") or [{}])[0]
        verdict = next(
            (
                v
                for v, action_id in FEEDBACK_ACTIONS.items()
                if action_id == action.get("action_id")
            ),
            "",
        )
        suggestion, _, entry = str(action.get("value") or "").partition(":")
        if not (verdict and suggestion.isdigit() and entry.isdigit()):
            return
        where, actor = await self._where_and_actor(body)
        feedback = SuggestionFeedback(
            where,
            actor,
            int(suggestion),
            verdict,
            int(entry),
            event_id=f"feedback:{action.get('action_ts') or ''}:{actor.user_id}",
        )
        await self.outbox.deliver(await self.core.handle(feedback), member=actor)

    # ------------------------------------------------------------------ shortcuts

    async def on_save_shortcut(self, ack: AsyncAck, body: Payload) -> None:
        """Open the modal that confirms a title and tags before saving.

        ``views.open`` must come within the 3 seconds the trigger lives, so it is
        the first call made: mentions show with the names already known, and
        the message's markup travels in the modal to be read fully on submit.
        """
        await ack()
        message: Payload = body.get("message") or {}
        channel: Payload = body.get("channel") or {}
        raw = str(message.get("text") or "")
        text = plain_text(raw, self.directory.known_handles(mentioned_users(raw)))
        metadata: dict[str, Any] = {
            "channel": channel.get("id"),
            "channel_name": channel.get("name") or "",
            "ts": message.get("ts") or body.get("message_ts"),
            "thread_ts": message.get("thread_ts"),
            "author": author_id(message),
            "bot": is_bot_message(message),
            "raw": raw,
        }
        if len(json.dumps(metadata, ensure_ascii=False)) > MAX_METADATA_CHARS:
            metadata["raw"] = None  # too long to carry; read it again on submit
        view = save_modal(
            title=title_from(text), tags=extract_tags(text), metadata=metadata, excerpt=text
        )
        await self.client.views_open(trigger_id=str(body.get("trigger_id")), view=view)

    async def on_save_submit(self, ack: AsyncAck, body: Payload, view: Payload) -> None:
        await ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        values: Payload = (view.get("state") or {}).get("values") or {}
        title = str((values.get("title", {}).get("value") or {}).get("value") or "")
        tags = split_tags(str((values.get("tags", {}).get("value") or {}).get("value") or ""))
        kind_option = (values.get("kind", {}).get("value") or {}).get("selected_option") or {}
        try:
            kind = KnowhowKind(str(kind_option.get("value") or "howto"))
        except ValueError:
            kind = KnowhowKind.HOWTO
        team = team_of(body)
        user: Payload = body.get("user") or {}
        where = await self.directory.where(
            team, str(meta.get("channel")), str(meta.get("channel_name") or "")
        )
        saver = await self.directory.actor(team, str(user.get("id")))
        ts = str(meta.get("ts") or "")
        raw = meta.get("raw")
        if raw is None:
            fetched = await self.outbox.ops.read_message(where.channel, ts)
            raw = str((fetched or {}).get("text") or "")
        text = plain_text(str(raw), await self.directory.handles(mentioned_users(str(raw))))
        thread_ts = meta.get("thread_ts")
        thread_id = str(thread_ts) if thread_ts and thread_ts != ts else None
        author = await self.directory.actor(
            team, str(meta.get("author") or ""), is_bot=bool(meta.get("bot"))
        )
        request = SaveRequest(
            where=where,
            saver=saver,
            message_id=ts,
            text=str(text),
            author=author,
            created_at=ts_to_datetime(ts),
            title=title,
            tags=tags,
            kind=kind,
            permalink=await self.directory.permalink(where.channel, ts, thread_id),
            thread_id=thread_id,
            event_id=f"view:{view.get('id')}" if view.get("id") else "",
        )
        await self.outbox.deliver(await self.core.handle(request), member=saver)

    async def on_accept_shortcut(self, ack: AsyncAck, body: Payload) -> None:
        """ "This solved it": the same act as the accept reaction, by the member who clicked."""
        await ack()
        message: Payload = body.get("message") or {}
        where, actor = await self._where_and_actor(body)
        mark = AcceptMark(
            where=where,
            message_id=str(message.get("ts") or body.get("message_ts") or ""),
            actor=actor,
            event_id=f"accept:{body.get('trigger_id')}" if body.get("trigger_id") else "",
        )
        await self.outbox.deliver(await self.core.handle(mark), member=actor)

    async def _where_and_actor(self, body: Payload) -> tuple[Where, Actor]:
        """Where an interaction happened and who acted (buttons, shortcuts)."""
        team = team_of(body)
        channel: Payload = body.get("channel") or {}
        user: Payload = body.get("user") or {}
        where = await self.directory.where(team, str(channel.get("id")), str(channel.get("name")))
        return where, await self.directory.actor(team, str(user.get("id")))


def build_app(
    core: AsyncCore,
    settings: Settings,
    client: AsyncWebClient,
    *,
    signing_secret: str,
    process_before_response: bool = False,
    request_verification_enabled: bool = True,
) -> tuple[AsyncApp, SlackBridge]:
    """The Bolt app with every copbot listener registered."""
    bridge = SlackBridge(core, settings, client)
    app = AsyncApp(
        client=client,
        signing_secret=signing_secret,
        process_before_response=process_before_response,
        request_verification_enabled=request_verification_enabled,
        logger=BOLT_LOGGER,
        name="copbot",
    )

    @app.event("message")
    async def _message(body: Payload, event: Payload) -> None:
        await skip_if_malformed(body, bridge.on_message(body, event))

    @app.event("reaction_added")
    async def _reaction_added(body: Payload, event: Payload) -> None:
        await skip_if_malformed(body, bridge.on_reaction(body, event))

    @app.event("reaction_removed")
    async def _reaction_removed(body: Payload, event: Payload) -> None:
        await skip_if_malformed(body, bridge.on_reaction(body, event))

    @app.event("channel_left")
    async def _channel_left(body: Payload, event: Payload) -> None:
        channel = str(event.get("channel") or "")
        await skip_if_malformed(body, bridge.on_bot_membership(body, channel, joined=False))

    @app.event("group_left")
    async def _group_left(body: Payload, event: Payload) -> None:
        channel = str(event.get("channel") or "")
        await skip_if_malformed(body, bridge.on_bot_membership(body, channel, joined=False))

    @app.event("member_joined_channel")
    async def _member_joined(body: Payload, event: Payload) -> None:
        if event.get("user") and event.get("user") == bot_user_of(body):
            channel = str(event.get("channel") or "")
            await skip_if_malformed(body, bridge.on_bot_membership(body, channel, joined=True))

    app.command(settings.slack.command)(bridge.on_command)
    app.action(SHARE_ACTION)(bridge.on_share)
    for action_id in FEEDBACK_ACTIONS.values():
        app.action(action_id)(bridge.on_feedback)
    app.shortcut(SAVE_SHORTCUT)(bridge.on_save_shortcut)
    app.shortcut(ACCEPT_SHORTCUT)(bridge.on_accept_shortcut)
    app.view(SAVE_MODAL)(bridge.on_save_submit)

    @app.error
    async def _error(error: Exception, body: Payload) -> None:
        if isinstance(error, SlackApiError):
            log.warning("Slack API error while handling a request: %s", slack_error(error))
        else:
            log.error("error while handling a Slack request", exc_info=error)

    return app, bridge


__all__ = ["SlackBridge", "build_app"]
