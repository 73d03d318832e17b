# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""/cop, the share button, saving (shortcut + modal, reaction), rate limits, fast acks."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from tests.slack_harness import (  # noqa: F401
    TEAM,
    FakeSlackApi,
    SlackHarness,
    fake_slack,
    harness_for,
    slack,
)
from tests.sqlite_file import sqlite_of

PUB_TS = "1800000001.000100"
SECRET_TS = "1800000002.000200"
MSG_TS = "1800000005.000500"


def shown(call: dict[str, Any]) -> str:
    """Everything a member sees in a posted message: fallback text and blocks."""
    return str(call.get("text", "")) + json.dumps(call.get("blocks", []), ensure_ascii=False)


def entry_id(slack: SlackHarness, ts: str) -> int:
    return next(int(e["id"]) for e in slack.entries() if e["message_id"] == ts)


async def seed_kafka(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "How do I consume kafka topics from python?", PUB_TS)
    await slack.message(
        "C0SECRET", "U0ASK", "How do we rotate the kafka broker passwords?", SECRET_TS
    )


async def test_search_is_ephemeral_with_share_buttons(slack: SlackHarness) -> None:
    await seed_kafka(slack)
    r = await slack.command("C0PUBLIC", "U0VOTE", "search kafka")
    assert r.status == 200
    [reply] = slack.fake.of("chat.postEphemeral")
    assert reply["channel"] == "C0PUBLIC" and reply["user"] == "U0VOTE"
    blocks = reply["blocks"]
    buttons = [b["accessory"] for b in blocks if "accessory" in b]
    assert [b["action_id"] for b in buttons] == ["copbot_share"]
    assert buttons[0]["value"] == str(entry_id(slack, PUB_TS))
    assert "https://acme.slack.com/archives/C0PUBLIC/p1800000001000100" in shown(reply)
    assert slack.fake.of("chat.postMessage") == []  # quiet: nothing in the channel


async def test_search_from_a_channel_never_shows_another_private_channel(
    slack: SlackHarness,
) -> None:
    await seed_kafka(slack)
    await slack.command("C0OTHER", "U0VOTE", "kafka")
    from_other = shown(slack.fake.of("chat.postEphemeral")[-1])
    assert "consume kafka" in from_other
    assert "rotate" not in from_other and "broker passwords" not in from_other
    await slack.command("C0SECRET", "U0VOTE", "kafka")
    from_secret = shown(slack.fake.of("chat.postEphemeral")[-1])
    assert "consume kafka" in from_secret and "broker passwords" in from_secret


async def share_click(slack: SlackHarness, channel: str, value: str) -> None:
    await slack.interactive(
        {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": "U0VOTE", "username": "cy", "team_id": TEAM},
            "channel": {"id": channel, "name": "x"},
            "container": {"type": "message", "is_ephemeral": True},
            "trigger_id": "trigger.share",
            "response_url": f"{slack.fake.url}/response/share",
            "actions": [
                {
                    "action_id": "copbot_share",
                    "block_id": "b1",
                    "type": "button",
                    "value": value,
                    "action_ts": "1800000200.000000",
                }
            ],
        }
    )


async def test_share_button_posts_one_result_in_the_channel(slack: SlackHarness) -> None:
    await seed_kafka(slack)
    await share_click(slack, "C0OTHER", str(entry_id(slack, PUB_TS)))
    [post] = slack.fake.of("chat.postMessage")
    assert post["channel"] == "C0OTHER"
    assert "consume kafka" in shown(post) and "Cy Voter shared" in post["text"]
    assert "copbot_share" not in shown(post)  # no share button on a shared result


async def test_share_button_cannot_leak_a_private_entry(slack: SlackHarness) -> None:
    await seed_kafka(slack)
    await share_click(slack, "C0OTHER", str(entry_id(slack, SECRET_TS)))
    assert slack.fake.of("chat.postMessage") == []
    [refusal] = slack.fake.of("chat.postEphemeral")
    assert "can't be shared" in refusal["text"] and "broker" not in shown(refusal)


