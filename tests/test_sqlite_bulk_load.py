"""The SQLite backend's bulk-load tuning: on for the import, back as it was after, even on error."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.sqlite.connection import IMPORT_CACHE_KB
from knowledge.store import Repertoire


def pragmas(repertoire: Repertoire) -> tuple[int, int, int]:
    one = repertoire.sql.one
    values = [one(f"PRAGMA {name}") for name in ("cache_size", "wal_autocheckpoint", "synchronous")]
    cache, checkpoint, synchronous = (int(v[0]) if v else -1 for v in values)
    return cache, checkpoint, synchronous


@pytest.mark.parametrize("durable", [True, False])
def test_bulk_load_tunes_the_file_and_puts_everything_back(tmp_path: Path, durable: bool) -> None:
    repertoire = Repertoire.open(tmp_path / "bulk.db")
    before = pragmas(repertoire)
    with pytest.raises(RuntimeError), repertoire.bulk_load(durable=durable):
        cache, checkpoint, synchronous = pragmas(repertoire)
        assert cache == -IMPORT_CACHE_KB and checkpoint == 20_000
        assert synchronous == (before[2] if durable else 0)  # 0 is OFF
        raise RuntimeError("the import failed half-way")
    assert pragmas(repertoire) == before
    repertoire.close()
