"""A new answer joins its question's search document in place: the same document a rebuild makes.

Live capture appends a new answer's text to its question's document instead of
rebuilding it from the whole thread (:meth:`SearchDocuments.answer_added`).
Whatever order answers, acceptances and edits come in, the index must hold
exactly what a rebuild from the entries gives: the same words in the same
order (a phrase may span two answers), the same answer count and accepted flag.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_core
from bot.config import Settings, SimilarSettings
from bot.core import Core
from bot.events import Actor, IncomingMessage, MessageEdited, ReactionChange, Visibility, Where
from knowledge.feedback import link_solved
from tests.sqlite_file import sqlite_of

PUBLIC = Where("slack", "T1", "C1", Visibility.PUBLIC, channel_name="help")
BASE = datetime(2030, 1, 1, tzinfo=UTC)
ASKER = Actor("slack", "UASK", "asker", "T1")
HELPER = Actor("slack", "UHELP", "helper", "T1")
WEEK = timedelta(days=7)


def entry_id(core: Core, message_id: str) -> int:
    row = (
        sqlite_of(core.repertoire)
        .db.execute(
            "SELECT id FROM entries WHERE message_id = ? AND kind = 'question'", [message_id]
        )
        .fetchone()
    )
    return int(row[0])


def documents(core: Core) -> list[tuple[object, ...]]:
    db = sqlite_of(core.repertoire).db
    return [
        tuple(row)
        for row in db.execute(
            "SELECT f.rowid, f.title, f.body, f.answers, f.tags, e.answer_count, e.has_accepted "
            "FROM search_fts f JOIN entries e ON e.id = f.rowid ORDER BY f.rowid"
        ).fetchall()
    ]


def rebuilt(core: Core) -> list[tuple[object, ...]]:
    """The documents as a full rebuild from the entries makes them (rolled back after)."""
    repertoire = core.repertoire
    conn = sqlite_of(repertoire).db.conn
    conn.execute("BEGIN")
    try:
        for (entry_id,) in (
            sqlite_of(repertoire)
            .db.execute("SELECT id FROM entries WHERE kind != 'answer'")
            .fetchall()
        ):
            repertoire.reindex(int(entry_id))
        return documents(core)
    finally:
        conn.execute("ROLLBACK")


# One step of a thread's life: (what, which answer, minutes after the question).
steps = st.lists(
    st.tuples(
        st.sampled_from(["answer", "accept", "edit", "link"]), st.integers(0, 4), st.integers(0, 6)
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_appended_answers_give_the_rebuilt_document(
    tmp_path_factory: object, steps: list[tuple[str, int, int]]
) -> None:
    folder: Path = tmp_path_factory.mktemp("append")  # type: ignore[attr-defined]
    core = build_core(Settings(similar=SimilarSettings(enabled=False)), folder / "copbot.db")
    try:
        old = IncomingMessage(PUBLIC, ASKER, "50.0", "how do I pin a version?", BASE - WEEK)
        core.handle(old)
        core.handle(
            IncomingMessage(PUBLIC, HELPER, "51.0", "pin it in the lock file", BASE, "50.0")
        )
        root = IncomingMessage(PUBLIC, ASKER, "100.0", "how do I pin the widget version?", BASE)
        core.handle(root)
        for what, n, minutes in steps:
            message_id = f"{200 + n}.0"
            if what == "answer":
                helper = Actor("slack", f"UH{n}", f"helper {n}", "T1")
                text = f"answer {n} says pin it with word{minutes}"
                at = BASE + timedelta(minutes=minutes)
                core.handle(IncomingMessage(PUBLIC, helper, message_id, text, at, root.message_id))
            elif what == "accept":
                core.handle(ReactionChange(PUBLIC, message_id, ASKER, "white_check_mark", True))
            elif what == "link":  # "solved it": the old question's answer is borrowed
                repertoire = core.repertoire
                with repertoire.transaction():
                    link_solved(repertoire, entry_id(core, "100.0"), entry_id(core, "50.0"), BASE)
            else:
                edited = BASE + timedelta(minutes=minutes, seconds=30)
                core.handle(MessageEdited(PUBLIC, message_id, f"edited {n} {minutes}", edited))
            assert documents(core) == rebuilt(core)
    finally:
        core.repertoire.close()


def test_a_new_answer_is_appended_without_reading_the_thread(tmp_path: Path) -> None:
    core = build_core(Settings(similar=SimilarSettings(enabled=False)), tmp_path / "copbot.db")
    root = IncomingMessage(PUBLIC, ASKER, "100.0", "how do I pin the widget version?", BASE)
    core.handle(root)
    helper = Actor("slack", "UH", "helper", "T1")
    core.handle(IncomingMessage(PUBLIC, helper, "101.0", "first answer", BASE, "100.0"))
    statements: list[str] = []
    sqlite_of(core.repertoire).db.conn.set_trace_callback(statements.append)
    core.handle(
        IncomingMessage(PUBLIC, helper, "102.0", "second answer", BASE + timedelta(1), "100.0")
    )
    sqlite_of(core.repertoire).db.conn.set_trace_callback(None)
    assert not [s for s in statements if "ORDER BY a.accepted DESC" in s]  # no rebuild
    assert documents(core)[0][3] == "first answer\nsecond answer"
    assert documents(core) == rebuilt(core)
    core.repertoire.close()