async def test_ask_posts_in_channel_and_thread_replies_become_answers(slack: SlackHarness) -> None:
    await slack.command("C0PUBLIC", "U0ASK", "ask what is the best way to test dbt models?")
    [post] = slack.fake.of("chat.postMessage")
    assert post["channel"] == "C0PUBLIC" and "best way to test dbt" in post["text"]
    posted_ts = "1800000000.000001"  # the fake's first ts
    [question] = [e for e in slack.entries() if e["kind"] == "question"]
    assert question["message_id"] == posted_ts
    assert str(question["permalink"]).endswith("p1800000000000001")
    await slack.message(
        "C0PUBLIC", "U0ANS", "dbt test plus unit tests", "1800000009.0", thread_ts=posted_ts
    )
    answers = [e for e in slack.entries() if e["kind"] == "answer"]
    assert len(answers) == 1 and answers[0]["thread_id"] == posted_ts
    # The asker is known by their display name, not the command payload's handle.
    [asker] = slack.core.services.repertoire.members_with_user_id("slack", "U0ASK")
    assert asker.display_name == "Ada Asker"


async def test_usage_errors_are_friendly_and_private(slack: SlackHarness) -> None:
    await slack.command("C0PUBLIC", "U0ASK", "who")
    [reply] = slack.fake.of("chat.postEphemeral")
    assert "Which topic?" in reply["text"] and reply["user"] == "U0ASK"


