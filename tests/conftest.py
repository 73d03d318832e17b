"""Shared fixtures: a real core over a real SQLite file, and the chat driver over it.

``chat`` (``tests/chat_driver.py``) speaks to the core the way an adapter would
and returns what the core answered; tests read the repertoire back through
``chat.repertoire``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import Phase
from hypothesis import settings as hypothesis_settings

from bot.app import command_registry
from bot.config import Settings
from bot.core import Core
from bot.ports import FixedClock, Services
from knowledge.sqlite.repertoire import Repertoire
from tests.chat_driver import NOW, Chat, MakeChat, MakeCore
from tests.postgres_cluster import (  # the real PostgreSQL fixtures, shared by every test module
    mark_postgres_tests,
    pg_conn,
    pg_dsn,
    pg_empty_dsn,
    pg_fresh_dsn,
    postgres_server,
    postgres_shared,
    postgres_template,
)

__all__ = [
    "pg_conn",
    "pg_dsn",
    "pg_empty_dsn",
    "pg_fresh_dsn",
    "postgres_server",
    "postgres_shared",
    "postgres_template",
]

# No deadline anywhere: Hypothesis's default (200 ms of wall time per example) is a timing
# assertion, and on a loaded machine (two cores, several test runs) an example preempted past
# it fails as "Flaky" when its re-run is quick. Speed is measured in bench/, not here.
hypothesis_settings.register_profile("copbot", deadline=None)
# CI must be reproducible: property tests use a fixed seed there (and a random one
# on a developer's machine, where a new counterexample is welcome).
hypothesis_settings.register_profile(
    "ci", parent=hypothesis_settings.get_profile("copbot"), derandomize=True
)
# Mutation testing (tools/mutate.py) wants a kill, not the smallest counterexample: no shrinking.
hypothesis_settings.register_profile(
    "mutation",
    parent=hypothesis_settings.get_profile("copbot"),
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
if os.environ.get("COPBOT_MUTATION"):
    hypothesis_settings.load_profile("mutation")
elif os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")
else:
    hypothesis_settings.load_profile("copbot")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runslow",
        action="store_true",
        default=False,
        help="also run the long variants (tests marked `slow`)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mark_postgres_tests(items)
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="a long variant: run with --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True)
def _keep_root_logging() -> Iterator[None]:
    """``copbot`` commands set up logging on the root logger; put it back after each test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def make_core(tmp_path: Path, clock: FixedClock) -> Iterator[MakeCore]:
    """``make_core(settings=None, name="copbot.db")``: a core over a SQLite file in tmp_path."""
    opened: list[Repertoire] = []

    def factory(settings: Settings | None = None, name: str = "copbot.db") -> Core:
        repertoire = Repertoire.open(tmp_path / name)
        opened.append(repertoire)
        return Core(Services(repertoire, settings or Settings(), clock), command_registry())

    yield factory
    for repertoire in opened:
        repertoire.close()


@pytest.fixture
def core(make_core: MakeCore) -> Core:
    return make_core()


@pytest.fixture
def chat(core: Core, clock: FixedClock) -> Chat:
    return Chat(core, clock)


@pytest.fixture
def make_chat(make_core: MakeCore, clock: FixedClock) -> MakeChat:
    """A chat over a core with other settings: ``make_chat(Settings(...))``."""

    def factory(settings: Settings | None = None, name: str = "copbot.db") -> Chat:
        return Chat(make_core(settings, name), clock)

    return factory
