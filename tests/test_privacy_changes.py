"""Privacy while channels change, property-based: nothing private shows anywhere else.

Hypothesis plays a community where channels turn private and public again
(the platform's notice), stale events claim the old visibility, threads get
replies across those changes, answers are accepted, know-how is saved (in
DMs too), members thank each other and questions are marked solved by older
ones (which lends an answer across channels). Then, for every place a result
can be shown, everything copbot shows (search with its answer snippets,
similar questions, who, profiles, hosts, digests, share, the public Markdown
export) must equal what it shows on a copy of the repertoire from which
everything that place may not see was removed: the oracle of
``tests/test_privacy.py``, applied after every kind of change.

Search and similar are compared as sets (with their answers): bm25's term
statistics are corpus-wide, so hidden entries may move the order of visible
results, never their set or content.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_core
from bot.config import DigestSchedule, Settings
from bot.core import Core
from bot.digest import build_digest, resolve_channel
from bot.events import (
    Actor,
    ChannelVisibilityChanged,
    CommandInvocation,
    IncomingMessage,
    Outbound,
    ReactionChange,
    Reply,
    SaveRequest,
    Visibility,
    Where,
)
from bot.ports import FixedClock, Services
from bot.render_text import render_post
from bot.share import share_result
from knowledge.expertise import rank_experts
from knowledge.export import export_markdown
from knowledge.hosts import hosts_for_topic
from knowledge.models import ChannelRef, SourceKey
from knowledge.profiles import member_profile
from knowledge.query import parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.search import SearchOptions, search
from knowledge.similar import find_similar
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import EntryFilter, Viewer
from tests.sqlite_file import sqlite_of
from tests.streams import START

WORDS = ("vault", "kafka", "airflow", "pandas", "docker", "schema")
PLATFORM, WORKSPACE = "slack", "T1"
CHANNELS = ("C0", "C1", "C2", "C3")
DM = Where(PLATFORM, WORKSPACE, "D1", Visibility.DM, "dm")
MEMBERS = tuple(Actor(PLATFORM, f"U{i}", f"Member {i}", WORKSPACE) for i in range(4))

_index = st.integers(0, 40)
_words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
_channel = st.sampled_from(CHANNELS)
_member = st.integers(0, len(MEMBERS) - 1)
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("ask"), _channel, _member, _words),
        st.tuples(st.just("reply"), _index, _member, _words),
        st.tuples(st.just("reply"), _index, _member, _words),
        st.tuples(st.just("accept"), _index),
        st.tuples(st.just("turn"), _channel, st.sampled_from(["public", "private"])),
        st.tuples(st.just("stale"), _index, _member),
        st.tuples(st.just("save"), st.sampled_from((*CHANNELS, "D1")), _member, _words),
        st.tuples(st.just("thanks"), _channel, _member, _index),
        st.tuples(st.just("solved"), _index),
    ),
    min_size=6,
    max_size=28,
)


@dataclass
class Community:
    """Drives the core as the platform would, remembering what each channel is now."""

    core: Core
    clock: FixedClock
    visibility: dict[str, Visibility]
    questions: list[IncomingMessage] = field(default_factory=list)
    answers: list[IncomingMessage] = field(default_factory=list)
    minute: int = 0

    def where(self, channel: str) -> Where:
        if channel == "D1":
            return DM
        return Where(PLATFORM, WORKSPACE, channel, self.visibility[channel], f"chan-{channel}")

    def tick(self) -> Any:
        self.minute += 1
        return START + timedelta(minutes=self.minute)

    def handle(self, event: Any) -> list[Outbound]:
        return self.core.handle(event)

    def command(self, channel: str, member: Actor, text: str, thread: str | None = None) -> None:
        self.handle(
            CommandInvocation(self.where(channel), member, text, self.tick(), thread_id=thread)
        )

    def run(self, operation: tuple[Any, ...]) -> None:
        kind, *args = operation
        getattr(self, f"_{kind}")(*args)

    def _ask(self, channel: str, member: int, words: str) -> None:
        message = IncomingMessage(
            self.where(channel), MEMBERS[member], f"q{self.minute}", f"How do I {words}?",
            self.tick(), tags=(words.split()[0],),
        )  # fmt: skip
        self.handle(message)
        self.questions.append(message)

    def _reply(self, index: int, member: int, words: str) -> None:
        if not self.questions:
            return
        question = self.questions[index % len(self.questions)]
        channel = question.where.channel
        message = IncomingMessage(
            self.where(channel), MEMBERS[member], f"a{self.minute}", f"try {words} first",
            self.tick(), thread_id=question.message_id,
        )  # fmt: skip
        self.handle(message)
        self.answers.append(message)

    def _accept(self, index: int) -> None:
        if not self.answers:
            return
        answer = self.answers[index % len(self.answers)]
        question = next(q for q in self.questions if q.message_id == answer.thread_id)
        self.handle(
            ReactionChange(
                self.where(answer.where.channel), answer.message_id, question.author,
                "white_check_mark", True, at=self.tick(),
            )
        )  # fmt: skip

    def _turn(self, channel: str, visibility: str) -> None:
        self.visibility[channel] = Visibility(visibility)
        self.handle(ChannelVisibilityChanged(self.where(channel), self.tick()))

    def _stale(self, index: int, member: int) -> None:
        """A reaction whose channel lookup is stale: it claims the other visibility."""
        said = self.questions + self.answers
        if not said:
            return
        message = said[index % len(said)]
        channel = message.where.channel
        other = (
            Visibility.PRIVATE
            if self.visibility[channel] == Visibility.PUBLIC
            else Visibility.PUBLIC
        )
        where = Where(PLATFORM, WORKSPACE, channel, other, f"chan-{channel}")
        self.handle(
            ReactionChange(where, message.message_id, MEMBERS[member], "+1", True, at=self.tick())
        )
        # Closing is always believed (the safe side); what the channel is now is the file's.
        known = self.core.repertoire.find_channel(PLATFORM, channel_id=channel, workspace=WORKSPACE)
        assert known is not None
        self.visibility[channel] = Visibility(known.visibility)

    def _save(self, channel: str, member: int, words: str) -> None:
        actor = MEMBERS[member]
        self.handle(
            SaveRequest(
                self.where(channel), actor, f"s{self.minute}", f"tip: {words} works", actor,
                self.tick(), tags=(words.split()[0],),
            )
        )  # fmt: skip

    def _thanks(self, channel: str, member: int, index: int) -> None:
        if not self.answers:
            return
        answer = self.answers[index % len(self.answers)]
        found = self.core.repertoire.entries(
            Viewer.operator_including_private(),
            EntryFilter(channel_id=answer.where.channel, message_id=answer.message_id),
        )
        if found:
            self.command(channel, MEMBERS[member], f"thanks #{found[0].id} for the {WORDS[0]}")

    def _solved(self, index: int) -> None:
        if not self.questions:
            return
        question = self.questions[index % len(self.questions)]
        self.command(question.where.channel, question.author, "solved", question.message_id)


def _copy_for(source: Path, target: Path, viewer: ChannelRef) -> Repertoire:
    """The oracle: a copy holding only what ``viewer`` may see (entries and thanks)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    copy = Repertoire.open(target)
    elsewhere = "visibility != 'public' AND NOT (platform = ? AND workspace = ? AND channel = ?)"
    place = [viewer.platform, viewer.workspace, viewer.channel]
    with copy.transaction():
        for row in copy.db.execute(
            f"SELECT platform, workspace, channel, message_id FROM entries WHERE {elsewhere}", place
        ).fetchall():
            copy.delete_message(SourceKey(*row))
        copy.db.execute(f"DELETE FROM thanks WHERE {elsewhere}", place)
    return copy


