"""One way to drive every adapter, for the adapter contract suite.

Each driver speaks to a real adapter the way its platform would: the terminal
chat by typed lines over its transcript; Slack through the real Bolt app with
signed requests and the fake Web API (``slack_harness``); Discord through
discord.py's own gateway parsers and the fake REST API (``discord_harness``).
They share one vocabulary (channels ``public``, ``other``, ``private``; members
``asker``, ``answerer``, ``voter``, ``saver``) and report what a member saw as
:class:`Shown` values, so ``tests/test_adapter_contract.py`` states each
behaviour once for all platforms. A new platform passes the contract when a
driver for it passes that suite.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pytest
from slack_harness import BOT_TOKEN, SIGNING_SECRET, TEAM, harness_for, running_fake_slack

from adapters.console import ConsoleChat, Transcript
from adapters.console_history import record_reaction
from bot.app import build_core, command_registry
from bot.config import Settings
from bot.core import Core
from bot.ports import FixedClock
from bot.runtime import AsyncCore
from knowledge.models import Entry
from tests import discord_harness as dh

CHANNELS = ("public", "other", "private")
MEMBERS = ("asker", "answerer", "voter", "saver")
ACCEPT, SAVE = "accept", "save"


@dataclass(frozen=True)
class Shown:
    """Something copbot showed: its whole text, and whether only one member saw it."""

    text: str
    private: bool


class Driver(Protocol):
    name: str
    core: Core
    #: How many messages make more than one page of this platform's history.
    past_one_page: int

    async def say(self, channel: str, member: str, text: str, thread: str | None = None) -> str: ...
    async def edit(self, channel: str, mid: str, member: str, text: str) -> None: ...
    async def delete(self, channel: str, mid: str) -> None: ...
    async def react(self, channel: str, mid: str, member: str, emoji: str) -> None: ...
    async def mark_solution(self, channel: str, mid: str, member: str) -> list[Shown]: ...
    async def save(self, channel: str, mid: str, member: str) -> list[Shown]: ...
    async def command(self, channel: str, member: str, text: str) -> list[Shown]: ...
    async def share(self, channel: str, member: str, entry_id: int) -> list[Shown]: ...
    async def dm(self, member: str, text: str) -> str: ...
    async def said_away(
        self,
        channel: str,
        member: str,
        text: str,
        thread: str | None = None,
        reactions: dict[str, list[str]] | None = None,
    ) -> str: ...
    async def archive(self, channel: str, thread: str) -> None: ...
    async def catch_up(self) -> None: ...


def entries(driver: Driver) -> list[Entry]:
    return driver.core.repertoire.list_entries(order="e.id")


def entry(driver: Driver, mid: str) -> Entry | None:
    found = driver.core.repertoire.list_entries("e.message_id = ?", [mid])
    return found[0] if found else None


# --------------------------------------------------------------------------- the terminal


class ConsoleDriver:
    name = "console"
    past_one_page = 12  # pages of 5 below

    def __init__(self, core: Core, path: Path) -> None:
        self.core = core
        self.async_core = AsyncCore(core)
        self.transcript = Transcript(path)
        self.out = io.StringIO()
        self.chat = ConsoleChat(self.async_core, self.transcript, self.out)
        self.chat.catchup.reader.page_size = 5  # type: ignore[attr-defined]
        self.places = {
            "public": self.chat._channel("data-help", False),
            "other": self.chat._channel("random", False),
            "private": self.chat._channel("platform-team", True),
        }
        self.people = {m: self.chat._member(m.capitalize()) for m in MEMBERS}

    def close(self) -> None:
        self.async_core.close()
        self.transcript.close()

    async def _line(self, channel: str | None, member: str, line: str) -> str:
        if channel is not None:
            self.chat.here = self.places[channel]
        self.chat.me = self.people[member]
        start = self.out.tell()
        await self.chat.handle_line(line)
        return self.out.getvalue()[start:]

    def _shown(self, printed: str) -> list[Shown]:
        found = []
        for block in re.split(r"\n(?=\(only you can see this\)|\s*\[m\d+\] )", printed):
            if "(only you can see this) copbot:" in block:
                found.append(Shown(block, private=True))
            elif re.match(r"\s*\[m\d+\] copbot:", block):
                found.append(Shown(block, private=False))
        return found

    async def say(self, channel: str, member: str, text: str, thread: str | None = None) -> str:
        line = f"/reply {thread} {text}" if thread else text
        printed = await self._line(channel, member, line)
        match = re.search(r"\[(m\d+)\] " + re.escape(self.people[member].display_name), printed)
        assert match, printed
        return match.group(1)

    async def edit(self, channel: str, mid: str, member: str, text: str) -> None:
        await self._line(channel, member, f"/edit {mid} {text}")

    async def delete(self, channel: str, mid: str) -> None:
        await self._line(channel, "asker", f"/delete {mid}")

    async def react(self, channel: str, mid: str, member: str, emoji: str) -> None:
        await self._line(channel, member, f"/react {mid} {'✅' if emoji == ACCEPT else '📌'}")

    async def mark_solution(self, channel: str, mid: str, member: str) -> list[Shown]:
        return self._shown(await self._line(channel, member, f"/accept {mid}"))

    async def save(self, channel: str, mid: str, member: str) -> list[Shown]:
        return self._shown(await self._line(channel, member, f"/save {mid}"))

    async def command(self, channel: str, member: str, text: str) -> list[Shown]:
        return self._shown(await self._line(channel, member, f"/cop {text}"))

    async def share(self, channel: str, member: str, entry_id: int) -> list[Shown]:
        return self._shown(await self._line(channel, member, f"/share {entry_id}"))

    async def dm(self, member: str, text: str) -> str:
        await self._line(None, member, "/dm")
        printed = await self._line(None, member, text)
        match = re.search(r"\[(m\d+)\]", printed)
        assert match, printed
        return match.group(1)

    async def said_away(
        self,
        channel: str,
        member: str,
        text: str,
        thread: str | None = None,
        reactions: dict[str, list[str]] | None = None,
    ) -> str:
        said = self.transcript.write(
            self.places[channel].channel, self.people[member].user_id, text, thread
        )
        for emoji, members in (reactions or {}).items():
            for who in members:
                mark = "✅" if emoji == ACCEPT else "📌"
                record_reaction(
                    self.transcript, said.message_id, self.people[who].user_id, mark, True
                )
        return said.message_id

    async def archive(self, channel: str, thread: str) -> None:
        """The console keeps no thread state: an old thread is simply old."""

    async def catch_up(self) -> None:
        await self.chat.catch_up()


# --------------------------------------------------------------------------- Slack

SLACK_CHANNELS = {"public": "C0PUBLIC", "other": "C0OTHER", "private": "C0SECRET"}
SLACK_MEMBERS = {"asker": "U0ASK", "answerer": "U0ANS", "voter": "U0VOTE", "saver": "U0SAVE"}
SLACK_EMOJI = {ACCEPT: "white_check_mark", SAVE: "pushpin"}


class SlackDriver:
    name = "slack"
    past_one_page = 40  # Slack gives some apps 15 a page: page_cap below

    def __init__(self, harness: Any) -> None:
        self.h = harness
        self.fake = harness.fake
        self.fake.page_cap = 15
        self.core = harness.core
        self._ts = 1_800_000_000.0

    def _next_ts(self) -> str:
        self._ts += 1
        return f"{self._ts:.6f}"

    def _keep(self, channel: str, member: str, text: str, ts: str, thread: str | None) -> None:
        """Slack keeps every message: history is read from here."""
        message: dict[str, Any] = {"type": "message", "user": member, "text": text, "ts": ts}
        if thread:
            message["thread_ts"] = thread
            root = self.fake.messages.get((channel, thread))
            if root is not None:
                root["thread_ts"] = thread
                root["reply_count"] = int(root.get("reply_count", 0)) + 1
        self.fake.messages[(channel, ts)] = message

    def _since(self, start: int) -> list[Shown]:
        shown = []
        for call in self.fake.calls[start:]:
            if call.status != 200:
                continue
            text = str(call.params.get("text", "")) + json.dumps(
                call.params.get("blocks", []), ensure_ascii=False
            )
            if call.method == "chat.postEphemeral":
                shown.append(Shown(text, private=True))
            elif call.method == "chat.postMessage":
                to_member = str(call.params.get("channel", "")).startswith("U")
                shown.append(Shown(text, private=to_member))
            elif call.method == "response_url":
                shown.append(Shown(text, private=call.params.get("response_type") != "in_channel"))
        return shown

    async def say(self, channel: str, member: str, text: str, thread: str | None = None) -> str:
        ts, place = self._next_ts(), SLACK_CHANNELS[channel]
        self._keep(place, SLACK_MEMBERS[member], text, ts, thread)
        await self.h.message(place, SLACK_MEMBERS[member], text, ts, thread_ts=thread)
        return ts

    async def edit(self, channel: str, mid: str, member: str, text: str) -> None:
        place, user = SLACK_CHANNELS[channel], SLACK_MEMBERS[member]
        old = dict(self.fake.messages[(place, mid)])
        self.fake.messages[(place, mid)]["text"] = text
        edited = {**old, "text": text, "edited": {"user": user, "ts": self._next_ts()}}
        await self.h.event(
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": place,
                "channel_type": "channel",
                "hidden": True,
                "message": edited,
                "previous_message": old,
                "event_ts": edited["edited"]["ts"],
            }
        )

    async def delete(self, channel: str, mid: str) -> None:
        place = SLACK_CHANNELS[channel]
        old = self.fake.messages.pop((place, mid))
        ts = self._next_ts()
        await self.h.event(
            {
                "type": "message",
                "subtype": "message_deleted",
                "channel": place,
                "channel_type": "channel",
                "hidden": True,
                "deleted_ts": mid,
                "ts": ts,
                "event_ts": ts,
                "previous_message": old,
            }
        )

    async def react(self, channel: str, mid: str, member: str, emoji: str) -> None:
        place, name, user = SLACK_CHANNELS[channel], SLACK_EMOJI[emoji], SLACK_MEMBERS[member]
        message = self.fake.messages[(place, mid)]
        message.setdefault("reactions", []).append({"name": name, "users": [user], "count": 1})
        await self.h.react(place, user, mid, name, item_user=str(message.get("user", "")))

    def _shortcut(self, callback: str, channel: str, mid: str, member: str) -> dict[str, Any]:
        place = SLACK_CHANNELS[channel]
        message = dict(self.fake.messages[(place, mid)])
        return {
            "type": "message_action",
            "callback_id": callback,
            "trigger_id": f"trigger.{self._next_ts()}",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": SLACK_MEMBERS[member], "team_id": TEAM},
            "channel": {"id": place, "name": channel},
            "message_ts": mid,
            "message": message,
            "response_url": f"{self.fake.url}/response/shortcut",
        }

    async def mark_solution(self, channel: str, mid: str, member: str) -> list[Shown]:
        start = len(self.fake.calls)
        await self.h.interactive(self._shortcut("copbot_accept", channel, mid, member))
        return self._since(start)

    async def save(self, channel: str, mid: str, member: str) -> list[Shown]:
        start = len(self.fake.calls)
        await self.h.interactive(self._shortcut("copbot_save", channel, mid, member))
        view = self.fake.of("views.open")[-1]["view"]
        await self.h.interactive(
            {
                "type": "view_submission",
                "team": {"id": TEAM, "domain": "acme"},
                "user": {"id": SLACK_MEMBERS[member], "team_id": TEAM},
                "trigger_id": "trigger.submit",
                "view": {
                    "id": f"V{self._next_ts()}",
                    "type": "modal",
                    "callback_id": view["callback_id"],
                    "private_metadata": view["private_metadata"],
                    "state": {"values": {}},
                },
            }
        )
        return self._since(start)

    async def command(self, channel: str, member: str, text: str) -> list[Shown]:
        start = len(self.fake.calls)
        await self.h.command(SLACK_CHANNELS[channel], SLACK_MEMBERS[member], text)
        return self._since(start)

    async def share(self, channel: str, member: str, entry_id: int) -> list[Shown]:
        start = len(self.fake.calls)
        await self.h.interactive(
            {
                "type": "block_actions",
                "team": {"id": TEAM, "domain": "acme"},
                "user": {"id": SLACK_MEMBERS[member], "team_id": TEAM},
                "channel": {"id": SLACK_CHANNELS[channel], "name": channel},
                "container": {"type": "message", "is_ephemeral": True},
                "trigger_id": "trigger.share",
                "response_url": f"{self.fake.url}/response/share",
                "actions": [
                    {
                        "action_id": "copbot_share",
                        "block_id": "b1",
                        "type": "button",
                        "value": str(entry_id),
                        "action_ts": self._next_ts(),
                    }
                ],
            }
        )
        return self._since(start)

    async def dm(self, member: str, text: str) -> str:
        ts = self._next_ts()
        self._keep("D0DM", SLACK_MEMBERS[member], text, ts, None)
        await self.h.message("D0DM", SLACK_MEMBERS[member], text, ts)
        return ts

    async def said_away(
        self,
        channel: str,
        member: str,
        text: str,
        thread: str | None = None,
        reactions: dict[str, list[str]] | None = None,
    ) -> str:
        ts, place = self._next_ts(), SLACK_CHANNELS[channel]
        self._keep(place, SLACK_MEMBERS[member], text, ts, thread)
        message = self.fake.messages[(place, ts)]
        for emoji, members in (reactions or {}).items():
            users = [SLACK_MEMBERS[m] for m in members]
            message.setdefault("reactions", []).append(
                {"name": SLACK_EMOJI[emoji], "users": users, "count": len(users)}
            )
        return ts

    async def archive(self, channel: str, thread: str) -> None:
        """Slack threads are never archived: an old one is simply old."""

    async def catch_up(self) -> None:
        report = await self.h.adapter.catch_up()
        assert report.failures == 0


# --------------------------------------------------------------------------- Discord

DISCORD_CHANNELS = {"public": 210, "other": 230, "private": 220}
DISCORD_MEMBERS = {"asker": (11, "Asker"), "answerer": (12, "Answerer"), "voter": (13, "Voter")}
DISCORD_MEMBERS["saver"] = (14, "Saver")
DISCORD_EMOJI = {ACCEPT: "✅", SAVE: "📌"}
DM_CHANNEL = 777


class DiscordDriver:
    name = "discord"
    past_one_page = 120  # Discord gives at most 100 messages a request

    def __init__(self, harness: dh.Harness) -> None:
        self.h = harness
        self.api = harness.api
        self.core = harness.core
        #: message id -> (Discord channel id holding it, author, text)
        self.messages: dict[str, tuple[int, tuple[int, str], str]] = {}
        self.threads: dict[int, dict[str, Any]] = {}  # root id -> thread payload (active)
        self.h.add_guild(self._guild())

    def _channel(self, name: str) -> dict[str, Any]:
        return dh.text_channel(DISCORD_CHANNELS[name], name, private=name == "private")

    def _guild(self) -> dict[str, Any]:
        return dh.guild([self._channel(c) for c in CHANNELS], list(self.threads.values()))

    def _since(self, start: int) -> list[Shown]:
        shown = []
        for request in self.api.requests[start:]:
            if request.method != "POST":
                continue
            body = request.body if isinstance(request.body, dict) else {}
            if request.path.endswith("/callback"):
                if body.get("type") != 4:
                    continue  # a deferral: nothing shown yet
                body = body.get("data") or {}
            text = str(body.get("content") or "") + json.dumps(
                body.get("embeds") or [], ensure_ascii=False
            )
            if request.path.startswith("/webhooks/") or request.path.endswith("/callback"):
                shown.append(Shown(text, private=bool(request.flags & 64)))
            elif request.path.startswith("/channels/") and request.path.endswith("/messages"):
                channel_id = int(request.path.split("/")[2])
                private = (
                    channel_id not in DISCORD_CHANNELS.values() and channel_id not in self.threads
                )
                shown.append(Shown(text, private=private))
        return shown

    async def _thread_for(self, channel: str, root: str) -> int:
        """The thread under ``root`` (opened the first time someone replies)."""
        root_id = int(root)
        if root_id not in self.threads:
            payload = dh.thread(root_id, DISCORD_CHANNELS[channel], "thread", 11)
            self.threads[root_id] = payload
            self.api.channels[root_id] = payload
            await self.h.feed("THREAD_CREATE", payload)
        return root_id

    def _keep(self, where: int, message: dict[str, Any]) -> None:
        self.api.said(where, message)
        if where in self.threads:
            self.threads[where]["last_message_id"] = message["id"]

    async def say(self, channel: str, member: str, text: str, thread: str | None = None) -> str:
        where = await self._thread_for(channel, thread) if thread else DISCORD_CHANNELS[channel]
        mid = dh.new_id()
        who = DISCORD_MEMBERS[member]
        payload = dh.message(mid, where, who, text)
        self._keep(where, json.loads(json.dumps(payload)))
        self.messages[str(mid)] = (where, who, text)
        await self.h.feed("MESSAGE_CREATE", payload)
        return str(mid)

    async def edit(self, channel: str, mid: str, member: str, text: str) -> None:
        where, who, _old = self.messages[mid]
        edited = dh.message(int(mid), where, who, text, edited=datetime.now(UTC))
        await self.h.feed("MESSAGE_UPDATE", edited)

    async def delete(self, channel: str, mid: str) -> None:
        where, _who, _text = self.messages.pop(mid)
        payload = {"id": mid, "channel_id": str(where), "guild_id": str(dh.GUILD_ID)}
        await self.h.feed("MESSAGE_DELETE", payload)

    async def react(self, channel: str, mid: str, member: str, emoji: str) -> None:
        where, _who, _text = self.messages[mid]
        user_id, name = DISCORD_MEMBERS[member]
        payload = dh.reaction(int(mid), where, user_id, name, DISCORD_EMOJI[emoji])
        await self.h.feed("MESSAGE_REACTION_ADD", payload)

    def _target(self, mid: str) -> tuple[dict[str, Any], dict[str, Any]]:
        where, who, text = self.messages[mid]
        channel = self.threads.get(where) or dh.text_channel(where, "x")
        if where in DISCORD_CHANNELS.values():
            name = next(n for n, i in DISCORD_CHANNELS.items() if i == where)
            channel = self._channel(name)
        return channel, dh.message(int(mid), where, who, text)

    async def _interaction(self, payload: dict[str, Any]) -> list[Shown]:
        start = len(self.api.requests)
        await self.h.feed("INTERACTION_CREATE", payload)
        return self._since(start)

    async def mark_solution(self, channel: str, mid: str, member: str) -> list[Shown]:
        place, target = self._target(mid)
        who = DISCORD_MEMBERS[member]
        return await self._interaction(dh.message_command(place, who, target, "Mark solution"))

    async def save(self, channel: str, mid: str, member: str) -> list[Shown]:
        place, target = self._target(mid)
        who = DISCORD_MEMBERS[member]
        return await self._interaction(dh.message_command(place, who, target, "Save to repertoire"))

    async def command(self, channel: str, member: str, text: str) -> list[Shown]:
        registry = command_registry()
        first, _, rest = text.partition(" ")
        spec = registry.get(first) or registry.get("search")
        assert spec is not None
        rest = rest if spec.name == first else text
        options = {spec.params[0].name: rest} if spec.params and rest else {}
        payload = dh.slash_command(
            self._channel(channel), DISCORD_MEMBERS[member], spec.name, **options
        )
        return await self._interaction(payload)

    async def share(self, channel: str, member: str, entry_id: int) -> list[Shown]:
        custom_id = f"copbot:share:{entry_id}"
        shown = dh.message(dh.new_id(), DISCORD_CHANNELS[channel], (dh.BOT_ID, "copbot"), "")
        button = {"type": 2, "style": 1, "label": "Share", "custom_id": custom_id}
        shown["components"] = [{"type": 1, "components": [button]}]
        click = dh.button_click(self._channel(channel), DISCORD_MEMBERS[member], custom_id, shown)
        return await self._interaction(click)

    async def dm(self, member: str, text: str) -> str:
        mid = dh.new_id()
        who = DISCORD_MEMBERS[member]
        await self.h.feed("MESSAGE_CREATE", dh.message(mid, DM_CHANNEL, who, text, guild_id=None))
        return str(mid)

    async def said_away(
        self,
        channel: str,
        member: str,
        text: str,
        thread: str | None = None,
        reactions: dict[str, list[str]] | None = None,
    ) -> str:
        where = DISCORD_CHANNELS[channel]
        if thread:
            root = int(thread)
            if root not in self.threads and root not in self.api.channels:
                payload = dh.thread(root, where, "thread", 11, newly_created=False)
                self.threads[root] = payload
                self.api.channels[root] = payload
            where = root
        mid = dh.new_id()
        who = DISCORD_MEMBERS[member]
        users = {
            DISCORD_EMOJI[e]: [DISCORD_MEMBERS[m] for m in ms]
            for e, ms in (reactions or {}).items()
        }
        self.api.said(where, dh.message(mid, where, who, text), users)
        if where in self.threads:
            self.threads[where]["last_message_id"] = str(mid)
        self.messages[str(mid)] = (where, who, text)
        return str(mid)

    async def archive(self, channel: str, thread: str) -> None:
        """Discord archives an idle thread: it leaves the active list (and the cache)."""
        payload = self.threads.pop(int(thread))
        payload["thread_metadata"].update(
            archived=True, archive_timestamp=datetime.now(UTC).isoformat()
        )
        self.api.archived.setdefault(DISCORD_CHANNELS[channel], []).append(payload)

    async def catch_up(self) -> None:
        # A new session: Discord sends the server again (active threads included), then READY.
        self.h.add_guild(self._guild())
        report = await self.h.adapter.catch_up()
        assert report.failures == 0


# --------------------------------------------------------------------------- the fixture


@asynccontextmanager
async def driving(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Driver]:
    """A driver over a fresh repertoire for the platform ``name``."""
    settings = Settings(database=str(tmp_path / "copbot.db"))
    if name == "console":
        core = build_core(settings, tmp_path / "copbot.db", clock=FixedClock(dh.NOW))
        driver = ConsoleDriver(core, tmp_path / "copbot.db")
        try:
            yield driver
        finally:
            driver.close()
            core.services.repertoire.close()
    elif name == "slack":
        monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
        monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        async with running_fake_slack() as fake, harness_for(fake, tmp_path, settings) as harness:
            yield SlackDriver(harness)
    else:
        async with dh.running(tmp_path, settings) as harness:
            yield DiscordDriver(harness)


__all__ = ["ACCEPT", "SAVE", "Driver", "Shown", "driving", "entries", "entry"]
