"""The set-wise import gives exactly the repertoire the one-by-one replay gives.

Each case imports the same items twice into fresh repertoires of one backend
(SQLite files, or PostgreSQL databases: ``tests/setwise_backends.py``): through
the set-wise path (``run_import``'s default into an empty repertoire) and
replayed event by event through the core (``setwise=False``). The JSON exports
must be equal (members' ``created_at`` and a delete's time aside: the wall
clock of the import), and so must what the export does not hold: the search
documents, the answer counts that ranking reads, the channels' visibility
times and the read marks. On PostgreSQL the export must also equal the one
the SQLite set-wise import gives of the same items.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.importers.discord_export import DiscordExport
from adapters.importers.slack_export import SlackExport
from bench.synth import generate
from bot.app import build_core
from bot.config import Settings, parse_settings
from bot.core import Core
from bot.events import (
    Actor,
    InboundEvent,
    IncomingMessage,
    MessageDeleted,
    MessageEdited,
    Outbound,
    ReactionChange,
    Visibility,
    Where,
)
from bot.import_replay import ImportItem, ImportSummary, run_import
from knowledge.postgres.repertoire import PostgresRepertoire
from knowledge.text import clean_text, extract_tags, fold, normalize_tag
from tests.postgres_cluster import PostgresServer
from tests.setwise_backends import BACKENDS, Cores, exported, make_cores, postgres_pair, state
from tests.sqlite_file import sqlite_of

FIXTURES = Path(__file__).parent / "fixtures"
T0 = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
PUBLIC = Where("slack", "T1", "C1", Visibility.PUBLIC, "help")
OTHER = Where("slack", "T1", "C2", Visibility.PUBLIC, "random")
SECRET = Where("slack", "T1", "G1", Visibility.PRIVATE, "secret")
DM = Where("slack", "T1", "D1", Visibility.DM, "")
ANN, BOB, CAT, DAN = (Actor("slack", u, n, "T1") for u, n in
                      (("U1", "ann"), ("U2", "bob"), ("U3", "cat"), ("U4", "dan")))  # fmt: skip
BOT = Actor("slack", "B1", "helper-bot", "T1", is_bot=True)


@pytest.fixture(scope="module")
def pg_pair(postgres_server: PostgresServer, postgres_template: str) -> Iterator[dict[str, str]]:
    """The module's two PostgreSQL databases (set-wise and replay), emptied per use."""
    yield from postgres_pair(postgres_server, postgres_template)


@pytest.fixture(params=BACKENDS)
def cores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cores]:
    yield from make_cores(
        str(request.param), tmp_path, lambda: dict(request.getfixturevalue("pg_pair"))
    )


def both_ways(
    cores: Cores,
    items: Callable[[], Iterable[ImportItem]],
    settings: Settings | None = None,
    batch_size: int = 5_000,
) -> tuple[dict[str, Any], dict[str, Any], ImportSummary]:
    """Import ``items()`` set-wise and by replay; both states and the set-wise summary."""
    fast = cores.make("setwise", settings or Settings())
    slow = cores.make("replay", settings or Settings())

    def replay_only(events: Iterable[InboundEvent]) -> list[Outbound]:
        raise AssertionError("the set-wise import replayed a batch through the core")

    fast_handle = fast.handle_batch
    fast.handle_batch = replay_only  # type: ignore[method-assign]
    summary = run_import(fast, items(), batch_size=batch_size)
    fast.handle_batch = fast_handle  # type: ignore[method-assign]
    run_import(slow, items(), batch_size=batch_size, setwise=False)
    return state(fast), state(slow), summary


def assert_same(cores: Cores, items: Callable[[], Iterable[ImportItem]], **kw: Any) -> Any:
    """Set-wise equals replay; on PostgreSQL, the export also equals SQLite's."""
    fast, slow, summary = both_ways(cores, items, **kw)
    for part in slow:
        assert fast[part] == slow[part], part
    assert slow["export"]["entries"], "a case that captures nothing compares nothing"
    if cores.backend != "sqlite":
        path = cores.tmp_path / f"sqlite-{len(cores.opened)}.db"
        on_sqlite = build_core(kw.get("settings") or Settings(), path)
        try:
            run_import(on_sqlite, items(), batch_size=kw.get("batch_size", 5_000))
            assert exported(on_sqlite) == slow["export"]
        finally:
            on_sqlite.services.repertoire.close()
    return slow, summary


