"""Contract, end to end: the bot answers the same on SQLite and on PostgreSQL.

The sample community is played through two cores, one per backend, assembled
as the running bot is (suggestions at ask time included). Then members ask the
same things of each: ``/cop search``, ``/cop similar``, ``/cop who``, and new
questions that the suggester answers. Every reply must say the same and list
the same entries, with the same snippets and answers, in every place (a
public channel, a private one, a DM). ``/cop similar`` lists its candidates
with their confidence: those the bot would act on must be the same, in the
same order, with about the same confidence (the backends' tokenizers differ
a little, so a candidate right at the threshold may fall either side).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app import assemble_core
from bot.config import Settings
from bot.core import Core
from bot.events import (
    Actor,
    CommandInvocation,
    IncomingMessage,
    Outbound,
    Reply,
    Visibility,
    Where,
)
from bot.ports import FixedClock, Services
from bot.sample import load_sample, sample_events
from knowledge.confidence import QUIET_THRESHOLD
from knowledge.postgres.repertoire import PostgresRepertoire
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.sqlite.repertoire import Repertoire
from tests.postgres_cluster import PostgresServer

pytestmark = pytest.mark.postgres

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HELP = Where("console", "local", "C01HELP", Visibility.PUBLIC, "data-help")
TIPS = Where("console", "local", "C02TIPS", Visibility.PUBLIC, "tips-and-tricks")
PLATFORM = Where("console", "local", "G03PLATFORM", Visibility.PRIVATE, "platform-team")
DM = Where("console", "local", "D09SAM", Visibility.DM, "")
PLACES = {"help": HELP, "tips": TIPS, "platform": PLATFORM, "dm": DM}
SAM = Actor("console", "U07SAM", "Sam Patel", "local")


@dataclass
class Cores:
    sqlite: Core
    postgres: Core
    count: int = 0

    def event_id(self) -> str:
        self.count += 1
        return f"parity-{self.count}"


def _played(repertoire: RelationalRepertoire) -> Core:
    core = assemble_core(Services(repertoire, Settings(), FixedClock(NOW)))
    for event in sample_events(load_sample(), NOW - timedelta(days=1)):
        core.handle(event)
    return core


@pytest.fixture(scope="module")
def cores(
    tmp_path_factory: pytest.TempPathFactory,
    postgres_server: PostgresServer,
    postgres_template: str,
) -> Iterator[Cores]:
    lite = Repertoire.open(tmp_path_factory.mktemp("commands") / "sample.db")
    name = postgres_server.create_database(template=postgres_template)
    pg = PostgresRepertoire.connect(postgres_server.dsn(name))
    try:
        yield Cores(_played(lite), _played(pg))
    finally:
        lite.close()
        pg.close()
        postgres_server.drop_database(name)


def shown(replies: list[Any]) -> list[tuple[Any, ...]]:
    """What a member sees of the replies (entry ids and scores aside: each backend has its own)."""
    out: list[tuple[Any, ...]] = []
    for reply in replies:
        if not isinstance(reply, Reply):
            continue
        items = tuple(
            (i.kind, i.title, i.snippet, i.author, i.channel_name, i.answered) for i in reply.items
        ) + tuple((i.answer_snippet, i.accepted, i.answer_author, i.tags) for i in reply.items)
        out.append((reply.where.channel, reply.text, reply.ephemeral, reply.thread_id, items))
    return out


COMMANDS = [
    ("help", "search dbt"),
    ("help", "search dbt incremental"),
    ("help", "search airflow"),
    ("help", "search csv"),
    ("help", "search tag:dbt"),
    ("help", "search from:bob"),
    ("help", "search kind:knowhow"),
    ("help", "search is:unanswered"),
    ("help", "search kafka consumer lag"),
    ("help", "search terraform"),
    ("platform", "search terraform"),
    ("platform", "search airflow"),
    ("dm", "search airflow"),
    ("tips", "search pandas"),
    ("help", "who airflow"),
    ("help", "who dbt"),
    ("platform", "who terraform"),
]


def _run(cores: Cores, place: str, text: str) -> tuple[list[Outbound], list[Outbound]]:
    event_id = cores.event_id()
    command = CommandInvocation(PLACES[place], SAM, text, NOW, event_id=event_id)
    return cores.sqlite.handle(command), cores.postgres.handle(command)


@pytest.mark.parametrize(("place", "text"), COMMANDS, ids=[f"{p}:{t}" for p, t in COMMANDS])
def test_commands_reply_the_same_on_both_backends(cores: Cores, place: str, text: str) -> None:
    lite, pg = _run(cores, place, text)
    assert shown(lite)  # every command answers something
    assert shown(pg) == shown(lite)


SIMILAR = [
    ("help", "similar how do I read a big CSV file?"),
    ("help", "similar my dbt incremental model rebuilds the whole table"),
    ("platform", "similar my dbt incremental model rebuilds the whole table"),
    ("help", "similar airflow task stuck in queued"),
    ("tips", "similar kafka consumer lag keeps growing"),
    ("dm", "similar rotate the snowflake key"),
]
#: Candidates this close to the quiet threshold may fall on either side of it.
NEAR_THRESHOLD = 0.03


@pytest.mark.parametrize(("place", "text"), SIMILAR, ids=[f"{p}:{t}" for p, t in SIMILAR])
def test_similar_lists_the_same_candidates_on_both_backends(
    cores: Cores, place: str, text: str
) -> None:
    lite, pg = _run(cores, place, text)
    [lite_reply] = [r for r in lite if isinstance(r, Reply)]
    [pg_reply] = [r for r in pg if isinstance(r, Reply)]

    def worth_saying(reply: Reply) -> list[tuple[str, str]]:
        bar = QUIET_THRESHOLD + NEAR_THRESHOLD
        return [(i.title, i.answer_snippet) for i in reply.items if i.score >= bar]

    assert worth_saying(pg_reply) == worth_saying(lite_reply)
    assert lite_reply.items[0].title == pg_reply.items[0].title
    by_title = {i.title: i.score for i in lite_reply.items}
    for item in pg_reply.items:
        if item.title in by_title:
            assert item.score == pytest.approx(by_title[item.title], abs=0.05)


QUESTIONS = [
    ("help", "My dbt incremental model keeps rebuilding the whole table every run, am I wrong?"),
    ("help", "Airflow tasks stay queued forever after the upgrade, any idea?"),
    ("help", "How do I read a huge CSV with pandas without running out of memory?"),
    ("platform", "Who can rotate the terraform state bucket keys?"),
    ("help", "What is the best pizza topping for a team lunch?"),
]


@pytest.mark.parametrize(("place", "text"), QUESTIONS, ids=[t[:40] for _, t in QUESTIONS])
def test_a_new_question_gets_the_same_suggestions_on_both_backends(
    cores: Cores, place: str, text: str
) -> None:
    message_id = cores.event_id()

    def run(core: Core) -> list[tuple[Any, ...]]:
        event = IncomingMessage(PLACES[place], SAM, message_id, text, NOW, event_id=message_id)
        return shown(core.handle(event))

    assert run(cores.postgres) == run(cores.sqlite)
