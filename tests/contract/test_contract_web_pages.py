"""Contract: the web view's pages over HTTP, served from a SQLite file and from PostgreSQL.

The real aiohttp application reads the repertoire through its own read-only
connections (:class:`adapters.web.WebReader`, given the file's path or the
server's ``postgresql://`` URL). A crawler follows every link from the home
page and the sitemaps: no page holds a word that must not reach the web.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient

from bot.config import Settings, parse_settings
from knowledge.backends import open_storage_read_only
from knowledge.relational.repertoire import RelationalRepertoire
from tests.contract.support import Community
from tests.contract.web_community import Built, build
from tests.pg_support import url_of
from tests.web_support import Page, get_page, serve

#: The web view's config: the public channel, and the private channel and DM (listed, not shown).
SETTINGS: Settings = parse_settings(
    {"web": {"channels": ["slack:T1:C-help", "slack:#team", "slack:D-ana"]}}
)


def database_of(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """What ``copbot web --db`` names: the contract's SQLite file, or the server's URL."""
    if backend == "sqlite":
        return str(tmp_path / "contract.db")
    url, password = url_of(str(request.getfixturevalue("pg_dsn")))
    if password:
        monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setenv("PGPASSWORD", password)
    return url


@pytest.fixture
def built(community: Community) -> Built:
    return build(community)


@pytest.fixture
async def site(
    built: Built, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[TestClient[Any, Any]]:
    async with serve(database_of(backend, tmp_path, request), SETTINGS) as client:
        yield client


async def _followed(client: TestClient[Any, Any], path: str) -> Page:
    response = await client.get(path, allow_redirects=False)
    if response.status == 301:
        path = response.headers["Location"]
    return Page(await get_page(client, path))


async def test_every_page_a_visitor_can_reach_holds_no_secret(
    site: TestClient[Any, Any], built: Built
) -> None:
    seen: set[str] = set()
    todo = ["/", "/digests", "/sitemap.xml"]
    bodies: list[str] = []
    while todo and len(seen) < 80:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        response = await site.get(path, allow_redirects=False)
        if response.status == 301:
            todo.append(response.headers["Location"])
            continue
        body = await response.text()
        assert response.status == 200, path
        bodies.append(body)
        found = Page(body).hrefs() if "<html" in body else _sitemap_urls(body)
        for href in found:
            parts = urlsplit(href)
            if parts.path.startswith("/") and not parts.path.startswith("/static/"):
                todo.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    served = "\n".join(bodies)
    for word in built.secrets:
        assert word not in served, word
    for path in ("/q/", "/k/", "/t/", "/m/", "/digests/", "/search"):  # every kind of page
        assert any(p.startswith(path) for p in seen), (path, sorted(seen))
    assert "chunksize" in served and "kcat" in served


def _sitemap_urls(xml: str) -> list[str]:
    return [part.split("</loc>")[0] for part in xml.split("<loc>")[1:]]


async def test_pages_of_what_is_not_published_are_not_found(
    site: TestClient[Any, Any], built: Built
) -> None:
    said, members = built.said, built.members
    for key in ("u1", "p1", "e1", "x1"):
        await get_page(site, f"/q/{said[key].id}", 404)
    await get_page(site, f"/k/{said['d1'].id}", 404)
    await get_page(site, f"/m/{members['erin']}", 404)
    await get_page(site, "/t/secrets", 404)
    await get_page(site, "/t/yeti", 404)


async def test_a_question_page_with_its_accepted_answer_and_structured_data(
    site: TestClient[Any, Any], built: Built
) -> None:
    page = await _followed(site, f"/q/{built.said['q1'].id}")
    assert "Use chunksize and stream it." in page.text and "Polars scan_csv" in page.text
    assert "yeti" not in page.text
    qa = page.jsonld[0]
    assert qa["@type"] == "QAPage"
    assert qa["mainEntity"]["answerCount"] == 2
    assert qa["mainEntity"]["acceptedAnswer"]["text"] == "Use chunksize and stream it."


async def test_search_finds_published_words_only(site: TestClient[Any, Any], built: Built) -> None:
    found = Page(await get_page(site, "/search?q=pandas"))
    assert "How do I read a huge CSV with pandas?" in found.text
    assert "zebracorn" not in found.text  # u1 says pandas too, in an unpublished channel
    for word in built.secrets:
        nothing = Page(await get_page(site, f"/search?q={word}"))
        assert not any(href.startswith("/q/") for href in nothing.hrefs()), word


async def test_member_topic_and_archive_pages(site: TestClient[Any, Any], built: Built) -> None:
    ben = await _followed(site, f"/m/{built.members['ben']}")
    assert "Why does airflow retry twice?" in ben.text
    topic = Page(await get_page(site, "/t/pandas"))
    assert "How do I read a huge CSV with pandas?" in topic.text
    assert "zebracorn" not in topic.text
    digests = Page(await get_page(site, "/digests"))
    channel = Page(await get_page(site, digests.link("help")))
    week = Page(await get_page(site, channel.link("Week")))
    assert "Peek at a Kafka topic with kcat" in week.text


def test_the_readers_connection_cannot_write(
    built: Built, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    reader: RelationalRepertoire = open_storage_read_only(database_of(backend, tmp_path, request))
    try:
        assert reader.get_meta("copbot-test") is None
        with pytest.raises(Exception, match=r"(?i)read.only|not authorized|prohibited"):
            reader.set_meta("copbot-test", "written by a page")
    finally:
        reader.close()
