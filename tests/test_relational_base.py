"""What a backend must supply to the shared relational repertoire, and that it cannot forget one."""

from __future__ import annotations

from typing import Generic, Protocol

import pytest

from knowledge.postgres.repertoire import PostgresRepertoire
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import Storage

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
    "setwise_loader",
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


def _interface_members() -> set[str]:
    """Every public name the storage interface declares, across its protocols."""
    return {
        name
        for protocol in Storage.__mro__
        if protocol not in (Protocol, Generic, object)
        for name in vars(protocol)
        if not name.startswith("_")
    }


@pytest.mark.parametrize("backend", [Repertoire, PostgresRepertoire])
def test_every_member_of_the_interface_is_the_backends_not_a_declaration(
    backend: type[RelationalRepertoire],
) -> None:
    """The relational class declares the whole interface; a backend must implement all of it.

    A protocol's declaration (text search, the digest log) is not abstract at
    run time: a backend that forgot one would answer ``None``. Each name must
    resolve to a class of the backend or of the shared code, never to a protocol.
    """
    protocols = set(Storage.__mro__)
    members = _interface_members()
    assert {"keyword_matches", "similar_candidates", "digest_log", "transaction"} <= members
    for name in sorted(members):
        owner = next(k for k in backend.__mro__ if name in vars(k))
        assert owner not in protocols, f"{backend.__name__}.{name} is only declared"


def test_the_postgres_backend_takes_nothing_from_the_sqlite_one() -> None:
    assert not issubclass(PostgresRepertoire, Repertoire)
    assert not [
        k for k in PostgresRepertoire.__mro__ if k.__module__.startswith("knowledge.sqlite")
    ]
