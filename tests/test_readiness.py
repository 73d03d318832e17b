"""``GET /readyz`` of ``copbot run --http``: ready or not, and which roles this process holds.

On SQLite every role is the one process's (there is no other to share with);
the PostgreSQL side, with several processes, is ``tests/test_workers.py``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.runner import run
from bot.config import Settings
from tests.slack_harness import BOT_TOKEN, SIGNING_SECRET, running_fake_slack
from tests.test_platforms_fail_alone import QUICK, free_port


async def readiness(port: int) -> tuple[int, dict[str, Any]] | None:
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/readyz") as response,
        ):
            return response.status, await response.json()
    except aiohttp.ClientError:
        return None


@pytest.mark.parametrize(
    ("digests", "roles"),
    [([{"channel": "slack:C0PUBLIC", "every_minutes": 60}], ["scheduler"]), ([], [])],
)
async def test_readyz_names_the_roles_this_process_holds(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    digests: list[dict[str, Any]],
    roles: list[str],
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    port, db = free_port(), tmp_path / "copbot.db"
    async with running_fake_slack() as fake:
        settings = Settings.model_validate(
            {
                "database": str(db),
                "slack": {"enabled": True, "mode": "http", "http_port": port,
                          "api_url": f"{fake.url}/api/"},
                "digests": digests,
            }
        )  # fmt: skip
        bot = asyncio.create_task(run(settings, db, backoff=QUICK))
        answers: list[tuple[int, dict[str, Any]]] = []

        async def held() -> None:
            found = await readiness(port)
            if found is not None:
                answers.append(found)

        def roles_settled() -> bool:
            return bool(answers) and answers[-1][1]["roles"] == roles

        try:
            async with asyncio.timeout(60):  # a safety net only
                while not roles_settled():
                    await held()
                    await asyncio.sleep(0.02)
        finally:
            bot.cancel()
            await asyncio.gather(bot, return_exceptions=True)
    status, body = answers[-1]
    assert status == 200 and body["ready"] is True
    assert body["seeking"] == roles
    assert isinstance(body["pid"], int)
