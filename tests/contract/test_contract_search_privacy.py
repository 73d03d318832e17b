"""Contract, property-based: search and similar show each viewer what it may see, nothing else.

Hypothesis writes a community (questions, answers, know-how, "solved it" links
that lend an entry's text across channels, channels turning private and
public again) and then asks every viewer for every word. The hits must be
exactly the questions and know-how the viewer may see whose document holds
the word: their own text, the answers of their thread, and the text a link
lends them when everyone who may see the question may see it too. Every
answer shown with a hit, and every similar question, must be visible to the
viewer. Each example runs inside a transaction that is rolled back, so one
database serves them all, on each backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge import feedback
from knowledge.models import ChannelRef, Entry, EntryKind
from knowledge.query import parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.search import SearchOptions, search
from knowledge.similar import find_similar
from knowledge.storage import Viewer
from tests.contract.support import DM, OTHER_PUBLIC, PRIVATE, PUBLIC, T0, Community
from tests.sqlite_file import sqlite_of

WORDS = ("vault", "kafka", "airflow", "pandas", "docker", "schema")
CHANNELS = (PUBLIC, OTHER_PUBLIC, PRIVATE, DM)
VIEWERS: tuple[ChannelRef | None, ...] = (None, *CHANNELS)

_words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
_index = st.integers(0, 30)
_channel = st.integers(0, len(CHANNELS) - 1)
_visibility = st.sampled_from(["public", "private", "dm"])
PLANS = st.tuples(
    st.tuples(*(_visibility for _ in CHANNELS)),
    st.lists(
        st.one_of(
            st.tuples(st.just("ask"), _channel, _words),
            st.tuples(st.just("knowhow"), _channel, _words),
            st.tuples(st.just("answer"), _index, _words),
            st.tuples(st.just("link"), _index, _index),
            st.tuples(st.just("turn"), _channel, _visibility),
        ),
        max_size=14,
    ),
)


@contextmanager
def undone(repertoire: RelationalRepertoire) -> Iterator[None]:
    """Everything written in the block is rolled back (the channels it remembers too)."""
    conn = getattr(repertoire, "conn", None)
    try:
        if conn is not None:  # PostgreSQL: nested transactions inside become savepoints
            with conn.transaction(force_rollback=True):
                yield
        else:  # SQLite: the repertoire's own transactions join this one
            lite = sqlite_of(repertoire)
            lite.db.conn.execute("BEGIN")
            try:
                yield
            finally:
                lite.db.conn.execute("ROLLBACK")
    finally:
        repertoire.channels.forget()


@dataclass
class Played:
    roots: list[Entry] = field(default_factory=list)
    answers: dict[int, list[str]] = field(default_factory=dict)  # question id -> texts
    links: dict[int, int] = field(default_factory=dict)  # question id -> know-how id


def _int(value: object) -> int:
    assert isinstance(value, int)
    return value


Plan = tuple[tuple[str, ...], list[tuple[object, ...]]]


def play(repertoire: RelationalRepertoire, plan: Plan) -> Played:
    visibilities, operations = plan
    community = Community(repertoire)
    for ref, visibility in zip(CHANNELS, visibilities, strict=True):
        repertoire.upsert_channel(ref.platform, ref.workspace, ref.channel, "", visibility)
    author = community.member("U-ana")
    played = Played()
    for step, operation in enumerate(operations):
        kind = operation[0]
        if kind in ("ask", "knowhow"):
            channel, words = CHANNELS[_int(operation[1])], str(operation[2])
            entry_kind = EntryKind.QUESTION if kind == "ask" else EntryKind.KNOWHOW
            played.roots.append(community.say(entry_kind, channel, words, author, minutes=step))
        elif kind == "answer" and played.roots:
            root = played.roots[_int(operation[1]) % len(played.roots)]
            if root.kind == EntryKind.QUESTION:
                community.answer(root, str(operation[2]), author, minutes=step)
                played.answers.setdefault(root.id, []).append(str(operation[2]))
        elif kind == "link" and played.roots:
            question = played.roots[_int(operation[1]) % len(played.roots)]
            target = played.roots[_int(operation[2]) % len(played.roots)]
            if question.kind == EntryKind.QUESTION and target.kind == EntryKind.KNOWHOW:
                feedback.link_solved(repertoire, question.id, target.id, T0)
                played.links[question.id] = target.id
        elif kind == "turn":
            ref = CHANNELS[_int(operation[1])]
            repertoire.upsert_channel(
                ref.platform, ref.workspace, ref.channel, "", str(operation[2])
            )
    return played


def expected_hits(
    repertoire: RelationalRepertoire, played: Played, viewer: ChannelRef | None, word: str
) -> set[int]:
    """The oracle: visible roots whose document, as everyone who sees them may, holds ``word``."""
    everything = Viewer.operator_including_private()
    now = {e.id: e for e in repertoire.entries(everything, limit=1000)}
    sees = Viewer.public() if viewer is None else Viewer.in_channel(viewer)
    out: set[int] = set()
    for root in played.roots:
        entry = now[root.id]
        if not sees.sees(entry):
            continue
        texts = [entry.text, *played.answers.get(entry.id, [])]
        lent = now.get(played.links.get(entry.id, -1))
        if lent is not None and (
            lent.visibility == "public" or lent.channel_ref == entry.channel_ref
        ):
            texts.append(lent.text)
        if any(word in text.split() for text in texts):
            out.add(entry.id)
    return out


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=PLANS)
def test_search_and_similar_show_each_viewer_exactly_what_it_may_see(
    repertoire: RelationalRepertoire, plan: Plan
) -> None:
    with undone(repertoire):
        played = play(repertoire, plan)
        for viewer in VIEWERS:
            sees = Viewer.public() if viewer is None else Viewer.in_channel(viewer)
            for word in WORDS:
                hits = search(repertoire, parse_query(word), viewer, SearchOptions(limit=100))
                assert {h.entry.id for h in hits} == expected_hits(
                    repertoire, played, viewer, word
                ), (viewer, word)
                for hit in hits:
                    assert hit.answer is None or sees.sees(hit.answer), (viewer, word)
            for similar in find_similar(
                repertoire, " ".join(WORDS[:3]), viewer, limit=20, answered_only=False
            ):
                assert sees.sees(similar.entry), viewer
                assert similar.answer is None or sees.sees(similar.answer), viewer
