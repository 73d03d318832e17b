"""A local stand-in for Slack, so the real Bolt app can be driven without a workspace.

* :class:`FakeSlackApi` is a small aiohttp server on port 0 that answers the
  Web API methods copbot calls in the shapes Slack documents, records every
  call's parameters, and can answer one call of a method with HTTP 429 to
  exercise slack_sdk's rate-limit retry handler.
* :class:`SlackHarness` builds the real :class:`~adapters.slack.SlackAdapter`
  (HTTP mode) on a real SQLite file, serves its aiohttp application on port 0,
  and sends genuinely signed requests (events, slash commands, shortcuts,
  block actions, view submissions) as Slack would.

Bolt runs with ``process_before_response=True`` here, so a request's response
comes back only after its listener finished: tests assert right after the
request returns, without sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import aiohttp
import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from adapters.slack.adapter import SlackAdapter
from adapters.slack.scopes import BOT_SCOPES
from bot.app import build_core
from bot.config import Settings
from bot.core import Core
from bot.runtime import AsyncCore
from tests.sqlite_file import sqlite_of

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-bot-token"
TEAM = "T0TEAM"
BOT_USER = "U0BOT"
WORKSPACE_URL = "https://acme.slack.com/"

#: Channels the fake workspace knows: id -> conversations.info's channel object.
CHANNELS: dict[str, dict[str, Any]] = {
    "C0PUBLIC": {"id": "C0PUBLIC", "name": "data-help", "is_private": False},
    "C0OTHER": {"id": "C0OTHER", "name": "random", "is_private": False},
    "C0SECRET": {"id": "C0SECRET", "name": "platform-team", "is_private": True},
    "D0DM": {"id": "D0DM", "is_im": True},
}
USERS = {"U0ASK": "Ada Asker", "U0ANS": "Ben Answer", "U0VOTE": "Cy Voter", "U0SAVE": "Di Saver"}
CHANNEL_TYPES = {"C0PUBLIC": "channel", "C0OTHER": "channel", "C0SECRET": "group", "D0DM": "im"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200


@dataclass
class FakeSlackApi:
    """Records Web API calls and answers them as Slack documents."""

    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    rate_limited: dict[str, int] = field(default_factory=dict)
    unavailable: dict[str, int] = field(default_factory=dict)
    scopes: str = ",".join(BOT_SCOPES)
    #: Channels the bot is not a member of (history says ``not_in_channel``).
    not_member: set[str] = field(default_factory=set)
    #: Fewer messages per page than asked, as Slack may return (``None``: as asked).
    page_cap: int | None = None
    #: A reaction's ``users`` cut to this many, its ``count`` still the whole: "we limit
    #: it to X users, and X might change" (Slack's ``reactions.get``). ``None``: all listed.
    reaction_users_shown: int | None = None
    #: Method -> the error Slack answers it with (``{"ok": false, "error": ...}``, HTTP 200).
    errors: dict[str, str] = field(default_factory=dict)
    auth_url: str = WORKSPACE_URL
    url: str = ""
    _ts: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    # ------------------------------------------------------------------ queries

    def of(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every successful call of ``method``, in order."""
        return [c.params for c in self.calls if c.method == method and c.status == 200]

    def attempts(self, method: str) -> int:
        return sum(1 for c in self.calls if c.method == method)

    def rate_limit_once(self, method: str) -> None:
        self.rate_limited[method] = self.rate_limited.get(method, 0) + 1

    def fail_once(self, method: str) -> None:
        """The next call of ``method`` gets HTTP 503, as during a Slack outage."""
        self.unavailable[method] = self.unavailable.get(method, 0) + 1

    async def wait_for(self, method: str, count: int = 1, timeout: float = 60.0) -> None:
        """Until ``method`` was called successfully ``count`` times (a safety timeout only)."""

        async def until() -> None:
            while len(self.of(method)) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(until(), timeout)

    # ------------------------------------------------------------------ server

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        if self.rate_limited.get(method):
            self.rate_limited[method] -= 1
            self.calls.append(Call(method, params, 429))
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "0"}
            )
        if self.unavailable.get(method):
            self.unavailable[method] -= 1
            self.calls.append(Call(method, params, 503))
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        self.calls.append(Call(method, params))
        self._changed.set()
        if method in self.errors:
            return web.json_response({"ok": False, "error": self.errors[method]})
        body, headers = self.answer(method, params)
        return web.json_response(body, headers=headers)

    async def handle_response_url(self, request: web.Request) -> web.Response:
        self.calls.append(Call("response_url", await _params(request)))
        self._changed.set()
        return web.json_response({"ok": True})

    def history(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        """``conversations.history`` / ``.replies`` as Slack pages them.

        Slack's reference for both methods: ``limit`` defaults to 100 for history
        (at most 999) and to 1000 for replies, and fewer may be returned
        (:attr:`page_cap`: 15 for apps distributed outside the Marketplace since
        2025); ``oldest``/``latest`` bound the range, excluded unless ``inclusive``.
        History is newest first; with ``oldest`` and no ``latest`` the page holds the
        messages *closest to oldest* (to page forward), else those closest to
        ``latest``. Replies are oldest first, the parent always first. Past one page,
        ``has_more`` and ``response_metadata.next_cursor`` continue the same walk.
        """
        channel = str(p.get("channel") or "")
        if channel not in CHANNELS and not any(c == channel for c, _ in self.messages):
            return {"ok": False, "error": "channel_not_found"}
        if channel in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        history = method == "conversations.history"
        try:
            limit = int(p.get("limit") or (100 if history else 1000))
            offset = _decode_cursor(str(p["cursor"])) if p.get("cursor") else 0
        except ValueError:
            return {"ok": False, "error": "invalid_cursor" if p.get("cursor") else "invalid_limit"}
        limit = min(max(limit, 1), 999 if history else 1000, self.page_cap or 1000)
        inclusive = str(p.get("inclusive", "0")).lower() in ("1", "true")
        oldest = float(p["oldest"]) if p.get("oldest") else None
        latest = float(p["latest"]) if p.get("latest") else None

        def in_range(ts: str) -> bool:
            at = float(ts)
            if oldest is not None and (at < oldest or (at == oldest and not inclusive)):
                return False
            return not (latest is not None and (at > latest or (at == latest and not inclusive)))

        mine = {ts: m for (c, ts), m in self.messages.items() if c == channel}
        root: dict[str, Any] | None = None
        if history:
            found = [
                m
                for ts, m in mine.items()
                if m.get("thread_ts") in (None, ts) or m.get("subtype") == "thread_broadcast"
            ]
        else:
            asked = mine.get(str(p.get("ts")))
            if asked is None:
                return {"ok": False, "error": "thread_not_found"}
            root_ts = str(asked.get("thread_ts") or asked["ts"])
            root = mine.get(root_ts)
            found = [m for ts, m in mine.items() if m.get("thread_ts") == root_ts and ts != root_ts]
        found = [m for m in found if in_range(str(m["ts"]))]
        forward = not history or (oldest is not None and latest is None)
        found.sort(key=lambda m: float(m["ts"]), reverse=not forward)
        if root is not None:
            found.insert(0, root)
        page = [self._as_served(m) for m in found[offset : offset + limit]]
        has_more = offset + limit < len(found)
        if history and forward:
            page.reverse()  # history pages are always newest first
        return {
            "ok": True,
            "messages": page,
            "has_more": has_more,
            "response_metadata": {
                "next_cursor": _encode_cursor(offset + limit) if has_more else ""
            },
        }

    def _as_served(self, message: dict[str, Any]) -> dict[str, Any]:
        """A stored message as Slack serves it: each reaction's users cut to the shown few."""
        shown = self.reaction_users_shown
        if shown is None or not message.get("reactions"):
            return message
        reactions = [
            {**r, "users": list(r.get("users") or [])[:shown], "count": len(r.get("users") or [])}
            for r in message["reactions"]
        ]
        return {**message, "reactions": reactions}

    def next_ts(self) -> str:
        self._ts += 1
        return f"1800000000.{self._ts:06d}"

    def answer(self, method: str, p: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        if method == "auth.test":
            body: dict[str, Any] = {
                "ok": True,
                "team": "Acme",
                "user": "copbot",
                "team_id": TEAM,
                "user_id": BOT_USER,
                "bot_id": "B0BOT",
            }
            if self.auth_url:
                body["url"] = self.auth_url
            return body, {"x-oauth-scopes": self.scopes}
        if method == "conversations.info":
            channel = CHANNELS.get(str(p.get("channel")))
            if channel is None:
                return {"ok": False, "error": "channel_not_found"}, {}
            return {"ok": True, "channel": channel}, {}
        if method == "users.info":
            user = str(p.get("user"))
            name = USERS.get(user, "")
            return {
                "ok": True,
                "user": {"id": user, "name": user.lower(), "profile": {"display_name": name}},
            }, {}
        if method == "chat.postMessage":
            ts = self.next_ts()
            return {"ok": True, "channel": p.get("channel"), "ts": ts, "message": {"ts": ts}}, {}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}, {}
        if method == "chat.getPermalink":
            ts = str(p.get("message_ts", "")).replace(".", "")
            return {
                "ok": True,
                "permalink": f"{WORKSPACE_URL}archives/{p.get('channel')}/p{ts}",
            }, {}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0MODAL"}}, {}
        if method in ("conversations.history", "conversations.replies"):
            return self.history(method, p), {}
        if method == "apps.connections.open":
            return {"ok": True, "url": "wss://example.invalid/link"}, {}
        return {"ok": False, "error": "unknown_method"}, {}


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    """An offset from a cursor this fake gave; anything else is ``invalid_cursor``."""
    try:
        kind, _, offset = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise ValueError(cursor) from None
    if kind != "offset" or not offset.isdigit():
        raise ValueError(cursor)
    return int(offset)


async def _params(request: web.Request) -> dict[str, Any]:
    """A call's parameters, JSON or form; JSON-encoded fields (blocks, view) decoded."""
    raw = await request.text()
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query)
    elif request.content_type == "application/json":
        params = json.loads(raw or "{}")
    else:
        params = dict(parse_qsl(raw, keep_blank_values=True))
    for key in ("blocks", "view"):
        value = params.get(key)
        if isinstance(value, str) and value[:1] in "[{":
            params[key] = json.loads(value)
    return params