async def test_command_in_a_dm_the_bot_cannot_post_in_uses_response_url(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await slack.command("D0UNKNOWN", "U0ASK", "help")
    # conversations.info fails for a DM between two people; postEphemeral is refused there.
    slack.fake.calls.clear()
    original = slack.fake.answer

    def refuse_ephemeral(method: str, p: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        if method == "chat.postEphemeral":
            return {"ok": False, "error": "channel_not_found"}, {}
        return original(method, p)

    monkeypatch.setattr(slack.fake, "answer", refuse_ephemeral)
    await slack.command("D0UNKNOWN", "U0ASK", "help")
    [via_url] = slack.fake.of("response_url")
    assert via_url["response_type"] == "ephemeral" and "copbot" in via_url["text"]


# --------------------------------------------------------------------------- saving


def save_shortcut(
    ts: str, text: str, channel: str = "C0PUBLIC", thread_ts: str | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "message", "user": "U0ANS", "text": text, "ts": ts}
    if thread_ts:
        message["thread_ts"] = thread_ts
    return {
        "type": "message_action",
        "callback_id": "copbot_save",
        "trigger_id": "trigger.save",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": "U0SAVE", "username": "di", "team_id": TEAM},
        "channel": {"id": channel, "name": "data-help"},
        "message_ts": ts,
        "message": message,
        "response_url": "https://hooks.slack.invalid/x",
    }


def submission(
    view: dict[str, Any], title: str, tags: str, kind: str, view_id: str = "V0MODAL"
) -> dict[str, Any]:
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": "U0SAVE", "username": "di", "team_id": TEAM},
        "trigger_id": "trigger.submit",
        "view": {
            "id": view_id,
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {
                "values": {
                    "title": {"value": {"type": "plain_text_input", "value": title}},
                    "tags": {"value": {"type": "plain_text_input", "value": tags}},
                    "kind": {
                        "value": {
                            "type": "static_select",
                            "selected_option": {
                                "text": {"type": "plain_text", "text": kind},
                                "value": kind,
                            },
                        }
                    },
                }
            },
        },
    }


async def test_save_shortcut_opens_a_modal_and_saves_know_how(slack: SlackHarness) -> None:
    text = "Tip: set PYTHONFAULTHANDLER=1 in CI to get tracebacks on segfaults #ci"
    await slack.interactive(save_shortcut(MSG_TS, text))
    [opened] = slack.fake.of("views.open")
    assert opened["trigger_id"] == "trigger.save"
    view = opened["view"]
    assert view["type"] == "modal" and view["callback_id"] == "copbot_save_modal"
    title_input = next(b for b in view["blocks"] if b.get("block_id") == "title")
    assert title_input["element"]["initial_value"].startswith("Tip: set PYTHONFAULTHANDLER")
    assert slack.entries() == []  # nothing saved before the member confirms

    r = await slack.interactive(
        submission(view, "Faulthandler in CI", "ci, debugging #python", "howto")
    )
    assert r.status == 200
    [entry] = slack.entries()
    assert entry["kind"] == "knowhow" and entry["title"] == "Faulthandler in CI"
    assert entry["message_id"] == MSG_TS and entry["visibility"] == "public"
    tags = {
        row["tag"]
        for row in sqlite_of(slack.core.services.repertoire).db.query("SELECT tag FROM entry_tags")
    }
    assert {"ci", "debugging", "python"} <= tags
    [confirm] = slack.fake.of("chat.postEphemeral")
    assert confirm["user"] == "U0SAVE" and "Saved" in confirm["text"]

    # The same submission delivered twice is applied once.
    await slack.interactive(submission(view, "Faulthandler in CI", "ci", "howto"))
    assert len(slack.fake.of("chat.postEphemeral")) == 1
    # Saving the same message again (a new modal) refreshes, never duplicates.
    await slack.interactive(
        submission(view, "Faulthandler in CI builds", "ci", "resource", "V0NEW")
    )
    [entry] = slack.entries()
    assert entry["title"] == "Faulthandler in CI builds"


async def test_save_shortcut_on_a_very_long_message_reads_it_back(slack: SlackHarness) -> None:
    text = "A long runbook step. " * 300
    slack.fake.messages[("C0PUBLIC", MSG_TS)] = {
        "type": "message",
        "user": "U0ANS",
        "text": text,
        "ts": MSG_TS,
    }
    await slack.interactive(save_shortcut(MSG_TS, text))
    view = slack.fake.of("views.open")[0]["view"]
    assert len(view["private_metadata"]) <= 3000
    await slack.interactive(submission(view, "Runbook", "", "howto"))
    [entry] = slack.entries()
    assert entry["text"] == text.strip()
    assert slack.fake.of("conversations.history")


async def test_save_reaction_fetches_the_message_and_saves_it(slack: SlackHarness) -> None:
    text = "Use `uv pip compile` to pin the whole dependency tree"
    slack.fake.messages[("C0PUBLIC", MSG_TS)] = {
        "type": "message",
        "user": "U0ANS",
        "text": text,
        "ts": MSG_TS,
    }
    await slack.react("C0PUBLIC", "U0SAVE", MSG_TS, "pushpin", item_user="U0ANS")
    [history] = slack.fake.of("conversations.history")
    assert (
        history["latest"] == MSG_TS
        and history["inclusive"] in ("1", "true", True)
        and history["limit"] in ("1", 1)
    )
    [entry] = slack.entries()
    assert entry["kind"] == "knowhow" and "uv pip compile" in entry["text"]
    authors = {
        r["id"]: r["user_id"] for r in sqlite_of(slack.core.services.repertoire).db["members"].rows
    }
    assert authors[entry["author_id"]] == "U0ANS" and authors[entry["saved_by_id"]] == "U0SAVE"
    [confirm] = slack.fake.of("chat.postEphemeral")
    assert confirm["user"] == "U0SAVE"


async def test_this_solved_it_shortcut_accepts_for_the_asker(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ASK", "How do I read a huge CSV file with pandas?", PUB_TS)
    await slack.message("C0PUBLIC", "U0ANS", "chunksize", MSG_TS, thread_ts=PUB_TS)
    payload = save_shortcut(MSG_TS, "chunksize", thread_ts=PUB_TS)
    payload["callback_id"] = "copbot_accept"
    payload["user"] = {"id": "U0ASK", "team_id": TEAM}
    await slack.interactive(payload)
    answer = next(e for e in slack.entries() if e["message_id"] == MSG_TS)
    assert answer["accepted"] == 1
    [confirm] = slack.fake.of("chat.postMessage")
    assert confirm["thread_ts"] == PUB_TS


# --------------------------------------------------------------------------- limits and acks


async def test_rate_limited_call_is_retried_by_slack_sdk(slack: SlackHarness) -> None:
    await seed_kafka(slack)
    slack.fake.rate_limit_once("chat.postEphemeral")
    await slack.command("C0PUBLIC", "U0VOTE", "kafka")
    assert slack.fake.attempts("chat.postEphemeral") == 2
    [delivered] = slack.fake.of("chat.postEphemeral")
    assert "consume kafka" in shown(delivered)


async def test_a_slack_outage_is_retried_and_posts_once(slack: SlackHarness) -> None:
    await seed_kafka(slack)
    slack.fake.fail_once("chat.postEphemeral")
    slack.fake.rate_limit_once("chat.postEphemeral")
    await slack.command("C0PUBLIC", "U0VOTE", "kafka")
    assert slack.fake.attempts("chat.postEphemeral") == 3
    [delivered] = slack.fake.of("chat.postEphemeral")
    assert "consume kafka" in shown(delivered)


async def test_command_is_acknowledged_before_the_work_is_done(
    fake_slack: FakeSlackApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without process_before_response (production), the 200 comes before the core runs."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "test-signing-secret-0123456789")
    async with harness_for(fake_slack, tmp_path, Settings(), process_before_response=False) as h:
        gate = threading.Event()
        hold = asyncio.ensure_future(h.adapter.core.run(gate.wait))  # the DB thread is busy
        # Were the answer held until the core ran, this would time out and fail.
        r = await asyncio.wait_for(h.command("C0PUBLIC", "U0VOTE", "help"), 60)
        assert r.status == 200
        assert fake_slack.of("chat.postEphemeral") == []  # answered before any work was done
        gate.set()
        await hold
        await fake_slack.wait_for("chat.postEphemeral")
        assert "copbot" in fake_slack.of("chat.postEphemeral")[0]["text"]


async def test_save_reaction_on_a_thread_reply_reads_the_thread(slack: SlackHarness) -> None:
    text = "Pin the JDK to 17 for this spark version"
    reply = {"type": "message", "user": "U0ANS", "text": text, "ts": MSG_TS, "thread_ts": PUB_TS}
    slack.fake.messages[("C0PUBLIC", MSG_TS)] = reply
    await slack.react("C0PUBLIC", "U0SAVE", MSG_TS, "pushpin")
    assert slack.fake.of("conversations.replies")
    [entry] = slack.entries()
    assert entry["kind"] == "knowhow" and entry["thread_id"] == PUB_TS
    assert "thread_ts=" + PUB_TS in str(entry["permalink"])


async def test_save_reaction_on_a_message_that_is_gone_saves_nothing(slack: SlackHarness) -> None:
    await slack.react("C0PUBLIC", "U0SAVE", MSG_TS, "pushpin")
    assert slack.entries() == []
    [notice] = slack.fake.of("chat.postEphemeral")
    assert notice["user"] == "U0SAVE" and "nothing was saved" in notice["text"]


async def test_ask_in_a_channel_the_bot_is_not_in_keeps_no_orphan_and_says_why(
    slack: SlackHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question posted without a message id (response_url) could never get answers."""
    original = slack.fake.answer

    def not_in_channel(method: str, p: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        if method == "chat.postMessage":
            return {"ok": False, "error": "not_in_channel"}, {}
        return original(method, p)

    monkeypatch.setattr(slack.fake, "answer", not_in_channel)
    await slack.command("C0OTHER", "U0ASK", "ask how do I profile a slow dbt model?")
    assert slack.fake.of("response_url") == []
    assert slack.entries() == []
    [notice] = slack.fake.of("chat.postEphemeral")
    assert notice["user"] == "U0ASK"
    assert "could not post your question" in notice["text"] and "/invite @copbot" in notice["text"]


async def test_digest_posts_go_out_with_blocks(slack: SlackHarness) -> None:
    from bot.events import Post, PostSection, Visibility, Where

    where = Where("slack", TEAM, "C0PUBLIC", Visibility.PUBLIC, "data-help")
    post = Post(where, "This week in data-help", (PostSection("New know-how", ("polars tip",)),))
    ts = await slack.adapter.post(post)
    [sent] = slack.fake.of("chat.postMessage")
    assert ts == "1800000000.000001"
    assert sent["channel"] == "C0PUBLIC" and sent["blocks"][0]["type"] == "header"
    assert "polars tip" in shown(sent)


async def test_saving_a_message_without_text_tells_the_saver(slack: SlackHarness) -> None:
    await slack.interactive(save_shortcut(MSG_TS, ""))
    view = slack.fake.of("views.open")[0]["view"]
    await slack.interactive(submission(view, "A screenshot", "", "howto"))
    assert slack.entries() == []
    [notice] = slack.fake.of("chat.postEphemeral")
    assert notice["user"] == "U0SAVE" and "no text" in notice["text"]


async def test_the_save_modal_opens_before_any_member_lookup(slack: SlackHarness) -> None:
    """views.open must come within the trigger's 3 seconds: names are looked up after."""
    mentions = " ".join(f"<@U0M{n}>" for n in range(8))
    text = f"Deploy checklist from {mentions}: pin, tag, release"
    await slack.interactive(save_shortcut(MSG_TS, text))
    methods = [c.method for c in slack.fake.calls]
    assert "users.info" not in methods[: methods.index("views.open")]
    view = slack.fake.of("views.open")[0]["view"]
    await slack.interactive(submission(view, "Deploy checklist", "deploy", "howto"))
    [saved] = slack.entries()
    assert "@u0m0" in str(saved["text"]) and "<@" not in str(saved["text"])
