"""The web view is findable: canonical addresses, QAPage JSON-LD, OpenGraph, sitemaps, robots."""

# ruff: noqa: F811  (pytest fixtures are imported from web_support by name)

from __future__ import annotations

from pathlib import Path
from typing import Any

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


async def test_question_page_has_qapage_jsonld_and_opengraph(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    page = await question_page(site, chat, "q1")
    (data,) = page.jsonld
    assert data["@type"] == "QAPage"
    main = data["mainEntity"]
    assert main["@type"] == "Question"
    assert main["name"] == "How do I read a huge CSV file with pandas?"
    assert main["answerCount"] == 2
    assert main["acceptedAnswer"]["text"].startswith("Use polars scan_csv")
    assert [a["text"] for a in main["suggestedAnswer"]] == [
        "Use chunksize= and process it piece by piece."
    ]
    assert main["acceptedAnswer"]["url"].endswith(f"#a{entry_id(chat, 'q1b')}")
    assert page.canonical.startswith("http://127.0.0.1:")
    assert page.canonical.endswith(
        f"/q/{entry_id(chat, 'q1')}-how-do-i-read-a-huge-csv-file-with-pandas"
    )
    assert page.meta["og:url"] == page.canonical
    assert page.meta["og:title"] == "How do I read a huge CSV file with pandas?"
    assert page.meta["og:type"] == "article"
    assert page.meta["og:description"].startswith("How do I read a huge CSV")


async def test_question_addresses_redirect_to_the_canonical_slug(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    qid = entry_id(chat, "q1")
    canonical = f"/q/{qid}-how-do-i-read-a-huge-csv-file-with-pandas"
    for path in (f"/q/{qid}", f"/q/{qid}-old-title"):
        response = await site.get(path, allow_redirects=False)
        assert response.status == 301
        assert response.headers["Location"] == canonical
    await get_page(site, canonical)
    knowhow = chat.entry("k2", "C2")
    assert knowhow is not None
    response = await site.get(f"/q/{knowhow.id}", allow_redirects=False)
    assert response.status == 301 and response.headers["Location"].startswith(f"/k/{knowhow.id}-")


async def test_sitemap_lists_canonical_published_pages_with_lastmod(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, said = community
    index = await get_page(site, "/sitemap.xml")
    assert "<sitemapindex" in index and "/sitemap-0.xml" in index and "/sitemap-1.xml" in index
    pages = await get_page(site, "/sitemap-0.xml")
    assert "/t/pandas</loc>" in pages and "/t/secrets" not in pages
    entries = await get_page(site, "/sitemap-1.xml")
    qid = entry_id(chat, "q1")
    assert f"/q/{qid}-how-do-i-read-a-huge-csv-file-with-pandas</loc>" in entries
    for secret in said.secrets:
        assert secret not in entries
    for mid, channel in (("u1", "C3"), ("p1", "G1"), ("e1", "C1")):
        assert f"/q/{entry_id(chat, mid, channel)}-" not in entries
    assert "/m/" not in entries + pages  # member pages are not listed
    lastmod = entries.split(f"/q/{qid}-")[1].split("<lastmod>")[1].split("</lastmod>")[0]
    assert lastmod == "2026-06-01T12:09:00+00:00"  # chen's answer, the latest change shown
    await get_page(site, "/sitemap-2.xml", status=404)


async def test_lastmod_moves_when_an_answer_is_accepted(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    qid = entry_id(chat, "q3")
    chat.reply("q3", "Autoescape does it.", mid="q3a", user="chen", channel="C1", minutes=60)
    before = await get_page(site, "/sitemap-1.xml")
    chat.clock.at = chat.clock.at.replace(hour=15)
    chat.react("q3a", "dave", channel="C1")
    after = await get_page(site, "/sitemap-1.xml")

    def lastmod(xml: str) -> str:
        return xml.split(f"/q/{qid}-")[1].split("<lastmod>")[1].split("</lastmod>")[0]

    assert lastmod(before) == "2026-06-01T13:00:00+00:00"
    assert lastmod(after) == "2026-06-01T15:00:00+00:00"


async def test_robots_points_to_the_sitemap_at_the_configured_address(
    community: tuple[Chat, Scenario], tmp_path: Path
) -> None:
    settings = web_settings(base_url="https://answers.example.org/cop")
    async with serve(tmp_path / "copbot.db", settings) as client:
        robots = await get_page(client, "/cop/robots.txt")
        home = Page(await get_page(client, "/cop/"))
        await get_page(client, "/", status=404)
    assert "Sitemap: https://answers.example.org/cop/sitemap.xml" in robots
    assert "Disallow: /cop/search" in robots
    assert home.canonical == "https://answers.example.org/cop/"
    assert all(h.startswith(("/cop/", "https://", "#")) for h in home.hrefs()), home.hrefs()


async def test_sitemap_lastmod_is_the_date_modified_each_question_page_reports(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    chat.clock.at = chat.clock.at.replace(hour=18)
    chat.cop(f"retag #{entry_id(chat, 'q2')} +scheduling", user="chen", channel="C1")
    chat.clock.at = chat.clock.at.replace(hour=19)
    chat.react("q1a", "bob", "pray", channel="C1")  # a reaction on an answer
    xml = await get_page(site, "/sitemap-1.xml")
    pairs = [
        (part.split("</loc>")[0], part.split("<lastmod>")[1].split("</lastmod>")[0])
        for part in xml.split("<loc>")[1:]
    ]
    questions = [(loc, mod) for loc, mod in pairs if "/q/" in loc]
    assert len(questions) == 3  # q1, q2, q3; the rest is not published
    for loc, lastmod in questions:
        page = Page(await get_page(site, "/" + loc.split("/", 3)[3]))
        modified = page.jsonld[0]["mainEntity"]["dateModified"]
        assert lastmod == modified[:19] + "+00:00", loc
    by_loc = dict(pairs)
    q1 = next(mod for loc, mod in by_loc.items() if f"/q/{entry_id(chat, 'q1')}-" in loc)
    q2 = next(mod for loc, mod in by_loc.items() if f"/q/{entry_id(chat, 'q2')}-" in loc)
    assert q1 == "2026-06-01T19:00:00+00:00"
    assert q2 == "2026-06-01T18:00:00+00:00"
