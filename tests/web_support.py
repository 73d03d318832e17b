"""Shared by the web view's tests: a community built through the core, served for real.

``scenario(chat)`` says everything through the core as an adapter would (public
channels published or not, a private channel, a DM save, an answer given after
its channel turned private, a member who opted out). ``serve`` runs the real
aiohttp application over the same SQLite file with aiohttp's test server; the
pages are read back with a small HTML parser (no regex on markup).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.web import WebReader, build_web_app
from bot.config import Settings, parse_settings
from bot.events import Visibility
from tests.chat_driver import PLATFORM, WORKSPACE, Chat, MakeChat, where

#: What the tests' config publishes: two public channels and one that turns private;
#: the private channel and the DM are listed too, to show listing is not enough.
WEB_CHANNELS = ("test:#data-help", "test:#tips", "test:#ops", "test:#platform", "test:D1")

PERMALINK = "https://chat.example.com/archives/C1/p"


def web_settings(**web: Any) -> Settings:
    return parse_settings({"web": {"channels": list(WEB_CHANNELS), **web}})


def name_channels(chat: Chat) -> None:
    """The scenario's channels with names, as a platform would report them."""
    chat.places.update(
        {
            "C1": where("C1", Visibility.PUBLIC, "data-help"),
            "C2": where("C2", Visibility.PUBLIC, "tips"),
            "C3": where("C3", Visibility.PUBLIC, "random"),  # public, not published
            "C4": where("C4", Visibility.PUBLIC, "ops"),
            "G1": where("G1", Visibility.PRIVATE, "platform"),
            "D1": where("D1", Visibility.DM, "dm"),
        }
    )


@dataclass
class Scenario:
    """Message ids of what the scenario said, and the words that must never be served."""

    secrets: list[str] = field(default_factory=list)


def scenario(chat: Chat) -> Scenario:
    """A small community, said through the core; its secret words mark what must stay hidden."""
    name_channels(chat)
    said = Scenario()
    chat.say(
        "How do I read a huge CSV file with pandas? #pandas",
        mid="q1",
        user="alice",
        channel="C1",
        minutes=0,
        permalink=PERMALINK + "q1",
    )
    chat.reply(
        "q1",
        "Use chunksize= and process it piece by piece.",
        mid="q1a",
        user="bob",
        channel="C1",
        minutes=5,
    )
    chat.reply(
        "q1",
        "Use polars scan_csv, see https://docs.pola.rs/api/ (it streams).",
        mid="q1b",
        user="chen",
        channel="C1",
        minutes=9,
    )
    chat.react("q1b", "alice", channel="C1")  # the asker accepts chen's answer
    chat.react("q1b", "alice", "pray", channel="C1")  # and thanks chen
    chat.say(
        "Why does airflow retry my task twice? #airflow",
        mid="q2",
        user="bob",
        channel="C1",
        minutes=20,
    )
    chat.say(
        "How do I escape <script>alert(1)</script> and <img src=x onerror=alert(2)> in "
        '"templates"? Not javascript:alert(3), see https://example.com/a?b=1&c=2 #security',
        mid="q3",
        user="dave",
        channel="C1",
        minutes=30,
        permalink="javascript:alert(4)",
    )
    # A public channel nobody published.
    chat.say(
        "Where is the zebracorn unpublished runbook?",
        mid="u1",
        user="bob",
        channel="C3",
        minutes=31,
    )
    chat.reply(
        "u1",
        "The zebracorn runbook is in the wiki.",
        mid="u1a",
        user="alice",
        channel="C3",
        minutes=32,
    )
    said.secrets += ["zebracorn"]
    # A private channel (listed in the config: still never published).
    chat.say(
        "Who can restart the quokka scheduler?", mid="p1", user="alice", channel="G1", minutes=33
    )
    chat.reply(
        "p1", "Only the quokka on-call can.", mid="p1a", user="chen", channel="G1", minutes=34
    )
    said.secrets += ["quokka"]
    # Saved on purpose in a DM: visible there only.
    chat.save("dm1", "The wombat token lives in the vault. #secrets", channel="D1")
    said.secrets += ["wombat"]
    # A question in #ops, then the channel turns private: all of it is unpublished at once.
    chat.say(
        "How do we rotate the ops certificates?", mid="o1", user="bob", channel="C4", minutes=40
    )
    chat.places["C4"] = where("C4", Visibility.PRIVATE, "ops")
    chat.reply(
        "o1",
        "The narwhal procedure: ask the security team.",
        mid="o1a",
        user="chen",
        channel="C4",
        minutes=41,
    )
    said.secrets += ["narwhal", "rotate the ops certificates"]
    # Know-how in #tips, one of them an update that holds until a date.
    chat.cop(
        "share kind:update until:2030-01-31 pandas 3 makes copy-on-write the default #pandas",
        user="chen",
        channel="C2",
    )
    chat.save(
        "k2",
        "Peek at a Kafka topic with kcat -C -t orders #kafka",
        saver="bob",
        author="bob",
        channel="C2",
    )
    # erin says things, then opts out of the web.
    chat.say(
        "Does anyone know why the yeti consumer lags? #kafka",
        mid="e1",
        user="erin",
        channel="C1",
        minutes=50,
    )
    chat.reply(
        "q1", "Try dask with the yeti trick.", mid="e2", user="erin", channel="C1", minutes=51
    )
    chat.cop("web off", user="erin", channel="C1")
    said.secrets += ["yeti"]
    return said


