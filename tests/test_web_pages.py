"""Every page of the web view over HTTP: the real aiohttp app on a real SQLite file.

The community is said through the core (tests/web_support.py); the pages are
fetched with aiohttp's test client and read with an HTML parser.
"""

# ruff: noqa: F811  (pytest fixtures are imported from web_support by name)

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

from aiohttp.test_utils import TestClient

from knowledge.models import EntryKind
from tests.chat_driver import Chat, MakeChat, replies
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


async def test_search_uses_the_chat_grammar_and_ranking(
    make_chat: MakeChat, tmp_path: Path
) -> None:
    """Where everything is public and published, the web and /cop search agree, in order."""
    chat = make_chat(web_settings(channels=["test:C1"]))
    topics = ["pandas memory", "pandas csv", "polars csv", "airflow retry", "pandas index"]
    for number, words in enumerate(topics):
        chat.say(f"How do I fix {words} problem number {number}?", mid=f"q{number}", minutes=number)
        if number % 2 == 0:
            chat.reply(f"q{number}", f"Answer about {words}.", mid=f"a{number}", user="bob")
    for query in ("pandas", "csv -polars", "tag:nothing", "is:unanswered pandas"):
        in_chat = [
            item.title for reply in replies(chat.cop(f"search {query}")) for item in reply.items
        ]
        async with serve(tmp_path / "copbot.db", web_settings(channels=["test:C1"])) as client:
            page = Page(await get_page(client, f"/search?q={query.replace(' ', '+')}"))
        on_web = [label for href, label in page.links if href.startswith("/q/")]
        assert on_web == in_chat, query


async def test_search_is_paged(make_chat: MakeChat, tmp_path: Path) -> None:
    chat = make_chat(web_settings(channels=["test:C1"]))
    for number in range(13):
        chat.say(f"How do I tune kafka partition {number}?", mid=f"q{number}", minutes=number)
    async with serve(tmp_path / "copbot.db", web_settings(channels=["test:C1"])) as client:
        first = Page(await get_page(client, "/search?q=kafka"))
        second_url = first.link("Next")
        second = Page(await get_page(client, second_url))
        too_far = await client.get("/search?q=kafka&page=21")

    def titles(page: Page) -> list[str]:
        return [t for h, t in page.links if h.startswith("/q/")]

    assert len(titles(first)) == 10 and len(titles(second)) == 3
    assert not set(titles(first)) & set(titles(second))
    assert "page=2" in second_url
    assert second.link("Previous") == "/search?q=kafka"
    assert too_far.status == 404


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


async def test_knowhow_page_shows_its_kind_and_until_when_it_holds(
    site: TestClient[Any, Any], community: tuple[Chat, Scenario]
) -> None:
    chat, _ = community
    [update] = [e for e in chat.entries(EntryKind.KNOWHOW) if e.knowhow_kind == "update"]
    update_id = update.id
    response = await site.get(f"/k/{update_id}")
    page = Page(await response.text())
    assert response.status == 200
    assert "Update" in page.text
    assert "Still true until 31 Jan 2030" in page.text
    assert "may be out of date" not in page.text
    chat.cop(f"outdated #{update_id}", user="bob", channel="C2")
    page = Page(await (await site.get(f"/k/{update_id}")).text())
    assert "This may be out of date." in page.text


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
    make_chat: MakeChat, tmp_path: Path
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
            if n % 10 != 1 and f"#{tag}" in chat.entry_of(f"q{n}").text
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
