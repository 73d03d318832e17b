"""Privacy, property-based: nothing shown in channel C comes from another private place.

Random communities with public channels, private channels and DMs (saved on
purpose). For every viewer channel, search, ``who`` and ``stats`` must give
exactly what they give on a copy of the repertoire from which every entry the
viewer may not see was deleted: not merely "no leak in what we looked at",
but "the hidden entries change nothing the viewer is shown".

One known, accepted influence: bm25's term statistics are corpus-wide, so a
hidden entry can shift the *order* of visible results (never their set, their
content or any count). Search is therefore compared as sets here.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_core
from bot.config import Settings
from bot.core import Core
from bot.events import MessageDeleted, SaveRequest, Where
from bot.ports import FixedClock
from knowledge.expertise import rank_experts
from knowledge.models import ChannelRef, SourceKey
from knowledge.query import parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.search import SearchOptions, search
from knowledge.sqlite.repertoire import Repertoire
from knowledge.stats import repertoire_stats
from tests.sqlite_file import sqlite_of
from tests.streams import START, WORDS, community_stream, make_community


def populate_randomly(core: Core, seed: int) -> None:
    """A community from a seeded random stream, and saved know-how in every channel."""
    for event in community_stream(seed, 250):
        core.handle(event)
    rng = random.Random(seed)
    community = make_community()
    for number in range(3 * len(community.channels)):
        where = community.channels[number % len(community.channels)]
        member = rng.choice(community.members)
        core.handle(
            SaveRequest(
                where,
                member,
                f"save{number}",
                f"tip about {rng.choice(WORDS)} {rng.choice(WORDS)}",
                member,
                START,
                tags=(rng.choice(WORDS),),
            )
        )


def copy_visible_only(source: Path, target: Path, viewer: Where) -> Repertoire:
    """A copy of the repertoire holding only what ``viewer`` may see."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    copy = Repertoire.open(target)
    hidden = copy.db.execute(
        "SELECT platform, workspace, channel, message_id FROM entries WHERE visibility != 'public' "
        "AND NOT (platform = ? AND workspace = ? AND channel = ?)",
        [viewer.platform, viewer.workspace, viewer.channel],
    ).fetchall()
    for platform, workspace, channel, message_id in hidden:
        copy.delete_message(SourceKey(platform, workspace, channel, message_id))
    return copy


def _search_ids(
    repertoire: RelationalRepertoire, text: str, viewer: ChannelRef
) -> set[tuple[str, str]]:
    hits = search(repertoire, parse_query(text, now=START), viewer, SearchOptions(limit=10_000))
    return {(h.entry.source.channel, h.entry.source.message_id) for h in hits}


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3))
def test_hidden_entries_have_no_influence(tmp_path: Path, seed: int, words: list[str]) -> None:
    db = tmp_path / f"c{seed}.db"
    db.unlink(missing_ok=True)
    core = build_core(Settings(), db, clock=FixedClock(START))
    try:
        populate_randomly(core, seed)
        kinds = {
            r[0]
            for r in sqlite_of(core.repertoire).db.execute(
                "SELECT DISTINCT visibility FROM entries"
            )
        }
        assert {"public", "private", "dm"} <= kinds
        query = " ".join(words)
        for where in make_community().channels:
            viewer = ChannelRef(where.platform, where.workspace, where.channel)
            copy_path = tmp_path / f"c{seed}-{where.channel}.db"
            copy_path.unlink(missing_ok=True)
            visible = copy_visible_only(db, copy_path, where)
            try:
                for hit in search(core.repertoire, parse_query(query, now=START), viewer):
                    assert (
                        hit.entry.visibility == "public"
                        or hit.entry.source.channel == where.channel
                    )
                assert _search_ids(core.repertoire, query, viewer) == _search_ids(
                    visible, query, viewer
                )
                assert rank_experts(core.repertoire, words[0], viewer, now=START) == rank_experts(
                    visible, words[0], viewer, now=START
                )
                full = repertoire_stats(core.repertoire, viewer)
                only = repertoire_stats(visible, viewer)
                assert (full.questions, full.answers, full.knowhow, full.accepted) == (
                    only.questions,
                    only.answers,
                    only.knowhow,
                    only.accepted,
                )
            finally:
                visible.close()
    finally:
        core.repertoire.close()


def test_deleting_removes_the_entry_and_its_index_row(tmp_path: Path) -> None:
    core = build_core(Settings(), tmp_path / "d.db", clock=FixedClock(START))
    try:
        populate_randomly(core, 3)
        row = (
            sqlite_of(core.repertoire)
            .db.execute(
                "SELECT id, platform, workspace, channel, message_id FROM entries "
                "WHERE kind = 'question' LIMIT 1"
            )
            .fetchone()
        )
        entry_id, platform, workspace, channel, message_id = row
        core.handle(MessageDeleted(Where(platform, workspace, channel), message_id, "del-x"))
        db = sqlite_of(core.repertoire).db
        assert (
            db.execute("SELECT count(*) FROM entries WHERE id = ?", [entry_id]).fetchone()[0] == 0
        )
        assert (
            db.execute("SELECT count(*) FROM search_fts WHERE rowid = ?", [entry_id]).fetchone()[0]
            == 0
        )
        assert (
            db.execute("SELECT count(*) FROM entry_tags WHERE entry_id = ?", [entry_id]).fetchone()[
                0
            ]
            == 0
        )
    finally:
        core.repertoire.close()
