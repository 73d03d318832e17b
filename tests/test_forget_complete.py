"""``copbot forget``: nothing of the member is left, down to the bytes of the file.

A member who did everything a member does (asked, answered, edited, was
accepted, thanked and was thanked, curated, saved know-how, linked an
identity, gave feedback on a suggestion) in the terminal chat, whose
transcript lives in the same SQLite file. After ``copbot forget`` through the
real CLI, neither their name nor a word only they wrote is anywhere in the
database file or its WAL.
"""

from __future__ import annotations

import io
import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from adapters.cli import cli
from adapters.console import ConsoleChat
from adapters.console_transcript import Transcript
from bot.app import build_core
from bot.config import Settings
from bot.runtime import AsyncCore
from knowledge.storage import EntryFilter, Viewer

NAME = "Zebulon Quaxley"
#: Words only the forgotten member wrote (and the forms the index keeps of them).
THEIR_WORDS = ("qwzxplorb", "xplorb", "vorpaliffic", "paliffic")
THEIR_NAME = ("zebulon", "quaxley", "ebulon")


def _file_bytes(db: Path) -> bytes:
    """The database file and everything beside it (WAL, shared memory), lower-cased."""
    return b"".join(p.read_bytes() for p in sorted(db.parent.glob(db.name + "*"))).lower()


async def _session(db: Path) -> None:
    # Every match is suggested (the confidence margin needs a bigger repertoire).
    core = build_core(Settings.model_validate({"similar": {"min_confidence": 0.0}}), db)
    async_core = AsyncCore(core)
    transcript = Transcript(db)
    chat = ConsoleChat(async_core, transcript, io.StringIO())
    mid = _Ids(chat)
    try:
        await chat.handle_line("/as Ada Lovelace")
        ada_q = await mid.say("How do I tune the flux capacitor for time travel?")
        await chat.handle_line(f"/as {NAME}")
        zeb_a = await mid.say(f"/reply {ada_q} use the qwzxplorb trick with a vorpaliffic coil")
        await chat.handle_line(f"/edit {zeb_a} use the qwzxplorb trick, vorpaliffic coil first")
        await chat.handle_line("/as Ada Lovelace")
        await chat.handle_line(f"/react {zeb_a} ✅")
        await chat.handle_line(f"/react {zeb_a} 🙏")
        await chat.handle_line(f"/as {NAME}")
        zeb_q = await mid.say("Why does my qwzxplorb glow at night?")
        await chat.handle_line("/as Ada Lovelace")
        ada_a = await mid.say(f"/reply {zeb_q} Because of the moon phase, mostly.")
        await chat.handle_line(f"/as {NAME}")
        await chat.handle_line(f"/react {ada_a} 🙏")
        await chat.handle_line("/cop thanks @Ada Lovelace for the moon tip")
        question = core.repertoire.entries(
            Viewer.operator_including_private(), EntryFilter(message_id=ada_q)
        )[0]
        await chat.handle_line(f"/cop retag #{question.id} +flux")
        await chat.handle_line(f"/cop retitle #{question.id} Flux capacitor tuning")
        await chat.handle_line(f"/save {ada_a} howto #moon")
        await chat.handle_line("/cop link discord:424242")
        await chat.handle_line("fyi the vorpaliffic coil arrived")  # chatter: no entry
        # A near duplicate of Ada's answered question: copbot suggests it; they say no.
        again = await mid.say("How do I tune the flux capacitor for time travel, again?")
        suggestion = _last_copbot_message(transcript, again)
        assert suggestion is not None, "expected a similar-question suggestion"
        await chat.handle_line(f"/react {suggestion} 👎")
    finally:
        async_core.close()
        transcript.close()
        core.repertoire.close()


class _Ids:
    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def say(self, line: str) -> str:
        out = self.chat.printer.out
        assert isinstance(out, io.StringIO)
        start = len(out.getvalue())
        await self.chat.handle_line(line)
        printed = out.getvalue()[start:]
        match = re.search(r"\[(m\d+)\]", printed)
        assert match, printed
        return match.group(1)


