"""What Slack knows about channels and people, asked once and remembered.

Events carry ids, not names, and a reaction or a slash command does not say
whether its channel is public. ``conversations.info`` and ``users.info`` tell
us; the answers are cached for an hour (a renamed member or channel made
private is seen within that time), and a failed lookup is remembered for ten
minutes, so a missing scope does not cost a call per message. When Slack will
not answer (a missing scope, a DM between two other people), we fall back to
the safe side: an unknown channel is treated as private, so what is said there
is shown only there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.translate import PLATFORM, guess_visibility, permalink_from_url
from bot.events import Actor, Visibility, Where

log = logging.getLogger(__name__)

#: How long a failed lookup is remembered before Slack is asked again (a scope
#: granted later is picked up; a missing one does not cost a call per message).
RETRY_FAILED_LOOKUP_SECONDS = 600.0
#: How long a channel's name and visibility are trusted (a channel made private is
#: seen within this time even by reactions and commands, which carry no channel type).
CHANNEL_INFO_SECONDS = 3600.0
#: How long a member's display name and handle are trusted.
NAME_SECONDS = 3600.0


def slack_error(exc: SlackApiError) -> str:
    """Slack's error code for a failed call (``not_in_channel``...), or its HTTP status."""
    data = exc.response.data
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    return f"HTTP {exc.response.status_code}"


@dataclass(frozen=True)
class ChannelInfo:
    name: str
    visibility: Visibility


class SlackDirectory:
    """Channel and member lookups for one workspace, cached."""

    def __init__(
        self,
        client: AsyncWebClient,
        workspace_url: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.workspace_url = workspace_url
        self.clock = clock
        self._channels: dict[str, tuple[float, ChannelInfo]] = {}
        #: user id -> (when asked, display name, handle); a failed lookup is kept as "".
        self._people: dict[str, tuple[float, str, str]] = {}
        self._url_known = bool(workspace_url)
        self._failed: dict[str, tuple[float, ChannelInfo]] = {}

    async def channel(self, channel_id: str, name_hint: str = "") -> ChannelInfo:
        cached = self._channels.get(channel_id)
        if cached is not None and self.clock() - cached[0] < CHANNEL_INFO_SECONDS:
            return cached[1]
        failed = self._failed.get(channel_id)
        if failed is not None and self.clock() - failed[0] < RETRY_FAILED_LOOKUP_SECONDS:
            return failed[1]
        try:
            response = await self.client.conversations_info(channel=channel_id)
            data = response.get("channel") or {}
            if data.get("is_im") or data.get("is_mpim"):
                visibility = Visibility.DM
            elif data.get("is_private") or data.get("is_group"):
                visibility = Visibility.PRIVATE
            else:
                visibility = Visibility.PUBLIC
            info = ChannelInfo(str(data.get("name") or name_hint), visibility)
        except SlackApiError as exc:
            log.info(
                "conversations.info for %s failed (%s); treating it as private",
                channel_id,
                slack_error(exc),
            )
            name = "" if name_hint in {"directmessage", "privategroup"} else name_hint
            info = ChannelInfo(name, guess_visibility(channel_id, name_hint))
            self._failed[channel_id] = (self.clock(), info)
            return info
        self._channels[channel_id] = (self.clock(), info)
        return info

    def note_visibility(self, channel_id: str, visibility: Visibility) -> None:
        """A message said what the channel is now (its ``channel_type``): trust it from here."""
        cached = self._channels.get(channel_id)
        if cached is not None and cached[1].visibility != visibility:
            self._channels[channel_id] = (time.monotonic(), ChannelInfo(cached[1].name, visibility))

    async def where(self, team: str, channel_id: str, name_hint: str = "") -> Where:
        info = await self.channel(channel_id, name_hint)
        return Where(PLATFORM, team, channel_id, info.visibility, info.name)

    def _person(self, user_id: str) -> tuple[str, str] | None:
        """(display name, handle) while the cache trusts it (failures for a shorter time)."""
        cached = self._people.get(user_id)
        if cached is None:
            return None
        asked, name, handle = cached
        ttl = NAME_SECONDS if (name or handle) else RETRY_FAILED_LOOKUP_SECONDS
        return (name, handle) if self.clock() - asked < ttl else None

    async def display_name(self, user_id: str) -> str:
        if not user_id:
            return ""
        known = self._person(user_id)
        if known is not None:
            return known[0]
        try:
            response = await self.client.users_info(user=user_id)
            user = response.get("user") or {}
            profile = user.get("profile") or {}
            handle = str(user.get("name") or "")
            name = str(
                profile.get("display_name")
                or profile.get("real_name")
                or user.get("real_name")
                or user.get("name")
                or ""
            )
        except SlackApiError as exc:
            log.info("users.info for %s failed (%s)", user_id, slack_error(exc))
            name = handle = ""  # remembered too: a missing scope must not cost a call each time
        self._people[user_id] = (self.clock(), name, handle)
        return name

    async def actor(
        self, team: str, user_id: str, *, is_bot: bool = False, fallback_name: str = ""
    ) -> Actor:
        """The member behind ``user_id``, with Slack's display name (else ``fallback_name``)."""
        display = "" if is_bot else await self.display_name(user_id)
        return Actor(PLATFORM, user_id, display or fallback_name, team, is_bot)

    async def handles(self, user_ids: list[str]) -> dict[str, str]:
        """``@handle`` for each mentioned user Slack tells us about (cached like names)."""
        for user_id in user_ids[:20]:  # a message that mentions more is not worth 20+ calls
            if self._person(user_id) is None:
                await self.display_name(user_id)
        return self.known_handles(user_ids)

    def known_handles(self, user_ids: list[str]) -> dict[str, str]:
        """``@handle`` of the mentioned users already known, without asking Slack."""
        found: dict[str, str] = {}
        for user_id in user_ids:
            known = self._person(user_id)
            handle = (known[1] or known[0].replace(" ", "")) if known else ""
            if handle:
                found[user_id] = handle
        return found

    async def permalink(self, channel: str, ts: str, thread_ts: str | None = None) -> str:
        """A link back to a message: built from the workspace URL, else ``chat.getPermalink``."""
        if not self._url_known:
            await self._learn_workspace_url()
        if self.workspace_url:
            return permalink_from_url(self.workspace_url, channel, ts, thread_ts)
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(response.get("permalink") or "")
        except SlackApiError as exc:
            log.info("chat.getPermalink failed (%s)", slack_error(exc))
            return ""

    async def _learn_workspace_url(self) -> None:
        self._url_known = True
        try:
            response = await self.client.auth_test()
            self.workspace_url = str(response.get("url") or "")
        except SlackApiError as exc:
            log.info("auth.test failed (%s); links will use chat.getPermalink", exc)
