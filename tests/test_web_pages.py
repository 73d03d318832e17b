"""Every page of the web view over HTTP: the real aiohttp app on a real SQLite file.

The community is said through the core (tests/web_support.py); the pages are
fetched with aiohttp's test client and read with an HTML parser.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp.test_utils import TestClient
from conftest import Chat
from web_support import Page, Scenario, get_page, scenario, serve, web_settings


@pytest.fixture
def community(make_chat: Callable[..., Chat]) -> tuple[Chat, Scenario]:
    chat = make_chat(web_settings())
    return chat, scenario(chat)


@pytest.fixture
async def site(
    community: tuple[Chat, Scenario], tmp_path: Path
) -> AsyncIterator[TestClient[Any, Any]]:
    async with serve(tmp_path / "copbot.db", web_settings()) as client:
        yield client


def entry_id(chat: Chat, mid: str, channel: str = "C1") -> int:
    entry = chat.entry(mid, channel)
    assert entry is not None, mid
    return entry.id


async def question_page(client: TestClient[Any, Any], chat: Chat, mid: str) -> Page:
    """Follow /q/<id> to its canonical address and parse it."""
    response = await client.get(f"/q/{entry_id(chat, mid)}", allow_redirects=False)
    assert response.status == 301
    html = await get_page(client, response.headers["Location"])
    return Page(html)


# ----------------------------------------------------------------------------- home


async def test_home_lists_answered_open_topics_and_knowhow_of_published_channels(
    site: TestClient[Any, Any],
) -> None:
    page = Page(await get_page(site, "/"))
    text = page.text
    sections = [h for tag, h in page.headings if tag == "h2"]
    assert sections[:4] == [
        "Recently answered",
        "Open questions that need help",
        "Topics",
        "New know-how",
    ]
    answered = text.split("Recently answered")[1].split("Open questions")[0]
    open_part = text.split("Open questions that need help")[1].split("Topics")[0]
    assert "How do I read a huge CSV file with pandas?" in answered
    assert "Accepted answer" in answered
    assert "Why does airflow retry my task twice?" in open_part
    assert "How do I read a huge CSV" not in open_part
    assert "#pandas" in text and "#kafka" in text
    assert "pandas 3 makes copy-on-write the default" in text
    assert "zebracorn" not in text and "quokka" not in text and "wombat" not in text


async def test_home_says_nothing_is_published_until_channels_are_chosen(
    community: tuple[Chat, Scenario], tmp_path: Path
) -> None:
    async with serve(tmp_path / "copbot.db", web_settings(channels=[])) as client:
        page = Page(await get_page(client, "/"))
    assert "Nothing is published yet" in page.text
    assert "pandas" not in page.text
    assert not [h for tag, h in page.headings if tag == "h2"]


# ----------------------------------------------------------------------------- search


async def test_search_from_the_box_finds_published_entries_with_marked_words(
    site: TestClient[Any, Any],
) -> None:
    html = await get_page(site, "/search?q=huge+csv")
    page = Page(html)
    assert "How do I read a huge CSV file with pandas?" in page.text
    assert "<mark>" in html
    assert page.meta["robots"] == "noindex, follow"  # result pages are not indexed
    # The same box, prefilled, on the results page.
    inputs = [attrs for tag, attrs in page.tags if tag == "input" and attrs.get("name") == "q"]
    assert inputs[0]["value"] == "huge csv"


@pytest.mark.parametrize("secret", ["zebracorn", "quokka", "wombat", "narwhal", "rotate", "yeti"])
async def test_search_never_finds_what_is_not_published(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario], secret: str
) -> None:
    page = Page(await get_page(site, f"/search?q={secret}"))
    assert not [href for href in page.hrefs() if href.startswith(("/q/", "/k/"))]
    assert "Nothing found" in page.text


async def test_search_uses_the_chat_grammar_and_ranking(
    make_chat: Callable[..., Chat], tmp_path: Path
) -> None:
    """Where everything is public and published, the web and /cop search agree, in order."""
    chat = make_chat(web_settings(channels=["test:C1"]))
    topics = ["pandas memory", "pandas csv", "polars csv", "airflow retry", "pandas index"]
    for number, words in enumerate(topics):
        chat.say(f"How do I fix {words} problem number {number}?", mid=f"q{number}", minutes=number)
        if number % 2 == 0:
            chat.reply(f"q{number}", f"Answer about {words}.", mid=f"a{number}", user="bob")
    for query in ("pandas", "csv -polars", "tag:nothing", "is:unanswered pandas"):
        in_chat = [item.title for reply in chat.cop(f"search {query}") for item in reply.items]  # type: ignore[union-attr]
        async with serve(tmp_path / "copbot.db", web_settings(channels=["test:C1"])) as client:
            page = Page(await get_page(client, f"/search?q={query.replace(' ', '+')}"))
        on_web = [label for href, label in page.links if href.startswith("/q/")]
        assert on_web == in_chat, query


async def test_search_is_paged(make_chat: Callable[..., Chat], tmp_path: Path) -> None:
    chat = make_chat(web_settings(channels=["test:C1"]))
    for number in range(13):
        chat.say(f"How do I tune kafka partition {number}?", mid=f"q{number}", minutes=number)
    async with serve(tmp_path / "copbot.db", web_settings(channels=["test:C1"])) as client:
        first = Page(await get_page(client, "/search?q=kafka"))
        second_url = first.link("Next")
        second = Page(await get_page(client, second_url))
        too_far = await client.get("/search?q=kafka&page=21")
    titles = lambda page: [t for h, t in page.links if h.startswith("/q/")]  # noqa: E731
    assert len(titles(first)) == 10 and len(titles(second)) == 3
    assert not set(titles(first)) & set(titles(second))
    assert "page=2" in second_url
    assert second.link("Previous") == "/search?q=kafka"
    assert too_far.status == 404


# ----------------------------------------------------------------------------- question


async def test_question_page_shows_accepted_answer_first_marked_then_the_others(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    page = await question_page(site, chat, "q1")
    headings = [h for tag, h in page.headings if tag == "h3"]
    assert headings == ["✓ Accepted answer by Chen", "by Bob"]  # erin opted out
    assert page.headings[0] == ("h1", "How do I read a huge CSV file with pandas?")
    assert page.text.index("Use polars scan_csv") < page.text.index("Use chunksize")
    assert "in #data-help" in page.text
    assert page.link("#pandas") == "/t/pandas"
    assert page.link("Continue in") == "https://chat.example.com/archives/C1/pq1"
    assert page.link("https://docs.pola.rs/api/") == "https://docs.pola.rs/api/"


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


# ----------------------------------------------------------------------------- safety


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


# ----------------------------------------------------------------------------- know-how


async def test_knowhow_page_shows_its_kind_and_until_when_it_holds(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    update = chat.sql("SELECT id FROM entries WHERE knowhow_kind = 'update'")
    assert len(update) == 1
    update_id = int(str(update[0][0]))
    response = await site.get(f"/k/{update_id}")
    page = Page(await response.text())
    assert response.status == 200
    assert "Update" in page.text
    assert "Still true until 31 Jan 2030" in page.text
    assert "may be out of date" not in page.text
    chat.cop(f"outdated #{update_id}", user="bob", channel="C2")
    page = Page(await (await site.get(f"/k/{update_id}")).text())
    assert "This may be out of date." in page.text


# ----------------------------------------------------------------------------- topics


async def test_topic_page_lists_published_entries_with_the_tag_and_404s_otherwise(
    site: TestClient[Any, Any],
) -> None:
    page = Page(await get_page(site, "/t/pandas"))
    assert page.headings[0] == ("h1", "#pandas")
    assert "How do I read a huge CSV file with pandas?" in page.text
    assert "pandas 3 makes copy-on-write the default" in page.text
    assert "airflow" not in page.text.lower().replace("#airflow", "")
    await get_page(site, "/t/secrets", status=404)  # only in a DM
    await get_page(site, "/t/no-such-topic", status=404)


async def test_following_a_tag_from_a_question(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    page = await question_page(site, chat, "q2")
    topic = Page(await get_page(site, page.link("#airflow")))
    assert "Why does airflow retry my task twice?" in topic.text


# ----------------------------------------------------------------------------- members


async def test_member_page_shows_public_contributions_and_thanks(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    question = await question_page(site, chat, "q1")
    member_url = question.link("Chen")
    assert unquote(member_url).startswith("/m/")
    page = Page(await get_page(site, member_url))
    assert page.headings[0] == ("h1", "Chen")
    stats = page.text.split("Answers")[1]
    assert stats.split()[0:3] == ["1", "Accepted", "1"]
    assert "Thanks received 1" in page.text
    assert "How do I read a huge CSV file with pandas?" in page.text  # the answer's question
    assert "pandas 3 makes copy-on-write" in page.text
    assert "quokka" not in page.text and "narwhal" not in page.text
    assert page.meta["robots"] == "noindex, follow"


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


# ----------------------------------------------------------------------------- digests


async def test_digest_archive_lists_published_channels_and_their_weeks(
    site: TestClient[Any, Any],
) -> None:
    index = Page(await get_page(site, "/digests"))
    channels = [label for href, label in index.links if href.startswith("/digests/")]
    assert channels == ["#data-help", "#tips"]  # #ops turned private
    archive = Page(await get_page(site, index.link("#data-help")))
    weeks = [href for href, _ in archive.links if "/digests/test-data-help/" in href]
    assert weeks == ["/digests/test-data-help/2026-W23"]  # 1 June 2026 is in ISO week 23
    week = Page(await get_page(site, weeks[0]))
    assert week.headings[0] == ("h1", "#data-help, week 23 of 2026")
    answered = week.text.split("Questions answered")[1].split("Asked this week")[0]
    assert "How do I read a huge CSV file with pandas?" in answered
    assert "Accepted answer by Chen" in answered
    still_open = week.text.split("Asked this week, still open")[1]
    assert "Why does airflow retry my task twice?" in still_open
    assert "yeti" not in week.text
    await get_page(site, "/digests/test-random", status=404)  # public, not published
    await get_page(site, "/digests/test-platform", status=404)  # private
    await get_page(site, "/digests/test-data-help/2026-W10", status=404)  # before any entry


# ----------------------------------------------------------------------------- for machines


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


async def test_answers_found_by_kind_answer_link_to_their_question(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    page = Page(await get_page(site, "/search?q=kind:answer+dask"))
    assert not [h for h in page.hrefs() if "#a" in h]  # erin's answer: she opted out
    page = Page(await get_page(site, "/search?q=kind:answer+polars"))
    qid, aid = entry_id(chat, "q1"), entry_id(chat, "q1b")
    assert page.link("How do I read a huge CSV") == (
        f"/q/{qid}-how-do-i-read-a-huge-csv-file-with-pandas#a{aid}"
    )
    assert "Accepted answer by Chen" in page.text


async def test_topic_pages_list_common_and_rare_tags_newest_first_in_pages(
    make_chat: Callable[..., Chat], tmp_path: Path
) -> None:
    """A common tag and a rare one take different plans; both page the same way."""
    chat = make_chat(web_settings(channels=["test:C1"]))
    for number in range(100):
        tags = " #common" if number % 5 < 3 else ""
        tags += " #rare" if number % 8 == 0 else ""
        channel = "G9" if number % 10 == 1 else "C1"  # some are private: never listed
        chat.say(
            f"How do I solve problem {number}?{tags}",
            mid=f"q{number}",
            channel=channel,
            minutes=number,
        )
    expected = {
        tag: [
            f"How do I solve problem {n}?"
            for n in reversed(range(100))
            if f"#{tag}" in chat.sql("SELECT text FROM entries WHERE message_id = ?", f"q{n}")[0][0]  # type: ignore[operator]
            and n % 10 != 1
        ]
        for tag in ("common", "rare")
    }
    async with serve(tmp_path / "copbot.db", web_settings(channels=["test:C1"])) as client:
        for tag, titles in expected.items():
            seen: list[str] = []
            url = f"/t/{tag}"
            while True:
                page = Page(await get_page(client, url))
                seen += [label for href, label in page.links if href.startswith("/q/")]
                if "Next" not in [label.split()[0] for _, label in page.links if label]:
                    break
                url = page.link("Next")
            assert seen == titles, tag
            summary = Page(await get_page(client, f"/t/{tag}")).text
            if tag == "rare":
                assert f"{len(titles)} questions and know-how entries" in summary
            else:
                assert "Many questions and know-how entries" in summary


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
