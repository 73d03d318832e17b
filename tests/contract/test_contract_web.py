"""Contract: the public web shows the same, and only what it may, on every backend.

The public web is a viewer (:meth:`Viewer.public_web`): public entries of the
published channels, by members who did not opt out; deleted messages and
forgotten members leave nothing. Every list and page the web view serves is read
here through the storage interface on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

from knowledge.forget import forget, plan_forget
from knowledge.models import EntryKind, Viewer
from knowledge.published import knowhow_page, page_entry, published_channels, question_thread
from knowledge.published_archive import channel_span, period_digest
from knowledge.published_lists import (
    new_knowhow,
    open_questions,
    published_tags,
    recent_answered,
    recent_topics,
    topic_page,
)
from knowledge.published_members import member_page
from knowledge.published_sitemap import sitemap_count, sitemap_entries
from knowledge.sqlite.repertoire import Repertoire
from knowledge.web_consent import set_web_optout
from tests.contract.support import DM, OTHER_PUBLIC, PRIVATE, PUBLIC, T0, Community
from tests.contract.web_community import NOW, build, everything_shown, web_of


def test_only_public_entries_of_published_channels_by_members_who_stay_reach_the_web(
    repertoire: Repertoire, community: Community
) -> None:
    built = build(community)
    web = web_of(repertoire)
    assert web.published == frozenset({PUBLIC})  # the private channel and the DM were listed
    shown = everything_shown(repertoire, web, list(built.members.values()))
    for word in built.secrets:
        assert word not in shown, word
    assert "chunksize" in shown and "kcat" in shown  # and the published ones are there


def test_the_lists_hold_exactly_the_published_entries(
    repertoire: Repertoire, community: Community
) -> None:
    built = build(community)
    said, web = built.said, web_of(repertoire)
    answered = recent_answered(repertoire, web)
    assert [(s.entry.id, s.answers, s.accepted) for s in answered] == [(said["q1"].id, 2, True)]
    assert [s.entry.id for s in open_questions(repertoire, web)] == [said["q2"].id]
    assert [s.entry.id for s in new_knowhow(repertoire, web)] == [said["k1"].id]
    assert {(t.tag, t.count) for t in recent_topics(repertoire, web)} == {
        ("pandas", 1),
        ("airflow", 1),
        ("kafka", 1),
    }
    assert published_tags(repertoire, web) == ["airflow", "kafka", "pandas"]
    assert [c.name for c in published_channels(repertoire, web)] == ["help"]
    assert sitemap_count(repertoire, web) == 3
    assert [s.entry.id for s in sitemap_entries(repertoire, web, 0)] == sorted(
        said[k].id for k in ("q1", "q2", "k1")
    )


def test_a_topic_page_lists_the_published_entries_of_its_tag(
    repertoire: Repertoire, community: Community
) -> None:
    built = build(community)
    web = web_of(repertoire)
    page = topic_page(repertoire, web, "pandas", 0, 10)
    assert [s.entry.id for s in page.entries] == [built.said["q1"].id]  # not u1's
    assert (page.has_next, page.total) == (False, 1)
    assert topic_page(repertoire, web, "kafka", 0, 10).entries[0].entry.id == built.said["k1"].id
    for hidden in ("yeti", "secrets", "narwhal", "nothing-tagged"):
        assert topic_page(repertoire, web, hidden, 0, 10).entries == ()


def test_a_question_page_shows_its_published_answers_accepted_first(
    repertoire: Repertoire, community: Community
) -> None:
    built = build(community)
    said, web = built.said, web_of(repertoire)
    thread = question_thread(repertoire, web, said["q1"].id)
    assert thread is not None
    assert [a.id for a in thread.answers] == [said["q1a"].id, said["q1b"].id]  # not erin's
    assert thread.accepted is not None and thread.accepted.id == said["q1a"].id
    assert thread.last_modified == said["q1b"].created_at
    assert question_thread(repertoire, web, said["k1"].id) is None  # know-how has its own page
    for key in ("u1", "p1", "e1", "q1a"):
        assert question_thread(repertoire, web, said[key].id) is None, key
        assert page_entry(repertoire, web, said[key].id) is None, key
    assert question_thread(repertoire, web, said["x1"].id) is None  # deleted in chat
    assert question_thread(repertoire, web, 999_999) is None


def test_a_knowhow_page_and_its_expiry(repertoire: Repertoire, community: Community) -> None:
    built = build(community)
    said, web = built.said, web_of(repertoire)
    page = knowhow_page(repertoire, web, said["k1"].id, NOW)
    assert page is not None
    assert (page.entry.id, page.valid_until, page.outdated) == (said["k1"].id, None, False)
    assert knowhow_page(repertoire, web, said["d1"].id, NOW) is None  # the DM's
    assert knowhow_page(repertoire, web, said["q1"].id, NOW) is None  # a question


def test_member_pages_count_published_contributions_only(
    repertoire: Repertoire, community: Community
) -> None:
    built = build(community)
    members, said, web = built.members, built.said, web_of(repertoire)
    ana = member_page(repertoire, web, members["ana"])
    assert ana is not None
    # ana asked q1 (published), answered u1 (unpublished channel) and asked p1 (private).
    assert (ana.questions, ana.answers, ana.knowhow) == (1, 0, 0)
    assert [e.id for e in ana.asked] == [said["q1"].id]
    ben = member_page(repertoire, web, members["ben"])
    assert ben is not None
    assert (ben.questions, ben.answers, ben.accepted) == (1, 1, 1)
    assert [(c.entry.id, c.page.id) for c in ben.contributions] == [(said["q1a"].id, said["q1"].id)]
    cy = member_page(repertoire, web, members["cy"])
    assert cy is not None and (cy.answers, cy.knowhow) == (1, 1)
    assert {t.tag for t in cy.topics} == {"pandas", "kafka"}  # not p1's
    assert member_page(repertoire, web, members["erin"]) is None  # opted out
    assert member_page(repertoire, web, 999_999) is None


def test_the_digest_archive_of_a_published_channel(
    repertoire: Repertoire, community: Community
) -> None:
    built = build(community)
    said, web = built.said, web_of(repertoire)
    assert channel_span(repertoire, web, PUBLIC) == (said["q1"].created_at, said["k1"].created_at)
    for channel in (OTHER_PUBLIC, PRIVATE, DM):
        assert channel_span(repertoire, web, channel) is None
        assert period_digest(repertoire, web, channel, T0, NOW) is None
    digest = period_digest(repertoire, web, PUBLIC, T0, NOW)
    assert digest is not None
    assert [e.id for e in digest.knowhow] == [said["k1"].id]
    assert [(a.question.id, a.answer.id) for a in digest.answered] == [
        (said["q1"].id, said["q1a"].id)
    ]
    assert [e.id for e in digest.still_open] == [said["q2"].id]
    assert (digest.activity.asked, digest.activity.answers, digest.activity.answered) == (2, 2, 1)
    assert {h.member.display_name for h in digest.helpers} == {"Ben", "Cy"}
    week_before = period_digest(repertoire, web, PUBLIC, T0 - timedelta(days=7), T0)
    assert week_before is not None and week_before.is_empty


def test_a_channel_turning_private_leaves_the_web_at_once(
    repertoire: Repertoire, community: Community
) -> None:
    built = build(community)
    stale = web_of(repertoire)  # a viewer computed before the change
    repertoire.upsert_channel(PUBLIC.platform, PUBLIC.workspace, PUBLIC.channel, "help", "private")
    for web in (stale, web_of(repertoire)):
        shown = everything_shown(repertoire, web, list(built.members.values()))
        for word in ("pandas", "chunksize", "kcat", "airflow"):
            assert word not in shown, word
    assert web_of(repertoire).published == frozenset()


def test_opting_out_and_back_in_takes_effect_on_the_next_read(
    repertoire: Repertoire, community: Community
) -> None:
    built = build(community)
    members, said = built.members, built.said
    set_web_optout(repertoire, members["cy"], True, NOW)
    web = web_of(repertoire)
    assert new_knowhow(repertoire, web) == ()
    thread = question_thread(repertoire, web, said["q1"].id)
    assert thread is not None and [a.id for a in thread.answers] == [said["q1a"].id]
    set_web_optout(repertoire, members["cy"], False, NOW)
    set_web_optout(repertoire, members["erin"], False, NOW)
    web = web_of(repertoire)
    assert [s.entry.id for s in new_knowhow(repertoire, web)] == [said["k1"].id]
    assert page_entry(repertoire, web, said["e1"].id) is not None


def test_no_channel_published_shows_nothing(repertoire: Repertoire, community: Community) -> None:
    built = build(community)
    nothing = Viewer.public_web(())
    assert everything_shown(repertoire, nothing, list(built.members.values())).count("Entry(") == 0
    assert recent_answered(repertoire, nothing) == ()
    assert sitemap_count(repertoire, nothing) == 0


def test_the_rule_in_the_query_is_the_rule_in_python(
    repertoire: Repertoire, community: Community
) -> None:
    """The backend's SQL (``entries``) and :meth:`Viewer.sees` agree on every entry."""
    build(community)
    web = web_of(repertoire)
    every = repertoire.entries(Viewer.operator_including_private(), order="id", limit=1000)
    listed = repertoire.entries(web, order="id", limit=1000)
    assert [e.id for e in listed] == [e.id for e in every if web.sees(e)]
    assert {e.kind for e in listed} == {EntryKind.QUESTION, EntryKind.ANSWER, EntryKind.KNOWHOW}


def test_a_forgotten_member_leaves_nothing_on_the_web(
    repertoire: Repertoire, community: Community
) -> None:
    built = build(community)
    members, said = built.members, built.said
    cy = repertoire.get_member(members["cy"])
    assert cy is not None
    with repertoire.transaction():
        forget(repertoire, plan_forget(repertoire, cy), NOW)
    web = web_of(repertoire)
    shown = everything_shown(repertoire, web, list(members.values()))
    for word in ("Polars", "kcat", "Kafka", "Cy"):
        assert word not in shown, word
    assert member_page(repertoire, web, members["cy"]) is None
    assert knowhow_page(repertoire, web, said["k1"].id, NOW) is None
    thread = question_thread(repertoire, web, said["q1"].id)
    assert thread is not None and [a.id for a in thread.answers] == [said["q1a"].id]
    assert published_tags(repertoire, web) == ["airflow", "pandas"]
