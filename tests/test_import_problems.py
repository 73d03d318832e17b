"""Imports when the export is incomplete or damaged: unknown means private, and one bad
file never stops the good ones.

Every test runs the real ``copbot import`` (click's CliRunner) on files built in
``tmp_path`` from the fixtures, then reads the SQLite file it wrote.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from adapters.cli import cli
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import Viewer

FIXTURES = Path(__file__).parent / "fixtures"
SLACK = FIXTURES / "slack_export"
DISCORD = FIXTURES / "discord"

PRIVATE_QUESTION = "1709280600.000100"  # platform-team, listed in groups.json
PUBLIC_QUESTION = "1709280100.000200"  # data-help, listed in channels.json
DM_MESSAGE = "1709280700.000100"  # D01AB, listed in dms.json: "Can you review my PR ...?"


def run_import(tmp_path: Path, *args: str) -> tuple[Result, Path]:
    db = tmp_path / "copbot.db"
    result = CliRunner().invoke(cli, ["import", *args, "--no-progress", "--db", str(db)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result, db


@contextmanager
def reading(db: Path) -> Iterator[Repertoire]:
    """The imported file, opened the way the web view reads it (it cannot change it)."""
    repertoire = Repertoire.open_read_only(db)
    try:
        yield repertoire
    finally:
        repertoire.close()


def visibility(db: Path) -> dict[str, str]:
    """message id -> visibility of its entry (questions, answers and know-how)."""
    with reading(db) as repertoire:
        listed = repertoire.entries(Viewer.operator_including_private(), limit=100_000)
    return {e.source.message_id: e.visibility for e in listed}


def slack_copy(tmp_path: Path) -> Path:
    export = tmp_path / "export"
    shutil.copytree(SLACK, export)
    return export


# --------------------------------------------------------------------------- unknown means private


@pytest.mark.parametrize("damage", ["missing", "unreadable"])
def test_a_private_channel_without_a_readable_groups_json_stays_private(
    tmp_path: Path, damage: str
) -> None:
    export = slack_copy(tmp_path)
    if damage == "missing":
        (export / "groups.json").unlink()
    else:
        (export / "groups.json").write_text('[{"id": "G01PLAT", "name": "platform-team"', "utf-8")
    result, db = run_import(tmp_path, str(export))
    got = visibility(db)
    assert got[PRIVATE_QUESTION] == "private"
    assert got[PUBLIC_QUESTION] == "public"  # channels.json was readable
    if damage == "missing":
        assert "platform-team/: not listed in a readable channels.json or groups.json " in (
            result.output
        )
        assert "(groups.json missing); read as a private channel" in result.output
    else:
        assert "groups.json: could not be read" in result.output or (
            "groups.json:1: bad JSON" in result.output
        )
        assert "the conversations it lists are read as private" in result.output
        assert "(groups.json unreadable); read as a private channel" in result.output
    assert result.exit_code == 1


@pytest.mark.parametrize("include_dms", [False, True])
def test_a_dm_folder_without_dms_json_is_a_dm_by_its_id(tmp_path: Path, include_dms: bool) -> None:
    export = slack_copy(tmp_path)
    (export / "dms.json").unlink()
    mpdm = export / "mpdm-alice--bob--chen-1"
    mpdm.mkdir()
    (mpdm / "2024-03-01.json").write_text(
        json.dumps(
            [{"type": "message", "user": "U01ALICE", "ts": "1709280800.000100",
              "text": "How do we split the on-call rota between us three?"}]
        ),
        "utf-8",
    )  # fmt: skip
    args = [str(export), *(["--include-dms"] if include_dms else [])]
    result, db = run_import(tmp_path, *args)
    got = visibility(db)
    # Neither the D… folder nor the mpdm- one is captured: DMs are read at most, and
    # even then only what someone saved on purpose is kept.
    assert DM_MESSAGE not in got and "1709280800.000100" not in got
    assert got[PUBLIC_QUESTION] == "public"
    if not include_dms:
        assert "skipped 2: direct-message conversations not read (use --include-dms)" in (
            result.output
        )
    assert "D01AB/" not in result.output  # a DM is no problem, it is a DM


def test_without_channels_json_every_folder_is_private(tmp_path: Path) -> None:
    export = slack_copy(tmp_path)
    (export / "channels.json").unlink()
    result, db = run_import(tmp_path, str(export))
    assert set(visibility(db).values()) == {"private"}
    assert "channels.json: missing; conversation folders are read as private" in result.output
    assert result.exit_code == 1


def test_a_discord_export_is_private_unless_said_public(tmp_path: Path) -> None:
    _, db = run_import(tmp_path / "a", str(DISCORD / "python-help.json"))
    assert visibility(db)["1002"] == "private"
    _, db = run_import(tmp_path / "b", str(DISCORD / "python-help.json"), "--private")
    assert visibility(db)["1002"] == "private"
    result, db = run_import(tmp_path / "c", str(DISCORD / "python-help.json"), "--public")
    assert visibility(db)["1002"] == "public"
    assert result.exit_code == 0, result.output


def test_public_is_not_enough_for_an_unknown_channel_type(tmp_path: Path) -> None:
    data = json.loads((DISCORD / "python-help.json").read_text("utf-8"))
    data["channel"]["type"] = "GuildSomethingNew"
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(data), "utf-8")
    result, db = run_import(tmp_path, str(path), "--public")
    assert visibility(db)["1002"] == "private"
    assert "channel type 'GuildSomethingNew' unknown: its entries are kept private" in (
        result.output
    )


# --------------------------------------------------------------------------- one bad file


def test_a_deeply_nested_slack_day_file_is_reported_and_the_rest_imported(
    tmp_path: Path,
) -> None:
    export = slack_copy(tmp_path)
    deep = export / "data-help" / "2024-03-02.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    result, db = run_import(tmp_path, str(export))
    assert "data-help/2024-03-02.json: nested too deeply to be chat messages; file skipped" in (
        result.output
    )
    assert PUBLIC_QUESTION in visibility(db)  # from the day before, same folder
    assert result.exit_code == 1


def test_a_member_whose_profile_is_a_string_is_named_and_the_import_goes_on(
    tmp_path: Path,
) -> None:
    export = slack_copy(tmp_path)
    users = json.loads((export / "users.json").read_text("utf-8"))
    users[1]["profile"] = "Bob, but as a string"
    (export / "users.json").write_text(json.dumps(users), "utf-8")
    result, db = run_import(tmp_path, str(export))
    assert "users.json: member #2 (U02BOB): 'profile' is not an object" in result.output
    assert PUBLIC_QUESTION in visibility(db)
    with reading(db) as repertoire:
        names = {m.user_id: m.display_name for m in repertoire.all_members()}
    assert names["U02BOB"] == "Bob Chen"  # named from what else the entry says
    assert result.exit_code == 1


def test_messages_that_are_not_an_array_are_reported(tmp_path: Path) -> None:
    data = json.loads((DISCORD / "python-help.json").read_text("utf-8"))
    data["messages"] = "nope"
    bad = tmp_path / "nope.json"
    bad.write_text(json.dumps(data), "utf-8")
    result, db = run_import(tmp_path, str(bad), str(DISCORD / "docker-thread.json"))
    assert f"{bad}: 'messages' is a string, not an array; the rest of the file skipped" in (
        result.output
    )
    assert "300" in visibility(db)  # the good file in the same run
    assert result.exit_code == 1


def test_a_discord_message_with_unreadable_fields_is_skipped_alone(tmp_path: Path) -> None:
    data = json.loads((DISCORD / "python-help.json").read_text("utf-8"))
    data["messages"][1]["author"] = "alice"  # an object in every real export
    data["messages"][2]["reactions"] = [{"emoji": {"name": "✅"}, "users": 7}]
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(data), "utf-8")
    result, db = run_import(tmp_path, str(path))
    assert f"{path}: message #2 (1002) unreadable" in result.output
    got = visibility(db)
    assert "1002" not in got and "1005" in got
    assert result.exit_code == 1


# --------------------------------------------------------------------------- copbot restores


def exported(tmp_path: Path) -> dict[str, Any]:
    """A real copbot JSON export of the Slack fixture."""
    source = tmp_path / "source"
    run_import(source, str(SLACK))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["export", "--db", str(source / "copbot.db"), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads((out / "repertoire.json").read_text("utf-8"))
    return data


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("members", "channels", "entries", "reactions")
        }


def test_a_cut_restore_keeps_nothing_and_the_good_file_is_imported(tmp_path: Path) -> None:
    text = json.dumps(exported(tmp_path), indent=1)
    cut = tmp_path / "cut.json"
    cut.write_text(text[: text.index('"reactions"') + 40], "utf-8")
    result, db = run_import(tmp_path / "run", str(cut), str(DISCORD / "python-help.json"))
    assert f"{cut}: damaged or cut short after entries #15" in result.output
    assert "nothing was restored" in result.output
    # All or nothing: not one Slack member, channel or entry of the cut file was kept.
    with sqlite3.connect(db) as conn:
        platforms = {p for (p,) in conn.execute("SELECT platform FROM members UNION "
                                                 "SELECT platform FROM channels UNION "
                                                 "SELECT platform FROM entries")}  # fmt: skip
    assert platforms == {"discord"}  # the Discord file of the same run went in
    assert result.exit_code == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 99}, "export version 99 (this copbot reads 1)"),
        ({"format": "something-else"}, "not a copbot JSON export (format 'something-else')"),
        ({"entries": "nope"}, "'entries' is a string, not an array"),
    ],
)
def test_a_restore_of_another_version_or_shape_is_refused_whole(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    data = exported(tmp_path)
    data.update(change)
    if "format" in change:  # still recognised as ours by its head, then refused
        data = {"format": change["format"], "note": "copbot-repertoire", **data}
    path = tmp_path / "restore.json"
    path.write_text(json.dumps(data), "utf-8")
    result, db = run_import(tmp_path / "run", str(path))
    assert message in result.output
    assert counts(db) == {"members": 0, "channels": 0, "entries": 0, "reactions": 0}
    assert result.exit_code == 1


def test_a_restore_with_a_wrong_type_names_the_row(tmp_path: Path) -> None:
    data = exported(tmp_path)
    data["entries"][0]["author"] = "alice"  # a key [platform, workspace, user id] in exports
    path = tmp_path / "restore.json"
    path.write_text(json.dumps(data), "utf-8")
    result, db = run_import(tmp_path / "run", str(path))
    assert f"{path}: entries #1: bad value (a member key is [platform, workspace, user id]" in (
        result.output
    )
    assert counts(db)["members"] == 0
    assert result.exit_code == 1


def test_zip_clutter_is_no_conversation(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(SLACK.rglob("*.json")):
            z.write(path, path.relative_to(SLACK).as_posix())
        z.writestr("__MACOSX/data-help/._2024-03-01.json", b"\x00\x05\x16\x07 resource fork")
    result, db = run_import(tmp_path, str(archive))
    assert "__MACOSX" not in result.output
    assert visibility(db)[PUBLIC_QUESTION] == "public"


def test_a_restore_with_missing_fields_keeps_nothing(tmp_path: Path) -> None:
    data = exported(tmp_path)
    del data["entries"][3]["kind"]
    path = tmp_path / "restore.json"
    path.write_text(json.dumps(data), "utf-8")
    result, db = run_import(tmp_path / "run", str(path))
    assert f"{path}: entries #4: missing field 'kind'; nothing was restored" in result.output
    # Members and channels come before entries in the file: they are rolled back too.
    assert counts(db) == {"members": 0, "channels": 0, "entries": 0, "reactions": 0}
    assert result.exit_code == 1
    good = tmp_path / "good.json"
    good.write_text(json.dumps(exported(tmp_path / "again")), "utf-8")
    result, db = run_import(tmp_path / "run", str(good))
    assert result.exit_code == 0, result.output
    assert counts(db)["entries"] == 15


def test_an_unforeseen_error_in_one_file_is_reported_and_the_next_file_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from adapters.importers.slack_export import SlackExport

    def broken(*_args: object) -> Any:
        raise RuntimeError("a bug nobody foresaw")
        yield  # a generator, as the real one

    monkeypatch.setattr(SlackExport, "_day", broken)
    result, db = run_import(tmp_path, str(SLACK), str(DISCORD / "python-help.json"))
    assert f"{SLACK}: could not be read further (RuntimeError: a bug nobody foresaw)" in (
        result.output
    )
    assert "Traceback" not in result.output
    assert "1002" in visibility(db)  # the Discord file after it
    assert result.exit_code == 1