def _answers(hit: Any) -> tuple[Any, ...]:
    return (hit.entry.id, hit.answer.id if hit.answer else None, hit.answer_snippet)


def _replies(outbound: list[Outbound]) -> list[tuple[Any, ...]]:
    return [(r.text, r.items) for r in outbound if isinstance(r, Reply)]


def _everything_shown(
    repertoire: RelationalRepertoire, services: Services, viewer: ChannelRef, ids: tuple[int, int]
) -> Any:
    """What ``viewer``'s channel is shown, by every path, in a comparable form.

    ``ids``: the highest member and entry ids of the full repertoire (the copy has
    the same ids, some gone).
    """
    last_member, last_entry = ids
    shown: dict[str, Any] = {}
    for word in WORDS[:3]:
        query = parse_query(word, now=START)
        hits = search(repertoire, query, viewer, SearchOptions(limit=1_000))
        shown[f"search {word}"] = {_answers(h) for h in hits}
        similar = find_similar(repertoire, f"How do I {word}?", viewer, limit=1_000)
        shown[f"similar {word}"] = {_answers(h) for h in similar}
        shown[f"who {word}"] = rank_experts(repertoire, word, viewer, now=START)
        shown[f"hosts {word}"] = hosts_for_topic(repertoire, word, viewer, now=START)
    for member_id in range(1, last_member + 1):
        shown[f"profile {member_id}"] = member_profile(repertoire, member_id, viewer)
    where = Where(viewer.platform, viewer.workspace, viewer.channel, Visibility.PRIVATE)
    for entry_id in range(1, last_entry + 1):
        shown[f"share {entry_id}"] = _replies(share_result(services, entry_id, where, MEMBERS[0]))
    spec = f"{viewer.platform}:{viewer.workspace}:{viewer.channel}"
    schedule = DigestSchedule(channel=spec, period_days=7, empty="note", mention_experts=True)
    post = build_digest(
        services, resolve_channel(repertoire, spec), schedule, START, START + timedelta(days=1)
    )
    shown["digest"] = render_post(post) if post else ""
    return shown