@contextlib.asynccontextmanager
async def running_fake_slack() -> AsyncIterator[FakeSlackApi]:
    """A :class:`FakeSlackApi` served on 127.0.0.1, port 0, for the duration of the block."""
    fake = FakeSlackApi()
    app = web.Application()
    app.router.add_route("*", "/api/{method}", fake.handle)
    app.router.add_post("/response/{rest}", fake.handle_response_url)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlackApi]:
    async with running_fake_slack() as fake:
        yield fake


# --------------------------------------------------------------------------- the app side


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Headers Slack sends with an HTTP request, signed as Slack signs them."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


@dataclass
class SlackHarness:
    fake: FakeSlackApi
    core: Core
    adapter: SlackAdapter
    http: aiohttp.ClientSession
    url: str
    _seq: int = 0

    # ------------------------------------------------------------------ sending

    async def send(
        self,
        body: str,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> aiohttp.ClientResponse:
        all_headers = {"Content-Type": content_type, **sign(body), **(headers or {})}
        # A BytesIO, so aiohttp streams a large (1 MB) body instead of warning about it.
        data = io.BytesIO(body.encode())
        async with self.http.post(self.url, data=data, headers=all_headers) as resp:
            await resp.read()
            return resp

    def envelope(self, event: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        self._seq += 1
        return {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{self._seq:08d}",
            "event_time": 1_800_000_000,
            "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
        }

    async def event(
        self, event: dict[str, Any], event_id: str | None = None, retry: int | None = None
    ) -> aiohttp.ClientResponse:
        body = json.dumps(self.envelope(event, event_id))
        headers = (
            {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
            if retry
            else {}
        )
        return await self.send(body, "application/json", headers)

    async def message(
        self,
        channel: str,
        user: str,
        text: str,
        ts: str,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> aiohttp.ClientResponse:
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": CHANNEL_TYPES.get(channel, "channel"),
            **extra,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        return await self.event(event)

    async def react(
        self,
        channel: str,
        user: str,
        ts: str,
        reaction: str,
        added: bool = True,
        item_user: str = "",
    ) -> aiohttp.ClientResponse:
        return await self.event(
            {
                "type": "reaction_added" if added else "reaction_removed",
                "user": user,
                "reaction": reaction,
                "item_user": item_user,
                "item": {"type": "message", "channel": channel, "ts": ts},
                "event_ts": "1800000100.000100",
            }
        )

    async def command(self, channel: str, user: str, text: str) -> aiohttp.ClientResponse:
        self._seq += 1
        form = {
            "token": "unused",
            "team_id": TEAM,
            "team_domain": "acme",
            "channel_id": channel,
            "channel_name": CHANNELS.get(channel, {}).get("name", "directmessage"),
            "user_id": user,
            "user_name": user.lower(),
            "command": "/cop",
            "text": text,
            "api_app_id": "A0APP",
            "response_url": f"{self.fake.url}/response/cmd{self._seq}",
            "trigger_id": f"trigger.{self._seq}",
        }
        return await self.send(urlencode(form), "application/x-www-form-urlencoded")

    async def interactive(self, payload: dict[str, Any]) -> aiohttp.ClientResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded")

    # ------------------------------------------------------------------ reading back

    def entries(self) -> list[dict[str, Any]]:
        db = sqlite_of(self.core.services.repertoire).db
        return [dict(r) for r in db["entries"].rows]


@pytest.fixture
async def slack(
    fake_slack: FakeSlackApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SlackHarness]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.delenv("SLACK_APP_TOKEN", raising=False)
    async with harness_for(fake_slack, tmp_path, Settings()) as harness:
        yield harness


class harness_for:
    """Build the adapter in HTTP mode on a fresh SQLite file and serve it on port 0."""

    def __init__(
        self, fake: FakeSlackApi, tmp_path: Path, settings: Settings, **kwargs: Any
    ) -> None:
        self.fake, self.tmp_path, self.settings, self.kwargs = fake, tmp_path, settings, kwargs

    async def __aenter__(self) -> SlackHarness:
        self.core = build_core(self.settings, self.tmp_path / "copbot.db")
        self.async_core = AsyncCore(self.core)
        self.adapter = SlackAdapter(
            self.async_core,
            self.settings,
            http=True,
            port=None,
            client_base_url=f"{self.fake.url}/api/",
            **{"process_before_response": True, **self.kwargs},
        )
        self.runner = web.AppRunner(self.adapter.web_app())
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.session = aiohttp.ClientSession()
        return SlackHarness(
            self.fake,
            self.core,
            self.adapter,
            self.session,
            f"http://127.0.0.1:{port}/slack/events",
        )

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()
        await self.runner.cleanup()
        await self.adapter.close()
        self.async_core.close()
        self.core.services.repertoire.close()
