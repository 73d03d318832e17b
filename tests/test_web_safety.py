"""The web view is safe: only published text, escaped; security and cache headers.

What must never be served (unpublished, private, turned private, opted out,
forgotten), how member text is escaped and linked, and the headers every
response carries (CSP, nosniff, referrer policy, ETag and 304).
"""

# ruff: noqa: F811  (pytest fixtures are imported from web_support by name)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.chat_driver import Chat
from tests.web_support import (  # noqa: F401  (fixtures are used by name)
    Page,
    Scenario,
    community,
    entry_id,
    get_page,
    question_page,
    serve,
    site,
    web_settings,
)


async def test_member_text_is_escaped_and_only_http_links_are_made(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    response = await site.get(f"/q/{entry_id(chat, 'q3')}", allow_redirects=True)
    html = await response.text()
    page = Page(html)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:" not in " ".join(page.hrefs())
    assert "javascript:alert(3)" in page.text  # shown as text, never as a link
    assert "https://example.com/a?b=1&c=2" in page.hrefs()
    rels = [
        attrs.get("rel")
        for tag, attrs in page.tags
        if attrs.get("href") == "https://example.com/a?b=1&c=2"
    ]
    assert rels == ["nofollow ugc noopener noreferrer"]
    assert "Continue in" not in page.text  # its permalink was javascript:
    # The JSON-LD block cannot be closed from inside: "<" is escaped in it.
    ld = html.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert "<" not in ld
    assert page.jsonld[0]["mainEntity"]["text"].startswith("How do I escape <script>")


async def test_every_page_sends_security_and_cache_headers(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    qid = entry_id(chat, "q1")
    paths = [
        "/",
        "/search?q=csv",
        f"/q/{qid}",
        "/t/pandas",
        "/digests",
        "/sitemap.xml",
        "/robots.txt",
        "/static/style.css",
        "/no-such-page",
    ]
    for path in paths:
        response = await site.get(path)
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, path
        assert "script-src" not in csp  # no script is allowed at all
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        assert headers["ETag"].startswith('"'), path
        assert headers["Cache-Control"].startswith(("public, max-age=", "no-cache")), path
        assert "Server-Timing" not in headers  # only when asked for (benchmarks)


async def test_server_timing_says_what_a_page_cost_when_asked_to(
    community: tuple[Chat, Scenario], tmp_path: Path
) -> None:
    async with serve(tmp_path / "copbot.db", web_settings(server_timing=True)) as client:
        response = await client.get("/search?q=csv")
        steps = dict(
            part.strip().split(";dur=") for part in response.headers["Server-Timing"].split(",")
        )
        style = await client.get("/static/style.css")
    assert set(steps) == {"read", "render"}
    assert all(float(ms) >= 0 for ms in steps.values())
    assert "Server-Timing" not in style.headers  # nothing was read or rendered for it


async def test_etag_gives_304_until_the_page_changes(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    url = f"/q/{entry_id(chat, 'q2')}"
    first = await site.get(url)
    etag = first.headers["ETag"]
    again = await site.get(url, headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    assert again.headers["ETag"] == etag
    weak = await site.get(url, headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status == 304
    chat.reply("q2", "Set retries=0 on the default_args.", mid="q2a", user="chen", channel="C1")
    changed = await site.get(url, headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    assert "Set retries=0" in await changed.text()


@pytest.mark.parametrize("secret", ["zebracorn", "quokka", "wombat", "narwhal", "rotate", "yeti"])
async def test_search_never_finds_what_is_not_published(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario], secret: str
) -> None:
    page = Page(await get_page(site, f"/search?q={secret}"))
    assert not [href for href in page.hrefs() if href.startswith(("/q/", "/k/"))]
    assert "Nothing found" in page.text


async def test_a_channel_that_turned_private_is_unpublished_with_what_was_said_before(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    question = chat.entry("o1", "C4")
    assert question is not None
    assert question.visibility == "private"  # it follows its channel
    await get_page(site, f"/q/{question.id}", status=404)
    index = Page(await get_page(site, "/digests"))
    assert "#ops" not in index.text


@pytest.mark.parametrize("mid,channel", [("u1", "C3"), ("p1", "G1"), ("e1", "C1")])
async def test_unpublished_private_and_opted_out_questions_have_no_page(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario], mid: str, channel: str
) -> None:
    chat, _ = community
    page = await get_page(site, f"/q/{entry_id(chat, mid, channel)}", status=404)
    assert "Not found" in page


async def test_no_member_page_for_the_opted_out_the_private_only_and_the_forgotten(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community

    def member_id(user: str) -> int:
        rows = chat.sql("SELECT id FROM members WHERE user_id = ?", user)
        return int(str(rows[0][0]))

    erin = member_id("erin")
    await get_page(site, f"/m/{erin}", status=404)
    chat.say("Can anyone help me in private?", mid="p9", user="fay", channel="G1")
    await get_page(site, f"/m/{member_id('fay')}", status=404)
    dave = member_id("dave")
    response = await site.get(f"/m/{dave}")
    assert response.status == 200
    from bot.forget import carry_out, plan_for

    for plan in plan_for(chat.core, "dave"):
        carry_out(chat.core, plan)
    await get_page(site, f"/m/{dave}", status=404)


async def test_web_off_hides_everything_the_member_wrote_and_on_brings_it_back(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    qid = entry_id(chat, "q1")
    url = f"/q/{qid}-how-do-i-read-a-huge-csv-file-with-pandas"
    assert "yeti" not in await get_page(site, url)
    found = Page(await get_page(site, "/search?q=yeti+dask"))
    assert not [href for href in found.hrefs() if href.startswith("/q/")]
    chat.cop("web off", user="chen", channel="C1")
    page = Page(await get_page(site, url))
    assert "Use polars" not in page.text and "Accepted answer" not in page.text
    assert "Chen" not in page.text
    chat.cop("web on", user="erin", channel="C1")
    chat.cop("web on", user="chen", channel="C1")
    page = Page(await get_page(site, url))
    assert "Try dask with the yeti trick." in page.text
    assert "Use polars" in page.text


def test_the_web_views_connections_cannot_change_the_file(
    community: tuple[Chat, Scenario], tmp_path: Path
) -> None:
    import sqlite3

    from knowledge.sqlite.repertoire import Repertoire

    reader = Repertoire.open_read_only(tmp_path / "copbot.db")
    try:
        before = reader.sql.rows("SELECT count(*) FROM entries")
        for statement in (
            "DELETE FROM entries",
            "UPDATE members SET display_name = 'x'",
            "INSERT INTO meta (key, value) VALUES ('a', 'b')",
            "CREATE TABLE stray (x)",
            "DROP TABLE meta",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
                reader.sql.execute(statement)
        assert reader.sql.rows("SELECT count(*) FROM entries") == before
        # Search still works: its scratch tables live in the connection's temp schema.
        from knowledge.query import parse_query
        from knowledge.search import search

        assert search(reader, parse_query("huge csv"), None)
    finally:
        reader.close()