def msg(
    where: Where, author: Actor, mid: str, text: str, minutes: float, thread: str | None = None,
    **kw: Any,
) -> IncomingMessage:  # fmt: skip
    return IncomingMessage(
        where, author, mid, text, T0 + timedelta(minutes=minutes), thread_id=thread,
        permalink=f"https://x/{where.channel}/{mid}", **kw,
    )  # fmt: skip


def react(where: Where, mid: str, who: Actor, emoji: str, minutes: float) -> ReactionChange:
    return ReactionChange(where, mid, replace(who, display_name=""), emoji,
                          at=T0 + timedelta(minutes=minutes))  # fmt: skip


# --------------------------------------------------------------------------- real exports


@pytest.mark.parametrize("include_dms", [False, True])
def test_the_slack_fixture_both_ways(cores: Cores, include_dms: bool) -> None:
    def items() -> Iterable[ImportItem]:
        return SlackExport(
            FIXTURES / "slack_export",
            workspace_url="https://acme.slack.com",
            include_dms=include_dms,
        )

    slow, summary = assert_same(cores, items)
    assert summary.problem_count == 0
    assert sum(n for why, n in summary.skipped.items() if "mystery_subtype" in why) == 1
    kinds = {e["kind"] for e in slow["export"]["entries"]}
    assert kinds == {"question", "answer", "knowhow"}
    assert any(e["accepted"] for e in slow["export"]["entries"])


def test_the_discord_fixtures_both_ways(cores: Cores) -> None:
    def items() -> Iterable[ImportItem]:
        for name in ("python-help.json", "docker-thread.json"):
            yield from DiscordExport(FIXTURES / "discord" / name, public=True)

    assert_same(cores, items)


