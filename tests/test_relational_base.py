"""What a backend must supply to the shared relational repertoire, and that it cannot forget one."""

from __future__ import annotations

import pytest

from knowledge.postgres.repertoire import PostgresRepertoire
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.sqlite.repertoire import Repertoire

#: The connection, its transactions and the search index: what differs per database.
BACKEND_HOOKS = {
    "sql",
    "transaction",
    "group",
    "reading",
    "bulk_load",
    "close",
    "reindex",
    "reindex_thread_of",
    "answer_added",
    "reindex_linking_channel",
    "drop_search_document",
    "deferred_reindex",
    "flush_reindex",
    # Whole-repertoire work: copying, the scrub after a forget, a planner hint.
    "copy_rows_in",
    "ids_copied",
    "unindexed",
    "forget_cached_terms",
    "compact_deleted",
    "flush_deleted",
    # Several processes on one database: the writes about one message in turn.
    "lock_message",
}


def test_the_shared_part_leaves_exactly_the_backend_hooks_open() -> None:
    assert set(RelationalRepertoire.__abstractmethods__) == BACKEND_HOOKS


def test_a_backend_missing_a_hook_cannot_be_made() -> None:
    class HalfBackend(RelationalRepertoire):
        def close(self) -> None:
            pass

    with pytest.raises(TypeError, match="abstract") as refused:
        HalfBackend()  # type: ignore[abstract]
    message = str(refused.value)
    assert "flush_reindex" in message and "close" not in message  # it names what is missing


def test_both_backends_supply_every_hook() -> None:
    assert not Repertoire.__abstractmethods__
    assert not PostgresRepertoire.__abstractmethods__
