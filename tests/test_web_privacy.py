"""Privacy of the web view, property-based: no page ever shows what the public web may not see.

Hypothesis generates communities: questions, thread answers, accepts and
know-how in public channels, private channels and a DM (saved on purpose),
channels that turn private, members who say ``/cop web off`` (and some ``on``
again), deletes, and a config that publishes any subset of the channels, the
private ones and the DM included. Every message carries a unique marker word
and every member a unique name. Then the whole site is crawled over HTTP: the
home page, every search for every marker and word, every entry id under
``/q/`` and ``/k/``, every tag, every member id, the digest archive down to each
week, and the sitemaps.

The oracle is written from the events, not from the code under test: a marker
may be served only when its message is still there, was said while its
channel was public, the channel is public now and is published, and its author
has not opted out. A member's name may be served only when they wrote such a
message. And the crawl is not vacuous: every question that may be shown is
found on its own page. The long variant (200 communities) is marked
``slow`` (``pytest --runslow``).
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_core
from bot.config import parse_settings
from bot.core import Core
from bot.events import (
    Actor,
    CommandInvocation,
    IncomingMessage,
    MessageDeleted,
    ReactionChange,
    SaveRequest,
    Visibility,
    Where,
)
from bot.ports import FixedClock
from tests.streams import START, WORDS
from tests.web_support import serve

CHANNELS = {
    "C0": Visibility.PUBLIC,
    "C1": Visibility.PUBLIC,
    "C2": Visibility.PUBLIC,
    "G3": Visibility.PRIVATE,
    "D4": Visibility.DM,
}
NAMES = ("Quentin", "Rosalind", "Sigrid", "Tobias", "Ulrike", "Valentin")
MARKER = re.compile(r"mark\d+x")

ACTIONS = ("ask", "ask", "answer", "answer", "answer", "accept", "save", "delete", "private",
           "off", "on")  # fmt: skip


@dataclass
class Said:
    """The oracle's record of one message."""

    marker: str
    channel: str
    author: int
    public_when_said: bool
    question: bool = False
    deleted: bool = False


@dataclass
class World:
    visibility: dict[str, Visibility] = field(default_factory=lambda: dict(CHANNELS))
    said: dict[str, Said] = field(default_factory=dict)
    questions: list[str] = field(default_factory=list)
    answers: list[tuple[str, str]] = field(default_factory=list)  # (answer mid, question mid)
    opted_out: set[int] = field(default_factory=set)

    def where(self, channel: str) -> Where:
        return Where("slack", "T1", channel, self.visibility[channel], f"chan-{channel.lower()}")


def actor(number: int) -> Actor:
    return Actor("slack", f"U{number}", NAMES[number], "T1")


def build(core: Core, clock: FixedClock, steps: list[tuple[str, int, int]]) -> World:
    """Say the generated steps through the core; keep the oracle's record beside it."""
    world = World()
    channels = list(CHANNELS)
    for number, (action, a, b) in enumerate(steps):
        clock.at = START + timedelta(minutes=10 * number)
        at = clock.at
        member = a % len(NAMES)
        marker = f"mark{number}x"
        word = WORDS[b % len(WORDS)]
        if action == "ask" or (action == "answer" and not world.questions):
            channel = channels[b % len(channels)]
            mid = f"m{number}"
            core.handle(
                IncomingMessage(
                    world.where(channel),
                    actor(member),
                    mid,
                    f"How do I {word} the {marker} thing?",
                    at,
                    tags=(word,),
                )
            )
            public = world.visibility[channel] == Visibility.PUBLIC
            world.said[mid] = Said(marker, channel, member, public, question=True)
            world.questions.append(mid)
        elif action == "answer":
            question = world.questions[b % len(world.questions)]
            channel = world.said[question].channel
            mid = f"m{number}"
            core.handle(
                IncomingMessage(
                    world.where(channel),
                    actor(member),
                    mid,
                    f"Try {word} with {marker} settings.",
                    at,
                    thread_id=question,
                )
            )
            public = world.visibility[channel] == Visibility.PUBLIC
            world.said[mid] = Said(marker, channel, member, public)
            world.answers.append((mid, question))
        elif action == "accept" and world.answers:
            mid, question = world.answers[b % len(world.answers)]
            asker = world.said[question].author
            core.handle(
                ReactionChange(
                    world.where(world.said[mid].channel),
                    mid,
                    actor(asker),
                    "white_check_mark",
                    True,
                    at=at,
                )
            )
        elif action == "save":
            channel = channels[b % len(channels)]
            mid = f"k{number}"
            core.handle(
                SaveRequest(
                    world.where(channel),
                    actor(member),
                    mid,
                    f"Tip: {word} beats the {marker} default.",
                    actor(member),
                    at,
                    tags=(word,),
                )
            )
            public = world.visibility[channel] == Visibility.PUBLIC
            world.said[mid] = Said(marker, channel, member, public)
        elif action == "delete" and world.said:
            mid = sorted(world.said)[b % len(world.said)]
            if not world.said[mid].deleted:
                core.handle(MessageDeleted(world.where(world.said[mid].channel), mid))
                world.said[mid].deleted = True
        elif action == "private":
            channel = channels[b % 3]  # a public channel turns private (never back)
            world.visibility[channel] = Visibility.PRIVATE
            core.handle(  # the platform tells: a message in it now comes as private
                IncomingMessage(world.where(channel), actor(member), f"n{number}", "ok", at)
            )
        elif action in ("off", "on"):
            core.handle(
                CommandInvocation(
                    world.where("C0"), actor(member), f"web {action}", at, event_id=f"c{number}"
                )
            )
            (world.opted_out.add if action == "off" else world.opted_out.discard)(member)
    return world


