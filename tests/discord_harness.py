"""A fake Discord for tests: gateway payloads in, recorded REST calls out.

This module owns **all** use of discord.py's private API in the test suite:
payloads go through the client's own gateway parsers
(``client._connection.parsers``) so the real discord.py code builds the
objects our handlers get, and discord.py's HTTP layer (``Route.BASE``) points
at a local aiohttp server that answers like Discord's REST API and records
every request. discord.py's minor version is pinned in ``pyproject.toml``; an
upgrade that changes these internals breaks here, loudly, in one place.

Payloads follow the shapes Discord documents (API v10): MESSAGE_CREATE,
MESSAGE_UPDATE, MESSAGE_DELETE, MESSAGE_REACTION_ADD, THREAD_CREATE,
THREAD_UPDATE, GUILD_CREATE, INTERACTION_CREATE.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from aiohttp import BodyPartReader, web

from adapters.discord.adapter import DiscordAdapter
from bot.app import build_core
from bot.config import Settings
from bot.core import Core
from bot.ports import FixedClock
from bot.runtime import AsyncCore

if not discord.__version__.startswith("2.7."):  # pragma: no cover - the pin's alarm bell
    raise RuntimeError(
        f"tests/discord_harness.py drives discord.py 2.7 internals; found {discord.__version__}. "
        "Check parse_* names, Route.BASE and task names, then move the pin in pyproject.toml."
    )

APP_ID = 900000000000000001
BOT_ID = 900000000000000002
GUILD_ID = 100000000000000001
EVERYONE = GUILD_ID  # the @everyone role has the guild's id
VIEW_CHANNEL = 1 << 10
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

#: Task names discord.py 2.7 gives the work it schedules for an event.
_DISPATCH_TASK_PREFIXES = (
    "discord.py: ",
    "CommandTree-invoker",
    "discord-ui-view-dispatch",
    "discord-ui-dynamic-item",
)


def snowflake(at: datetime) -> int:
    """A Discord id for a moment (ids encode their creation time)."""
    return discord.utils.time_snowflake(at)


_ids = itertools.count(1)


def new_id(at: datetime | None = None) -> int:
    """A fresh, unique id a millisecond after the last (default: just after :data:`NOW`).

    Each id is a later moment, as for messages said one after another, so their
    order by time and by id agree (Discord's ids encode their creation time).
    """
    return snowflake((at or NOW) + timedelta(milliseconds=next(_ids)))


# --------------------------------------------------------------------------- payloads


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name.lower(),
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def member(user_id: int, name: str) -> dict[str, Any]:
    return {
        "user": user(user_id, name),
        "roles": [],
        "joined_at": "2026-01-01T00:00:00+00:00",
        "deaf": False,
        "mute": False,
        "flags": 0,
        "nick": None,
    }


def role(role_id: int, name: str, permissions: int) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": name,
        "permissions": str(permissions),
        "position": 0,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def text_channel(channel_id: int, name: str, *, private: bool = False) -> dict[str, Any]:
    """A text channel; ``private`` denies @everyone the View Channel permission."""
    overwrites = (
        [{"id": str(EVERYONE), "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)}]
        if private
        else []
    )
    return {
        "id": str(channel_id),
        "type": 0,
        "guild_id": str(GUILD_ID),
        "name": name,
        "position": 0,
        "permission_overwrites": overwrites,
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
    }


def forum_channel(channel_id: int, name: str, tags: dict[int, str]) -> dict[str, Any]:
    """A forum channel with its available tags (``{tag id: name}``)."""
    data = text_channel(channel_id, name)
    data.update(
        type=15,
        available_tags=[
            {
                "id": str(tag_id),
                "name": tag,
                "moderated": False,
                "emoji_id": None,
                "emoji_name": None,
            }
            for tag_id, tag in tags.items()
        ],
        default_reaction_emoji=None,
        default_thread_rate_limit_per_user=0,
        default_sort_order=None,
        default_forum_layout=0,
        flags=0,
    )
    return data


def thread(
    thread_id: int,
    parent_id: int,
    name: str,
    owner_id: int,
    *,
    applied_tags: tuple[int, ...] = (),
    private: bool = False,
    newly_created: bool = True,
) -> dict[str, Any]:
    """A thread or forum post channel (THREAD_CREATE / THREAD_UPDATE / GET /channels/{id})."""
    data: dict[str, Any] = {
        "id": str(thread_id),
        "type": 12 if private else 11,
        "guild_id": str(GUILD_ID),
        "parent_id": str(parent_id),
        "owner_id": str(owner_id),
        "name": name,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "applied_tags": [str(t) for t in applied_tags],
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": NOW.isoformat(),
            "locked": False,
        },
    }
    if newly_created:
        data["newly_created"] = True
    return data


def guild(
    channels: list[dict[str, Any]],
    threads: Sequence[dict[str, Any]] = (),
    roles: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """GUILD_CREATE: the server, its roles (default: @everyone who may view), channels
    (with overwrites) and threads."""
    return {
        "id": str(GUILD_ID),
        "name": "Data Practice",
        "owner_id": "1",
        "unavailable": False,
        "member_count": 10,
        "large": False,
        "features": [],
        "emojis": [],
        "stickers": [],
        "roles": roles or [role(EVERYONE, "@everyone", VIEW_CHANNEL | (1 << 11) | (1 << 16))],
        "channels": channels,
        "threads": list(threads),
        "members": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "joined_at": "2026-01-01T00:00:00+00:00",
    }


def message(
    message_id: int,
    channel_id: int,
    author: tuple[int, str],
    content: str,
    *,
    guild_id: int | None = GUILD_ID,
    edited: datetime | None = None,
    message_type: int = 0,
) -> dict[str, Any]:
    """A message object (MESSAGE_CREATE / MESSAGE_UPDATE / GET message)."""
    author_id, name = author
    data: dict[str, Any] = {
        "id": str(message_id),
        "channel_id": str(channel_id),
        "author": user(author_id, name),
        "content": content,
        "timestamp": discord.utils.snowflake_time(message_id).isoformat(),
        "edited_timestamp": edited.isoformat() if edited else None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": message_type,
        "flags": 0,
        "components": [],
    }
    if guild_id is not None:
        data["guild_id"] = str(guild_id)
        member_data = member(author_id, name)
        del member_data["user"]
        data["member"] = member_data
    return data


def reaction(
    message_id: int, channel_id: int, user_id: int, name: str, emoji: str
) -> dict[str, Any]:
    """MESSAGE_REACTION_ADD / _REMOVE with a unicode emoji."""
    return {
        "user_id": str(user_id),
        "channel_id": str(channel_id),
        "message_id": str(message_id),
        "guild_id": str(GUILD_ID),
        "member": member(user_id, name),
        "emoji": {"id": None, "name": emoji},
        "burst": False,
        "type": 0,
    }


def _interaction_base(
    interaction_id: int, kind: int, channel: dict[str, Any], who: tuple[int, str]
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(APP_ID),
        "type": kind,
        "token": f"token-{interaction_id}",
        "version": 1,
        "channel_id": channel["id"],
        "channel": channel,
        "locale": "en-US",
        "app_permissions": "0",
        "entitlements": [],
        "attachment_size_limit": 8 * 1024 * 1024,
        "authorizing_integration_owners": {"0": str(GUILD_ID)},
    }
    if channel.get("guild_id"):
        data["guild_id"] = channel["guild_id"]
        data["guild_locale"] = "en-US"
        data["member"] = {**member(*who), "permissions": str(VIEW_CHANNEL)}
        data["context"] = 0
    else:
        data["user"] = user(*who)
        data["context"] = 1
    return data


def slash_command(
    channel: dict[str, Any], who: tuple[int, str], sub: str, **options: str | int
) -> dict[str, Any]:
    """INTERACTION_CREATE for ``/cop <sub> option:value ...`` (integers as INTEGER options)."""
    interaction_id = new_id()
    data = _interaction_base(interaction_id, 2, channel, who)
    data["data"] = {
        "id": str(APP_ID + 10),
        "name": "cop",
        "type": 1,
        "options": [
            {
                "name": sub,
                "type": 1,
                "options": [
                    {"name": k, "type": 4 if isinstance(v, int) else 3, "value": v}
                    for k, v in options.items()
                ],
            }
        ],
    }
    return data


def message_command(
    channel: dict[str, Any], who: tuple[int, str], target: dict[str, Any], name: str
) -> dict[str, Any]:
    """INTERACTION_CREATE for a message context-menu command on ``target``."""
    interaction_id = new_id()
    data = _interaction_base(interaction_id, 2, channel, who)
    data["data"] = {
        "id": str(APP_ID + 11),
        "name": name,
        "type": 3,
        "target_id": target["id"],
        "resolved": {"messages": {target["id"]: target}},
    }
    return data


def button_click(
    channel: dict[str, Any], who: tuple[int, str], custom_id: str, shown: dict[str, Any]
) -> dict[str, Any]:
    """INTERACTION_CREATE for a click on a button of the message ``shown``."""
    interaction_id = new_id()
    data = _interaction_base(interaction_id, 3, channel, who)
    data["data"] = {"custom_id": custom_id, "component_type": 2}
    data["message"] = shown
    return data


# --------------------------------------------------------------------------- fake REST API


def _json(payload: Any, status: int = 200) -> web.Response:
    """JSON with the exact content type discord.py checks for (no charset suffix)."""
    return web.Response(
        body=json.dumps(payload).encode(),
        status=status,
        headers={"Content-Type": "application/json"},
    )


def _limit(query: dict[str, str], *, default: int) -> int | None:
    """A ``limit`` query value, 1-100 as Discord allows; ``None`` when out of range."""
    raw = query.get("limit", str(default))
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        return None
    return int(raw)


def _invalid_form() -> web.Response:
    return _json({"message": "Invalid Form Body", "code": 50035}, status=400)


@dataclass
class Request:
    """One call the bot made to the fake Discord REST API."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    at: float = 0.0  # time.perf_counter() when it arrived (for bench/, never asserted)

    @property
    def flags(self) -> int:
        body = self.body if isinstance(self.body, dict) else {}
        data = body.get("data")
        inner = data if isinstance(data, dict) else body
        return int(inner.get("flags") or 0)


class FakeGateway:
    """The gateway websocket: HELLO, records IDENTIFY, acks heartbeats, pushes events.

    It sends no READY: discord.py waits 2 seconds after READY for more guilds
    before it says it is ready, and nothing here needs that. Events are sent as
    text frames (discord.py only decompresses binary ones).
    """

    def __init__(self) -> None:
        #: Set to close the socket with this code after IDENTIFY (4014: intents not allowed).
        self.close_after_identify: int | None = None
        self.identify: dict[str, Any] | None = None
        self.identified = asyncio.Event()
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 45000}}))
        async for frame in ws:
            if frame.type != aiohttp.WSMsgType.TEXT:
                continue
            payload = json.loads(frame.data)
            if payload.get("op") == 2:
                self.identify = payload["d"]
                self.identified.set()
                if self.close_after_identify is not None:
                    await ws.close(code=self.close_after_identify)
            elif payload.get("op") == 1:
                await ws.send_str(json.dumps({"op": 11}))
        return ws

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send one DISPATCH (op 0) event to the connected client."""
        assert self._ws is not None, "no client connected to the gateway"
        self._seq += 1
        await self._ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()


@dataclass
class FakeDiscord:
    """Answers like Discord's REST API (the calls copbot makes) and records every request."""

    canned: dict[tuple[str, str], Any] = field(default_factory=dict)
    failing: list[tuple[str, str, int]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    sent: dict[int, dict[str, Any]] = field(default_factory=dict)
    gateway: FakeGateway = field(default_factory=FakeGateway)
    #: Channel (or thread) id -> its messages, as Discord keeps them; read back in pages.
    history: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: (channel, message, emoji) -> who reacted; read back in pages.
    reactors: dict[tuple[int, int, str], list[dict[str, Any]]] = field(default_factory=dict)
    #: Parent channel id -> its archived threads; listed in pages.
    archived: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    #: Channel or thread id -> its object (GET /channels/{id}).
    channels: dict[int, dict[str, Any]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/v10/{tail:.*}", self._handle)
        app.router.add_get("/gateway", self.gateway.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    def fail_once(self, method: str, path: str, status: int) -> None:
        """The next ``method path`` gets ``status`` (429 with retry_after 0, or a 5xx)."""
        self.failing.append((method, path, status))

    def answer(self, method: str, path: str, payload: Any, status: int = 200) -> None:
        """Answer ``method path`` with ``payload`` (``None``: 404 Unknown)."""
        self.canned[(method, path)] = (payload, status)

    def said(
        self,
        channel_id: int,
        payload: dict[str, Any],
        reactions: dict[str, list[tuple[int, str]]] | None = None,
    ) -> dict[str, Any]:
        """A message said while copbot was away: in the channel's history, with its reactions."""
        for emoji, users in (reactions or {}).items():
            self.reactors[(channel_id, int(payload["id"]), emoji)] = [user(*u) for u in users]
            payload.setdefault("reactions", []).append(
                {
                    "emoji": {"id": None, "name": emoji},
                    "count": len(users),
                    "count_details": {"burst": 0, "normal": len(users)},
                    "me": False,
                    "me_burst": False,
                    "burst_colors": [],
                }
            )
        self.history.setdefault(channel_id, []).append(payload)
        return payload

    def calls(self, method: str, path_prefix: str = "") -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    async def wait_for(self, method: str, path_prefix: str) -> Request:
        """The first request like this, waiting for it to arrive (no polling, no sleep)."""
        while True:
            found = self.calls(method, path_prefix)
            if found:
                return found[0]
            self._arrived.clear()
            await self._arrived.wait()

    def calls_to(self, method: str, path: str) -> list[Request]:
        """Requests to exactly ``path``."""
        return [r for r in self.requests if r.method == method and r.path == path]

    def clear(self) -> None:
        self.requests.clear()

    async def _body(self, request: web.Request) -> Any:
        if request.content_type.startswith("multipart/"):
            parts: dict[str, Any] = {"files": []}
            reader = await request.multipart()
            async for part in reader:
                assert isinstance(part, BodyPartReader), "discord.py sends no nested multipart"
                if part.name == "payload_json":
                    parts.update(json.loads(await part.text()))
                else:
                    parts["files"].append(part.filename)
                    await part.read()
            return parts
        raw = await request.read()
        return json.loads(raw) if raw else None

    async def _handle(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await self._body(request)
        self.requests.append(
            Request(request.method, path, dict(request.query), body, time.perf_counter())
        )
        self._arrived.set()
        for failure in self.failing:
            if failure[:2] == (request.method, path):
                self.failing.remove(failure)
                if failure[2] == 429:
                    body = {
                        "message": "You are being rate limited.",
                        "retry_after": 0.0,
                        "global": False,
                    }
                    # discord.py takes a 429 without "Via" for a Cloudflare ban and gives up.
                    limited = _json(body, 429)
                    limited.headers.update({"Retry-After": "0", "Via": "1.1 google"})
                    return limited
                return web.Response(status=failure[2], text="upstream trouble")
        if (request.method, path) in self.canned:
            payload, status = self.canned[(request.method, path)]
            if payload is None:
                return _json({"message": "Unknown", "code": 10008}, status=404)
            return _json(payload, status)
        parts = path.strip("/").split("/")
        read = self._read(request.method, parts, dict(request.query))
        if read is not None:
            return read
        return self._synthesize(request.method, parts, body)

    def _read(self, method: str, parts: list[str], query: dict[str, str]) -> web.Response | None:
        """The reads catch-up pages through, paged as Discord's API reference says.

        Get Channel Messages: ``limit`` 1-100 (default 50), ``before``/``after``/``around``
        a message id, newest first. Get Reactions: ``limit`` 1-100 (default 25), ``after``
        a user id. List Public Archived Threads: ``before`` an ISO8601 timestamp, newest
        archive first, ``has_more``. A bad ``limit`` is 400 Invalid Form Body (50035).
        """
        if method != "GET" or parts[:1] != ["channels"] or len(parts) < 2:
            return None
        channel_id = int(parts[1]) if parts[1].isdigit() else 0
        match parts[2:]:
            case []:
                if channel_id in self.channels:
                    return _json(self.channels[channel_id])
                return None
            case ["messages"] if channel_id in self.history:
                limit = _limit(query, default=50)
                if limit is None:
                    return _invalid_form()
                found = sorted(self.history[channel_id], key=lambda m: int(m["id"]))
                if "after" in query:
                    found = [m for m in found if int(m["id"]) > int(query["after"])][:limit]
                else:
                    if "before" in query:
                        found = [m for m in found if int(m["id"]) < int(query["before"])]
                    found = found[-limit:]
                return _json(list(reversed(found)))
            case ["messages", message_id, "reactions", emoji]:
                key = (channel_id, int(message_id), emoji)
                if key not in self.reactors:
                    return None
                limit = _limit(query, default=25)
                if limit is None:
                    return _invalid_form()
                after = int(query.get("after", 0))
                users = sorted(self.reactors[key], key=lambda u: int(u["id"]))
                return _json([u for u in users if int(u["id"]) > after][:limit])
            case ["threads", "archived", "public"] if channel_id in self.archived:
                limit = _limit(query, default=50)
                if limit is None:
                    return _invalid_form()
                threads = sorted(
                    self.archived[channel_id],
                    key=lambda t: t["thread_metadata"]["archive_timestamp"],
                    reverse=True,
                )
                if "before" in query:
                    before = datetime.fromisoformat(query["before"])
                    threads = [
                        t
                        for t in threads
                        if datetime.fromisoformat(t["thread_metadata"]["archive_timestamp"])
                        < before
                    ]
                return _json(
                    {"threads": threads[:limit], "members": [], "has_more": len(threads) > limit}
                )
        return None

    def _message_from(self, channel_id: str, body: dict[str, Any]) -> dict[str, Any]:
        message_id = new_id()
        data = message(message_id, int(channel_id), (BOT_ID, "copbot"), body.get("content") or "")
        data["embeds"] = body.get("embeds") or []
        data["flags"] = body.get("flags") or 0
        data["components"] = body.get("components") or []
        data["author"]["bot"] = True
        self.sent[message_id] = data
        return data

    def _synthesize(self, method: str, parts: list[str], body: Any) -> web.Response:
        match (method, parts):
            case ("GET", ["users", "@me"]):
                return _json(user(BOT_ID, "copbot", bot=True))
            case ("GET", ["oauth2", "applications", "@me"]):
                return _json(
                    {
                        "id": str(APP_ID),
                        "name": "copbot",
                        "description": "",
                        "icon": None,
                        "bot_public": False,
                        "bot_require_code_grant": False,
                        "owner": user(1, "owner"),
                        "verify_key": "0" * 64,
                        "flags": 0,
                    }
                )
            case ("PUT", ["applications", _, *_rest]):
                commands = body or []
                return _json(
                    [
                        {
                            "description": "",
                            **c,
                            "id": str(new_id()),
                            "application_id": str(APP_ID),
                            "version": "1",
                        }
                        for c in commands
                    ]
                )
            case ("POST", ["interactions", interaction_id, _token, "callback"]):
                inner = (body or {}).get("data") or {}
                return _json(
                    {
                        "interaction": {
                            "id": interaction_id,
                            "type": 2,
                            "response_message_loading": body.get("type") == 5,
                            "response_message_ephemeral": bool((inner.get("flags") or 0) & 64),
                        }
                    }
                )
            case ("POST", ["webhooks", _app, _token]):
                return _json(self._message_from("0", body or {}))
            case ("POST", ["channels", channel_id, "messages"]):
                return _json(self._message_from(channel_id, body or {}))
            case ("POST", ["channels", channel_id, "messages", message_id, "threads"]):
                return _json(thread(int(message_id), int(channel_id), body["name"], BOT_ID))
            case ("PUT", ["channels", _thread, "thread-members", "@me"]):
                return web.Response(status=204)
            case ("POST", ["users", "@me", "channels"]):
                recipient = body["recipient_id"]
                return _json(
                    {
                        "id": str(int(recipient) + 7),
                        "type": 1,
                        "recipients": [user(int(recipient), "dm")],
                    }
                )
        return _json({"message": "Unknown", "code": 0}, status=404)


# --------------------------------------------------------------------------- the harness


@contextmanager
def rest_base(url: str) -> Iterator[None]:
    """Point discord.py's HTTP layer (REST and interaction webhooks) at ``url``."""
    old = discord.http.Route.BASE
    discord.http.Route.BASE = url
    try:
        yield
    finally:
        discord.http.Route.BASE = old


@contextmanager
def gateway_url(url: str) -> Iterator[None]:
    """Point discord.py's gateway websocket at ``url``."""
    old = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
    try:
        yield
    finally:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old


class serving:
    """``async with serving() as fake``: a fake Discord (REST and gateway) that a real
    ``client.start()`` talks to, as ``copbot run`` does."""

    async def __aenter__(self) -> FakeDiscord:
        self.api = FakeDiscord()
        await self.api.start()
        self._rest = rest_base(self.api.base)
        self._gateway = gateway_url(f"ws://127.0.0.1:{self.api.port}/gateway")
        self._rest.__enter__()
        self._gateway.__enter__()
        return self.api

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.api.stop()
        finally:
            self._gateway.__exit__(None, None, None)
            self._rest.__exit__(None, None, None)


@dataclass
class Harness:
    """A real DiscordAdapter and discord.py client on a fake Discord, one real repertoire."""

    core: Core
    adapter: DiscordAdapter
    api: FakeDiscord

    @property
    def client(self) -> discord.Client:
        return self.adapter.client

    def add_guild(self, payload: dict[str, Any]) -> None:
        """GUILD_CREATE (straight to the cache: no READY, so no 2-second 'ready' wait)."""
        self.client._connection.parse_guild_create(payload)

    async def feed(self, event: str, payload: dict[str, Any]) -> None:
        """Feed one gateway event through discord.py's parser and wait for our handlers."""
        before = asyncio.all_tasks()
        self.client._connection.parsers[event](payload)
        await self.settle(before)

    async def settle(self, before: set[asyncio.Task[Any]]) -> None:
        """Wait for every task discord.py scheduled for the event (and those they scheduled)."""
        while True:
            pending = [
                t
                for t in asyncio.all_tasks() - before
                if not t.done() and t.get_name().startswith(_DISPATCH_TASK_PREFIXES)
            ]
            if not pending:
                return
            await asyncio.gather(*pending)

    def clear_message_cache(self) -> None:
        """Forget every message, as after a restart: edits and deletes arrive uncached."""
        messages = self.client._connection._messages
        if messages is not None:
            messages.clear()


class running:
    """``async with running(tmp_path) as h``: fake Discord up, client logged in, torn down."""

    def __init__(
        self,
        tmp_path: Path,
        settings: Settings | None = None,
        *,
        core: Core | None = None,
        at: datetime = NOW + timedelta(days=1),
        before_login: Callable[[FakeDiscord], None] | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        self.settings = settings or Settings(database=str(tmp_path / "copbot.db"))
        self.core = core
        self.at = at
        self.before_login = before_login
        self._patch: Any = None

    async def __aenter__(self) -> Harness:
        self.api = FakeDiscord()
        await self.api.start()
        if self.before_login is not None:
            self.before_login(self.api)
        self._patch = rest_base(self.api.base)
        self._patch.__enter__()
        core = self.core or build_core(
            self.settings, self.tmp_path / "copbot.db", clock=FixedClock(self.at)
        )
        self.async_core = AsyncCore(core)
        self._owns_core = self.core is None
        self._core = core
        self.adapter = DiscordAdapter(self.async_core, self.settings, token="fake-token")
        try:
            await self.adapter.client.login("fake-token")
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return Harness(core, self.adapter, self.api)

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.adapter.close()
            await self.api.stop()
        finally:
            self._patch.__exit__(None, None, None)
            self.async_core.close()
            if self._owns_core:
                self._core.services.repertoire.close()
