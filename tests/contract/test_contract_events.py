"""Contract: event order (retries, late and swapped events), read marks, members and channels."""

from __future__ import annotations

from datetime import timedelta

from knowledge.identity import identity_group, pending_links, request_link, unlink
from knowledge.models import ChannelRef, SourceKey
from knowledge.relational.repertoire import RelationalRepertoire
from tests.contract.support import PRIVATE, PUBLIC, T0, Community


def test_an_event_id_is_seen_once_per_platform(repertoire: RelationalRepertoire) -> None:
    assert repertoire.mark_event_seen("slack", "Ev1", T0)
    assert not repertoire.mark_event_seen("slack", "Ev1", T0 + timedelta(minutes=5))
    assert repertoire.mark_event_seen("discord", "Ev1", T0)


def test_the_later_reaction_wins_and_a_removal_wins_a_tie(repertoire: RelationalRepertoire) -> None:
    message = SourceKey("slack", "T1", "C-help", "m1")
    later, earlier = T0 + timedelta(seconds=2), T0 + timedelta(seconds=1)
    repertoire.set_reaction(message, "U-ana", "white_check_mark", False, later)
    repertoire.set_reaction(message, "U-ana", "white_check_mark", True, earlier)  # arrives late
    assert repertoire.reactors(message, "white_check_mark") == set()
    repertoire.set_reaction(message, "U-ben", "tada", True, T0)
    repertoire.set_reaction(message, "U-ben", "tada", False, T0)
    assert repertoire.reactors(message, "tada") == set()
    repertoire.set_reaction(message, "U-cam", "tada", True, T0)
    assert repertoire.reactors(message, "tada") == {"U-cam"}


def test_the_reactions_on_a_message_are_those_present_now(
    repertoire: RelationalRepertoire,
) -> None:
    message, other = (
        SourceKey("slack", "T1", "C-help", "m2"),
        SourceKey("slack", "T1", "C-help", "m3"),
    )
    repertoire.set_reaction(message, "U-ana", "✅", True, T0)
    repertoire.set_reaction(message, "U-ben", "🙏", True, T0)
    repertoire.set_reaction(message, "U-cam", "✅", True, T0)
    repertoire.set_reaction(message, "U-cam", "✅", False, T0 + timedelta(seconds=1))
    repertoire.set_reaction(other, "U-dee", "✅", True, T0)
    assert repertoire.reactions_on(message) == {("U-ana", "✅"), ("U-ben", "🙏")}


def test_a_deleted_message_takes_no_late_reaction(repertoire: RelationalRepertoire) -> None:
    message = SourceKey("slack", "T1", "C-help", "m9")
    repertoire.add_tombstone(message, T0)
    repertoire.add_tombstone(message, T0)  # a second delete event is harmless
    assert repertoire.is_tombstoned(message)
    assert not repertoire.is_tombstoned(SourceKey("slack", "T1", "C-help", "m8"))
    repertoire.set_reaction(message, "U-ana", "tada", True, T0 + timedelta(seconds=1))
    assert repertoire.reactors(message, "tada") == set()


def test_the_newest_edit_is_kept_whatever_the_arrival_order(
    repertoire: RelationalRepertoire,
) -> None:
    message = SourceKey("slack", "T1", "C-help", "m2")
    assert repertoire.latest_edit(message) is None
    assert repertoire.record_edit(message, "second", T0 + timedelta(minutes=2))
    assert not repertoire.record_edit(message, "first", T0 + timedelta(minutes=1))
    assert repertoire.latest_edit(message) == ("second", T0 + timedelta(minutes=2))