@asynccontextmanager
async def serve(db_path: str | Path, settings: Settings) -> AsyncIterator[TestClient[Any, Any]]:
    """The real web application over ``db_path`` (a file or a ``postgresql://`` URL), locally."""
    reader = WebReader(db_path, settings)
    client: TestClient[Any, Any] = TestClient(TestServer(build_web_app(reader, settings)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()
        reader.close()


async def get_page(client: TestClient[Any, Any], path: str, status: int = 200) -> str:
    response = await client.get(path, allow_redirects=False)
    body = await response.text()
    assert response.status == status, f"{path}: {response.status}\n{body[:500]}"
    return body


class Page(HTMLParser):
    """The parts of a page the tests read: links, headings, meta tags, JSON-LD, text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.meta: dict[str, str] = {}
        self.canonical = ""
        self.jsonld: list[Any] = []
        self.headings: list[tuple[str, str]] = []
        self.text_parts: list[str] = []
        self._href: str | None = None
        self._link_text: list[str] = []
        self._heading: str | None = None
        self._heading_text: list[str] = []
        self._in_jsonld = False
        self._jsonld_text: list[str] = []
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        if tag == "a" and "href" in values:
            self._href, self._link_text = values["href"], []
        elif tag == "meta":
            key = values.get("property") or values.get("name")
            if key:
                self.meta[key] = values.get("content", "")
        elif tag == "link" and values.get("rel") == "canonical":
            self.canonical = values.get("href", "")
        elif tag == "script" and values.get("type") == "application/ld+json":
            self._in_jsonld, self._jsonld_text = True, []
        elif tag in ("h1", "h2", "h3"):
            self._heading, self._heading_text = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._link_text).split())))
            self._href = None
        elif tag == "script" and self._in_jsonld:
            self.jsonld.append(json.loads("".join(self._jsonld_text)))
            self._in_jsonld = False
        elif tag == self._heading:
            self.headings.append((tag, " ".join("".join(self._heading_text).split())))
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._in_jsonld:
            self._jsonld_text.append(data)
            return
        self.text_parts.append(data)
        if self._href is not None:
            self._link_text.append(data)
        if self._heading is not None:
            self._heading_text.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def hrefs(self) -> list[str]:
        return [href for href, _ in self.links]

    def link(self, text: str) -> str:
        """The href of the first link whose text contains ``text``."""
        for href, label in self.links:
            if text in label:
                return href
        raise AssertionError(f"no link with {text!r}: {[label for _, label in self.links]}")


@pytest.fixture
def community(make_chat: MakeChat) -> tuple[Chat, Scenario]:
    """The scenario community, said through a core over tmp_path/copbot.db."""
    chat = make_chat(web_settings())
    return chat, scenario(chat)


@pytest.fixture
async def site(
    community: tuple[Chat, Scenario], tmp_path: Path
) -> AsyncIterator[TestClient[Any, Any]]:
    """The real web application over the scenario community's file."""
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


__all__ = [
    "PLATFORM",
    "WORKSPACE",
    "Page",
    "Scenario",
    "community",
    "entry_id",
    "get_page",
    "question_page",
    "scenario",
    "serve",
    "site",
]
