"""Slack, driven through the real Bolt app and the fake Web API, for the contract suite."""

from __future__ import annotations

import json
from typing import Any

from tests.contract_drivers import ACCEPT, SAVE, Shown
from tests.slack_harness import TEAM

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
