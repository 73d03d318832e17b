"""Discord, driven through discord.py's parsers and the fake REST API, for the contract suite."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from bot.app import command_registry
from tests import discord_harness as dh
from tests.contract_drivers import ACCEPT, CHANNELS, SAVE, Shown

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
