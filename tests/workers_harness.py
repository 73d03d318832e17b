"""Several real ``copbot run --http`` processes on one real PostgreSQL, for the workers tests.

Each :class:`Worker` is the installed ``copbot`` command in a subprocess, as an
operator runs it: Slack in HTTP mode on a port of its own, the repertoire
named by ``COPBOT_DATABASE_URL`` (the one place a URL with a password may
come from), Slack's Web API the local fake of ``tests/slack_harness.py``
(running in the test's event loop, so it counts every post). A test sends
genuinely signed Slack requests to any worker, reads ``GET /readyz`` to see
which roles each holds, and kills one with SIGKILL as a crash would.

Everything a worker logs goes to a file; :meth:`Worker.problems` returns the
lines that say an event could not be handled, which the tests require to be
none: a worker that lost a race must not have failed an event.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
from psycopg.conninfo import conninfo_to_dict

from tests.slack_harness import BOT_TOKEN, SIGNING_SECRET, sign

COPBOT = Path(sys.executable).parent / "copbot"
#: Log lines that mean an event or a scheduled job failed in a worker. (A group of
#: events whose transaction two workers deadlocked is applied again one by one:
#: that is the design working, and any event failing then says "could not handle".)
PROBLEMS = ("could not handle", "Traceback", "could not build")


def database_url(conninfo: str) -> str:
    """The test database as a ``postgresql://`` URL (a unix socket goes in ``?host=``)."""
    params = conninfo_to_dict(conninfo)
    user = quote(str(params.get("user") or ""), safe="")
    password = params.get("password")
    userinfo = (
        f"{user}:{quote(str(password), safe='')}@" if password else (f"{user}@" if user else "")
    )
    host = str(params.get("host") or "")
    port = str(params.get("port") or "")
    query = ""
    if host.startswith("/"):
        query = f"?host={quote(host, safe='')}" + (f"&port={port}" if port else "")
        netloc = userinfo
    else:
        netloc = userinfo + host + (f":{port}" if port else "")
    return f"postgresql://{netloc}/{quote(str(params['dbname']), safe='')}{query}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker_config(path: Path, api_url: str, *, poll_seconds: float = 0.5, extra: str = "") -> Path:
    """A config for Slack over HTTP against the fake Web API; ``extra`` is more TOML.

    Similar-question suggestions are off: they are the search tests' subject,
    and here every reply they would post would count as a post to the fake.
    """
    path.write_text(
        '[slack]\nenabled = true\nmode = "http"\n'
        f'api_url = "{api_url}"\n'
        "[similar]\nenabled = false\n"
        f"[workers]\npoll_seconds = {poll_seconds}\n{extra}",
        encoding="utf-8",
    )
    return path


def copbot_env(db_url: str, **more: str) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("SLACK_APP_TOKEN", "DISCORD_TOKEN", "COPBOT_CONFIG"):
        env.pop(name, None)
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        COPBOT_DATABASE_URL=db_url,
        PYTHONUNBUFFERED="1",
        **more,
    )
    return env


@dataclass
class Worker:
    """One ``copbot run --http`` process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    killed_at: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill: nothing runs on the way out."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.killed_at = time.monotonic()

    def stop(self) -> None:
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def problems(self) -> list[str]:
        """Each log line saying something failed, with the lines after it (its traceback)."""
        lines = [line for line in self.output().splitlines() if "aiohttp.access" not in line]
        return [
            "\n".join(lines[number : number + 25])
            for number, line in enumerate(lines)
            if any(p in line for p in PROBLEMS)
        ]

    async def readiness(self, http: aiohttp.ClientSession) -> dict[str, Any] | None:
        """``GET /readyz``'s body, or ``None`` while the worker does not answer."""
        try:
            async with http.get(f"{self.url}/readyz") as response:
                body: dict[str, Any] = await response.json()
                return body
        except (aiohttp.ClientError, json.JSONDecodeError):
            return None

    async def roles(self, http: aiohttp.ClientSession) -> list[str]:
        body = await self.readiness(http)
        return list(body["roles"]) if body else []


@dataclass
class Workers:
    """Start, reach and stop several workers on one database."""

    db_url: str
    config: Path
    logs: Path
    started: list[Worker] = field(default_factory=list)

    def start(self, name: str, env: Mapping[str, str] | None = None) -> Worker:
        port = free_port()
        log = self.logs / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(COPBOT), "run", "--http", "--port", str(port), "--config", str(self.config)],
                env=copbot_env(self.db_url, **dict(env or {})),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.logs,
            )
        worker = Worker(name, port, process, log)
        self.started.append(worker)
        return worker

    async def ready(self, http: aiohttp.ClientSession, *workers: Worker) -> None:
        """Until every worker answers ``/readyz`` with ready (or one exits: its log)."""

        async def one(worker: Worker) -> bool:
            assert worker.alive, f"{worker.name} exited:\n{worker.output()[-3000:]}"
            body = await worker.readiness(http)
            return bool(body and body["ready"])

        for worker in workers or tuple(self.started):

            async def this_one(worker: Worker = worker) -> bool:
                return await one(worker)

            await until(this_one, timeout=60, what=f"{worker.name} ready")

    def stop(self) -> None:
        for worker in self.started:
            worker.stop()


async def until(
    check: Callable[[], Awaitable[bool]], *, timeout: float, what: str, every: float = 0.05
) -> float:
    """Poll ``check`` until it holds; the seconds it took (fails after ``timeout``)."""
    started = time.monotonic()
    while True:
        if await check():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(every)


async def send_signed(
    http: aiohttp.ClientSession, worker: Worker, body: str, content_type: str = "application/json"
) -> int:
    """POST a request to a worker's ``/slack/events`` signed as Slack signs it; the status."""
    headers = {"Content-Type": content_type, **sign(body)}
    async with http.post(
        f"{worker.url}/slack/events", data=io.BytesIO(body.encode()), headers=headers
    ) as response:
        await response.read()
        return response.status
