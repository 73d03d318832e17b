# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""Both ways to connect: Socket Mode requests through Bolt's handler, HTTP mode's server."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from adapters.slack.adapter import SlackAdapter
from bot.app import build_core
from bot.config import Settings, SlackSettings
from bot.core import Core
from bot.runtime import AsyncCore
from knowledge.storage import Viewer
from tests.slack_harness import SIGNING_SECRET, TEAM, FakeSlackApi, fake_slack  # noqa: F401


class RecordingSocketClient(SocketModeClient):
    """Stands in for the WebSocket: records the acknowledgements Bolt sends back.

    It never connects, so it skips the real client's set-up (an app token, a session).
    """

    def __init__(self) -> None:  # not super().__init__(): no token, no session
        self.logger = logging.getLogger("test.socket")
        self.responses: list[SocketModeResponse] = []

    async def send_socket_mode_response(
        self, response: dict[str, Any] | SocketModeResponse
    ) -> None:
        assert isinstance(response, SocketModeResponse), response  # what Bolt sends
        self.responses.append(response)


@pytest.fixture
async def socket_adapter(
    fake_slack: FakeSlackApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[SlackAdapter, Core]]:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    core = build_core(Settings(), tmp_path / "copbot.db")
    async_core = AsyncCore(core)
    adapter = SlackAdapter(
        async_core,
        Settings(),
        http=False,
        port=None,
        client_base_url=f"{fake_slack.url}/api/",
        process_before_response=True,
    )
    try:
        yield adapter, core
    finally:
        await adapter.close()
        async_core.close()
        core.services.repertoire.close()


def events_api(envelope_id: str, event_id: str, retry: int = 0) -> SocketModeRequest:
    payload = {
        "team_id": TEAM,
        "api_app_id": "A0APP",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1_800_000_000,
        "event": {
            "type": "message",
            "channel": "C0PUBLIC",
            "channel_type": "channel",
            "user": "U0ASK",
            "text": "How do I read a huge CSV file with pandas?",
            "ts": "1800000001.000100",
        },
    }
    return SocketModeRequest(
        type="events_api",
        envelope_id=envelope_id,
        payload=payload,
        retry_attempt=retry,
        retry_reason="timeout" if retry else None,
    )


async def test_socket_mode_redeliveries_make_one_entry(
    socket_adapter: tuple[SlackAdapter, Core],
) -> None:
    adapter, core = socket_adapter
    handler = adapter.socket_handler()
    client = RecordingSocketClient()
    try:
        await handler.handle(client, events_api("env-1", "Ev1"))
        await handler.handle(client, events_api("env-2", "Ev1", retry=1))
        await handler.handle(client, events_api("env-3", "Ev1"))
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves it untyped
    assert [r.envelope_id for r in client.responses] == ["env-1", "env-2", "env-3"]
    [entry] = core.services.repertoire.entries(Viewer.operator_including_private())
    assert entry.kind == "question"


async def test_socket_mode_slash_command_is_acked_then_answered(
    socket_adapter: tuple[SlackAdapter, Core], fake_slack: FakeSlackApi
) -> None:
    adapter, _core = socket_adapter
    client = RecordingSocketClient()
    request = SocketModeRequest(
        type="slash_commands",
        envelope_id="env-cmd",
        payload={
            "team_id": TEAM,
            "channel_id": "C0PUBLIC",
            "channel_name": "data-help",
            "user_id": "U0ASK",
            "user_name": "ada",
            "command": "/cop",
            "text": "help",
            "response_url": f"{fake_slack.url}/response/x",
            "trigger_id": "t.1",
        },
    )
    handler = adapter.socket_handler()
    try:
        await handler.handle(client, request)
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]  # slack_bolt leaves it untyped
    assert [r.envelope_id for r in client.responses] == ["env-cmd"]
    [reply] = fake_slack.of("chat.postEphemeral")
    assert reply["user"] == "U0ASK" and "/cop" in reply["text"]


async def test_http_mode_start_serves_signed_requests_until_closed(
    fake_slack: FakeSlackApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    unused_tcp_port: int,
) -> None:
    from tests.slack_harness import sign

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    settings = Settings(slack=SlackSettings(mode="http", http_port=unused_tcp_port))
    core = build_core(settings, tmp_path / "copbot.db")
    async_core = AsyncCore(core)
    adapter = SlackAdapter(
        async_core, settings, http=False, port=None, client_base_url=f"{fake_slack.url}/api/"
    )
    task = asyncio.create_task(adapter.start())
    try:
        await asyncio.wait_for(adapter.started.wait(), 60)
        body = json.dumps({"token": "x", "challenge": "c-42", "type": "url_verification"})
        headers: dict[str, Any] = {"Content-Type": "application/json", **sign(body)}
        url = f"http://127.0.0.1:{unused_tcp_port}/slack/events"
        async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
            assert r.status == 200 and "c-42" in await r.text()
    finally:
        await adapter.close()
        await asyncio.wait_for(task, 60)
        async_core.close()
        core.services.repertoire.close()
