"""``copbot run`` on PostgreSQL: ``[storage] url`` chooses the server; Slack captures into it.

The real runner, built from settings as ``copbot run`` builds it, with Slack
over HTTP against the local fake Web API and a signed event; the entry must
land on the session's PostgreSQL, and no SQLite file be made.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable
from pathlib import Path

import aiohttp
import psycopg
import pytest

from adapters.runner import run
from adapters.supervisor import Backoff
from bot.app import database_for
from bot.config import Settings
from knowledge.postgres.url import DATABASE_URL_ENV
from tests.pg_support import url_of
from tests.slack_harness import BOT_TOKEN, SIGNING_SECRET, TEAM, running_fake_slack, sign

QUICK = Backoff(first=0.01, factor=2.0, cap=0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait for something the running bot does (a safety timeout only)."""

    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


async def say_in_slack(port: int, text: str) -> None:
    async with aiohttp.ClientSession() as http:

        async def started() -> None:
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)

        await asyncio.wait_for(started(), 60)  # a safety net only: a loaded machine is slow
        body = json.dumps(
            {
                "type": "event_callback",
                "team_id": TEAM,
                "event_id": "Ev0PG",
                "event": {
                    "type": "message",
                    "channel": "C0PUBLIC",
                    "channel_type": "channel",
                    "user": "U0ASK",
                    "text": text,
                    "ts": "1800000001.000100",
                },
            }
        )
        headers = {"Content-Type": "application/json", **sign(body)}
        async with http.post(
            f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
        ) as resp:
            assert resp.status == 200


def texts(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        return [str(row[0]) for row in conn.execute("SELECT text FROM entries")]


async def test_run_captures_into_the_server_the_config_names(
    pg_dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url, password = url_of(pg_dsn)
    if password:
        monkeypatch.setenv("PGPASSWORD", password)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    caplog.set_level(logging.INFO)
    port, web_port, unused = free_port(), free_port(), tmp_path / "copbot.db"
    question = "How do I keep one repertoire for two bot processes?"
    async with running_fake_slack() as fake:
        settings = Settings.model_validate(
            {
                "database": str(unused),
                "storage": {"url": url},
                "slack": {
                    "enabled": True,
                    "mode": "http",
                    "http_port": port,
                    "api_url": f"{fake.url}/api/",
                },
                "web": {"enabled": True, "port": web_port},
            }
        )
        bot = asyncio.create_task(run(settings, database_for(settings), backoff=QUICK))
        try:
            await say_in_slack(port, question)
            await until(lambda: texts(pg_dsn) == [question])
            # The web view reads the same server (nothing is published: its empty home page).
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{web_port}/") as response,
            ):
                assert response.status == 200
                assert "Nothing is published yet" in await response.text()
        finally:
            bot.cancel()
            with pytest.raises(asyncio.CancelledError):
                await bot
    assert not unused.exists()  # the config's SQLite file was never opened
    assert "web view: listening on" in caplog.text
