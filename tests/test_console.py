"""The terminal chat in-process: controls, threads, reactions, saves, DMs."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from adapters.console import CONTROLS, ConsoleChat
from adapters.console_transcript import Transcript
from bot.core import Core
from bot.runtime import AsyncCore
from knowledge.models import Entry, EntryKind
from knowledge.storage import EntryFilter, Viewer
from tests.chat_driver import MakeCore

EVERYTHING = Viewer.operator_including_private()


class Console:
    """A console chat over a real file; ``await say(line)`` returns what it printed."""

    def __init__(self, core: Core, path: Path) -> None:
        self.core = core
        self.async_core = AsyncCore(core)
        self.transcript = Transcript(path)
        self.out = io.StringIO()
        self.chat = ConsoleChat(self.async_core, self.transcript, self.out)

    async def say(self, line: str) -> str:
        start = self.out.tell()
        await self.chat.handle_line(line)
        return self.out.getvalue()[start:]

    async def say_id(self, line: str) -> str:
        """Say ``line`` and return the message id the console gave it."""
        printed = await self.say(line)
        match = re.search(r"\[(m\d+)\]", printed)
        assert match, printed
        return match.group(1)

    def entry(self, mid: str) -> Entry | None:
        found = self.core.repertoire.entries(EVERYTHING, EntryFilter(message_id=mid))
        return found[0] if found else None

    def entry_of(self, mid: str) -> Entry:
        """The entry made from ``mid``; the test fails when there is none."""
        found = self.entry(mid)
        assert found is not None, f"no entry was made from {mid!r}"
        return found

    def close(self) -> None:
        self.async_core.close()
        self.transcript.close()


@pytest.fixture
def console(make_core: MakeCore, tmp_path: Path) -> Iterator[Console]:
    made = Console(make_core(name="console.db"), tmp_path / "console.db")
    yield made
    made.close()


async def test_unknown_controls_print_the_controls_help(console: Console) -> None:
    printed = await console.say("/foo bar")
    assert "Unknown control '/foo'" in printed
    assert CONTROLS in printed
    assert console.core.repertoire.entries(EVERYTHING) == []


async def test_help_prints_the_controls(console: Console) -> None:
    assert CONTROLS in await console.say("/help")


async def test_quit_ends_the_session(console: Console) -> None:
    async def lines() -> AsyncIterator[str]:
        for line in ["How do I read a huge CSV file fast?", "/quit", "Why is this never read?"]:
            yield line

    await console.chat.run(lines())
    assert [e.title for e in console.core.repertoire.entries(EVERYTHING)] == [
        "How do I read a huge CSV file fast?"
    ]


async def test_ask_reply_react_marks_the_answer_accepted(console: Console) -> None:
    await console.say("/as Alice")
    question = await console.say_id("How do I read a huge CSV file fast?")
    await console.say("/as Chen")
    answer = await console.say_id(f"/reply {question} use polars scan_csv")
    await console.say("/as Alice")
    printed = await console.say(f"/react {answer} ✅")
    assert "Marked as the accepted answer" in printed
    assert console.entry_of(answer).accepted
    await console.say(f"/unreact {answer} white_check_mark")
    assert not console.entry_of(answer).accepted


async def test_cop_ask_binds_replies_to_the_posted_message(console: Console) -> None:
    await console.say("/as Sam")
    posted = await console.say_id("/cop ask how do we rotate the warehouse keys?")
    await console.say("/as Dana")
    answer = await console.say_id(f"/reply {posted} with the vault CLI")
    entry = console.entry(answer)
    assert entry is not None and entry.kind == EntryKind.ANSWER
    question = console.core.repertoire.thread_root(entry)
    assert question is not None and "rotate the warehouse keys" in question.text


async def test_save_with_kind_and_tags(console: Console) -> None:
    note = await console.say_id("We moved the nightly jobs to the new cluster.")
    printed = await console.say(f"/save {note} story #infra")
    assert "Saved" in printed
    entry = console.entry_of(note)
    assert entry.kind == EntryKind.KNOWHOW and entry.knowhow_kind == "story"
    assert "infra" in entry.tags


async def test_edit_and_delete(console: Console) -> None:
    question = await console.say_id("How do I speed up the zorblax scheduler?")
    await console.say(f"/edit {question} How do I speed up the quuxify scheduler?")
    assert "quuxify" in console.entry_of(question).title
    await console.say(f"/delete {question}")
    assert console.entry(question) is None


async def test_unknown_message_ids_are_explained(console: Console) -> None:
    for line in ("/reply m999 hello", "/react m999 ✅", "/save m999", "/thread m999"):
        assert "No message with id 'm999'" in await console.say(line)


async def test_a_private_channel_keeps_its_questions(console: Console) -> None:
    await console.say("/channel platform-team private")
    question = await console.say_id("How do we rotate the zorblax keys?")
    assert console.entry_of(question).visibility == "private"
    await console.say("/channel general")
    assert "Nothing found" in await console.say("/cop search zorblax")


async def test_dms_are_not_captured_and_stay_private_when_saved(console: Console) -> None:
    await console.say("/dm")
    note = await console.say_id("How do I remember the zorblax pool size? It is 32.")
    assert console.entry(note) is None
    await console.say("/channel general")
    # saved from elsewhere, the note still comes from the DM and keeps DM visibility
    await console.say(f"/save {note}")
    entry = console.entry(note)
    assert entry is not None and entry.visibility == "dm"
    assert "Nothing found" in await console.say("/cop search zorblax")


async def test_replying_to_a_dm_from_elsewhere_stays_in_the_dm(console: Console) -> None:
    await console.say("/dm")
    note = await console.say_id("How do I remember the zorblax pool size?")
    await console.say("/channel general")
    reply = await console.say_id(f"/reply {note} it is 32, and zorblax likes it")
    assert console.entry(reply) is None  # a DM thread is not captured
    assert "Nothing found" in await console.say("/cop search zorblax")


async def test_lines_that_are_not_valid_text_do_not_end_the_session(console: Console) -> None:
    # undecodable bytes from a pipe arrive as lone surrogates (surrogateescape)
    printed = await console.say("How do I read caf\udce9 data from a CSV file?")
    assert "data from a CSV file" in printed
    entries = console.core.repertoire.entries(EVERYTHING)
    assert len(entries) == 1 and "data from a CSV file" in entries[0].text
    assert "1 result for" in await console.say("/cop search csv")


async def test_seeding_twice_makes_nothing_twice(console: Console) -> None:
    from bot.sample import load_sample
    from knowledge.stats import repertoire_stats

    sample = load_sample()
    now = console.core.services.clock.now()
    first = await console.chat.seed(sample, now)
    before = repertoire_stats(console.core.repertoire, None)
    rows = console.core.repertoire.count_entries(EVERYTHING)
    assert first > 0 and rows > 0
    await console.chat.seed(sample, now)  # e.g. the "seeded" marker was lost
    assert repertoire_stats(console.core.repertoire, None) == before
    assert console.core.repertoire.count_entries(EVERYTHING) == rows
    expected = (
        len(sample.raw["threads"])
        + sum(len(t.get("replies", ())) for t in sample.raw["threads"])
        + len(sample.raw["knowhow"])
    )
    assert rows == expected  # every sample thread, reply and know-how is kept, once


async def test_match_marks_are_bold_on_a_colour_terminal_and_plain_words_otherwise(
    make_core: MakeCore, tmp_path: Path
) -> None:
    core = make_core(name="marks.db")
    outputs: dict[bool, str] = {}
    for color in (True, False):
        async_core = AsyncCore(core)
        transcript = Transcript(tmp_path / "marks.db")
        out = io.StringIO()
        chat = ConsoleChat(async_core, transcript, out, color=color)
        try:
            if color:
                await chat.handle_line("How do I speed up imports? The zorblax loader is slow.")
            await chat.handle_line("/cop search zorblax")
        finally:
            async_core.close()
            transcript.close()
        outputs[color] = out.getvalue().split("result for")[-1]
    assert "\x1b[1mzorblax\x1b[0m" in outputs[True]  # rich's bold, around the match only
    assert "zorblax" in outputs[False]
    assert "**" not in outputs[False] and "\x1b[" not in outputs[False]


def test_forgetting_in_the_transcript_overwrites_the_deleted_rows(tmp_path: Path) -> None:
    """Even where SQLite is built to leave deleted rows in free pages (a build option):
    the transcript beside a server's repertoire is not vacuumed by the repertoire's forget."""
    path = tmp_path / "transcript.db"
    transcript = Transcript(path)
    try:
        transcript.db.execute("PRAGMA secure_delete = OFF")
        transcript.remember_place("member", "U-zoe", "Zoe Quill")
        for n in range(3):
            transcript.write("C-general", "U-zoe", f"the zebrafish keys, take {n}", None)
        transcript.write("C-general", "U-ann", "an unrelated reply", None)
        transcript.db.conn.commit()
        transcript.forget("U-zoe", "Zoe Quill", [])
    finally:
        transcript.close()
    left = path.read_bytes().lower()
    assert b"zebrafish" not in left and b"zoe quill" not in left
    assert b"an unrelated reply" in left
