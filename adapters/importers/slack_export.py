"""Read a Slack workspace export (the ZIP or its unpacked folder) as core events.

The standard export holds ``users.json``, ``channels.json`` (public),
``groups.json`` (private), ``dms.json`` / ``mpims.json`` (direct messages)
when the export includes them, and one folder per conversation with one JSON
file per day: an array of messages (``ts``, ``user``, ``text``, ``thread_ts``,
``reply_count``, ``replies``, ``reactions: [{name, users, count}]``,
``subtype``, ``edited``, ``files``). Replies of a thread appear as messages
with ``thread_ts`` different from their ``ts``.

Streaming: one day file is in memory at a time. Nothing here decides what is
a question: messages become :class:`IncomingMessage` and reactions
:class:`ReactionChange`, and the core's capture rules do the rest.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.slack.translate import mentioned_users, permalink_from_url, plain_text, ts_to_datetime
from bot.events import Actor, IncomingMessage, ReactionChange, Visibility, Where
from bot.history import ImportItem, Problem, Skipped

PLATFORM = "slack"

#: Subtypes that are chat; others known below are skipped, unknown ones reported.
KEPT_SUBTYPES = frozenset(
    {"", "thread_broadcast", "file_share", "me_message", "bot_message", "slackbot_response"}
)
SKIPPED_SUBTYPES = frozenset(
    """
    channel_join channel_leave channel_topic channel_purpose channel_name channel_archive
    channel_unarchive channel_convert_to_private channel_convert_to_public group_join group_leave
    group_topic group_purpose group_name group_archive group_unarchive pinned_item unpinned_item
    reminder_add reminder_delete bot_add bot_remove bot_enable bot_disable tombstone
    joiner_notification joiner_notification_for_inviter sh_room_created huddle_thread
    file_comment file_mention message_changed message_deleted message_replied
    channel_posting_permissions app_conversation_leave ekm_access_denied
    """.split()
)


@dataclass(frozen=True, slots=True)
class _Conversation:
    id: str
    name: str
    folder: str
    visibility: Visibility


class _Files:
    """The export's files, from a ZIP or a folder, by their relative POSIX path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if path.is_file():
            self._zip = zipfile.ZipFile(path)
            names = self._zip.namelist()
            if "channels.json" not in names and "users.json" not in names:
                roots = [n for n in names if n.endswith("/channels.json")]
                if len(roots) == 1:
                    self._prefix = roots[0][: -len("channels.json")]

    def exists(self, name: str) -> bool:
        if self._zip is not None:
            try:
                self._zip.getinfo(self._prefix + name)
            except KeyError:
                return False
            return True
        return (self.path / name).is_file()

    def read(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(self._prefix + name)
        return (self.path / name).read_bytes()

    def folders(self) -> list[str]:
        if self._zip is not None:
            found = set()
            for name in self._zip.namelist():
                rel = name[len(self._prefix) :] if name.startswith(self._prefix) else None
                if rel and "/" in rel:
                    found.add(rel.split("/", 1)[0])
            return sorted(found)
        return sorted(p.name for p in self.path.iterdir() if p.is_dir())

    def day_files(self, folder: str) -> list[tuple[str, int]]:
        """``(relative path, size)`` of a conversation's day files, in date order."""
        if self._zip is not None:
            start = f"{self._prefix}{folder}/"
            out = [
                (info.filename[len(self._prefix) :], info.file_size)
                for info in self._zip.infolist()
                if info.filename.startswith(start)
                and info.filename.endswith(".json")
                and "/" not in info.filename[len(start) :]
            ]
            return sorted(out)
        base = self.path / folder
        if not base.is_dir():
            return []
        return sorted(
            (f"{folder}/{p.name}", p.stat().st_size) for p in base.iterdir() if p.suffix == ".json"
        )

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def _decode(name: str, data: bytes) -> tuple[Any, list[Problem]]:
    """Parse one JSON file; problems name the file and line. ``(None, problems)`` if unusable."""
    problems: list[Problem] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(
            Problem(name, f"not UTF-8 text (byte {exc.start}); bad bytes replaced", line)
        )
        text = data.decode("utf-8", "replace")
    try:
        return json.loads(text), problems
    except json.JSONDecodeError as exc:
        problems.append(
            Problem(name, f"bad JSON: {exc.msg} (column {exc.colno}); file skipped", exc.lineno)
        )
        return None, problems


def _line_of(data: bytes, ts: str) -> int | None:
    at = data.find(f'"{ts}"'.encode())
    return data[:at].count(b"\n") + 1 if at >= 0 else None


class SlackExport:
    """Iterate a Slack export as import items (events, skips and problems)."""

    def __init__(
        self,
        path: str | Path,
        *,
        include_dms: bool = False,
        workspace: str = "",
        workspace_url: str = "",
    ) -> None:
        self.path = Path(path)
        self.include_dms = include_dms
        self.workspace = workspace
        self.workspace_url = workspace_url.rstrip("/")
        self.total_bytes = 0
        self.bytes_done = 0
        self._names: dict[str, tuple[str, bool]] = {}
        #: User id -> handle, so ``<@U1>`` reads as ``@alice`` as in live capture.
        self._handles: dict[str, str] = {}

    def __iter__(self) -> Iterator[ImportItem]:
        if not self.path.exists():
            yield Problem(str(self.path), "no such file or folder")
            return
        try:
            files = _Files(self.path)
        except zipfile.BadZipFile as exc:
            yield Problem(str(self.path), f"not a ZIP file or folder ({exc})")
            return
        try:
            yield from self._read(files)
        finally:
            files.close()

    # ------------------------------------------------------------------ reading

    def _load_list(self, files: _Files, name: str) -> tuple[list[dict[str, Any]], list[Problem]]:
        if not files.exists(name):
            return [], []
        data, problems = _decode(name, files.read(name))
        if data is None:
            return [], problems
        if not isinstance(data, list):
            return [], [*problems, Problem(name, "expected a JSON array; file skipped", 1)]
        return [d for d in data if isinstance(d, dict)], problems

    def _read(self, files: _Files) -> Iterator[ImportItem]:
        users, problems = self._load_list(files, "users.json")
        yield from problems
        if not files.exists("users.json"):
            yield Problem("users.json", "missing; members are named by their ids")
        for user in users:
            profile = user.get("profile") or {}
            name = (
                profile.get("display_name")
                or profile.get("real_name")
                or user.get("real_name")
                or user.get("name")
                or ""
            )
            self._names[str(user.get("id", ""))] = (str(name), bool(user.get("is_bot")))
            if user.get("name"):
                self._handles[str(user.get("id", ""))] = str(user["name"])
            if not self.workspace and user.get("team_id"):
                self.workspace = str(user["team_id"])
        conversations: list[_Conversation] = []
        listed: set[str] = set()
        for index_name, visibility in (
            ("channels.json", Visibility.PUBLIC),
            ("groups.json", Visibility.PRIVATE),
            ("mpims.json", Visibility.DM),
            ("dms.json", Visibility.DM),
        ):
            entries, problems = self._load_list(files, index_name)
            yield from problems
            for conv in entries:
                cid = str(conv.get("id", ""))
                name = str(conv.get("name") or cid)
                folder = name if visibility != Visibility.DM or conv.get("name") else cid
                private = visibility == Visibility.PUBLIC and conv.get("is_private")
                conversations.append(
                    _Conversation(cid, name, folder, Visibility.PRIVATE if private else visibility)
                )
                listed.add(folder)
        if not files.exists("channels.json"):
            yield Problem("channels.json", "missing; channel folders are read as public channels")
        for folder in files.folders():
            if folder not in listed:
                conversations.append(_Conversation(folder, folder, folder, Visibility.PUBLIC))
        plan: list[tuple[_Conversation, list[tuple[str, int]]]] = []
        for listed_conv in conversations:
            days = files.day_files(listed_conv.folder)
            if listed_conv.visibility == Visibility.DM and not self.include_dms:
                yield Skipped(
                    "direct-message conversations not read (use --include-dms)", 1, "conversation"
                )
                continue
            plan.append((listed_conv, days))
            self.total_bytes += sum(size for _, size in days)
        workspace = self.workspace or "slack-export"
        for chosen, days in plan:
            where = Where(PLATFORM, workspace, chosen.id, chosen.visibility, chosen.name)
            for name, size in days:
                yield from self._day(files, name, where)
                self.bytes_done += size

    def _day(self, files: _Files, name: str, where: Where) -> Iterator[ImportItem]:
        try:
            raw = files.read(name)
        except OSError as exc:
            yield Problem(name, f"could not read: {exc}")
            return
        data, problems = _decode(name, raw)
        yield from problems
        if data is None:
            return
        if not isinstance(data, list):
            yield Problem(name, "expected a JSON array of messages; file skipped", 1)
            return
        messages = [m for m in data if isinstance(m, dict)]
        if len(messages) != len(data):
            yield Problem(name, f"{len(data) - len(messages)} item(s) are not messages; skipped")
        messages.sort(key=lambda m: _ts_key(m.get("ts")))
        for message in messages:
            yield from self._message(message, name, raw, where)

    def _message(
        self, message: dict[str, Any], name: str, raw: bytes, where: Where
    ) -> Iterator[ImportItem]:
        ts = str(message.get("ts") or "")
        if not _ts_key(ts):
            yield Problem(name, "a message without a valid 'ts'; skipped")
            yield Skipped("malformed message")
            return
        if message.get("type", "message") != "message":
            yield Skipped(f"not a message (type {message.get('type')})")
            return
        subtype = str(message.get("subtype") or "")
        if subtype in SKIPPED_SUBTYPES:
            yield Skipped(f"subtype {subtype}")
            return
        if subtype not in KEPT_SUBTYPES:
            yield Problem(name, f"unknown subtype '{subtype}'; message skipped", _line_of(raw, ts))
            yield Skipped("unknown subtype")
            return
        user = str(message.get("user") or message.get("bot_id") or "")
        known_name, known_bot = self._names.get(user, ("", False))
        profile = message.get("user_profile") or {}
        display = (
            known_name
            or profile.get("display_name")
            or profile.get("real_name")
            or message.get("username")
            or user
        )
        is_bot = (
            known_bot
            or subtype in {"bot_message", "slackbot_response"}
            or ("bot_id" in message and "user" not in message)
        )
        author = Actor(PLATFORM, user, str(display), where.workspace, is_bot)
        said = str(message.get("text") or "")
        # The same reading of Slack's markup as live capture (adapters/slack/translate.py).
        text = plain_text(said, self._handles)
        files = message.get("files") or []
        if isinstance(files, list):
            links = []
            for f in files:
                if isinstance(f, dict):
                    label = f.get("title") or f.get("name") or "file"
                    url = f.get("permalink") or f.get("url_private") or ""
                    links.append(f"[{label}]({url})" if url else str(label))
            if links:
                text = (text + "\n" if text else "") + " ".join(links)
        thread_ts = message.get("thread_ts")
        thread_id = str(thread_ts) if thread_ts and str(thread_ts) != ts else None
        created = ts_to_datetime(ts)
        yield IncomingMessage(
            where=where,
            author=author,
            message_id=ts,
            text=text,
            created_at=created,
            thread_id=thread_id,
            permalink=permalink_from_url(self.workspace_url, where.channel, ts, thread_id),
            mentions=tuple(mentioned_users(said)),
        )
        reactions = message.get("reactions") or []
        if not isinstance(reactions, list):
            return
        for reaction in reactions:
            if not isinstance(reaction, dict) or not reaction.get("name"):
                continue
            for reactor in reaction.get("users") or []:
                yield ReactionChange(
                    where=where,
                    message_id=ts,
                    actor=Actor(PLATFORM, str(reactor), "", where.workspace),
                    emoji=str(reaction["name"]),
                    at=created,
                )


def _ts_key(ts: object) -> float:
    try:
        return float(str(ts))
    except ValueError:
        return 0.0


def looks_like_slack_export(path: Path) -> bool:
    if path.is_dir():
        return (path / "channels.json").is_file() or (path / "users.json").is_file()
    return path.suffix.lower() == ".zip"
