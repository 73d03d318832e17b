"""Discord app commands, the save context menu and the share button, end to end.

INTERACTION_CREATE payloads go through discord.py's own parser and command
tree; the interaction callbacks and follow-ups land on the fake REST API.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.discord.commands import ACCEPT_MENU_NAME, SAVE_MENU_NAME
from bot.app import command_registry
from bot.config import DiscordSettings, Settings
from bot.events import Actor, IncomingMessage, Visibility, Where
from knowledge.models import EntryKind, SourceKey
from knowledge.storage import EntryFilter, Viewer
from tests import discord_harness as dh

GENERAL = 210
PLATFORM_TEAM = 220
ALICE = (11, "Alice")
BOB = (12, "Bob")
CAROL = (13, "Carol")
G = str(dh.GUILD_ID)
EPHEMERAL = 64

EVERYTHING = Viewer.operator_including_private()


def server() -> dict[str, Any]:
    return dh.guild(
        [
            dh.text_channel(GENERAL, "general"),
            dh.text_channel(PLATFORM_TEAM, "platform-team", private=True),
        ]
    )


def general() -> dict[str, Any]:
    return dh.text_channel(GENERAL, "general")


async def ask_and_answer(h: dh.Harness, channel: int, question: str, answer: str) -> int:
    """A question in ``channel``, a thread under it, an answer the asker accepts."""
    qid, aid = dh.new_id(), dh.new_id()
    await h.feed("MESSAGE_CREATE", dh.message(qid, channel, ALICE, question))
    await h.feed("THREAD_CREATE", dh.thread(qid, channel, question[:40], ALICE[0]))
    await h.feed("MESSAGE_CREATE", dh.message(aid, qid, BOB, answer))
    await h.feed("MESSAGE_REACTION_ADD", dh.reaction(aid, qid, ALICE[0], ALICE[1], "✅"))
    return qid


def deferred(h: dh.Harness, interaction: dict[str, Any]) -> dh.Request:
    """The interaction's one callback: a 'thinking' defer (type 5), only for the caller."""
    [callback] = h.api.calls("POST", f"/interactions/{interaction['id']}/")
    assert callback.body["type"] == 5
    assert callback.flags & EPHEMERAL
    return callback


def followups(h: dh.Harness, interaction: dict[str, Any]) -> list[dh.Request]:
    return h.api.calls("POST", f"/webhooks/{dh.APP_ID}/{interaction['token']}")


async def test_commands_are_registered_as_a_cop_group_and_a_message_menu(tmp_path: Path) -> None:
    settings = Settings(
        database=str(tmp_path / "c.db"), discord=DiscordSettings(guild_ids=(dh.GUILD_ID,))
    )
    async with dh.running(tmp_path, settings) as h:
        [sync] = h.api.calls("PUT", f"/applications/{dh.APP_ID}/guilds/{dh.GUILD_ID}/commands")
        by_name = {c["name"]: c for c in sync.body}
        assert set(by_name) == {"cop", SAVE_MENU_NAME, ACCEPT_MENU_NAME}
        subs = {o["name"] for o in by_name["cop"]["options"]}
        assert subs == set(command_registry().names)
        assert by_name[SAVE_MENU_NAME]["type"] == 3  # a message context menu
        assert by_name[ACCEPT_MENU_NAME]["type"] == 3
        share = next(o for o in by_name["cop"]["options"] if o["name"] == "share")
        kind = next(o for o in share["options"] if o["name"] == "kind")
        assert [c["value"] for c in kind["choices"]] == ["howto", "resource", "story", "update"]


