"""Flat curation, read back exactly: normalised values, the history's words, undo's refusals,
and when know-how counts as possibly outdated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import command_registry
from bot.config import Settings
from bot.core import Core
from bot.events import Actor, IncomingMessage, SaveRequest, Visibility, Where
from bot.events import KnowhowKind as Kind
from bot.ports import FixedClock, Services
from knowledge.curation import (
    Change,
    CurationError,
    change_field,
    current_value,
    history,
    latest_undoable,
    outdated_entries,
    retag,
    set_valid_until,
    undo,
    valid_until,
)
from knowledge.query import parse_query
from knowledge.search import search
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import EntryFilter, Viewer
from tests.sqlite_file import sqlite_of

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HELP = Where("slack", "W1", "C-HELP", Visibility.PUBLIC, "help")
ALICE = Actor("slack", "UALICE", "Alice", "W1")


@pytest.fixture
def core() -> Iterator[Core]:
    repertoire = Repertoire.open(":memory:")
    yield Core(Services(repertoire, Settings(), FixedClock(NOW)), command_registry())
    repertoire.close()


def _question(core: Core, mid: str = "q1", text: str = "How do I shrink a DataFrame?") -> int:
    core.handle(IncomingMessage(HELP, ALICE, mid, text, NOW - timedelta(days=1)))
    return _by_message(core, mid)


def _member(core: Core, user_id: str, name: str = "", handle: str = "") -> int:
    return core.repertoire.upsert_member("slack", "W1", user_id, name, handle)


def test_values_are_normalised_and_no_op_changes_are_not_kept(core: Core) -> None:
    entry = _question(core)
    bob = _member(core, "UBOB", "Bob")
    change = change_field(
        core.repertoire, entry, "tags", ["#Pandas", "memory", "", "pandas"], bob, NOW
    )
    assert change is not None and (change.old, change.new) == ([], ["memory", "pandas"])
    assert change_field(core.repertoire, entry, "tags", ["pandas", "memory"], bob, NOW) is None
    title = change_field(core.repertoire, entry, "title", "  Shrinking   DataFrames ", bob, NOW)
    assert title is not None and title.new == "Shrinking DataFrames"
    with pytest.raises(CurationError, match=r"^A title cannot be empty\.$"):
        change_field(core.repertoire, entry, "title", "   ", bob, NOW)
    flag = change_field(core.repertoire, entry, "outdated", "yes", bob, NOW)
    assert flag is not None and (flag.old, flag.new) == (False, True)
    assert current_value(core.repertoire, entry, "outdated") is True
    assert [c.describe() for c in history(core.repertoire, entry)] == [
        "flagged outdated",
        "title “How do I shrink a DataFrame?” → “Shrinking DataFrames”",
        "tags +#memory +#pandas",
    ]


def test_retag_replaces_adds_and_removes(core: Core) -> None:
    entry = _question(core)
    bob = _member(core, "UBOB", "Bob")
    retag(core.repertoire, entry, bob, NOW, add=("pandas", "memory"))
    change = retag(
        core.repertoire, entry, bob, NOW, replace=("Polars", "memory"), remove=("memory",)
    )
    assert change is not None and change.new == ["polars"]
    assert change.describe() == "tags +#polars -#memory -#pandas"
    assert current_value(core.repertoire, entry, "tags") == ["polars"]


def test_history_is_newest_first_names_the_member_and_keeps_text_as_written(core: Core) -> None:
    entry = _question(core)
    handle_only = _member(core, "UH", "", "handy")
    id_only = _member(core, "UID")
    change_field(core.repertoire, entry, "title", "Réduire un DataFrame", handle_only, NOW)
    change_field(core.repertoire, entry, "outdated", True, id_only, NOW + timedelta(minutes=1))
    changes = history(core.repertoire, entry)
    assert [(c.member_name, c.at) for c in changes] == [
        ("UID", NOW + timedelta(minutes=1)),
        ("handy", NOW),
    ]
    assert [c.id for c in history(core.repertoire, entry, limit=1)] == [changes[0].id]
    stored = (
        sqlite_of(core.repertoire)
        .db.execute("SELECT new_value FROM curation_changes WHERE field = 'title'")
        .fetchone()[0]
    )
    assert stored == '"Réduire un DataFrame"'  # readable in the database, not \\u escapes


def test_undo_reverts_refuses_what_it_must_and_can_be_redone(core: Core) -> None:
    entry = _question(core)
    bob, cam = _member(core, "UBOB", "Bob"), _member(core, "UCAM", "Cam")
    first = change_field(core.repertoire, entry, "title", "Shrinking DataFrames", bob, NOW)
    flag = change_field(core.repertoire, entry, "outdated", True, bob, NOW)
    assert first is not None and flag is not None
    assert latest_undoable(core.repertoire, entry) == flag
    reverted = undo(core.repertoire, flag.id, cam, NOW)
    assert (reverted.undoes, reverted.old, reverted.new, reverted.member_name) == (
        flag.id,
        True,
        False,
        "Cam",
    )
    assert reverted.describe() == f"undo of c{flag.id}: outdated flag cleared"
    assert current_value(core.repertoire, entry, "outdated") is False
    # Undone changes and undos are skipped: the next undo walks back to the title.
    assert latest_undoable(core.repertoire, entry) == first
    with pytest.raises(CurationError, match=f"^c{flag.id} was already undone by c{reverted.id}.$"):
        undo(core.repertoire, flag.id, cam, NOW)
    with pytest.raises(CurationError, match=r"^No change c999\.$"):
        undo(core.repertoire, 999, cam, NOW)
    change_field(core.repertoire, entry, "title", "Smaller DataFrames", cam, NOW)
    with pytest.raises(CurationError, match=f"^The title of #{entry} changed since c{first.id}; "):
        undo(core.repertoire, first.id, bob, NOW)
    redo = undo(core.repertoire, reverted.id, bob, NOW)  # an undo is a change: undo it
    assert redo.undoes == reverted.id and current_value(core.repertoire, entry, "outdated")


def test_answers_and_missing_entries_cannot_be_curated(core: Core) -> None:
    entry = _question(core)
    core.handle(IncomingMessage(HELP, ALICE, "a1", "Use category dtype.", NOW, "q1"))
    answer = _by_message(core, "a1")
    bob = _member(core, "UBOB", "Bob")
    with pytest.raises(CurationError, match=r"^Answers share their question's title and tags"):
        change_field(core.repertoire, answer, "title", "x", bob, NOW)
    with pytest.raises(CurationError, match=r"^No entry with that number\.$"):
        current_value(core.repertoire, entry + 100, "tags")


def _knowhow(core: Core, mid: str, kind: Kind, at: datetime) -> int:
    core.handle(SaveRequest(HELP, ALICE, mid, f"Note {mid}", ALICE, at, kind=kind))
    return _by_message(core, mid)


def test_possibly_outdated_know_how(core: Core) -> None:
    today = NOW.date()
    flagged = _knowhow(core, "k-flag", Kind.HOWTO, NOW)
    change_field(core.repertoire, flagged, "outdated", True, _member(core, "UBOB"), NOW)
    past = _knowhow(core, "k-past", Kind.UPDATE, NOW)
    set_valid_until(core.repertoire, past, today - timedelta(days=1))
    last_day = _knowhow(core, "k-today", Kind.UPDATE, NOW - timedelta(days=400))
    set_valid_until(core.repertoire, last_day, today)  # holds until the end of the day
    stale = _knowhow(core, "k-stale", Kind.UPDATE, NOW - timedelta(days=31))
    fresh = _knowhow(core, "k-fresh", Kind.UPDATE, NOW - timedelta(days=29))
    old_howto = _knowhow(core, "k-howto", Kind.HOWTO, NOW - timedelta(days=400))
    cleared = _knowhow(core, "k-cleared", Kind.UPDATE, NOW - timedelta(days=2))
    set_valid_until(core.repertoire, cleared, today - timedelta(days=1))
    set_valid_until(core.repertoire, cleared, None)
    assert valid_until(core.repertoire, cleared) is None
    assert valid_until(core.repertoire, last_day) == today
    everything = [flagged, past, last_day, stale, fresh, old_howto, cleared]
    assert outdated_entries(core.repertoire, everything, NOW) == {flagged, past}
    assert outdated_entries(core.repertoire, everything, NOW, update_stale_days=30) == {
        flagged,
        past,
        stale,
    }
    assert outdated_entries(core.repertoire, [], NOW, update_stale_days=30) == set()


def test_a_new_title_is_searchable_and_history_keeps_both_as_written(core: Core) -> None:
    entry = _question(core)
    bob = _member(core, "UBOB", "Bob")
    change_field(core.repertoire, entry, "title", "Réduire la mémoire", bob, NOW)
    change_field(core.repertoire, entry, "title", "Réduire la RAM quixotiquement", bob, NOW)
    found = search(core.repertoire, parse_query("quixotiquement"), None)
    assert [hit.entry.id for hit in found] == [entry]
    stored = (
        sqlite_of(core.repertoire)
        .db.execute("SELECT old_value, new_value FROM curation_changes ORDER BY id DESC LIMIT 1")
        .fetchone()
    )
    assert tuple(stored) == ('"Réduire la mémoire"', '"Réduire la RAM quixotiquement"')
    (latest, _) = history(core.repertoire, entry)
    assert (latest.member_id, latest.member_name) == (bob, "Bob")


def test_history_shows_the_last_twenty_changes_unless_asked(core: Core) -> None:
    entry = _question(core)
    bob = _member(core, "UBOB", "Bob")
    assert latest_undoable(core.repertoire, entry) is None
    for n in range(22):
        change_field(core.repertoire, entry, "title", f"Title {n}", bob, NOW)
    assert len(history(core.repertoire, entry)) == 20
    assert len(history(core.repertoire, entry, limit=30)) == 22


def test_an_update_is_stale_only_after_its_days_have_passed(core: Core) -> None:
    exactly = _knowhow(core, "k-30", Kind.UPDATE, NOW - timedelta(days=30))
    assert outdated_entries(core.repertoire, [exactly], NOW, update_stale_days=30) == set()
    assert outdated_entries(core.repertoire, [exactly], NOW, update_stale_days=29) == {exactly}


def test_undo_says_how_to_get_past_a_later_change(core: Core) -> None:
    entry = _question(core)
    bob = _member(core, "UBOB", "Bob")
    first = change_field(core.repertoire, entry, "title", "One", bob, NOW)
    change_field(core.repertoire, entry, "title", "Two", bob, NOW)
    assert first is not None
    with pytest.raises(CurationError) as refused:
        undo(core.repertoire, first.id, bob, NOW)
    assert str(refused.value) == (
        f"The title of #{entry} changed since c{first.id}; undo the later change first "
        "(see `/cop history`)."
    )


def test_a_tags_change_that_changes_nothing_says_so() -> None:
    same = Change(1, 1, "tags", ["a"], ["a"], 1, "Bob", NOW)
    assert same.describe() == "tags (same)"


def _by_message(core: Core, message_id: str) -> int:
    found = core.repertoire.entries(
        Viewer.operator_including_private(), EntryFilter(message_id=message_id)
    )
    return found[0].id
