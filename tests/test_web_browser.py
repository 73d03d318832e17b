"""The web view in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Search from the home page, open a question, follow a tag, and the same with the
keyboard only; a phone-sized window; no console errors (a CSP violation is one).
Screenshots go to ``test-artifacts/web/`` (gitignored) for a person to look at.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``.
Without it the tests are skipped on a developer's machine, and fail under CI
(``.ci/run`` installs it), so they can never silently stop running there.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from adapters.web import WebServer
from bot.app import command_registry
from bot.core import Core
from bot.ports import FixedClock, Services
from knowledge.sqlite.repertoire import Repertoire
from tests.chat_driver import NOW, Chat
from tests.web_support import scenario, web_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "web"

if not CHROMIUM.exists():
    if os.environ.get("CI"):
        pytest.fail(
            "chromium is missing at /usr/bin/chromium: CI must install it (.ci/run does)",
            pytrace=False,
        )
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.async_api import (  # noqa: E402
    Browser,
    BrowserContext,
    Page,
    async_playwright,
    expect,
)

#: One browser and one site for the module (launching Chromium is most of a test's
#: time); each test still gets a fresh browser context: no cookie, cache or storage
#: carried over from another test.
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """The scenario's web view (read-only: no test changes what it shows)."""
    db = tmp_path_factory.mktemp("site") / "copbot.db"
    clock = FixedClock(NOW)
    repertoire = Repertoire.open(db)
    try:
        scenario(Chat(Core(Services(repertoire, web_settings(), clock), command_registry()), clock))
    finally:
        repertoire.close()
    server = WebServer(db, web_settings(), port=0)
    url = await server.open()
    try:
        yield url.rstrip("/")
    finally:
        await server.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture(loop_scope="module")
async def browser(chromium: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser context per test: nothing carried over between tests."""
    context = await chromium.new_context(viewport={"width": 1024, "height": 800})
    try:
        yield context
    finally:
        await context.close()


async def open_page(browser: BrowserContext, errors: list[str]) -> Page:
    page = await browser.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


async def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def focused(page: Page) -> dict[str, Any]:
    """The element that has the keyboard focus: its tag, text, href and id."""
    result: dict[str, Any] = await page.evaluate(
        "() => { const e = document.activeElement; return {tag: e.tagName, "
        "text: (e.innerText || '').trim(), href: e.getAttribute('href'), id: e.id}; }"
    )
    return result


async def tab_to(page: Page, wanted: Callable[[dict[str, Any]], bool], limit: int = 80) -> None:
    """Press Tab until the focused element is the one wanted."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        if wanted(await focused(page)):
            return
    raise AssertionError(f"never reached by Tab; last focus: {await focused(page)}")


async def test_search_from_home_open_a_question_follow_a_tag(
    site: str, browser: BrowserContext
) -> None:
    errors: list[str] = []
    page = await open_page(browser, errors)
    await page.goto(site + "/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Our community of practice")
    await shot(page, "1-home")

    await page.get_by_label("Search questions and know-how").fill("huge csv")
    await page.get_by_role("button", name="Search").click()
    await page.wait_for_url("**/search?q=huge+csv")
    result = page.get_by_role("link", name="How do I read a huge CSV file with pandas?")
    await expect(result).to_be_visible()
    await shot(page, "2-search")

    await result.click()
    await page.wait_for_url("**/q/*-how-do-i-read-a-huge-csv-file-with-pandas")
    answers = page.locator("article.answer")
    await expect(answers.first).to_contain_text("Accepted answer")
    await expect(answers.first).to_contain_text("Use polars scan_csv")
    await expect(answers.nth(1)).to_contain_text("Use chunksize")
    await shot(page, "3-question")

    await page.get_by_role("link", name="#pandas").first.click()
    await page.wait_for_url("**/t/pandas")
    await expect(page.get_by_role("heading", level=1)).to_have_text("#pandas")
    await expect(
        page.get_by_role("link", name="How do I read a huge CSV file with pandas?")
    ).to_be_visible()
    await shot(page, "4-topic")
    assert errors == []


async def test_keyboard_only(site: str, browser: BrowserContext) -> None:
    errors: list[str] = []
    page = await open_page(browser, errors)
    await page.goto(site + "/")

    # The first Tab reaches the skip link, shown when focused; Enter moves to the content.
    await page.keyboard.press("Tab")
    assert (await focused(page))["text"] == "Skip to content"
    skip = page.get_by_role("link", name="Skip to content")
    box = await skip.bounding_box()
    assert box is not None and box["y"] >= 0  # on screen while focused
    await page.keyboard.press("Enter")
    assert (await focused(page))["id"] == "main"

    # Search with the keyboard: Tab to the box, type, Enter.
    await page.goto(site + "/")
    await tab_to(page, lambda f: f["id"] == "site-search")
    await page.keyboard.type("polars")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/search?q=polars")
    await shot(page, "5-keyboard-search")

    # Tab to the result, Enter opens it; Tab to the tag, Enter follows it.
    await tab_to(page, lambda f: f["text"] == "How do I read a huge CSV file with pandas?")
    await shot(page, "6-keyboard-focus-on-result")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/q/*")
    await tab_to(page, lambda f: f["text"] == "#pandas")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/t/pandas")
    await expect(page.get_by_role("heading", level=1)).to_have_text("#pandas")
    await shot(page, "7-keyboard-topic")
    assert errors == []


async def test_readable_on_a_phone(site: str, browser: BrowserContext) -> None:
    errors: list[str] = []
    page = await open_page(browser, errors)
    await page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/", "/search?q=pandas", "/t/pandas", "/digests"):
        await page.goto(site + path)
        overflow = await page.evaluate(
            "() => document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px"
    await page.goto(site + "/")
    await page.get_by_role("link", name="How do I read a huge CSV file with pandas?").click()
    await page.wait_for_url("**/q/*")
    overflow = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    font = await page.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.answer .text')).fontSize)"
    )
    assert font >= 16
    await shot(page, "8-phone-question")
    assert errors == []
