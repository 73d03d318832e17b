"""Contract, property-based: the public web lists exactly what it may, on every backend.

Hypothesis writes a community (questions, answers and know-how in four channels,
members who opt out of the web, channels that turn private or public, messages
deleted in chat) and publishes some of its channels. Every listing of the web
view must then hold exactly the entries a model computes from the rule itself:
public now, in a published channel, by a member who did not opt out; an answer
counts only where its question is shown too. Each example runs inside a
transaction that is rolled back, so one database serves them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.models import ChannelRef, Entry, EntryKind, Viewer
from knowledge.published import page_entry, public_web, question_thread
from knowledge.published_lists import open_questions, recent_answered, topic_page
from knowledge.published_members import member_page
from knowledge.published_sitemap import sitemap_count, sitemap_entries
from knowledge.sqlite.repertoire import Repertoire
from knowledge.web_consent import set_web_optout
from tests.contract.support import DM, OTHER_PUBLIC, PRIVATE, PUBLIC, T0, Community

CHANNELS = (PUBLIC, OTHER_PUBLIC, PRIVATE, DM)
TAGS = ("pandas", "kafka")
MEMBERS = 3

_channel = st.integers(0, len(CHANNELS) - 1)
_member = st.integers(0, MEMBERS - 1)
_index = st.integers(0, 20)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), _channel, _member, st.sampled_from(TAGS)),
        st.tuples(st.just("knowhow"), _channel, _member, st.sampled_from(TAGS)),
        st.tuples(st.just("answer"), _index, _member, st.booleans()),
        st.tuples(st.just("turn"), _channel, st.sampled_from(["public", "private"]), st.just("")),
        st.tuples(st.just("delete"), _index, st.just(0), st.just("")),
    ),
    max_size=16,
)


@contextmanager
def rolled_back(repertoire: Repertoire) -> Iterator[None]:
    """What the block writes is undone (and the channels the repertoire remembers)."""
    conn = getattr(repertoire, "conn", None)
    try:
        if conn is not None:  # PostgreSQL: the repertoire's transactions nest as savepoints
            with conn.transaction(force_rollback=True):
                yield
        else:  # SQLite: its transactions join the outer one as savepoints
            repertoire.db.conn.execute("BEGIN")
            try:
                yield
            finally:
                repertoire.db.conn.execute("ROLLBACK")
    finally:
        repertoire.channels.forget()


@dataclass
class World:
    said: list[Entry] = field(default_factory=list)
    members: list[int] = field(default_factory=list)


def play(community: Community, steps: list[tuple[str, int, object, object]]) -> World:
    world = World(members=[community.member(f"U-{i}", f"m{i}") for i in range(MEMBERS)])
    roots: list[Entry] = []
    for minutes, (action, a, b, c) in enumerate(steps):
        if action in ("ask", "knowhow"):
            kind = EntryKind.QUESTION if action == "ask" else EntryKind.KNOWHOW
            author = world.members[int(str(b))]
            entry = community.say(
                kind, CHANNELS[a], f"{action} {minutes}", author, minutes=minutes, tags=(str(c),)
            )
            roots.append(entry)
            world.said.append(entry)
        elif action == "answer" and roots:
            question = roots[a % len(roots)]
            if question.kind == EntryKind.QUESTION:
                answer = community.answer(
                    question, f"answer {minutes}", world.members[int(str(b))], minutes=minutes
                )
                if c:
                    community.rep.set_accepted(answer.id, True)
                world.said.append(answer)
        elif action == "turn":
            ref = CHANNELS[a]
            community.rep.upsert_channel(ref.platform, ref.workspace, ref.channel, "", str(b))
        elif action == "delete" and world.said:
            community.rep.delete_message(world.said[a % len(world.said)].source)
    return world


def check(repertoire: Repertoire, world: World, published: set[int], hidden: set[int]) -> None:
    for member in hidden:
        set_web_optout(repertoire, world.members[member], True, T0)
    specs = [(c.platform, c.workspace, c.channel, "") for c in (CHANNELS[i] for i in published)]
    web = public_web(repertoire, specs)
    every = repertoire.entries(Viewer.operator_including_private(), order="id", limit=1000)
    public_now = {c.channel_ref for c in every if c.visibility == "public"}
    chosen: set[ChannelRef] = {CHANNELS[i] for i in published}
    hidden_ids = {world.members[i] for i in hidden}

    def shown(entry: Entry) -> bool:  # the model: the rule, written out
        return (
            entry.visibility == "public"
            and entry.channel_ref in chosen
            and entry.author_id not in hidden_ids
        )

    assert web.published is not None and web.published <= chosen
    assert web.published >= {c for c in chosen if c in public_now}
    roots = [e for e in every if e.kind != EntryKind.ANSWER and shown(e)]
    answers = {
        q.id: [
            a.id
            for a in every
            if a.kind == EntryKind.ANSWER and shown(a) and a.thread_id == q.source.message_id
            and a.channel_ref == q.channel_ref
        ]
        for q in roots
        if q.kind == EntryKind.QUESTION
    }  # fmt: skip
    assert sitemap_count(repertoire, web) == len(roots)
    assert [s.entry.id for s in sitemap_entries(repertoire, web, 0)] == [e.id for e in roots]
    for entry in every:
        page = page_entry(repertoire, web, entry.id)
        assert (page is not None) == (entry in roots), entry
        thread = question_thread(repertoire, web, entry.id)
        if thread is not None:
            assert sorted(a.id for a in thread.answers) == sorted(answers[entry.id])
    newest_first = sorted(roots, key=lambda e: (e.created_at, e.id), reverse=True)
    answered = [q.id for q in newest_first if answers.get(q.id)]
    unanswered = [q.id for q in newest_first if q.id in answers and not answers[q.id]]
    assert [s.entry.id for s in recent_answered(repertoire, web, 100)] == answered
    assert [s.entry.id for s in open_questions(repertoire, web, 100)] == unanswered
    for summary in recent_answered(repertoire, web, 100):
        assert summary.answers == len(answers[summary.entry.id])
    for tag in TAGS:
        listed = topic_page(repertoire, web, tag, 0, 100).entries
        assert [s.entry.id for s in listed] == [e.id for e in newest_first if tag in e.tags]
    for member_id in world.members:
        page_of = member_page(repertoire, web, member_id)
        asked = [q for q in roots if q.kind == EntryKind.QUESTION and q.author_id == member_id]
        given_ = [a for q in answers for a in answers[q] if _author(every, a) == member_id]
        if member_id in hidden_ids or not (asked or given_ or _knowhow_by(roots, member_id)):
            assert page_of is None
            continue
        assert page_of is not None
        assert (page_of.questions, page_of.answers) == (len(asked), len(given_))


def _author(every: list[Entry], entry_id: int) -> int:
    return next(e.author_id for e in every if e.id == entry_id)


def _knowhow_by(roots: list[Entry], member_id: int) -> bool:
    return any(e.kind == EntryKind.KNOWHOW and e.author_id == member_id for e in roots)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=STEPS,
    published=st.sets(st.integers(0, len(CHANNELS) - 1)),
    hidden=st.sets(st.integers(0, MEMBERS - 1), max_size=2),
)
def test_the_web_lists_exactly_what_the_rule_allows(
    repertoire: Repertoire,
    steps: list[tuple[str, int, object, object]],
    published: set[int],
    hidden: set[int],
) -> None:
    with rolled_back(repertoire):
        community = Community(repertoire)
        world = play(community, steps)
        check(repertoire, world, published, hidden)