async def test_a_server_that_refuses_commands_is_logged_and_the_others_still_work(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = dh.GUILD_ID + 1
    settings = Settings(
        database=str(tmp_path / "c.db"), discord=DiscordSettings(guild_ids=(other, dh.GUILD_ID))
    )
    refused = f"/applications/{dh.APP_ID}/guilds/{other}/commands"
    async with dh.running(tmp_path, settings, before_login=lambda api: api.answer(
        "PUT", refused, {"message": "Missing Access", "code": 50001}, status=403
    )) as h:  # fmt: skip
        assert h.api.calls_to("PUT", refused)
        assert h.api.calls_to("PUT", f"/applications/{dh.APP_ID}/guilds/{dh.GUILD_ID}/commands")
        assert "applications.commands scope" in caplog.text


async def test_search_results_are_ephemeral_embeds_with_a_share_button(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        await ask_and_answer(
            h, GENERAL, "How do I retry a failed Airflow task?", "Set retries=3 on the operator"
        )
        h.api.clear()
        search = dh.slash_command(general(), CAROL, "search", query="airflow retry")
        await h.feed("INTERACTION_CREATE", search)

        callback = deferred(h, search)
        [results] = followups(h, search)
        # Deferred first (Discord's 3-second window), answered after.
        assert h.api.requests.index(callback) < h.api.requests.index(results)
        assert results.flags & EPHEMERAL
        assert results.body["content"].startswith("1 result")
        [embed] = results.body["embeds"]
        assert "retry a failed Airflow task" in embed["title"]
        assert embed["url"].startswith("https://discord.com/channels/")
        assert "**retries**=3" in embed["description"] or "retries" in embed["description"]
        assert "Bob" in embed["description"]  # the accepted answer comes with the question
        [row] = results.body["components"]
        [question] = h.core.repertoire.entries(
            Viewer.operator_including_private(), EntryFilter(kinds=(EntryKind.QUESTION,))
        )
        assert row["components"][0]["custom_id"] == f"copbot:share:{question.id}"

        # The member shares the result: the core checks it may be shown here, then posts it.
        shown = h.api.sent[max(h.api.sent)]
        h.api.clear()
        click = dh.button_click(general(), CAROL, f"copbot:share:{question.id}", shown)
        await h.feed("INTERACTION_CREATE", click)
        deferred(h, click)
        [posted] = h.api.calls_to("POST", f"/channels/{GENERAL}/messages")
        assert posted.body["embeds"][0]["title"] == embed["title"]
        assert "Carol shared this" in posted.body["content"]
        assert posted.body["allowed_mentions"]["parse"] == []
        [note] = followups(h, click)
        assert note.flags & EPHEMERAL and "Posted" in note.body["content"]


async def test_search_from_a_public_channel_never_shows_private_entries(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        await ask_and_answer(
            h, PLATFORM_TEAM, "How do we rotate the kafka credentials?", "vault rotates kafka"
        )
        from_general = dh.slash_command(general(), CAROL, "search", query="kafka")
        await h.feed("INTERACTION_CREATE", from_general)
        [reply] = followups(h, from_general)
        assert reply.body["content"].startswith("Nothing found")
        assert reply.body.get("embeds") in (None, [])

        team = dh.text_channel(PLATFORM_TEAM, "platform-team", private=True)
        from_team = dh.slash_command(team, CAROL, "search", query="kafka")
        await h.feed("INTERACTION_CREATE", from_team)
        [reply] = followups(h, from_team)
        assert "rotate the kafka credentials" in reply.body["embeds"][0]["title"]


async def test_a_slack_answer_is_found_from_discord_with_its_link(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        slack = Where("slack", "T0001", "C0DATA", Visibility.PUBLIC, "data-help")
        asker = Actor("slack", "U1", "Dana", "T0001")
        expert = Actor("slack", "U2", "Eli", "T0001")
        when = dh.NOW - timedelta(days=2)
        h.core.handle(
            IncomingMessage(
                slack, asker, "1700000000.000100", "How do I vacuum a big Postgres table?", when,
                permalink="https://data.slack.com/archives/C0DATA/p1700000000000100",
            )
        )  # fmt: skip
        h.core.handle(
            IncomingMessage(
                slack, expert, "1700000000.000200", "pg_repack avoids the long lock", when,
                thread_id="1700000000.000100",
                permalink="https://data.slack.com/archives/C0DATA/p1700000000000200",
            )
        )  # fmt: skip

        search = dh.slash_command(general(), CAROL, "search", query="vacuum postgres")
        await h.feed("INTERACTION_CREATE", search)
        [results] = followups(h, search)
        [embed] = results.body["embeds"]
        assert embed["url"] == "https://data.slack.com/archives/C0DATA/p1700000000000100"
        assert "slack" in embed["footer"]["text"]
        assert "#data-help" in embed["footer"]["text"]
        assert "pg\\_repack" in embed["description"]  # markdown escaped


async def test_save_to_repertoire_menu_saves_a_message_as_knowhow(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        target = dh.message(dh.new_id(), GENERAL, BOB, "Tip: DuckDB reads parquet from S3 #duckdb")
        save = dh.message_command(general(), CAROL, target, SAVE_MENU_NAME)
        await h.feed("INTERACTION_CREATE", save)

        deferred(h, save)
        [entry] = h.core.repertoire.entries_for_message(
            SourceKey("discord", G, str(GENERAL), target["id"])
        )
        assert entry.kind == EntryKind.KNOWHOW
        assert entry.author_name == "Bob"
        assert entry.tags == ("duckdb",)
        assert entry.visibility == "public"
        [confirmation] = followups(h, save)
        assert confirmation.flags & EPHEMERAL
        assert "Saved" in confirmation.body["content"]


async def test_a_dm_is_captured_only_when_saved_on_purpose_and_stays_private(
    tmp_path: Path,
) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        dm = {"id": "777", "type": 1, "recipients": [dh.user(*BOB)]}
        text = "How I fixed the flaky CI: pin the runner image"
        target = dh.message(dh.new_id(), 777, BOB, text, guild_id=None)
        await h.feed("MESSAGE_CREATE", target)
        assert h.core.repertoire.entries(EVERYTHING) == []

        save = dh.message_command(dm, BOB, target, SAVE_MENU_NAME)
        await h.feed("INTERACTION_CREATE", save)
        [entry] = h.core.repertoire.entries(EVERYTHING)
        assert entry.kind == EntryKind.KNOWHOW
        assert entry.visibility == "dm"

        # It is not shown in a public channel.
        search = dh.slash_command(general(), CAROL, "search", query="flaky CI")
        await h.feed("INTERACTION_CREATE", search)
        [reply] = followups(h, search)
        assert reply.body["content"].startswith("Nothing found")


async def test_ask_posts_the_question_opens_a_thread_and_takes_its_answers(
    tmp_path: Path,
) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        ask = dh.slash_command(general(), ALICE, "ask", question="Which orchestrator for dbt?")
        await h.feed("INTERACTION_CREATE", ask)

        deferred(h, ask)
        [posted] = h.api.calls_to("POST", f"/channels/{GENERAL}/messages")
        assert "Which orchestrator for dbt?" in posted.body["content"]
        message_id = next(
            i for i, m in h.api.sent.items() if m["content"] == posted.body["content"]
        )
        [opened] = h.api.calls("POST", f"/channels/{GENERAL}/messages/{message_id}/threads")
        assert opened.body["name"].startswith("Alice asks")
        [note] = followups(h, ask)
        assert note.flags & EPHEMERAL and "Posted" in note.body["content"]

        # The entry now lives at the posted message; the thread under it holds answers.
        [question] = h.core.repertoire.entries_for_message(
            SourceKey("discord", G, str(GENERAL), str(message_id))
        )
        assert question.kind == EntryKind.QUESTION
        # Discord announces the thread the bot opened, then a member answers in it.
        await h.feed(
            "THREAD_CREATE", dh.thread(message_id, GENERAL, opened.body["name"], dh.BOT_ID)
        )
        reply = dh.new_id()
        await h.feed("MESSAGE_CREATE", dh.message(reply, message_id, BOB, "Dagster has dbt assets"))
        [answer] = h.core.repertoire.answers_for(question)
        assert answer.source.message_id == str(reply)


async def test_commands_with_bad_input_answer_with_help_and_keep_nothing(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        share = dh.slash_command(general(), ALICE, "share", text="   ", kind="story")
        await h.feed("INTERACTION_CREATE", share)
        [reply] = followups(h, share)
        assert reply.flags & EPHEMERAL
        assert "Usage" in reply.body["content"]
        assert h.core.repertoire.entries(EVERYTHING) == []

        who = dh.slash_command(general(), ALICE, "stats")
        await h.feed("INTERACTION_CREATE", who)
        [reply] = followups(h, who)
        assert reply.body["content"].startswith("Repertoire: 0 questions")


async def test_a_server_not_yet_announced_counts_as_private(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:  # no GUILD_CREATE: roles and channels unknown
        target = dh.message(dh.new_id(), GENERAL, BOB, "Tip: use uv to pin Python tools")
        save = dh.message_command(general(), CAROL, target, SAVE_MENU_NAME)
        await h.feed("INTERACTION_CREATE", save)
        [entry] = h.core.repertoire.entries(EVERYTHING)
        assert entry.visibility == "private"


async def test_a_failing_command_still_answers_the_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())

        async def broken(event: object) -> list[object]:
            raise RuntimeError("database on fire")

        monkeypatch.setattr(h.adapter.core, "handle", broken)
        search = dh.slash_command(general(), CAROL, "search", query="anything")
        await h.feed("INTERACTION_CREATE", search)
        deferred(h, search)
        [apology] = followups(h, search)
        assert apology.flags & EPHEMERAL
        assert "something went wrong" in apology.body["content"]
        assert "database on fire" in caplog.text


async def test_subcommand_options_become_the_cores_grammar(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []
    async with dh.running(tmp_path) as h:
        h.add_guild(server())

        async def record(interaction: object, text: str) -> None:
            seen.append(text)

        monkeypatch.setattr(h.adapter, "run_command", record)
        channel = general()
        for sub, options in (
            ("search", {"query": 'tag:pandas "read csv"'}),
            ("ask", {"question": "Is dbt worth it?"}),
            ("share", {"text": "Pin deps #python", "kind": "resource"}),
            ("share", {"text": "Use uv"}),
            ("who", {"topic": "airflow"}),
            ("stats", {}),
            ("help", {}),
            ("digest", {}),
            ("thanks", {"member": f"<@{BOB[0]}>", "what": "#12"}),
            ("profile", {}),
            ("retag", {"entry": "#12", "tags": "+polars -pandas"}),
            ("outdated", {"entry": "#12", "flag": "no"}),
            ("link", {"identity": "slack:U0123"}),
            ("solved", {"n": 2}),
            ("undo", {"change": "c3"}),
        ):
            await h.feed("INTERACTION_CREATE", dh.slash_command(channel, ALICE, sub, **options))
        days = dh.slash_command(channel, ALICE, "digest")
        days["data"]["options"][0]["options"] = [{"name": "days", "type": 4, "value": 14}]
        await h.feed("INTERACTION_CREATE", days)
    assert seen == [
        'search tag:pandas "read csv"',
        "ask Is dbt worth it?",
        "share kind:resource Pin deps #python",
        "share Use uv",
        "who airflow",
        "stats",
        "help",
        "digest",
        f"thanks <@{BOB[0]}> for #12",
        "profile",
        "retag #12 +polars -pandas",
        "outdated #12 no",
        "link slack:U0123",
        "solved 2",
        "undo c3",
        "digest 14",
    ]


async def test_ask_where_copbot_may_not_send_messages_says_so_and_keeps_no_orphan(
    tmp_path: Path,
) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        h.api.answer(
            "POST",
            f"/channels/{GENERAL}/messages",
            {"message": "Missing Permissions", "code": 50013},
            status=403,
        )
        ask = dh.slash_command(general(), ALICE, "ask", question="Which orchestrator for dbt?")
        await h.feed("INTERACTION_CREATE", ask)
        assert h.core.repertoire.entries(Viewer.operator_including_private()) == []
        [notice] = followups(h, ask)
        assert notice.flags & EPHEMERAL
        assert "could not post your question" in notice.body["content"]
        assert "Missing Permissions" in notice.body["content"]