def allowed(world: World, published: set[str]) -> tuple[set[str], set[str], set[str]]:
    """Markers that may be shown, names that may be shown, question markers that must be."""
    markers: set[str] = set()
    names: set[str] = set()
    answered_by = {answer: question for answer, question in world.answers}
    for mid, said in world.said.items():
        ok = (
            not said.deleted
            and said.public_when_said
            and world.visibility[said.channel] == Visibility.PUBLIC
            and said.channel in published
            and said.author not in world.opted_out
        )
        question = answered_by.get(mid)
        if question is not None:  # an answer is shown on its question's page only
            parent = world.said[question]
            ok = ok and not parent.deleted and parent.author not in world.opted_out
        if ok:
            markers.add(said.marker)
            names.add(NAMES[said.author])
    shown_questions = {s.marker for s in world.said.values() if s.question and s.marker in markers}
    return markers, names, shown_questions


async def crawl(db: Path, published: set[str], world: World) -> dict[str, str]:
    """Every page a visitor or a crawler could reach, by path."""
    specs = [f"slack:{c}" if i % 2 else f"slack:#chan-{c.lower()}" for i, c in enumerate(published)]
    config = parse_settings({"web": {"channels": specs}})
    pages: dict[str, str] = {}
    async with serve(db, config) as client:

        async def fetch(path: str) -> str:
            response = await client.get(path)
            assert response.status in (200, 404), (path, response.status)
            body = await response.text()
            pages[path] = body
            return body

        home = await fetch("/")
        paths = {"/digests", "/sitemap.xml", "/sitemap-0.xml", "/sitemap-1.xml", "/robots.txt"}
        paths |= {f"/{kind}/{i}" for kind in ("q", "k") for i in range(1, 3 * len(world.said) + 8)}
        paths |= {f"/m/{i}" for i in range(1, len(NAMES) + 4)}
        paths |= {f"/t/{word}" for word in WORDS}
        paths |= {f"/search?q={word}" for word in WORDS}
        paths |= {f"/search?q={s.marker}" for s in world.said.values()}
        paths |= {f"/search?q=is:unanswered+{word}" for word in WORDS[:5]}
        paths |= {f"/search?q=kind:answer+{word}" for word in WORDS[:8]}
        for path in sorted(paths):
            await fetch(path)
        hrefs = set(re.findall(r'href="(/digests/[^"]+)"', pages["/digests"] + home))
        for href in sorted(hrefs):
            body = await fetch(href)
            for week in sorted(set(re.findall(r'href="(/digests/[^"]+/\d{4}-W\d{2})"', body))):
                await fetch(week)
    return pages


steps_strategy = st.lists(
    st.tuples(st.sampled_from(ACTIONS), st.integers(0, 50), st.integers(0, 50)),
    min_size=8,
    max_size=45,
)


def no_page_shows_what_the_public_web_may_not_see(
    steps: list[tuple[str, int, int]], published: set[str]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "copbot.db"
        clock = FixedClock(START)
        core = build_core(parse_settings({}), db, clock)
        try:
            world = build(core, clock, steps)
        finally:
            core.services.repertoire.close()
        pages = asyncio.run(crawl(db, published, world))
    markers, names, questions = allowed(world, published)
    shown_channels = {c for c in published if world.visibility[c] == Visibility.PUBLIC}
    every_marker = {s.marker for s in world.said.values()}
    seen: set[str] = set()
    for path, body in pages.items():
        found = set(MARKER.findall(body)) & every_marker
        if path.startswith("/search"):
            found -= {path.rsplit("=", 1)[-1]}  # the query itself is echoed back
        leaked = found - markers
        assert not leaked, f"{path} shows {leaked}"
        for name in set(NAMES) - names:
            assert name not in body, f"{path} names {name}"
        for channel in set(CHANNELS) - shown_channels:
            assert f"chan-{channel.lower()}" not in body, f"{path} names channel {channel}"
        seen |= found
    missing = questions - seen
    assert not missing, f"published questions never shown: {missing}"


def _property(max_examples: int) -> Callable[..., None]:
    """The property above as a test of ``max_examples`` generated communities."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )(
        given(steps=steps_strategy, published=st.sets(st.sampled_from(sorted(CHANNELS))))(
            no_page_shows_what_the_public_web_may_not_see
        )
    )


test_no_page_shows_what_the_public_web_may_not_see = _property(8)
test_no_page_shows_what_the_public_web_may_not_see_long = pytest.mark.slow(_property(200))