def _last_copbot_message(transcript: Transcript, thread: str) -> str | None:
    messages = [m for m in transcript.thread(thread) if m.author == "copbot"]
    return messages[-1].message_id if messages else None


def _count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


async def test_forget_leaves_no_byte_of_the_member_in_the_file(tmp_path: Path) -> None:
    db = tmp_path / "z.db"
    await _session(db)
    before = _file_bytes(db)
    for word in (*THEIR_NAME, *THEIR_WORDS[:1]):
        assert word.encode() in before  # the check below can see what it looks for
    assert _count(db, "SELECT count(*) FROM thanks") == 3
    assert _count(db, "SELECT count(*) FROM similar_feedback") >= 1
    assert _count(db, "SELECT count(*) FROM identity_links") == 1

    result = CliRunner().invoke(cli, ["forget", NAME, "--yes", "--db", str(db)])

    assert result.exit_code == 0, result.output
    after = _file_bytes(db)
    for word in (*THEIR_NAME, *THEIR_WORDS):
        assert word.encode() not in after, f"{word!r} is still in the file"
    # What others said stays, and the history still adds up.
    assert _count(db, "SELECT count(*) FROM entries WHERE text LIKE '%moon phase%'") >= 1
    assert _count(db, "SELECT count(*) FROM thanks") == 0
    assert _count(db, "SELECT count(*) FROM identity_links") == 0
    assert _count(db, "SELECT count(*) FROM similar_feedback") == 0
    assert _count(db, "SELECT count(*) FROM curation_changes") == 2
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")


async def test_forget_also_clears_what_an_older_copbot_left_in_free_space(tmp_path: Path) -> None:
    """Pages freed without ``secure_delete`` (an older copbot deleting a long paste) go too.

    Their bytes sit in free pages no later write needs to touch: only
    rewriting the file (``VACUUM``) clears them.
    """
    db = tmp_path / "old.db"
    await _session(db)
    with sqlite3.connect(db) as conn:  # as an older copbot did, without secure delete
        conn.execute("PRAGMA secure_delete = OFF")
        conn.execute(
            "INSERT INTO console_messages VALUES ('m999', 'C-general', 'U-zebulon-quaxley', ?, "
            "'2026-01-01T00:00:00+00:00', NULL, 999)",
            ["a long paste about qwzxplorb tuning " * 500],
        )
        conn.execute("DELETE FROM console_messages WHERE message_id = 'm999'")

    result = CliRunner().invoke(cli, ["forget", NAME, "--yes", "--db", str(db)])

    assert result.exit_code == 0, result.output
    after = _file_bytes(db)
    for word in (*THEIR_NAME, *THEIR_WORDS):
        assert word.encode() not in after, f"{word!r} is still in the file"


async def test_forget_says_so_when_another_process_keeps_the_file_from_being_scrubbed(
    tmp_path: Path,
) -> None:
    db = tmp_path / "busy.db"
    await _session(db)
    reader = sqlite3.connect(db)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM entries").fetchone()  # a read that stays open
        result = CliRunner().invoke(cli, ["forget", NAME, "--yes", "--db", str(db)])
    finally:
        reader.close()
    assert result.exit_code == 1
    assert "another process has the database open" in result.output
    assert _count(db, f"SELECT count(*) FROM members WHERE display_name = '{NAME}'") == 0
    # Run again once it is closed: the scrub is finished, though the member is gone.
    again = CliRunner().invoke(cli, ["forget", NAME, "--yes", "--db", str(db)])
    assert "Finished removing" in again.output and "No member called" in again.output
    after = _file_bytes(db)
    for word in (*THEIR_NAME, *THEIR_WORDS):
        assert word.encode() not in after, f"{word!r} is still in the file"
    assert _count(db, "SELECT count(*) FROM meta WHERE key = 'forget_scrub_pending'") == 0