def test_read_marks_never_move_backwards(repertoire: RelationalRepertoire) -> None:
    repertoire.advance_read_mark(
        SourceKey("slack", "T1", "C-help", "m5"), T0 + timedelta(minutes=5)
    )
    repertoire.advance_read_mark(
        SourceKey("slack", "T1", "C-help", "m3"), T0 + timedelta(minutes=3)
    )
    repertoire.advance_read_mark(SourceKey("discord", "G1", "42", "m1"), T0)
    assert repertoire.read_marks("slack") == {
        ChannelRef("slack", "T1", "C-help"): (T0 + timedelta(minutes=5), "m5")
    }
    assert list(repertoire.read_marks("discord")) == [ChannelRef("discord", "G1", "42")]


def test_members_are_made_once_and_renamed_only_when_asked(
    repertoire: RelationalRepertoire,
) -> None:
    first = repertoire.upsert_member("slack", "T1", "U-chen", "Chen Wei", "chen", T0)
    assert repertoire.upsert_member("slack", "T1", "U-chen", "Chen W.", refresh=False) == first
    member = repertoire.get_member(first)
    assert member is not None and member.display_name == "Chen Wei"
    assert repertoire.upsert_member("slack", "T1", "U-chen", "Chen W.") == first
    member = repertoire.get_member(first)
    assert member is not None and member.display_name == "Chen W."
    other = repertoire.upsert_member("slack", "T2", "U-chen", "Chen (other workspace)")
    assert [m.id for m in repertoire.members_with_user_id("slack", "U-chen")] == [first, other]
    assert repertoire.members_with_user_id("discord", "U-chen") == []
    assert [m.id for m in repertoire.find_members("CHEN")] == [first]  # the handle, any case
    assert [m.id for m in repertoire.all_members()] == [first, other]


def test_a_channel_is_found_by_id_or_by_name_with_its_visibility_now(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    by_id = repertoire.find_channel("slack", channel_id=PRIVATE.channel)
    assert by_id is not None and (by_id.ref, by_id.name, by_id.visibility) == (
        PRIVATE,
        "team",
        "private",
    )
    by_name = repertoire.find_channel("slack", name="HELP")
    assert by_name is not None and by_name.ref == PUBLIC
    assert repertoire.find_channel("slack", name="help", workspace="T9") is None
    assert repertoire.find_channel("discord", channel_id=PUBLIC.channel) is None
    repertoire.upsert_channel("slack", "T1", PUBLIC.channel, "", "private")  # no name: kept
    now = repertoire.find_channel("slack", channel_id=PUBLIC.channel)
    assert now is not None and (now.name, now.visibility) == ("help", "private")


def test_capture_can_be_stopped_and_resumed_per_channel(
    repertoire: RelationalRepertoire, community: Community
) -> None:
    assert not repertoire.capture_stopped(PUBLIC)
    repertoire.set_capture_stopped(PUBLIC, True)
    assert repertoire.capture_stopped(PUBLIC) and not repertoire.capture_stopped(PRIVATE)
    repertoire.set_capture_stopped(PUBLIC, False)
    assert not repertoire.capture_stopped(PUBLIC)


def test_identities_link_when_both_sides_confirm_and_unlink_either_way(
    repertoire: RelationalRepertoire,
) -> None:
    slack = repertoire.upsert_member("slack", "T1", "U-ana", "Ana")
    discord = repertoire.upsert_member("discord", "G1", "4242", "ana#1")
    assert request_link(repertoire, slack, "discord", "4242", T0).status == "pending"
    assert request_link(repertoire, slack, "discord", "4242", T0).status == "already-pending"
    assert identity_group(repertoire, slack) == [slack]
    [waiting] = pending_links(repertoire, discord)
    assert (waiting.from_member.id, waiting.outgoing) == (slack, False)
    confirmed = request_link(repertoire, discord, "slack", "U-ana", T0)
    assert confirmed.status == "confirmed" and confirmed.other is not None
    assert identity_group(repertoire, discord) == [discord, slack]
    assert pending_links(repertoire, slack) == []
    assert unlink(repertoire, discord, "slack", "U-ana")
    assert identity_group(repertoire, slack) == [slack]
