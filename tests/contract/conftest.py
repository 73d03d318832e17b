"""Fixtures of the storage contract: one ``repertoire`` per backend, and a community on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.relational.repertoire import RelationalRepertoire
from tests.contract.support import BACKENDS, Community, open_backend


@pytest.fixture(params=BACKENDS, scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    """The backend's name; tests that open several repertoires (properties) take this."""
    return str(request.param)


def _opened(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[RelationalRepertoire]:
    dsn = str(request.getfixturevalue("pg_dsn")) if backend == "postgres" else ""
    rep = open_backend(backend, tmp_path, dsn)
    try:
        yield rep
    finally:
        rep.close()


@pytest.fixture
def repertoire(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[RelationalRepertoire]:
    yield from _opened(backend, tmp_path, request)


@pytest.fixture
def other_process(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[RelationalRepertoire]:
    """A second repertoire on the same database, as another process would open it."""
    yield from _opened(backend, tmp_path, request)


@pytest.fixture
def community(repertoire: RelationalRepertoire) -> Community:
    return Community(repertoire)