def _markdown(repertoire: RelationalRepertoire, folder: Path) -> dict[str, str]:
    export_markdown(repertoire, folder)
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*.md"))}


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.lists(st.sampled_from(["public", "private"]), min_size=4, max_size=4),
    operations=OPERATIONS,
)
def test_nothing_private_shows_elsewhere_whatever_the_channels_became(
    tmp_path_factory: Any, start: list[str], operations: list[tuple[Any, ...]]
) -> None:
    folder: Path = tmp_path_factory.mktemp("changes")
    db = folder / "copbot.db"
    clock = FixedClock(START)
    config = Settings.model_validate({"similar": {"min_confidence": 0.0}})
    core = build_core(config, db, clock=clock)
    community = Community(
        core, clock, {c: Visibility(v) for c, v in zip(CHANNELS, start, strict=True)}
    )
    try:
        for operation in operations:
            community.run(operation)
        # Visibility follows the channel: no entry differs from its channel's row.
        drift = (
            sqlite_of(core.repertoire)
            .db.execute(
                "SELECT count(*) FROM entries e JOIN channels c ON c.platform = e.platform "
                "AND c.workspace = e.workspace AND c.channel = e.channel "
                "WHERE c.visibility != e.visibility"
            )
            .fetchone()[0]
        )
        assert drift == 0
        ids = (
            sqlite_of(core.repertoire)
            .db.execute(
                "SELECT (SELECT ifnull(max(id), 0) FROM members), (SELECT ifnull(max(id), 0) "
                "FROM entries)"
            )
            .fetchone()
        )
        for channel in (*CHANNELS, "D1"):
            viewer = ChannelRef(PLATFORM, WORKSPACE, channel)
            copy = _copy_for(db, folder / f"{channel}.db", viewer)
            try:
                copy_services = Services(copy, config, clock)
                full = _everything_shown(core.repertoire, core.services, viewer, ids)
                only = _everything_shown(copy, copy_services, viewer, ids)
                for key in full:
                    assert full[key] == only[key], key
            finally:
                copy.close()
        public = _copy_for(db, folder / "public.db", ChannelRef(PLATFORM, WORKSPACE, "-"))
        try:
            assert _markdown(core.repertoire, folder / "md-full") == _markdown(
                public, folder / "md-public"
            )
        finally:
            public.close()
    finally:
        core.repertoire.close()
