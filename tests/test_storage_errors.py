"""The storage interface's errors are one hierarchy, whichever backend or check raised them."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.dbfile import check_database_file
from knowledge.identity import request_link
from knowledge.postgres.connection import connect
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import RefusedChange, StorageError, StorageUnavailable
from tests.contract.support import T0


def test_a_folder_given_as_the_database_is_storage_unavailable(tmp_path: Path) -> None:
    with pytest.raises(StorageUnavailable, match="is a folder"):
        check_database_file(tmp_path)


def test_a_server_that_refuses_is_storage_unavailable_without_its_password() -> None:
    # Port 1 on this machine: nothing listens, the connection is refused at once.
    with pytest.raises(StorageUnavailable) as raised:
        connect("postgresql://copbot:s3cret-pw@127.0.0.1:1/copbot")
    assert "s3cret-pw" not in str(raised.value)
    assert isinstance(raised.value, StorageError)


def test_a_refused_link_is_a_refused_change_and_a_value_error(tmp_path: Path) -> None:
    repertoire = Repertoire.open(tmp_path / "e.db")
    ana = repertoire.upsert_member("slack", "T1", "U-ana", "Ana")
    with pytest.raises(RefusedChange) as raised:
        request_link(repertoire, ana, "slack", "U-other", T0)  # same platform: refused
    assert isinstance(raised.value, ValueError)
    repertoire.close()
