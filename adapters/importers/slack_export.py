"""Read a Slack workspace export (the ZIP or its unpacked folder) as core events.

The standard export holds ``users.json``, ``channels.json`` (public),
``groups.json`` (private), ``dms.json`` / ``mpims.json`` (direct messages)
when the export includes them, and one folder per conversation with one JSON
file per day: an array of messages (``ts``, ``user``, ``text``, ``thread_ts``,
``reply_count``, ``replies``, ``reactions: [{name, users, count}]``,
``subtype``, ``edited``, ``files``). Replies of a thread appear as messages
with ``thread_ts`` different from their ``ts``.

Unknown means private: a conversation folder is public only when a readable
``channels.json`` lists it as a public channel. A folder that no readable
index lists is private (a problem names it and the index that was missing or
unreadable); ``D…`` ids and ``mpdm-`` names are direct messages wherever they
are listed, skipped unless ``include_dms``.

Limits: one day file is in memory at a time (at most 32 MiB, and a ZIP member
is checked before it is inflated: see :mod:`adapters.importers.archive`); the
indexes and ``users.json`` are streamed. A file that cannot be read (bad JSON,
nesting too deep, a refused size) is reported with its name and skipped; the
rest of the export goes on. Nothing here decides what is a question: messages
become :class:`IncomingMessage` and reactions :class:`ReactionChange`, and the
core's capture rules do the rest.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ijson

from adapters.importers.archive import READ_ERRORS, ExportFiles, FileRefused
from adapters.importers.unknown_kinds import UnknownKinds
from adapters.slack.emoji import reaction_name
from adapters.slack.translate import (
    guess_visibility,
    mentioned_users,
    permalink_from_url,
    plain_text,
    ts_to_datetime,
)
from bot.events import Actor, IncomingMessage, ReactionChange, Visibility, Where
from bot.import_replay import ImportItem, Problem, Skipped
from knowledge.jsonstream import JsonLimitError, JsonShapeError, array_items

PLATFORM = "slack"

#: Subtypes that are chat; the others known below are skipped, and unknown ones skipped and
#: counted kind by kind (``adapters/importers/unknown_kinds.py``): not an error in the export.
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

#: The conversation indexes of an export and the visibility of what each lists.
INDEXES = (
    ("channels.json", Visibility.PUBLIC),
    ("groups.json", Visibility.PRIVATE),
    ("mpims.json", Visibility.DM),
    ("dms.json", Visibility.DM),
)
#: Parse errors of a streamed index file.
_STREAM_ERRORS = (ijson.JSONError, JsonLimitError, JsonShapeError, UnicodeDecodeError)


@dataclass(frozen=True, slots=True)
class _Conversation:
    id: str
    name: str
    folder: str
    visibility: Visibility


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
    except RecursionError:
        problems.append(Problem(name, "nested too deeply to be chat messages; file skipped"))
        return None, problems
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
        self._actors: dict[tuple[str, str, str, bool], Actor] = {}
        self._unknown = UnknownKinds("Slack messages", "subtype")
        self._not_messages = UnknownKinds("Slack export items", "type")

    def _actor(self, user: str, display: str, workspace: str, is_bot: bool) -> Actor:
        """One (immutable) :class:`Actor` per member and name, shared by all their messages."""
        key = (user, display, workspace, is_bot)
        actor = self._actors.get(key)
        if actor is None:
            actor = self._actors[key] = Actor(PLATFORM, user, display, workspace, is_bot)
        return actor

    def __iter__(self) -> Iterator[ImportItem]:
        if not self.path.exists():
            yield Problem(str(self.path), "no such file or folder")
            return
        try:
            files = ExportFiles(self.path)
        except (zipfile.BadZipFile, OSError) as exc:
            yield Problem(str(self.path), f"not a ZIP file or folder ({exc})")
            return
        try:
            yield from self._read(files)
        finally:
            files.close()

    # ------------------------------------------------------------------ reading

    def _stream(self, files: ExportFiles, name: str) -> Iterator[Any]:
        """The items of a JSON array file, one at a time (raises on a damaged file)."""
        with files.open(name) as handle:
            yield from array_items(handle)

    def _unreadable(self, files: ExportFiles, name: str, exc: Exception) -> Problem:
        """What is wrong with a streamed file, with its line when it is small enough to find."""
        if isinstance(exc, FileRefused | JsonLimitError | JsonShapeError):
            return Problem(name, str(exc))
        try:
            _data, problems = _decode(name, files.read(name))
        except (*READ_ERRORS, FileRefused):
            problems = []
        for problem in problems:
            if "bad JSON" in problem.message:
                return Problem(name, problem.message.removesuffix("; file skipped"), problem.line)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return Problem(name, f"could not be read ({reason})")

    def _users(self, files: ExportFiles) -> Iterator[ImportItem]:
        if not files.exists("users.json"):
            yield Problem("users.json", "missing; members are named by their ids")
            return
        try:
            for number, user in enumerate(self._stream(files, "users.json"), 1):
                if not isinstance(user, dict):
                    yield Problem("users.json", f"member #{number} is not an object; skipped")
                    continue
                yield from self._user(user, number)
        except (*_STREAM_ERRORS, *READ_ERRORS, FileRefused) as exc:
            problem = self._unreadable(files, "users.json", exc)
            yield Problem(
                problem.file, f"{problem.message}; members are named by their ids", problem.line
            )

    def _user(self, user: dict[str, Any], number: int) -> Iterator[Problem]:
        user_id = str(user.get("id", ""))
        profile = user.get("profile") or {}
        if not isinstance(profile, dict):
            yield Problem("users.json", f"member #{number} ({user_id}): 'profile' is not an object")
            profile = {}
        name = (
            profile.get("display_name")
            or profile.get("real_name")
            or user.get("real_name")
            or user.get("name")
            or ""
        )
        self._names[user_id] = (str(name), bool(user.get("is_bot")))
        if user.get("name"):
            self._handles[user_id] = str(user["name"])
        if not self.workspace and user.get("team_id"):
            self.workspace = str(user["team_id"])

    def _indexes(
        self, files: ExportFiles, conversations: list[_Conversation], why: dict[str, str]
    ) -> Iterator[Problem]:
        """Read the conversation indexes; ``why`` gets each one that could not be read."""
        for index_name, visibility in INDEXES:
            if not files.exists(index_name):
                why[index_name] = "missing"
                continue
            listed: list[_Conversation] = []
            try:
                for conv in self._stream(files, index_name):
                    if isinstance(conv, dict) and conv.get("id"):
                        listed.append(_listed(conv, visibility))
            except (*_STREAM_ERRORS, *READ_ERRORS, FileRefused) as exc:
                problem = self._unreadable(files, index_name, exc)
                why[index_name] = "unreadable"
                yield Problem(
                    problem.file,
                    f"{problem.message}; the conversations it lists are read as private",
                    problem.line,
                )
                continue
            conversations.extend(listed)
        if why.get("channels.json") == "missing":
            yield Problem("channels.json", "missing; conversation folders are read as private")

    def _read(self, files: ExportFiles) -> Iterator[ImportItem]:
        yield from self._users(files)
        conversations: list[_Conversation] = []
        why: dict[str, str] = {}
        yield from self._indexes(files, conversations, why)
        listed = {conv.folder for conv in conversations}
        unread = ", ".join(
            f"{name} {why[name]}" for name in ("channels.json", "groups.json") if name in why
        )
        for folder in files.folders():
            if folder in listed:
                continue
            # Unknown means private; a DM's folder is its id (D...) or an mpdm- name.
            visibility = guess_visibility(folder, folder)
            conversations.append(_Conversation(folder, folder, folder, visibility))
            if visibility != Visibility.DM:
                yield Problem(
                    f"{folder}/",
                    "not listed in a readable channels.json or groups.json"
                    + (f" ({unread})" if unread else "")
                    + "; read as a private channel",
                )
        plan: list[tuple[_Conversation, list[tuple[str, int]]]] = []
        for conv in conversations:
            if conv.visibility == Visibility.DM and not self.include_dms:
                yield Skipped(
                    "direct-message conversations not read (use --include-dms)", 1, "conversation"
                )
                continue
            days = files.day_files(conv.folder)
            plan.append((conv, days))
            self.total_bytes += sum(size for _, size in days)
        workspace = self.workspace or "slack-export"
        for chosen, days in plan:
            where = Where(PLATFORM, workspace, chosen.id, chosen.visibility, chosen.name)
            for name, size in days:
                yield from self._day(files, name, where)
                self.bytes_done += size

    def _day(self, files: ExportFiles, name: str, where: Where) -> Iterator[ImportItem]:
        try:
            raw = files.read(name)
        except FileRefused as exc:
            yield Problem(name, f"{exc}; file skipped")
            return
        except READ_ERRORS as exc:
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
            try:
                items = list(self._message(message, name, where))
            except (AttributeError, TypeError, ValueError) as exc:
                ts = str(message.get("ts") or "?")
                yield Problem(name, f"message {ts} unreadable ({exc}); skipped", _line_of(raw, ts))
                yield Skipped("malformed message")
                continue
            yield from items

    def _message(self, message: dict[str, Any], name: str, where: Where) -> Iterator[ImportItem]:
        ts = str(message.get("ts") or "")
        if not _ts_key(ts):
            yield Problem(name, "a message without a valid 'ts'; skipped")
            yield Skipped("malformed message")
            return
        if message.get("type", "message") != "message":
            yield self._not_messages.skipped(str(message.get("type")))
            return
        subtype = str(message.get("subtype") or "")
        if subtype in SKIPPED_SUBTYPES:
            yield Skipped(f"subtype {subtype}")
            return
        if subtype not in KEPT_SUBTYPES:
            yield self._unknown.skipped(subtype)
            return
        user = str(message.get("user") or message.get("bot_id") or "")
        known_name, known_bot = self._names.get(user, ("", False))
        profile = message.get("user_profile")
        if not isinstance(profile, dict):  # an optional field: a bad one costs only the name
            profile = {}
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
        author = self._actor(user, str(display), where.workspace, is_bot)
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
            users = reaction.get("users")
            if not isinstance(users, list):  # a string would read as one reactor per letter
                continue
            for reactor in users:
                if not isinstance(reactor, str) or not reactor:
                    continue  # a member id is a string; anything else names nobody
                yield ReactionChange(
                    where=where,
                    message_id=ts,
                    actor=self._actor(reactor, "", where.workspace, False),
                    emoji=reaction_name(str(reaction["name"])),
                    at=created,
                )


def _listed(conv: dict[str, Any], visibility: Visibility) -> _Conversation:
    """A conversation as an index lists it; ``D…`` ids and ``mpdm-`` names are DMs anywhere."""
    cid = str(conv.get("id"))
    name = str(conv.get("name") or cid)
    folder = name if visibility != Visibility.DM or conv.get("name") else cid
    if guess_visibility(cid, name) == Visibility.DM:
        visibility = Visibility.DM
    elif visibility == Visibility.PUBLIC and conv.get("is_private"):
        visibility = Visibility.PRIVATE
    return _Conversation(cid, name, folder, visibility)


def _ts_key(ts: object) -> float:
    try:
        return float(str(ts))
    except ValueError:
        return 0.0


def looks_like_slack_export(path: Path) -> bool:
    if path.is_dir():
        return (path / "channels.json").is_file() or (path / "users.json").is_file()
    return path.suffix.lower() == ".zip"
