"""The SQLite backend's bulk-load tuning: on for the import, back as it was after, even on error."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.sqlite.connection import IMPORT_CACHE_KB
from knowledge.sqlite.repertoire import Repertoire

NAMES = ("cache_size", "wal_autocheckpoint", "synchronous", "busy_timeout")


def pragmas(repertoire: Repertoire) -> tuple[int, ...]:
    values = [repertoire.sql.one(f"PRAGMA {name}") for name in NAMES]
    return tuple(int(v[0]) if v else -1 for v in values)


@pytest.mark.parametrize("durable", [True, False])
def test_bulk_load_tunes_the_file_and_puts_everything_back(tmp_path: Path, durable: bool) -> None:
    repertoire = Repertoire.open(tmp_path / "bulk.db")
    before = pragmas(repertoire)
    assert before[1:] == (1000, 1, 5000)  # SQLite's checkpoint default; copbot's NORMAL and 5 s
    with pytest.raises(RuntimeError), repertoire.bulk_load(durable=durable, lock_wait_ms=250):
        cache, checkpoint, synchronous, busy = pragmas(repertoire)
        assert cache == -IMPORT_CACHE_KB and checkpoint == 20_000 and busy == 250
        assert synchronous == (1 if durable else 0)  # NORMAL, or OFF
        raise RuntimeError("the import failed half-way")
    assert pragmas(repertoire) == before
    repertoire.close()


def test_a_lock_wait_never_lengthens_the_busy_timeout(tmp_path: Path) -> None:
    repertoire = Repertoire.open(tmp_path / "bulk.db")
    with repertoire.bulk_load(lock_wait_ms=60_000):
        assert pragmas(repertoire)[3] == 5000
    with repertoire.bulk_load():
        assert pragmas(repertoire)[3] == 5000
    repertoire.close()
