"""Hard limits of ``copbot import``: small hostile files stay small.

Each hostile file is built in ``tmp_path`` and imported by the real ``copbot
import`` in a child process, which reports its own peak memory (``VmHWM``) and
runs under an address-space cap, so a regression fails the test instead of
swapping the machine. A good file in the same run is still
imported, and the exit code says something was refused.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from adapters.cli import cli

FIXTURES = Path(__file__).parent / "fixtures"
SLACK = FIXTURES / "slack_export"
DISCORD = FIXTURES / "discord"

#: Generous: the import of the small fixtures peaks near 90 MB on this machine.
PEAK_MB = 200

CHILD = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a runaway fails, not swaps
from adapters.cli import cli
code = 0
try:
    cli.main(args=sys.argv[1:], prog_name="copbot")
except SystemExit as exc:
    code = exc.code if isinstance(exc.code, int) else 1
except MemoryError:
    code = "MemoryError"
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a child of a
# large pytest process would report the parent's size, not its own.
with open("/proc/self/status") as status:
    hwm = next(line for line in status if line.startswith("VmHWM:"))
peak_mb = int(hwm.split()[1]) / 1024
print(json.dumps({"code": code, "peak_mb": peak_mb}))
"""


def import_in_child(tmp_path: Path, *paths: Path) -> tuple[dict[str, Any], str, Path]:
    """``copbot import PATHS`` in a child process: its result, its output and the database."""
    db = tmp_path / "copbot.db"
    args = ["import", *map(str, paths), "--no-progress", "--db", str(db)]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, timeout=300
    )
    output = done.stdout + done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result, output, db


def message_ids(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {str(m) for (m,) in conn.execute("SELECT message_id FROM entries")}


def write_zip_bomb(path: Path, name: str, mebibytes: int) -> None:
    """A ZIP whose member ``name`` is ``[`` + ``mebibytes`` MiB of spaces + ``]``.

    Deflate blocks flushed with Z_FULL_FLUSH do not depend on what came before,
    so one compressed MiB is written ``mebibytes`` times: 1 GiB packs into
    about 1 MB in half a second, a valid ZIP whose CRC matches its contents.
    """
    chunk = b" " * (1 << 20)

    def deflate(data: bytes, mode: int) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(mode)

    start, block = deflate(b"[", zlib.Z_FULL_FLUSH), deflate(chunk, zlib.Z_FULL_FLUSH)
    end = deflate(b"]", zlib.Z_FINISH)
    crc = zlib.crc32(b"[")
    for _ in range(mebibytes):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(b"]", crc)
    size, packed = mebibytes * len(chunk) + 2, len(start) + mebibytes * len(block) + len(end)
    raw = name.encode()
    fields = (20, 0, zipfile.ZIP_DEFLATED, 0, 0x21, crc, packed, size, len(raw), 0)
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + raw
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, 0) + raw
    with path.open("wb") as out:
        out.write(local + start)
        for _ in range(mebibytes):
            out.write(block)
        out.write(end)
        offset = out.tell()
        out.write(central)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central), offset, 0))


def test_a_discord_file_nested_100000_deep_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    head = '{"guild": {"id": "900"}, "channel": {"id": "201", "type": "GuildTextChat"}, '
    deep.write_text(head + '"messages": ' + "[" * 100_000 + "]" * 100_000 + "}", "utf-8")
    assert deep.stat().st_size < 210_000
    result, output, db = import_in_child(tmp_path, deep, DISCORD / "python-help.json")
    assert result["code"] == 1, output
    assert f"{deep}: nested deeper than 64 levels; refused; the rest of the file skipped" in output
    assert result["peak_mb"] < PEAK_MB, result
    assert "1002" in message_ids(db)  # the good file of the same run


def test_a_one_gib_day_file_in_a_one_mb_zip_is_refused_without_inflating(
    tmp_path: Path,
) -> None:
    archive = tmp_path / "export.zip"
    write_zip_bomb(archive, "data-help/2024-03-03.json", 1024)
    assert archive.stat().st_size < 1_200_000
    with zipfile.ZipFile(archive, "a") as z:  # the rest of a real export around it
        for path in sorted(SLACK.rglob("*.json")):
            z.write(path, path.relative_to(SLACK).as_posix())
    result, output, db = import_in_child(tmp_path, archive)
    assert result["code"] == 1, output
    assert "data-help/2024-03-03.json: expands 1,0" in output  # about 1,010 times
    assert "refused as a possible ZIP bomb, not inflated; file skipped" in output
    assert result["peak_mb"] < PEAK_MB, result
    assert "1709280100.000200" in message_ids(db)  # the other days of the same channel


def test_a_restore_nested_deep_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    deep = tmp_path / "restore.json"
    deep.write_text(
        '{"format": "copbot-repertoire", "version": 1, "members": []'
        ', "entries": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "utf-8",
    )
    result, output, db = import_in_child(tmp_path, deep)
    assert result["code"] == 1, output
    assert "nested deeper than 64 levels" in output and "nothing was restored" in output
    assert result["peak_mb"] < PEAK_MB, result
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM members").fetchone() == (0,)


def test_a_day_file_bigger_than_32_mib_is_refused_by_name(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(SLACK, export)
    big = export / "data-help" / "2024-03-03.json"
    with big.open("wb") as out:
        out.write(b"[")
        out.write(b" " * (33 << 20))
        out.write(b"]")
    db = tmp_path / "copbot.db"
    result = CliRunner().invoke(cli, ["import", str(export), "--no-progress", "--db", str(db)])
    assert "data-help/2024-03-03.json: 33.0 MiB, more than the 32.0 MiB a file may hold" in (
        result.output
    )
    assert result.exit_code == 1
    assert "1709280100.000200" in message_ids(db)


def test_users_json_nested_deep_is_reported_and_members_named_by_id(tmp_path: Path) -> None:
    export = tmp_path / "export"
    shutil.copytree(SLACK, export)
    (export / "users.json").write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    db = tmp_path / "copbot.db"
    result = CliRunner().invoke(cli, ["import", str(export), "--no-progress", "--db", str(db)])
    assert (
        "users.json: nested deeper than 64 levels; refused; members are named by their ids"
        in result.output
    )
    assert result.exit_code == 1
    with sqlite3.connect(db) as conn:
        names = {str(n) for (n,) in conn.execute("SELECT display_name FROM members")}
    assert "U01ALICE" in names


def test_one_message_holding_a_million_values_is_refused(tmp_path: Path) -> None:
    data = json.loads((DISCORD / "python-help.json").read_text("utf-8"))
    messages = data.pop("messages")[:3]
    head = json.dumps(data)[:-1] + ', "messages": ' + json.dumps(messages)[:-1]
    huge = tmp_path / "huge.json"
    with huge.open("w", encoding="utf-8") as out:
        out.write(head + ', {"id": "9", "type": "Default", "mentions": [')
        out.write(",".join(["0"] * 1_000_001))
        out.write("]}]}")
    db = tmp_path / "copbot.db"
    result = CliRunner().invoke(cli, ["import", str(huge), "--no-progress", "--db", str(db)])
    assert (
        f"{huge}: one item holds more than 1,000,000 values; refused; the rest of the file skipped"
    ) in result.output
    assert "1002" in message_ids(db)  # the messages before it
    assert result.exit_code == 1
