"""Discord capture, end to end: gateway payloads through discord.py into a real repertoire.

No real Discord: payloads go through discord.py's own parsers and the bot's
REST calls land on a local fake (see ``tests/discord_harness.py``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.config import CaptureSettings, DiscordSettings, Settings
from knowledge import feedback
from knowledge.models import ChannelRef, Entry, EntryKind, SourceKey
from knowledge.storage import Viewer
from tests import discord_harness as dh

GENERAL = 210
PLATFORM_TEAM = 220  # private: @everyone cannot view it
FORUM = 230
TAG_PANDAS, TAG_POLARS, TAG_SOLVED = 301, 302, 303
ALICE = (11, "Alice")
BOB = (12, "Bob")
CAROL = (13, "Carol")
G = str(dh.GUILD_ID)

EVERYTHING = Viewer.operator_including_private()


def server() -> dict[str, Any]:
    return dh.guild(
        [
            dh.text_channel(GENERAL, "general"),
            dh.text_channel(PLATFORM_TEAM, "platform-team", private=True),
            dh.forum_channel(
                FORUM, "help", {TAG_PANDAS: "pandas", TAG_POLARS: "polars", TAG_SOLVED: "Solved"}
            ),
        ]
    )


def entries(h: dh.Harness) -> list[Entry]:
    return h.core.repertoire.entries(EVERYTHING, order="id")


def entry_for(h: dh.Harness, channel: int, message_id: int) -> list[Entry]:
    return h.core.repertoire.entries_for_message(
        SourceKey("discord", G, str(channel), str(message_id))
    )


async def forum_post(
    h: dh.Harness, title: str, text: str, tags: tuple[int, ...] = (TAG_PANDAS,)
) -> int:
    post = dh.new_id()
    await h.feed("THREAD_CREATE", dh.thread(post, FORUM, title, ALICE[0], applied_tags=tags))
    await h.feed("MESSAGE_CREATE", dh.message(post, post, ALICE, text))
    return post


async def test_forum_post_is_a_question_its_replies_answers_and_solved_tag_accepts(
    tmp_path: Path,
) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        post = await forum_post(h, "Reading a 20 GB CSV", "pandas dies with MemoryError")

        # The bot joined the new post, so its replies reach it.
        assert h.api.calls("PUT", f"/channels/{post}/thread-members/@me")
        [question] = entry_for(h, FORUM, post)
        assert question.kind == EntryKind.QUESTION
        assert question.title == "Reading a 20 GB CSV"
        assert question.tags == ("pandas",)
        assert question.visibility == "public"
        assert question.channel_name == "help"

        bob_reply, alice_reply = dh.new_id(), dh.new_id()
        await h.feed("MESSAGE_CREATE", dh.message(bob_reply, post, BOB, "Use polars scan_csv"))
        await h.feed("MESSAGE_CREATE", dh.message(alice_reply, post, ALICE, "thanks, trying"))
        [answer] = entry_for(h, FORUM, bob_reply)
        assert answer.kind == EntryKind.ANSWER
        assert answer.thread_id == str(post)
        assert h.core.repertoire.thread_root(answer) == h.core.repertoire.get_entry(question.id)

        # The asker applies the "Solved" tag: Bob's answer (not the asker's own) is accepted.
        h.api.clear()
        solved = dh.thread(
            post, FORUM, "Reading a 20 GB CSV", ALICE[0],
            applied_tags=(TAG_PANDAS, TAG_SOLVED), newly_created=False,
        )  # fmt: skip
        await h.feed("THREAD_UPDATE", solved)
        assert entry_for(h, FORUM, bob_reply)[0].accepted
        assert not entry_for(h, FORUM, alice_reply)[0].accepted
        [note] = h.api.calls("POST", f"/channels/{post}/messages")
        assert "Bob" in note.body["content"] and "accepted" in note.body["content"]
        # The solved tag is a state, not a topic.
        assert entry_for(h, FORUM, post)[0].tags == ("pandas",)

        # Tag removed: the post is not solved any more.
        unsolved = dh.thread(
            post, FORUM, "Reading a 20 GB CSV", ALICE[0],
            applied_tags=(TAG_PANDAS, TAG_POLARS), newly_created=False,
        )  # fmt: skip
        await h.feed("THREAD_UPDATE", unsolved)
        assert not entry_for(h, FORUM, bob_reply)[0].accepted
        assert entry_for(h, FORUM, post)[0].tags == ("pandas", "polars")


async def test_text_channel_question_thread_reply_and_accept_reaction(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        question_id = dh.new_id()
        await h.feed(
            "MESSAGE_CREATE",
            dh.message(question_id, GENERAL, ALICE, "How do I retry a failed Airflow task?"),
        )
        chatter = dh.new_id()
        await h.feed("MESSAGE_CREATE", dh.message(chatter, GENERAL, BOB, "lunch at noon"))
        assert [e.kind for e in entries(h)] == [EntryKind.QUESTION]

        # A thread started from the question has the question's id.
        await h.feed("THREAD_CREATE", dh.thread(question_id, GENERAL, "retry Airflow", ALICE[0]))
        reply = dh.new_id()
        await h.feed("MESSAGE_CREATE", dh.message(reply, question_id, BOB, "Set retries=3"))
        [answer] = entry_for(h, GENERAL, reply)
        assert answer.thread_id == str(question_id)

        # Someone else's ✅ is one vote (3 needed); the asker's ✅ accepts at once.
        await h.feed(
            "MESSAGE_REACTION_ADD", dh.reaction(reply, question_id, CAROL[0], CAROL[1], "✅")
        )
        assert not entry_for(h, GENERAL, reply)[0].accepted
        h.api.clear()
        await h.feed(
            "MESSAGE_REACTION_ADD", dh.reaction(reply, question_id, ALICE[0], ALICE[1], "✅")
        )
        assert entry_for(h, GENERAL, reply)[0].accepted
        # The "accepted" note goes into the thread, the thread being a channel of its own.
        [note] = h.api.calls("POST", f"/channels/{question_id}/messages")
        assert "accepted" in note.body["content"]
        assert note.body["allowed_mentions"]["parse"] == []

        # Removing the asker's reaction recomputes.
        await h.feed(
            "MESSAGE_REACTION_REMOVE", dh.reaction(reply, question_id, ALICE[0], ALICE[1], "✅")
        )
        assert not entry_for(h, GENERAL, reply)[0].accepted


async def test_private_channel_entries_stay_in_that_channel(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        secret = dh.new_id()
        await h.feed(
            "MESSAGE_CREATE",
            dh.message(secret, PLATFORM_TEAM, ALICE, "How do we rotate the kafka credentials?"),
        )
        [entry] = entry_for(h, PLATFORM_TEAM, secret)
        assert entry.visibility == "private"

        public = dh.new_id()
        await h.feed(
            "MESSAGE_CREATE", dh.message(public, GENERAL, BOB, "How do we rotate kafka topics?")
        )
        assert entry_for(h, GENERAL, public)[0].visibility == "public"

        # A thread under the private channel is private too.
        await h.feed("THREAD_CREATE", dh.thread(secret, PLATFORM_TEAM, "rotate", ALICE[0]))
        reply = dh.new_id()
        await h.feed("MESSAGE_CREATE", dh.message(reply, secret, BOB, "vault does it for us"))
        assert entry_for(h, PLATFORM_TEAM, reply)[0].visibility == "private"

        from knowledge.query import parse_query
        from knowledge.search import search

        query = parse_query("kafka")
        seen_from_general = search(h.core.repertoire, query, ChannelRef("discord", G, str(GENERAL)))
        seen_from_team = search(
            h.core.repertoire, query, ChannelRef("discord", G, str(PLATFORM_TEAM))
        )
        assert [hit.entry.source.message_id for hit in seen_from_general] == [str(public)]
        assert {hit.entry.source.message_id for hit in seen_from_team} == {
            str(public),
            str(secret),
        }


async def test_direct_messages_are_not_captured(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        dm_channel = 555
        await h.feed(
            "MESSAGE_CREATE",
            dh.message(dh.new_id(), dm_channel, ALICE, "How do I leave the team?", guild_id=None),
        )
        assert entries(h) == []


async def test_edits_and_deletes_of_uncached_messages_after_a_restart(tmp_path: Path) -> None:
    post = dh.new_id()
    answer = dh.new_id()
    question = dh.new_id()
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        await h.feed(
            "THREAD_CREATE", dh.thread(post, FORUM, "Parquet vs CSV", ALICE[0], applied_tags=())
        )
        await h.feed("MESSAGE_CREATE", dh.message(post, post, ALICE, "which one for 1 TB?"))
        await h.feed("MESSAGE_CREATE", dh.message(answer, post, BOB, "parquet, always"))
        await h.feed(
            "MESSAGE_CREATE", dh.message(question, GENERAL, CAROL, "Why is my DAG paused?")
        )
        assert len(entries(h)) == 3

    # A new process: nothing cached, and the post is archived, so not in the guild either.
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        assert h.client.get_channel(post) is None
        archived = dh.thread(post, FORUM, "Parquet vs CSV", ALICE[0], newly_created=False)
        archived["thread_metadata"]["archived"] = True
        h.api.answer("GET", f"/channels/{post}", archived)

        edited_at = dh.NOW + timedelta(hours=2)
        await h.feed(
            "MESSAGE_UPDATE",
            dh.message(answer, post, BOB, "parquet, always (zstd)", edited=edited_at),
        )
        [updated] = entry_for(h, FORUM, answer)
        assert updated.text == "parquet, always (zstd)"
        assert updated.updated_at == edited_at
        assert h.api.calls("GET", f"/channels/{post}")  # located through the API

        # An update that is not an edit (e.g. a link preview resolving) changes nothing.
        await h.feed("MESSAGE_UPDATE", dh.message(question, GENERAL, CAROL, "something else"))
        assert entry_for(h, GENERAL, question)[0].text == "Why is my DAG paused?"

        # The forum starter message is edited: the question follows.
        await h.feed(
            "MESSAGE_UPDATE",
            dh.message(post, post, ALICE, "which one for 2 TB?", edited=edited_at),
        )
        assert entry_for(h, FORUM, post)[0].text == "which one for 2 TB?"

        await h.feed(
            "MESSAGE_DELETE",
            {"id": str(answer), "channel_id": str(post), "guild_id": G},
        )
        await h.feed(
            "MESSAGE_DELETE",
            {"id": str(question), "channel_id": str(GENERAL), "guild_id": G},
        )
        assert entry_for(h, FORUM, answer) == []
        assert entry_for(h, GENERAL, question) == []
        assert h.core.repertoire.answers_for(entry_for(h, FORUM, post)[0]) == []


async def test_deleting_a_forum_post_removes_its_question(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        post = await forum_post(h, "Spark shuffle spill", "why does it spill so much?")
        assert entry_for(h, FORUM, post)
        await h.feed(
            "THREAD_DELETE",
            {"id": str(post), "guild_id": G, "parent_id": str(FORUM), "type": 11},
        )
        assert entry_for(h, FORUM, post) == []


async def test_save_reaction_on_an_unknown_message_fetches_it_and_confirms_by_dm(
    tmp_path: Path,
) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        post = await forum_post(h, "dbt tips?", "what are your dbt tips?")
        tip = dh.new_id()
        # The tip was posted while the bot was down: the core has never seen it.
        h.api.answer(
            "GET",
            f"/channels/{post}/messages/{tip}",
            dh.message(tip, post, BOB, "Use dbt build --select state:modified+ in CI #dbt"),
        )
        await h.feed("MESSAGE_REACTION_ADD", dh.reaction(tip, post, CAROL[0], CAROL[1], "📌"))

        knowhow = [e for e in entry_for(h, FORUM, tip) if e.kind == EntryKind.KNOWHOW]
        assert len(knowhow) == 1
        assert knowhow[0].author_name == "Bob"
        assert "dbt" in knowhow[0].tags
        assert knowhow[0].thread_id == str(post)
        # Discord has no ephemeral message outside an interaction: the saver gets a DM.
        [open_dm] = h.api.calls("POST", "/users/@me/channels")
        assert int(open_dm.body["recipient_id"]) == CAROL[0]
        dm_id = int(CAROL[0]) + 7
        [confirmation] = h.api.calls("POST", f"/channels/{dm_id}/messages")
        assert "Saved" in confirmation.body["content"]


async def test_configured_solved_tag_names_and_reactions(tmp_path: Path) -> None:
    settings = Settings(
        database=str(tmp_path / "copbot.db"),
        discord=DiscordSettings(solved_tags=("answered",)),
        capture=CaptureSettings(accept_reaction="heavy_check_mark"),
    )
    async with dh.running(tmp_path, settings) as h:
        h.add_guild(
            dh.guild([dh.forum_channel(FORUM, "help", {TAG_SOLVED: "Solved", 304: "Answered"})])
        )
        post = await forum_post(h, "Kafka lag", "how to read consumer lag?", tags=())
        reply = dh.new_id()
        await h.feed("MESSAGE_CREATE", dh.message(reply, post, BOB, "kafka-consumer-groups"))
        # "Solved" is not configured here: it is a plain tag and accepts nothing.
        await h.feed(
            "THREAD_UPDATE",
            dh.thread(post, FORUM, "Kafka lag", ALICE[0], applied_tags=(TAG_SOLVED,),
                      newly_created=False),
        )  # fmt: skip
        assert not entry_for(h, FORUM, reply)[0].accepted
        assert entry_for(h, FORUM, post)[0].tags == ("solved",)
        # ✅ is not the configured reaction either; ✔️ is.
        await h.feed("MESSAGE_REACTION_ADD", dh.reaction(reply, post, ALICE[0], ALICE[1], "✅"))
        assert not entry_for(h, FORUM, reply)[0].accepted
        await h.feed("MESSAGE_REACTION_ADD", dh.reaction(reply, post, ALICE[0], ALICE[1], "✔️"))
        assert entry_for(h, FORUM, reply)[0].accepted


async def test_a_purge_deletes_every_message_in_it(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        first, second, kept = dh.new_id(), dh.new_id(), dh.new_id()
        for mid, text in (
            (first, "How do I do A?"),
            (second, "How do I do B?"),
            (kept, "How do I do C?"),
        ):
            await h.feed("MESSAGE_CREATE", dh.message(mid, GENERAL, ALICE, text))
        await h.feed(
            "MESSAGE_DELETE_BULK",
            {"ids": [str(first), str(second)], "channel_id": str(GENERAL), "guild_id": G},
        )
        assert [e.source.message_id for e in entries(h)] == [str(kept)]


async def test_solved_tag_on_a_post_not_in_the_cache_still_accepts(tmp_path: Path) -> None:
    post, answer = dh.new_id(), dh.new_id()
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        await h.feed("THREAD_CREATE", dh.thread(post, FORUM, "Flaky CI", ALICE[0]))
        await h.feed("MESSAGE_CREATE", dh.message(post, post, ALICE, "why is CI flaky?"))
        await h.feed("MESSAGE_CREATE", dh.message(answer, post, BOB, "pin the runner image"))

    async with dh.running(tmp_path) as h:  # restarted: the post is not cached
        h.add_guild(server())
        update = dh.thread(
            post, FORUM, "Flaky CI (fixed)", ALICE[0],
            applied_tags=(TAG_SOLVED, TAG_POLARS), newly_created=False,
        )  # fmt: skip
        await h.feed("THREAD_UPDATE", update)
        assert entry_for(h, FORUM, answer)[0].accepted
        question = entry_for(h, FORUM, post)[0]
        assert question.tags == ("polars",)
        assert question.title == "Flaky CI (fixed)"

        # Repeating the same update (Discord sends one per archive, rename, ...) changes nothing.
        h.api.clear()
        await h.feed("THREAD_UPDATE", update)
        assert entry_for(h, FORUM, answer)[0].accepted
        assert h.api.calls("POST", f"/channels/{post}/messages") == []


async def test_a_private_thread_is_a_private_channel_of_its_own(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        secret_thread = dh.new_id()
        await h.feed(
            "THREAD_CREATE",
            dh.thread(secret_thread, GENERAL, "salary talk", ALICE[0], private=True),
        )
        # A private thread gets no automatic join: its members must add the bot.
        assert h.api.calls("PUT", f"/channels/{secret_thread}/thread-members") == []
        said = dh.new_id()
        await h.feed(
            "MESSAGE_CREATE",
            dh.message(said, secret_thread, ALICE, "How do we negotiate the contractor rates?"),
        )
        [entry] = entry_for(h, secret_thread, said)
        assert entry.visibility == "private"
        assert entry.channel_name == "salary talk"

        from knowledge.query import parse_query
        from knowledge.search import search

        query = parse_query("contractor rates")
        assert search(h.core.repertoire, query, ChannelRef("discord", G, str(GENERAL))) == []
        inside = search(h.core.repertoire, query, ChannelRef("discord", G, str(secret_thread)))
        assert [hit.entry.id for hit in inside] == [entry.id]


async def test_messages_missed_while_away_are_caught_up_from_the_read_mark(
    tmp_path: Path,
) -> None:
    seen, missed_question, missed_chatter = dh.new_id(), dh.new_id(), dh.new_id()
    async with dh.running(tmp_path) as h:
        h.add_guild(server())
        await h.feed("MESSAGE_CREATE", dh.message(seen, GENERAL, ALICE, "How do I pin numpy?"))
    async with dh.running(tmp_path) as h:  # restarted; two messages were said meanwhile
        h.add_guild(server())
        h.api.said(GENERAL, dh.message(missed_chatter, GENERAL, BOB, "lunch anyone"))
        h.api.said(GENERAL, dh.message(missed_question, GENERAL, BOB, "How do I vendor a wheel?"))
        assert (await h.adapter.catch_up()).messages == 2
        [history] = h.api.calls("GET", f"/channels/{GENERAL}/messages")
        assert history.query["after"] == str(seen)
        assert [e.source.message_id for e in entries(h)] == [str(seen), str(missed_question)]
        again = await h.adapter.catch_up()  # a second READY: nothing new is made
        assert again.messages == 0 and len(entries(h)) == 2


async def test_a_suggestion_is_posted_and_its_message_known_for_reaction_feedback(
    tmp_path: Path,
) -> None:
    settings = Settings.model_validate(
        {"database": str(tmp_path / "copbot.db"), "similar": {"min_confidence": 0.0}}
    )
    old_q, old_a, new_q = dh.new_id(), dh.new_id(), dh.new_id()
    async with dh.running(tmp_path, settings) as h:
        h.add_guild(server())
        await h.feed("MESSAGE_CREATE", dh.message(old_q, GENERAL, ALICE, "How do I pin numpy?"))
        await h.feed("THREAD_CREATE", dh.thread(old_q, GENERAL, "pin numpy", ALICE[0]))
        await h.feed("MESSAGE_CREATE", dh.message(old_a, old_q, BOB, "Use a constraints file"))
        await h.feed("MESSAGE_REACTION_ADD", dh.reaction(old_a, old_q, *ALICE, "✅"))
        assert entry_for(h, GENERAL, old_a)[0].accepted
        await h.feed(
            "MESSAGE_CREATE", dh.message(new_q, GENERAL, CAROL, "How can I pin numpy versions?")
        )
        posts = [r for r in h.api.calls("POST", "/channels/") if r.path.endswith("/messages")]
        [suggestion] = [r for r in posts if "answered before" in json.dumps(r.body)]
        assert suggestion.path == f"/channels/{GENERAL}/messages"  # a reply to the question
        repertoire = h.core.repertoire
        posted = feedback.suggestion_in_thread(
            repertoire, SourceKey("discord", G, str(GENERAL), str(new_q))
        )
        assert posted is not None
        message_id = posted.message_id
        assert message_id is not None and int(message_id) in h.api.sent
        # Buttons under it: "Solved it" and "Not related"; a click is feedback for the core.
        [row] = suggestion.body["components"]
        ids = [c["custom_id"] for c in row["components"]]
        assert [i.split(":")[2] for i in ids] == ["solved_it", "not_related"]
        shown = h.api.sent[int(message_id)]
        click = dh.button_click(dh.text_channel(GENERAL, "general"), CAROL, ids[1], shown)
        await h.feed("INTERACTION_CREATE", click)
        for entry_id in posted.entry_ids:  # a not-related verdict for each suggestion shown
            voted = feedback.voters(repertoire, posted.question_id, entry_id, feedback.NOT_RELATED)
            assert voted == {str(CAROL[0])}
            solved = feedback.voters(repertoire, posted.question_id, entry_id, feedback.SOLVED_IT)
            assert solved == set()


MEMBER_ROLE = 500
GATED = 250


async def test_a_server_gating_channels_behind_a_member_role_can_name_it_everyone(
    tmp_path: Path,
) -> None:
    """@everyone sees nothing until verified; a "Member" role sees the community channels."""
    roles = [
        dh.role(dh.EVERYONE, "@everyone", 0),
        dh.role(MEMBER_ROLE, "Member", dh.VIEW_CHANNEL),
    ]
    staff_only = dh.text_channel(GATED, "staff")
    staff_only["permission_overwrites"] = [
        {"id": str(MEMBER_ROLE), "type": 0, "allow": "0", "deny": str(dh.VIEW_CHANNEL)}
    ]
    server = dh.guild([dh.text_channel(GENERAL, "general"), staff_only], roles=roles)
    for everyone_roles, expected in (((), "private"), (("member",), "public"), ((500,), "public")):
        run_dir = tmp_path / f"{expected}-{everyone_roles}"
        run_dir.mkdir()
        settings = Settings(
            database=str(run_dir / "copbot.db"),
            discord=DiscordSettings(everyone_roles=tuple(everyone_roles)),
        )
        async with dh.running(run_dir, settings) as h:
            h.add_guild(server)
            asked, staff = dh.new_id(), dh.new_id()
            await h.feed(
                "MESSAGE_CREATE", dh.message(asked, GENERAL, ALICE, "How do I join the guild?")
            )
            await h.feed("MESSAGE_CREATE", dh.message(staff, GATED, BOB, "How do we ban a bot?"))
            assert entry_for(h, GENERAL, asked)[0].visibility == expected
            assert entry_for(h, GATED, staff)[0].visibility == "private"
