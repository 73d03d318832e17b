"""Contract: due follow-ups, feedback, curation, thanks, search and similar questions.

The claim log itself runs on every backend in ``test_contract_sql.py``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from knowledge import curation, feedback
from knowledge.query import parse_query
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.search import search
from knowledge.similar import DEFAULT_CONFIG, find_similar, rank_similar
from knowledge.storage import RefusedChange, Viewer
from knowledge.thanks import record_thanks, thanks_received
from tests.contract.support import DM, PRIVATE, PUBLIC, T0, Community

WEEK = timedelta(days=7)


def test_due_follow_ups_are_unanswered_in_the_window_never_dms_and_only_once(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    edge = community.ask(PUBLIC, "Is the window inclusive?", ana, minutes=0)
    answered = community.ask(PUBLIC, "Answered already?", ana, minutes=1)
    community.answer(answered, "Yes", ben, minutes=2)
    community.ask(PUBLIC, "Too recent", ana, minutes=30)
    community.ask(DM, "A DM question?", ana, minutes=1)

    def due() -> list[int]:
        entries = repertoire.due_follow_ups(
            "slack", channel_name="HELP", asked_from=T0, asked_until=T0 + timedelta(minutes=10)
        )
        return [e.id for e in entries]

    assert due() == [edge.id]
    by_id = repertoire.due_follow_ups(
        "slack", channel_id=PUBLIC.channel, asked_from=T0, asked_until=T0
    )
    assert [e.id for e in by_id] == [edge.id]  # both ends of the window are in
    assert repertoire.digest_log.claim_follow_up(edge.id, "slack:#help", T0)
    assert not repertoire.digest_log.claim_follow_up(edge.id, "slack:#help", T0)
    assert due() == []
    repertoire.digest_log.mark_follow_up(edge.id, "failed", T0)
    assert due() == [edge.id]  # a failed follow-up may be tried again
    assert repertoire.digest_log.followed_up() == set()


def test_feedback_verdicts_and_a_solved_link_that_lends_its_answer(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    old = community.ask(PUBLIC, "Airflow task stuck in queued state", ben)
    community.answer(old, "Raise the pool slots of the celery executor", ana)
    new = community.ask(PUBLIC, "My task waits queued forever", ana, minutes=60)
    suggestion = feedback.record_suggestion(repertoire, new.id, new.source, [(old.id, 0.8)], T0)
    stored = feedback.get_suggestion(repertoire, suggestion)
    assert stored is not None
    assert feedback.suggested_before(repertoire, new.id) == {old.id}
    feedback.record_feedback(repertoire, new.id, old.id, "U-ana", feedback.NOT_RELATED, T0)
    assert feedback.not_related_ids(repertoire, new.id) == {old.id}
    feedback.record_feedback(repertoire, new.id, old.id, "U-ana", feedback.SOLVED_IT, T0)
    assert feedback.not_related_ids(repertoire, new.id) == set()  # a new verdict replaces
    assert feedback.voters(repertoire, new.id, old.id, feedback.SOLVED_IT) == {"U-ana"}
    assert feedback.link_solved(repertoire, new.id, old.id, T0)
    assert not feedback.link_solved(repertoire, new.id, old.id, T0)
    assert feedback.linked_entry(repertoire, new.id) == old.id
    # The borrowed answer now makes the new question findable by the answer's words.
    hits = search(repertoire, parse_query("celery pool slots", now=T0), None)
    assert new.id in {h.entry.id for h in hits}
    with pytest.raises(ValueError):
        feedback.record_feedback(repertoire, new.id, old.id, "U-ana", "maybe", T0)


def test_curation_keeps_every_change_and_refuses_a_stale_undo(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    entry = community.ask(PUBLIC, "dbt incremental models", ana, tags=("dbt",))
    first = curation.retag(repertoire, entry.id, ben, T0, add=("Analytics",))
    assert first is not None and first.new == ["analytics", "dbt"]
    second = curation.change_field(repertoire, entry.id, "tags", ["sql"], ana, T0)
    assert second is not None
    with pytest.raises(RefusedChange, match="undo the later change first"):
        curation.undo(repertoire, first.id, ana, T0)
    curation.undo(repertoire, second.id, ana, T0)
    stored = repertoire.get_entry(entry.id)
    assert stored is not None and stored.tags == ("analytics", "dbt")
    assert [c.id for c in curation.history(repertoire, entry.id)][-2:] == [second.id, first.id]
    with pytest.raises(RefusedChange):
        curation.change_field(repertoire, entry.id, "title", "   ", ana, T0)


def test_thanks_count_once_per_member_and_entry_and_stay_where_given(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben, cam = (community.member(u) for u in ("U-ana", "U-ben", "U-cam"))
    question = community.ask(PRIVATE, "Who can review the Terraform PR?", ana)
    answer = community.answer(question, "I can, after lunch", ben)

    def thank(giver: int) -> bool:
        return record_thanks(
            repertoire, giver, ben, entry_id=answer.id, where=PRIVATE, visibility="private", at=T0
        )

    assert thank(ana) and not thank(ana) and thank(cam)
    assert not record_thanks(
        repertoire, ben, ben, entry_id=None, where=PUBLIC, visibility="public", at=T0
    )
    there = thanks_received(repertoire, [ben], PRIVATE)
    assert there is not None and there.count == 2
    assert thanks_received(repertoire, [ben], PUBLIC) is None
    assert thanks_received(repertoire, [ben], None) is None


def test_search_and_similar_questions_answer_for_their_viewer(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    ana, ben = community.member("U-ana"), community.member("U-ben")
    public = community.ask(PUBLIC, "How do I speed up pandas read_csv on large files?", ana)
    community.answer(public, "Use the pyarrow engine and usecols", ben)
    secret = community.ask(PRIVATE, "pandas read_csv runs out of memory on the billing export", ben)
    community.answer(secret, "Read it in chunks with chunksize", ana)
    query = parse_query("pandas read_csv", now=T0)
    assert {h.entry.id for h in search(repertoire, query, None)} == {public.id}
    assert {h.entry.id for h in search(repertoire, query, PRIVATE)} == {public.id, secret.id}
    by_answer = search(repertoire, parse_query("pyarrow", now=T0), None)
    assert [h.entry.id for h in by_answer] == [public.id]
    assert by_answer[0].answer is not None and "pyarrow" in by_answer[0].answer.text

    text = "pandas read_csv is slow on a large file"
    similar = find_similar(repertoire, text, PUBLIC, limit=3)
    assert [h.entry.id for h in similar] == [public.id]
    assert secret.id in {h.entry.id for h in find_similar(repertoire, text, PRIVATE, limit=3)}
    assert find_similar(repertoire, text, PUBLIC, exclude_ids=[public.id]) == []
    assert Viewer.in_channel(PUBLIC).sees(public) and not Viewer.in_channel(PUBLIC).sees(secret)


def test_similar_candidates_hold_a_rare_term_and_every_term_scores(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    """Past the posting budget, the rarest of the question's terms choose the candidates.

    "pandas" is in every document; within a budget of 3 postings only "pyarrow"
    (in 2) chooses, so the documents with "pandas" alone are not candidates,
    while "pandas" still counts in the score of those that hold "pyarrow".
    """
    ana = community.member("U-ana")
    common = [community.ask(PUBLIC, f"pandas plot number{i} help", ana) for i in range(4)]
    rare_only = community.ask(PUBLIC, "pyarrow arrow help", ana)
    both = community.ask(PUBLIC, "pyarrow pandas help", ana)
    text = "pyarrow pandas"

    def candidates(max_postings: int) -> list[int]:
        config = replace(DEFAULT_CONFIG, max_postings=max_postings)
        ranked = rank_similar(repertoire, text, PUBLIC, answered_only=False, config=config)
        return [r.entry.id for r in ranked]

    assert candidates(3) == [both.id, rare_only.id]
    roomy = candidates(100)
    assert roomy[0] == both.id
    assert set(roomy) == {both.id, rare_only.id, *(e.id for e in common)}
