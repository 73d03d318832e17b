# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""Capture through the real Bolt app: questions, answers, accepts, edits, deletes, retries.

Every request is an HTTP POST signed with the signing secret, sent to the
adapter's own aiohttp application; the Web API calls go to a fake Slack.
"""

from __future__ import annotations

import json

from tests.slack_harness import SlackHarness, fake_slack, sign, slack  # noqa: F401
from tests.sqlite_file import sqlite_of

Q_TS = "1800000001.000100"
A_TS = "1800000002.000200"
B_TS = "1800000003.000300"


def by_ts(slack: SlackHarness) -> dict[str, dict[str, object]]:
    return {str(e["message_id"]): e for e in slack.entries()}


async def test_question_answer_accept(slack: SlackHarness) -> None:
    r = await slack.message("C0PUBLIC", "U0ASK", "How do I read a huge CSV file with pandas?", Q_TS)
    assert r.status == 200
    await slack.message(
        "C0PUBLIC", "U0ANS", "Use chunksize or polars scan_csv", A_TS, thread_ts=Q_TS
    )
    await slack.react("C0PUBLIC", "U0ASK", A_TS, "white_check_mark", item_user="U0ANS")
    entries = by_ts(slack)
    question, answer = entries[Q_TS], entries[A_TS]
    assert question["kind"] == "question"
    assert question["visibility"] == "public"
    assert question["permalink"] == "https://acme.slack.com/archives/C0PUBLIC/p1800000001000100"
    assert answer["kind"] == "answer" and answer["accepted"] == 1
    assert "thread_ts=" + Q_TS in str(answer["permalink"])
    # The thread gets one short confirmation; nothing else is said in the channel.
    posted = slack.fake.of("chat.postMessage")
    assert len(posted) == 1
    assert posted[0]["channel"] == "C0PUBLIC" and posted[0]["thread_ts"] == Q_TS
    assert "accepted answer" in posted[0]["text"]
    assert slack.fake.of("chat.postEphemeral") == []
    # Members are known by their display names.
    [asker] = slack.core.services.repertoire.members_with_user_id("slack", "U0ASK")
    assert asker.display_name == "Ada Asker"


async def test_removing_the_accept_reaction_unaccepts(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "Why is my airflow DAG not scheduled?", Q_TS)
    await slack.message("C0PUBLIC", "U0ANS", "Check start_date and catchup", A_TS, thread_ts=Q_TS)
    await slack.react("C0PUBLIC", "U0ASK", A_TS, "white_check_mark")
    await slack.react("C0PUBLIC", "U0ASK", A_TS, "white_check_mark", added=False)
    assert by_ts(slack)[A_TS]["accepted"] == 0


async def test_a_skin_toned_reaction_is_the_same_reaction(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "Why is my airflow DAG not scheduled?", Q_TS)
    await slack.message("C0PUBLIC", "U0ANS", "Check start_date and catchup", A_TS, thread_ts=Q_TS)
    await slack.react("C0PUBLIC", "U0ASK", A_TS, "+1::skin-tone-2")
    await slack.react("C0PUBLIC", "U0ASK", A_TS, "white_check_mark::skin-tone-4")
    assert by_ts(slack)[A_TS]["accepted"] == 1
    reactions = {r["emoji"] for r in sqlite_of(slack.core.services.repertoire).db["reactions"].rows}
    assert reactions == {"👍", "✅"}


async def test_someone_elses_reaction_alone_does_not_accept(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "Why is my airflow DAG not scheduled?", Q_TS)
    await slack.message("C0PUBLIC", "U0ANS", "Check start_date and catchup", A_TS, thread_ts=Q_TS)
    await slack.react("C0PUBLIC", "U0VOTE", A_TS, "white_check_mark")
    assert by_ts(slack)[A_TS]["accepted"] == 0
    assert slack.fake.of("chat.postMessage") == []


async def test_private_channel_capture_keeps_private_visibility(slack: SlackHarness) -> None:
    await slack.message("C0SECRET", "U0ASK", "How do we rotate the kafka credentials?", Q_TS)
    assert by_ts(slack)[Q_TS]["visibility"] == "private"


async def test_dms_are_not_captured(slack: SlackHarness) -> None:
    await slack.message("D0DM", "U0ASK", "How do I read a huge CSV file with pandas?", Q_TS)
    assert slack.entries() == []


async def test_statements_bots_and_joins_are_not_captured(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "Deployed the new pipeline today.", Q_TS)
    await slack.message(
        "C0PUBLIC", "U0ASK", "How do I page the on-call bot?", A_TS, bot_id="B0OTHER"
    )
    await slack.message(
        "C0PUBLIC",
        "U0ANS",
        "<@U0ANS> has joined the channel, anyone?",
        B_TS,
        subtype="channel_join",
    )
    assert slack.entries() == []


async def test_edit_updates_and_delete_removes(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "How do I tune spark shuffle partitions?", Q_TS)
    await slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C0PUBLIC",
            "channel_type": "channel",
            "hidden": True,
            "message": {
                "type": "message",
                "user": "U0ASK",
                "text": "How do I tune spark adaptive query execution?",
                "ts": Q_TS,
                "edited": {"user": "U0ASK", "ts": "1800000010.000000"},
            },
            "previous_message": {"type": "message", "user": "U0ASK", "text": "old", "ts": Q_TS},
            "event_ts": "1800000010.000000",
            "ts": "1800000010.000000",
        }
    )
    assert "adaptive query" in str(by_ts(slack)[Q_TS]["text"])
    await slack.command("C0PUBLIC", "U0VOTE", "adaptive")
    assert "adaptive" in json.dumps(slack.fake.of("chat.postEphemeral")[-1]["blocks"])

    await slack.event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": "C0PUBLIC",
            "channel_type": "channel",
            "hidden": True,
            "deleted_ts": Q_TS,
            "ts": "1800000011.000000",
            "event_ts": "1800000011.000000",
            "previous_message": {"type": "message", "user": "U0ASK", "text": "x", "ts": Q_TS},
        }
    )
    assert slack.entries() == []
    await slack.command("C0PUBLIC", "U0VOTE", "adaptive")
    assert "Nothing found" in slack.fake.of("chat.postEphemeral")[-1]["text"]


async def test_a_deleted_thread_root_becomes_a_tombstone(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "How do I tune spark shuffle partitions?", Q_TS)
    await slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "C0PUBLIC",
            "channel_type": "channel",
            "message": {
                "type": "message",
                "subtype": "tombstone",
                "text": "This message was deleted.",
                "ts": Q_TS,
            },
            "previous_message": {"type": "message", "user": "U0ASK", "text": "x", "ts": Q_TS},
            "event_ts": "1800000012.000000",
        }
    )
    assert slack.entries() == []


async def test_retried_event_stores_one_entry(slack: SlackHarness) -> None:
    event = {
        "type": "message",
        "channel": "C0PUBLIC",
        "user": "U0ASK",
        "text": "How do I read parquet files from S3?",
        "ts": Q_TS,
        "channel_type": "channel",
    }
    first = await slack.event(event, event_id="Ev0RETRY")
    again = await slack.event(event, event_id="Ev0RETRY", retry=1)
    # A Socket Mode redelivery may come without the retry header, even with a new envelope.
    other = await slack.event(event, event_id="Ev0REDELIVERED")
    assert (first.status, again.status, other.status) == (200, 200, 200)
    assert len(slack.entries()) == 1


async def test_retried_accept_confirms_once(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "Why is my airflow DAG not scheduled?", Q_TS)
    await slack.message("C0PUBLIC", "U0ANS", "Check start_date and catchup", A_TS, thread_ts=Q_TS)
    reaction = {
        "type": "reaction_added",
        "user": "U0ASK",
        "reaction": "white_check_mark",
        "item": {"type": "message", "channel": "C0PUBLIC", "ts": A_TS},
        "event_ts": "1800000100.000100",
    }
    await slack.event(reaction, event_id="Ev0REACT")
    await slack.event(reaction, event_id="Ev0REACT", retry=2)
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_forged_or_stale_signature_is_refused(slack: SlackHarness) -> None:
    body = json.dumps(
        slack.envelope(
            {
                "type": "message",
                "channel": "C0PUBLIC",
                "user": "U0ASK",
                "text": "How do I read parquet files from S3?",
                "ts": Q_TS,
                "channel_type": "channel",
            }
        )
    )
    forged = sign(body, secret="not-the-secret")
    stale = sign(body, timestamp=1_000_000_000)
    for headers in (
        forged,
        stale,
        {"X-Slack-Signature": "v0=00", "X-Slack-Request-Timestamp": "1"},
    ):
        async with slack.http.post(
            slack.url, data=body, headers={"Content-Type": "application/json", **headers}
        ) as resp:
            assert resp.status == 401
    assert slack.entries() == []
    assert [c.method for c in slack.fake.calls] == []


async def test_thread_replies_before_their_root_still_join_it(slack: SlackHarness) -> None:
    await slack.message(
        "C0PUBLIC", "U0ANS", "Use chunksize or polars scan_csv", A_TS, thread_ts=Q_TS
    )
    await slack.message("C0PUBLIC", "U0ASK", "How do I read a huge CSV file with pandas?", Q_TS)
    await slack.react("C0PUBLIC", "U0ASK", A_TS, "white_check_mark")
    assert by_ts(slack)[A_TS]["accepted"] == 1


async def test_permalink_from_chat_get_permalink_when_the_url_is_unknown(
    slack: SlackHarness,
) -> None:
    slack.fake.auth_url = ""  # auth.test gives no workspace URL
    await slack.message("C0PUBLIC", "U0ASK", "How do I read parquet files from S3?", Q_TS)
    [call] = slack.fake.of("chat.getPermalink")
    assert call["channel"] == "C0PUBLIC" and call["message_ts"] == Q_TS
    assert (
        by_ts(slack)[Q_TS]["permalink"]
        == "https://acme.slack.com/archives/C0PUBLIC/p1800000001000100"
    )


async def test_mentions_are_kept_as_handles_and_do_not_hide_a_question(
    slack: SlackHarness,
) -> None:
    await slack.message(
        "C0PUBLIC", "U0ASK", "<@U0ANS> can you share the airflow retry config", Q_TS
    )
    await slack.message(
        "C0PUBLIC", "U0ANS", "sure <@U0ASK>: retries=3 <https://x.org|docs>", A_TS, thread_ts=Q_TS
    )
    entries = by_ts(slack)
    assert entries[Q_TS]["kind"] == "question"
    assert entries[Q_TS]["text"] == "@u0ans can you share the airflow retry config"
    assert entries[A_TS]["text"] == "sure @u0ask: retries=3 docs (https://x.org)"


async def test_removing_the_bot_stops_capture_and_adding_it_back_resumes(
    slack: SlackHarness,
) -> None:
    from tests.slack_harness import BOT_USER

    await slack.event({"type": "group_left", "channel": "C0SECRET", "actor_id": "U0ASK"})
    await slack.message("C0SECRET", "U0ASK", "How do I rotate the warehouse key?", Q_TS)
    assert Q_TS not in by_ts(slack)
    # Someone else joining changes nothing; the bot joining again resumes capture.
    for user in ("U0ANS", BOT_USER):
        await slack.event(
            {
                "type": "member_joined_channel",
                "user": user,
                "channel": "C0SECRET",
                "channel_type": "G",
                "team": "T0TEAM",
            }
        )
        await slack.message("C0SECRET", "U0ASK", "How do I rotate the warehouse key?", B_TS)
        assert (B_TS in by_ts(slack)) == (user == BOT_USER)


async def test_an_event_id_seen_before_is_skipped_whatever_it_carries(slack: SlackHarness) -> None:
    """Dedup on Slack's event_id alone: a second delivery under that id is not applied,
    even where the message key would not catch it (a reaction removed)."""
    await slack.message("C0PUBLIC", "U0ASK", "Why is my airflow DAG not scheduled?", Q_TS)
    await slack.message("C0PUBLIC", "U0ANS", "Check start_date and catchup", A_TS, thread_ts=Q_TS)
    reaction: dict[str, object] = {
        "user": "U0ASK",
        "reaction": "white_check_mark",
        "item": {"type": "message", "channel": "C0PUBLIC", "ts": A_TS},
        "event_ts": "1800000100.000100",
    }
    await slack.event({"type": "reaction_added", **reaction}, event_id="Ev0SAME")
    assert by_ts(slack)[A_TS]["accepted"] == 1
    later = {**reaction, "event_ts": "1800000200.000100"}
    await slack.event({"type": "reaction_removed", **later}, event_id="Ev0SAME")
    assert by_ts(slack)[A_TS]["accepted"] == 1  # skipped: its id was seen
    await slack.event({"type": "reaction_removed", **later}, event_id="Ev0OTHER")
    assert by_ts(slack)[A_TS]["accepted"] == 0  # the same change under a new id applies


async def test_a_thread_reply_also_sent_to_the_channel_is_one_answer(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "How do I read a huge CSV file with pandas?", Q_TS)
    await slack.message(
        "C0PUBLIC", "U0ANS", "Does chunksize help here?", A_TS, thread_ts=Q_TS,
        subtype="thread_broadcast",
    )  # fmt: skip
    entries = by_ts(slack)
    assert entries[A_TS]["kind"] == "answer"  # not a question, though it reads as one
    assert entries[A_TS]["thread_id"] == Q_TS
    assert len(entries) == 2


async def test_a_pin_in_a_private_channel_saves_knowhow_that_stays_there(
    slack: SlackHarness,
) -> None:
    tip = "Tip: the staging vault token rotates every Monday"
    slack.fake.messages[("C0SECRET", B_TS)] = {
        "type": "message", "user": "U0ANS", "text": tip, "ts": B_TS,
    }  # fmt: skip
    await slack.message("C0SECRET", "U0ANS", tip, B_TS)
    assert slack.entries() == []  # not a question: nothing kept until someone saves it
    await slack.react("C0SECRET", "U0SAVE", B_TS, "pushpin", item_user="U0ANS")
    [saved] = slack.entries()
    assert saved["kind"] == "knowhow" and saved["visibility"] == "private"
    await slack.command("C0PUBLIC", "U0VOTE", "search vault token")
    assert "rotates every Monday" not in slack.fake.of("chat.postEphemeral")[-1]["text"]
    await slack.command("C0SECRET", "U0VOTE", "search vault token")
    assert "rotates every Monday" in json.dumps(slack.fake.of("chat.postEphemeral")[-1])
