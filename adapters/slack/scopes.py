"""The bot token scopes copbot needs, and why: `copbot doctor` and the manifest use this list.

Kept to the least that makes every feature work. A test checks that
``manifest.yaml`` asks for exactly these.
"""

from __future__ import annotations

BOT_SCOPES: dict[str, str] = {
    "commands": "the /cop slash command and the message shortcuts",
    "chat:write": "replies, the accepted-answer confirmation, shared results and digests",
    "channels:history": "capture messages in public channels the bot is in; read a pinned message",
    "groups:history": "capture messages in private channels the bot was invited to",
    "channels:read": "channel names, and whether a channel is public, for reactions and /cop",
    "groups:read": "private channel names, so their entries stay private",
    "reactions:read": "the accept (✅) and save (📌) reactions",
    "users:read": "members' display names in results and in 'who knows'",
}

#: Events the app subscribes to (bot events).
BOT_EVENTS: tuple[str, ...] = (
    "message.channels",
    "message.groups",
    "reaction_added",
    "reaction_removed",
    "member_joined_channel",
    "channel_left",
    "group_left",
)
