"""How the web view is started: ``copbot web``, ``copbot run`` with ``[web] enabled``,
``copbot demo``, and beside Slack's HTTP endpoint on one port.

The programs run for real in child processes and are asked for pages over HTTP.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.runner import web_view_for
from adapters.slack.adapter import SlackAdapter
from bot.app import build_core
from bot.config import CONFIG_ENV_VAR, Settings, parse_settings
from bot.runtime import AsyncCore
from tests.chat_driver import MakeChat
from tests.web_support import scenario, web_settings

COPBOT = Path(sys.executable).parent / "copbot"
URL = re.compile(r"(http://127\.0\.0\.1:\d+/)")
#: Runs the command given after it with Ctrl-C's default effect, as from a terminal. A test
#: run started in the background by a shell without job control (a CI script, ``nohup``)
#: inherits SIGINT *ignored*, and so would ``copbot``: the "interrupted" below then waited
#: its 20 s for nothing and failed. (``preexec_fn`` would do it too, but is not safe with
#: the threads a test process has.)
FROM_A_TERMINAL = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
    "os.execv(sys.argv[1], sys.argv[1:])"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return int(response.status), response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode("utf-8")


@contextmanager
def running(
    args: list[str], cwd: Path, stdin: int | None = None
) -> Iterator[subprocess.Popen[str]]:
    """The real ``copbot`` in a child process; interrupted (as Ctrl-C does) on the way out."""
    env = {k: v for k, v in os.environ.items() if k != CONFIG_ENV_VAR}
    with subprocess.Popen(
        [sys.executable, "-c", FROM_A_TERMINAL, str(COPBOT), *args],
        cwd=cwd,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, "LC_ALL": "C.UTF-8"},
    ) as process:
        try:
            yield process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def wait_for_url(stream: IO[str] | None, limit: int = 40) -> str:
    """Read lines until one holds the local address; every line read is kept for errors."""
    assert stream is not None, "the process was started without a stdout pipe"
    seen: list[str] = []
    for _ in range(limit):
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        match = URL.search(line)
        if match:
            return match.group(1)
    raise AssertionError(f"no address printed: {seen}")


@pytest.fixture
def community_db(make_chat: MakeChat, tmp_path: Path) -> Path:
    chat = make_chat(web_settings())
    scenario(chat)
    return tmp_path / "copbot.db"


def write_config(folder: Path, web: str) -> Path:
    channels = '["test:#data-help", "test:#tips"]'
    path = folder / "copbot.toml"
    path.write_text(f"[web]\nchannels = {channels}\n{web}\n", encoding="utf-8")
    return path


def test_copbot_web_serves_the_published_channels_until_interrupted(
    community_db: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path, "")
    args = ["web", "--db", str(community_db), "--config", str(config), "--port", "0"]
    with running(args, tmp_path) as process:
        url = wait_for_url(process.stdout)
        status, home = fetch(url)
        assert status == 200
        assert "How do I read a huge CSV file with pandas?" in home
        assert "zebracorn" not in home  # a public channel the config does not list
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        assert process.stderr is not None
        assert "Traceback" not in process.stderr.read()


def test_copbot_web_without_a_database_says_so(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(COPBOT), "web", "--db", str(tmp_path / "nothing.db"), "--port", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "no database at" in done.stderr and "Traceback" not in done.stderr


def test_copbot_run_serves_the_web_view_when_enabled(community_db: Path, tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, f"enabled = true\nport = {port}")
    with running(["run", "--db", str(community_db), "--config", str(config)], tmp_path) as process:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(100):  # until it listens
            if process.poll() is not None:
                raise AssertionError(process.stderr.read() if process.stderr else "")
            try:
                status, home = fetch(url)
                break
            except OSError:
                import time

                time.sleep(0.1)
        else:
            raise AssertionError("copbot run never served the web view")
        assert status == 200 and "Recently answered" in home


def test_make_demo_serves_the_sample_communitys_web_view_and_prints_where(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    args = ["demo", "--db", str(db), "--web-port", "0"]
    with running(args, tmp_path, stdin=subprocess.PIPE) as process:
        url = wait_for_url(process.stdout)
        status, home = fetch(url)
        assert status == 200
        assert "Python Data Engineering CoP" in home
        assert "#data-help" in home and "#tips-and-tricks" in home
        assert "platform-team" not in home  # the sample's private channel
        status, _ = fetch(url + "search?q=scheduler+restart")
        assert status == 200
        assert process.stdin is not None
        process.stdin.write("/quit\n")
        process.stdin.close()
        assert process.wait(timeout=30) == 0


async def test_the_web_view_shares_slacks_http_server_on_one_port(
    community_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    settings: Settings = parse_settings(
        {
            "slack": {"enabled": True, "mode": "http", "http_port": 3999},
            "web": {"enabled": True, "port": 3999, "channels": ["test:#data-help"]},
        }
    )
    core = build_core(settings, community_db)
    async_core = AsyncCore(core)
    adapter = SlackAdapter(async_core, settings, http=True, port=None)
    server, reader = web_view_for([adapter], settings, community_db)
    assert server is None and reader is not None  # no second server: Slack's serves it
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(adapter.web_app()))
    await client.start_server()
    try:
        home = await client.get("/")
        assert home.status == 200
        assert "How do I read a huge CSV file with pandas?" in await home.text()
        assert (await client.get("/healthz")).status == 200  # Slack's own routes still there
        assert (await client.post("/slack/events", data=b"{}")).status in (400, 401)
    finally:
        await client.close()
        reader.close()
        await adapter.close()
        async_core.close()
        core.services.repertoire.close()
    other = parse_settings({"web": {"enabled": True, "port": 3998}})
    server, reader = web_view_for([], other, community_db)
    assert server is not None and reader is None  # its own port: its own server
    await server.close()