def test_the_synthetic_community_both_ways(cores: Cores, tmp_path: Path) -> None:
    """Threads, unthreaded channels, ✅ by askers, votes, 📌 know-how, private channels.

    Smaller on PostgreSQL, whose replay (the reference) is the slow half of the test.
    """
    size = 2_500 if cores.backend == "sqlite" else 1_000
    generate(size, tmp_path / "synth", seed=3)
    export = tmp_path / "synth" / "export"
    slow, summary = assert_same(cores, lambda: SlackExport(export), batch_size=size // 3)
    made = summary.made
    assert made["question"] > size // 25 and made["answer"] > size // 25
    assert made["knowhow"] > size // 250
    visibilities = {e["visibility"] for e in slow["export"]["entries"]}
    assert visibilities == {"public", "private"}
    assert any(e["accepted"] for e in slow["export"]["entries"])


# --------------------------------------------------------------------------- edge cases


def test_reactions_before_messages_votes_and_saves_across_batches(cores: Cores) -> None:
    events: list[ImportItem] = [
        react(PUBLIC, "2", ANN, "white_check_mark", 5),  # the asker's ✅ before the answer
        msg(PUBLIC, ANN, "1", "how do I pin a dependency?", 0),
        msg(PUBLIC, BOB, "2", "use a lock file", 1, thread="1"),
        msg(PUBLIC, CAT, "3", "or a constraints file", 2, thread="1"),
        react(PUBLIC, "3", BOB, "white_check_mark", 6),
        react(PUBLIC, "3", CAT, "white_check_mark", 6),  # the answerer's own vote: not counted
        react(PUBLIC, "3", DAN, "white_check_mark", 6),
        react(PUBLIC, "3", ANN, "+1", 7),
        msg(PUBLIC, DAN, "4", "tip: uv lock is fast #python", 8),
        react(PUBLIC, "4", ANN, "pushpin", 9),  # not an entry yet: fetched after the batch
        react(PUBLIC, "4", BOB, "pushpin", 9),
        react(PUBLIC, "1", CAT, "pushpin", 10),  # a question saved as know-how too
        react(PUBLIC, "2", DAN, "pray", 11),  # thanks to the answer's author
        react(PUBLIC, "2", BOB, "pray", 11),  # thanking oneself counts nothing
        msg(PUBLIC, BOT, "5", "how do I use the bot?", 12),
        msg(PUBLIC, ANN, "6", "why is the build red on main?", 13),
        react(PUBLIC, "6", BOB, "link", 14),  # saves as a resource
        msg(PUBLIC, ANN, "1", "how do I pin a version? #deps", 0),  # the same message again
        react(PUBLIC, "2", DAN, "pray", 3),  # the same thanks again, said earlier: counted once
    ]
    for size in (3, 5_000):
        slow, _ = assert_same(cores, lambda: events, batch_size=size)
    entries = slow["export"]["entries"]
    assert [e["accepted"] for e in entries if e["kind"] == "answer"] == [True, False]
    assert slow["export"]["thanks"]


def test_private_channels_dms_threads_across_channels_and_renames(cores: Cores) -> None:
    events: list[ImportItem] = [
        msg(PUBLIC, ANN, "1", "what does the cache key include?", 0),
        msg(OTHER, BOB, "2", "the lock file hash", 1, thread="1"),  # another channel's thread
        msg(SECRET, CAT, "3", "how do we rotate the token?", 2),
        msg(SECRET, replace(DAN, display_name="Dan D."), "4", "with the vault cli", 3, thread="3"),
        react(SECRET, "4", CAT, "white_check_mark", 4),
        msg(DM, ANN, "5", "how are you doing today?", 5),
        react(DM, "5", BOB, "pushpin", 6),  # a DM saved on purpose keeps DM visibility
        msg(PUBLIC, DAN, "6", "why is the queue slow again?", 7),
        msg(replace(PUBLIC, visibility=Visibility.PRIVATE), ANN, "7", "made private", 8, "6"),
        react(replace(OTHER, visibility=Visibility.PUBLIC), "2", ANN, "+1", 9),
        # A stale lookup says the private channel is public: only a message may open it.
        react(replace(SECRET, visibility=Visibility.PUBLIC), "3", ANN, "+1", 20),
        msg(SECRET, ANN, "8", "how long do tokens live?", 21),
    ]
    slow, _ = assert_same(cores, lambda: events, batch_size=4)
    visibility = {e["message_id"]: e["visibility"] for e in slow["export"]["entries"]}
    assert visibility["3"] == visibility["8"] == "private" and visibility["5"] == "dm"
    assert visibility["1"] == "private"  # its channel turned private: everything said there did


def test_names_that_change_within_and_across_batches(cores: Cores) -> None:
    """A member known by several names (an export without users.json): who wins, when."""
    names = ["ann", "Ann B.", "ann", "", "Ann B.", "ann"]
    events: list[ImportItem] = []
    for i, name in enumerate(names):
        events.append(msg(PUBLIC, replace(ANN, display_name=name), f"q{i}", f"how {i}?", i * 2))
        events.append(msg(PUBLIC, replace(BOB, display_name=name), f"a{i}", "so", i * 2 + 1,
                          thread=f"q{i}"))  # fmt: skip
    for size in (2, 3, 5, 50):
        assert_same(cores, lambda: events, batch_size=size)


def test_unthreaded_channels_are_linked_the_same_way(cores: Cores) -> None:
    events: list[ImportItem] = [
        msg(PUBLIC, ANN, "1", "how do I read parquet files?", 0),
        msg(PUBLIC, BOB, "2", "pyarrow reads them", 1),  # close after: links to 1
        msg(PUBLIC, CAT, "3", "how do I write them back?", 2),
        msg(PUBLIC, DAN, "4", "<@U1> pandas too", 3, mentions=("U1",)),  # mentions the asker
        msg(PUBLIC, BOB, "5", "to_parquet", 4, reply_to="3"),  # an explicit reply
        msg(PUBLIC, DAN, "6", "later chat", 200),  # outside the window: not linked
    ]
    slow, _ = assert_same(cores, lambda: events, batch_size=2)
    threads = {e["message_id"]: e["thread_id"] for e in slow["export"]["entries"]}
    assert threads == {"1": None, "2": "1", "3": None, "4": "1", "5": "3"}


def test_channel_rules_from_the_config_both_ways(cores: Cores) -> None:
    settings = parse_settings(
        {"capture": {"accept_votes": 1, "question_starters": ["anyone"]},
         "channels": {"rules": [{"channel": "slack:C2", "capture": False}]}}
    )  # fmt: skip
    events: list[ImportItem] = [
        msg(PUBLIC, ANN, "1", "anyone used duckdb here", 0),
        msg(OTHER, ANN, "2", "how do I skip this channel?", 0),
        msg(PUBLIC, BOB, "3", "yes, daily", 1, thread="1"),
        react(PUBLIC, "3", CAT, "white_check_mark", 2),  # one vote is enough here
    ]
    slow, _ = assert_same(cores, lambda: events, settings=settings)
    assert [e["message_id"] for e in slow["export"]["entries"]] == ["1", "3"]
    assert slow["export"]["entries"][1]["accepted"]


def test_an_edit_ends_the_setwise_part_and_the_rest_is_replayed(cores: Cores) -> None:
    events: list[ImportItem] = [
        msg(PUBLIC, ANN, "1", "how do I pin a dependency?", 0),
        msg(PUBLIC, BOB, "2", "use a lock file", 1, thread="1"),
        react(PUBLIC, "2", ANN, "white_check_mark", 2),
        msg(PUBLIC, CAT, "3", "tip: pin with hashes", 3),
        react(PUBLIC, "3", DAN, "pushpin", 4),
        MessageEdited(PUBLIC, "1", "how do I pin a dependency in uv?", T0 + timedelta(minutes=5)),
        msg(PUBLIC, DAN, "4", "why does uv ignore my pin?", 6),
        MessageDeleted(PUBLIC, "2"),
        msg(PUBLIC, ANN, "5", "check the index url", 7, thread="4"),
    ]
    fast = cores.make("setwise", Settings())
    slow = cores.make("replay", Settings())
    replayed: list[int] = []
    handle_batch = fast.handle_batch

    def counting(events: Iterable[InboundEvent]) -> list[Outbound]:
        batch = list(events)
        replayed.append(len(batch))
        return handle_batch(batch)

    fast.handle_batch = counting  # type: ignore[method-assign]
    run_import(fast, events, batch_size=5)
    run_import(slow, events, batch_size=5, setwise=False)
    assert replayed == [4]  # the first batch went set-wise, with its save; the second replayed
    assert state(fast) == state(slow)
    titles = {e["message_id"]: e["title"] for e in state(fast)["export"]["entries"]}
    assert titles["1"] == "how do I pin a dependency in uv?" and "2" not in titles


def test_a_repertoire_that_holds_anything_is_imported_event_by_event(tmp_path: Path) -> None:
    core = build_core(Settings(), tmp_path / "copbot.db")
    run_import(core, [msg(PUBLIC, ANN, "1", "how do I start?", 0)])
    replayed: list[int] = []
    handle_batch = core.handle_batch

    def counting(events: Iterable[InboundEvent]) -> list[Outbound]:
        batch = list(events)
        replayed.append(len(batch))
        return handle_batch(batch)

    core.handle_batch = counting  # type: ignore[method-assign]
    run_import(core, [msg(PUBLIC, BOB, "2", "from the readme", 1, thread="1")])
    assert replayed == [1]
    answers = (
        sqlite_of(core.services.repertoire)
        .db.execute("SELECT answers FROM search_fts WHERE rowid = 1")
        .fetchone()
    )
    assert answers == ("from the readme",)


def test_live_capture_after_a_setwise_import_updates_the_documents(cores: Cores) -> None:
    core = cores.make("setwise", Settings())
    run_import(core, [msg(PUBLIC, ANN, "1", "how do I start?", 0)])
    assert gc.isenabled()  # paused for the import only
    core.handle(msg(PUBLIC, BOB, "2", "from the readme", 1, thread="1"))
    core.handle(react(PUBLIC, "2", ANN, "white_check_mark", 2))
    sql = core.services.repertoire.sql
    # The ids go on after the imported ones (on PostgreSQL: the identity was moved on).
    assert sql.rows("SELECT id, kind FROM entries ORDER BY id") == [(1, "question"), (2, "answer")]
    assert sql.one("SELECT answer_count, has_accepted FROM entries WHERE id = 1") == (1, True)
    repertoire = core.services.repertoire
    if isinstance(repertoire, PostgresRepertoire):
        found = sql.one(
            "SELECT search_document @@ to_tsquery('copbot', 'readme') FROM entries WHERE id = 1"
        )
        assert found == (True,)
    else:
        answers = sql.one("SELECT answers FROM search_fts WHERE rowid = 1")
        assert answers == ("from the readme",)


# --------------------------------------------------------------------------- fast paths


_LEADING = re.compile(r"^(\s*(<@[^>]+>|@\w+)[,:]?\s*)+")
_WORD = re.compile(r"\w")


def _question_by_the_general_rule(settings: Settings, text: str) -> bool:
    """Capture's question heuristic as written before its fast paths (the oracle)."""
    rules = settings.capture
    starters = tuple(reversed(sorted((fold(s) for s in rules.question_starters), key=len)))
    body = _LEADING.sub("", text).strip()
    if len(body) < rules.min_question_chars:
        return False
    if rules.question_mark and "?" in body.rstrip()[-3:]:
        return True
    chars = max((len(s) for s in starters), default=0) + 8
    first_line = fold(body.splitlines()[0][:chars]) if body else ""
    return any(first_line.startswith(s) and not _WORD.match(first_line, len(s)) for s in starters)


_PIECES = st.sampled_from(["how", "How", "what's", "  ", "\n", ",", ":", "?", "é", "is",
                           "does anyone", "\u2003", "#tag", "x" * 5, "\ud800", "\x07", " "])
_MENTIONS = st.lists(st.sampled_from(["<@U1>", "@ann", "<@U2|bo>", "<@", "@", " ", ", ", ":"]),
                     max_size=4)  # fmt: skip
#: Chat-like text: maybe mentions first, then words, spaces, marks and odd characters.
_CHAT = st.tuples(_MENTIONS, st.lists(_PIECES, max_size=8)).map(
    lambda parts: "".join(parts[0]) + "".join(parts[1])
)


@settings(max_examples=200, deadline=None)
@given(text=_CHAT, starters=st.lists(st.sampled_from(["how", "what", "é", "does anyone", ""])))
def test_question_heuristic_fast_paths_equal_the_general_rule(
    text: str, starters: list[str]
) -> None:
    core = _core_with_starters(tuple(starters))
    general = _question_by_the_general_rule(core.services.settings, text)
    assert core.capture.looks_like_question(text) == general


@lru_cache(maxsize=64)
def _core_with_starters(starters: tuple[str, ...]) -> Core:
    return build_core(
        parse_settings({"capture": {"question_starters": starters, "min_question_chars": 3}}),
        ":memory:",
    )


@settings(max_examples=300, deadline=None)
@given(text=_CHAT)
def test_text_fast_paths_equal_the_general_rule(text: str) -> None:
    cleaned = text.encode("utf-8", "replace").decode("utf-8")
    cleaned = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", "", cleaned).strip()
    assert clean_text(text) == cleaned
    general = tuple(
        dict.fromkeys(
            t for m in re.finditer(r"(?<![\w#])#([\w][\w\-.+]{0,48})", text)
            if (t := normalize_tag(m.group(1))) and not t.isdigit()
        )
    )  # fmt: skip
    assert extract_tags(text) == general
