"""``copbot web --db postgresql://…``: the same site as from the SQLite file it was copied from.

The web view's scenario community (said through the core into a SQLite file,
tests/web_support.py) is moved to PostgreSQL with ``copbot copy``; then the real
``copbot web`` runs once on each and every page a visitor can reach from the
home page and the sitemaps must be byte for byte the same. The addresses, ids
and dates come over with the copy, so any difference is the backend's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from bot.config import CONFIG_ENV_VAR
from knowledge.postgres.url import DATABASE_URL_ENV
from tests.chat_driver import MakeChat
from tests.pg_support import url_of
from tests.test_web_cli import fetch, running, wait_for_url, write_config
from tests.web_support import scenario, web_settings

LINK = re.compile(r'(?:href="|<loc>)https?://[^/"<]+(/[^"<#]*)')


def crawl(base: str, limit: int = 60) -> dict[str, tuple[int, str]]:
    """Every page reachable from the home page, the archive and the sitemaps (status, body)."""
    pages: dict[str, tuple[int, str]] = {}
    todo = ["/", "/digests", "/sitemap.xml", "/search?q=pandas"]
    while todo and len(pages) < limit:
        path = todo.pop(0)
        if path in pages or path.startswith("/static/"):
            continue
        pages[path] = fetch(base.rstrip("/") + path)
        todo += [p.replace("&amp;", "&") for p in LINK.findall(pages[path][1])]
        todo += re.findall(r'href="(/[^"#]*)"', pages[path][1])
    return pages


@pytest.fixture
def server_url(pg_dsn: str, monkeypatch: pytest.MonkeyPatch) -> str:
    url, password = url_of(pg_dsn)
    if password:
        monkeypatch.setenv("PGPASSWORD", password)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    return url


def test_copbot_web_serves_the_same_site_from_postgres(
    make_chat: MakeChat, tmp_path: Path, server_url: str
) -> None:
    scenario(make_chat(web_settings()))
    local = tmp_path / "copbot.db"
    copied = CliRunner().invoke(cli, ["copy", str(local), server_url])
    assert copied.exit_code == 0, copied.output
    config = write_config(tmp_path, 'base_url = "https://answers.example.org"')
    sites: list[dict[str, tuple[int, str]]] = []
    for database in (str(local), server_url):
        args = ["web", "--db", database, "--config", str(config), "--port", "0"]
        with running(args, tmp_path) as process:
            sites.append(crawl(wait_for_url(process.stdout)))
    from_file, from_server = sites
    assert len(from_file) >= 15  # questions, know-how, topics, members, weeks, sitemaps
    assert sorted(from_server) == sorted(from_file)
    for path, page in from_file.items():
        assert from_server[path] == page, path
    served = "".join(body for _, body in from_server.values())
    assert "How do I read a huge CSV file with pandas?" in served
    for secret in ("zebracorn", "quokka", "wombat", "yeti", "narwhal"):
        assert secret not in served, secret
