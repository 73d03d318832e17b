"""Contract: every listing applies the visibility rule for its viewer, answers included."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.models import ChannelRef, Entry, EntryKind
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.stats import repertoire_stats
from knowledge.storage import EntryFilter, Viewer
from tests.contract.support import (
    DM,
    OTHER_PUBLIC,
    PRIVATE,
    PUBLIC,
    SQLITE_ONLY,
    T0,
    Community,
    open_backend,
)

CHANNELS = (PUBLIC, OTHER_PUBLIC, PRIVATE, DM)
VIEWERS = (
    Viewer.public(),
    *(Viewer.in_channel(c) for c in CHANNELS),
    Viewer.operator_including_private(),
)


def test_a_private_thread_is_listed_only_in_its_own_channel(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    secret = community.ask(PRIVATE, "Salary bands for the platform team?", ana)
    reply = community.answer(secret, "See the HR sheet", ben)
    shown = community.ask(PUBLIC, "How do I rotate the Airflow keys?", ana)
    for viewer in (Viewer.public(), Viewer.in_channel(PUBLIC), Viewer.in_channel(DM)):
        assert [e.id for e in repertoire.entries(viewer)] == [shown.id]
        assert repertoire.count_entries(viewer, EntryFilter(kinds=(EntryKind.ANSWER,))) == 0
    here = {e.id for e in repertoire.entries(Viewer.in_channel(PRIVATE))}
    assert here == {secret.id, reply.id, shown.id}
    assert len(repertoire.entries(Viewer.operator_including_private())) == 3


def test_named_listings_take_the_viewer(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    secret = community.ask(PRIVATE, "Who has the prod kubeconfig?", ana, minutes=5)
    answer = community.answer(secret, "Ops has it", ben, minutes=6)
    since = T0
    assert repertoire.open_questions(Viewer.in_channel(PUBLIC), PRIVATE, since) == []
    assert repertoire.questions_asked(Viewer.public(), PRIVATE, since) == []
    assert [
        e.id for e in repertoire.questions_asked(Viewer.in_channel(PRIVATE), PRIVATE, since)
    ] == [secret.id]
    thread = secret.source.message_id
    assert repertoire.latest_answer_in_thread(Viewer.public(), PRIVATE, thread, (ben,)) is None
    found = repertoire.latest_answer_in_thread(Viewer.in_channel(PRIVATE), PRIVATE, thread, (ben,))
    assert found is not None and found.id == answer.id


def test_stats_count_only_what_the_viewer_may_see(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    question = community.ask(PUBLIC, "Parquet or Avro for events?", ana)
    community.answer(question, "Parquet for analytics", ben)
    secret = community.ask(PRIVATE, "Can we cut the Snowflake bill?", ben)
    community.answer(secret, "Auto-suspend after 60 s", ana)
    public = repertoire_stats(repertoire, None)
    assert (public.questions, public.answered, public.answers) == (1, 1, 1)
    team = repertoire_stats(repertoire, PRIVATE)
    assert (team.questions, team.answered, team.answers) == (2, 2, 2)


entry_plans = st.lists(
    st.tuples(
        st.sampled_from(CHANNELS),
        st.sampled_from([EntryKind.QUESTION, EntryKind.KNOWHOW, EntryKind.ANSWER]),
        st.integers(min_value=0, max_value=600),
    ),
    max_size=12,
)


@SQLITE_ONLY  # a repertoire per example: on SQLite files
@settings(max_examples=25, deadline=None)
@given(plan=entry_plans)
def test_every_viewer_sees_exactly_what_the_rule_allows(
    backend: str, plan: list[tuple[ChannelRef, EntryKind, int]]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        rep = open_backend(backend, Path(folder))
        try:
            community = Community(rep)
            author = community.member("U-ana")
            made: list[Entry] = []
            roots: dict[ChannelRef, Entry] = {}
            for channel, kind, minutes in plan:
                if kind == EntryKind.ANSWER and channel in roots:
                    made.append(
                        community.answer(roots[channel], "an answer", author, minutes=minutes)
                    )
                    continue
                entry = community.say(
                    EntryKind.QUESTION if kind == EntryKind.ANSWER else kind,
                    channel,
                    "words",
                    author,
                    minutes=minutes,
                )
                roots.setdefault(channel, entry)
                made.append(entry)
            for viewer in VIEWERS:
                expected = {e.id for e in made if viewer.sees(e)}
                listed = {e.id for e in rep.entries(viewer, limit=100)}
                assert listed == expected, viewer
                assert rep.count_entries(viewer) == len(expected)
        finally:
            rep.close()


def test_entries_follow_their_channel_when_it_turns_private(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    question = community.ask(PUBLIC, "Where do we keep the on-call runbook?", ana)
    community.answer(question, "In the ops wiki, under incidents", ben)
    assert len(repertoire.entries(Viewer.public())) == 2
    changed = repertoire.upsert_channel("slack", "T1", PUBLIC.channel, "help", "private")
    assert changed
    assert repertoire.entries(Viewer.public()) == []
    assert repertoire.entries(Viewer.in_channel(OTHER_PUBLIC)) == []
    assert len(repertoire.entries(Viewer.in_channel(PUBLIC))) == 2
    assert repertoire.visible_answers(question, None) == []
    [answer] = repertoire.visible_answers(question, PUBLIC)
    assert answer.visibility == "private"
    assert not repertoire.upsert_channel("slack", "T1", PUBLIC.channel, "help", "private")


def test_an_entry_by_id_is_found_only_where_it_may_be_seen(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana = community.member("U-ana")
    secret = community.ask(PRIVATE, "Budget for the offsite?", ana)
    shown = community.ask(PUBLIC, "Which Python for the new service?", ana)
    found = repertoire.entry_for(Viewer.in_channel(PRIVATE), secret.id)
    assert found is not None and found.id == secret.id
    assert repertoire.entry_for(Viewer.in_channel(PUBLIC), secret.id) is None
    assert repertoire.entry_for(Viewer.public(), secret.id) is None
    assert repertoire.entry_for(Viewer.public(), 999_999) is None  # missing: the same answer
    seen = repertoire.entry_for(Viewer.in_channel(PRIVATE), shown.id)
    assert seen is not None and seen.id == shown.id
