"""The copbot JSON export format: its name, version, sections and columns.

Written by :mod:`knowledge.export`, read back by :mod:`knowledge.restore`.
Member and entry references are keys (``[platform, workspace, user id]``,
``[platform, workspace, channel, message id, kind]``), never database ids, so
an export restores into any database.
"""

from __future__ import annotations

FORMAT = "copbot-repertoire"
VERSION = 1
#: The sections of an export, in the order they are written and restored.
SECTIONS = (
    "members",
    "channels",
    "entries",
    "reactions",
    "tombstones",
    "edits",
    "thanks",
    "curation_changes",
    "identity_links",
)

MEMBER_COLUMNS = ("platform", "workspace", "user_id", "handle", "display_name", "created_at")
CHANNEL_COLUMNS = ("platform", "workspace", "channel", "name", "visibility", "capture_stopped")
REACTION_COLUMNS = (
    "platform",
    "workspace",
    "channel",
    "message_id",
    "user_id",
    "emoji",
    "created_at",
    "present",
)
TOMBSTONE_COLUMNS = ("platform", "workspace", "channel", "message_id", "deleted_at")
EDIT_COLUMNS = ("platform", "workspace", "channel", "message_id", "text", "edited_at")


class ExportFormatError(ValueError):
    """The file is not a copbot JSON export this version can read."""


__all__ = [
    "CHANNEL_COLUMNS",
    "EDIT_COLUMNS",
    "FORMAT",
    "MEMBER_COLUMNS",
    "REACTION_COLUMNS",
    "SECTIONS",
    "TOMBSTONE_COLUMNS",
    "VERSION",
    "ExportFormatError",
]
