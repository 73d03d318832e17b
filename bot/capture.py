"""Capture: which chat messages become repertoire entries, and how they change.

The rules (the same for live chat, imports and the console):

* In channels where capture is on (every channel the bot can read, unless the
  config narrows it), a top-level message that reads as a question becomes a
  ``question``; a forum post always does.
* Replies in a thread become ``answer``s of the thread's root. They are kept
  even when the root arrives later (events can come out of order), and
  join their question by the thread id when it does.
* The accept reaction (default ✅) by the asker, or by ``accept_votes``
  members, marks an answer accepted. Removing it recomputes.
* The save reaction (default 📌), a save shortcut or ``/cop share`` makes
  ``knowhow``. DMs are captured only this way, and keep DM visibility.
* Edits update entries; deletes remove them and their index rows.
"""

from __future__ import annotations

import re

from bot import dm_policy, messages
from bot.config import CaptureSettings
from bot.emoji import canonical
from bot.events import (
    AcceptMark,
    Actor,
    FetchMessage,
    IncomingMessage,
    KnowhowKind,
    MessageDeleted,
    MessageEdited,
    Outbound,
    ReactionChange,
    Reply,
    SaveRequest,
    Where,
)
from bot.ports import Services
from bot.reaction_roles import save_kind_for, thank_by_reaction
from knowledge.curation import set_valid_until
from knowledge.models import ChannelRef, Entry, EntryKind, NewEntry, SourceKey
from knowledge.text import clean_text, extract_tags, fold, title_from

_LEADING_MENTIONS = re.compile(r"^(\s*(<@[^>]+>|@\w+)[,:]?\s*)+")
_WORD_CHAR = re.compile(r"\w")


def accepts(rules: CaptureSettings, asker_user_id: str | None, voters: set[str]) -> bool:
    """The accept rule: the asker's mark (if ``asker_accepts``), or ``accept_votes`` members.

    One rule for answers (✅ reactions) and for suggested past answers ("solved it").
    """
    by_asker = rules.asker_accepts and asker_user_id is not None and asker_user_id in voters
    return by_asker or len(voters) >= rules.accept_votes


def kind_and_title(
    msg: IncomingMessage, text: str, looks_like_question: bool, explicit_question: bool = False
) -> tuple[EntryKind, str] | None:
    """What a kept message becomes: a question with its title (top level, and asked on
    purpose, a forum post or looking like one), an answer (in a thread), or nothing.

    The one rule for live capture and the set-wise import (``text`` is already cleaned).
    """
    if not msg.is_top_level:
        return EntryKind.ANSWER, ""
    if not (explicit_question or msg.is_forum_post or looks_like_question):
        return None
    return EntryKind.QUESTION, clean_text(msg.title) or title_from(text)


def source_key(where: Where, message_id: str) -> SourceKey:
    return SourceKey(where.platform, where.workspace, where.channel, message_id)


def channel_ref(where: Where) -> ChannelRef:
    return ChannelRef(where.platform, where.workspace, where.channel)


class Capture:
    """Applies the capture rules to inbound events through the repertoire."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.repertoire = services.repertoire
        self.settings = services.settings
        starters = sorted((fold(s) for s in self.settings.capture.question_starters), key=len)
        self._starters = tuple(reversed(starters))
        #: The starters by their first character: a line is compared with those alone.
        self._starters_by_char: dict[str, tuple[str, ...]] = {}
        for starter in self._starters:
            first = starter[:1]
            self._starters_by_char[first] = (*self._starters_by_char.get(first, ()), starter)
        self._starter_chars = max((len(s) for s in starters), default=0) + 8
        self._rules: dict[tuple[str, str, str, str], bool] = {}
        #: Set by ``Core.handle_batch`` for one batch: members already written in it.
        self.member_cache: dict[tuple[str, str, str, str], int] | None = None
        self._accept_emoji = canonical(self.settings.capture.accept_reaction)

    # ------------------------------------------------------------------ rules

    def looks_like_question(self, text: str) -> bool:
        """The configurable heuristic: ends with '?' or starts with a question word."""
        rules = self.settings.capture
        body = text.strip()
        if body.startswith(("<@", "@")):  # the regex only ever matches mentions at the start
            body = _LEADING_MENTIONS.sub("", text).strip()
        if len(body) < rules.min_question_chars:
            return False
        if rules.question_mark and "?" in body.rstrip()[-3:]:
            return True
        # Only a prefix can match a starter: fold that, not the whole message.
        first_line = fold(body.splitlines()[0][: self._starter_chars]) if body else ""
        starters = self._starters_by_char.get(first_line[:1], ())
        starters += self._starters_by_char.get("", ()) if first_line else ()
        return any(
            first_line.startswith(s) and not _WORD_CHAR.match(first_line, len(s))
            for s in starters
        )

    def captures_in(self, where: Where) -> bool:
        """Whether ambient messages in this channel are captured (never in DMs)."""
        if not dm_policy.captures_ambient(where):
            return False
        if self.repertoire.capture_stopped(channel_ref(where)):
            return False
        key = (where.platform, where.workspace, where.channel, where.channel_name)
        rule = self._rules.get(key)
        if rule is None:  # settings are frozen: one lookup per channel
            rule = self._rules[key] = self.settings.rule_for(where).capture
        return rule

    def member_id(self, actor: Actor, workspace: str) -> int:
        key = (actor.platform, actor.workspace or workspace, actor.user_id, actor.display_name)
        cache = self.member_cache
        if cache is not None and key in cache:
            return cache[key]
        member = self.repertoire.upsert_member(*key)
        if cache is not None:
            cache[key] = member
        return member

    # ------------------------------------------------------------------ events

    def on_message(
        self, msg: IncomingMessage, *, explicit_question: bool = False
    ) -> tuple[Entry, bool] | None:
        """Capture a chat message: ``(entry, created)``, or ``None`` when it is not kept."""
        if msg.author.is_bot:
            return None
        if not explicit_question and not self.captures_in(msg.where):
            return None
        text = clean_text(msg.text)
        if not text:
            return None
        where = msg.where
        src = source_key(where, msg.message_id)
        if self.repertoire.is_tombstoned(src):
            return None  # deleted before (or while) we heard of it
        decided = kind_and_title(
            msg, text, msg.is_top_level and self.looks_like_question(text), explicit_question
        )
        if decided is None:
            return None
        kind, title = decided
        author_id = self.member_id(msg.author, where.workspace)
        entry_id, created = self.repertoire.save_entry(
            NewEntry(
                kind=kind,
                source=src,
                text=text,
                author_id=author_id,
                created_at=msg.created_at,
                visibility=where.visibility.value,
                title=title,
                thread_id=None if msg.is_top_level else msg.thread_id,
                permalink=msg.permalink,
                tags=tuple(msg.tags) + extract_tags(text),
                channel_name=where.channel_name,
            )
        )
        # Whether a message is a question is decided on what was first said; an
        # edit that came first (or a replay of the original) then applies on top.
        edit = self.repertoire.latest_edit(src)
        if edit is not None and edit[1] >= msg.created_at:
            self.repertoire.update_text(src, edit[0], title_from(edit[0]), edit[1])
        entry = self.repertoire.get_entry(entry_id)
        if entry is None:  # pragma: no cover - just written in this transaction
            return None
        # Reactions may have come first: settle acceptance now that we know the entry.
        if kind == EntryKind.ANSWER:
            self.settle_accepted(entry)  # one reactors query; returns at once without any
        else:
            for answer in self.repertoire.answers_for(entry):
                self.settle_accepted(answer)
        return entry, created

    def on_edit(self, edit: MessageEdited) -> list[Entry]:
        """Apply an edit, unless a newer one is already known (edits can arrive swapped)."""
        text = clean_text(edit.text)
        src = source_key(edit.where, edit.message_id)
        if not text or self.repertoire.is_tombstoned(src):
            return []
        editor = edit.editor.user_id if edit.editor is not None else ""
        if not self.repertoire.record_edit(src, text, edit.edited_at, editor):
            return []
        return self.repertoire.update_text(src, text, title_from(text), edit.edited_at)

    def on_delete(self, deleted: MessageDeleted) -> list[Entry]:
        """Remove the message's entries for good; its question's answers lose acceptance."""
        src = source_key(deleted.where, deleted.message_id)
        self.repertoire.add_tombstone(src, self.services.clock.now())
        orphans = [
            answer
            for entry in self.repertoire.entries_for_message(src)
            if entry.kind == EntryKind.QUESTION
            for answer in self.repertoire.answers_for(entry)
        ]
        removed = self.repertoire.delete_message(src)
        for answer in orphans:
            self.repertoire.set_accepted(answer.id, False)
        return removed

    def on_reaction(self, change: ReactionChange) -> list[Outbound]:
        """Record the reaction; settle acceptance or start a save."""
        rules = self.settings.capture
        emoji = canonical(change.emoji)
        src = source_key(change.where, change.message_id)
        at = change.at or self.services.clock.now()
        # Known as a member (so `forget` finds voters too); names come from what they say.
        self.repertoire.upsert_member(
            change.actor.platform,
            change.actor.workspace or change.where.workspace,
            change.actor.user_id,
            change.actor.display_name,
            refresh=False,
        )
        self.repertoire.set_reaction(src, change.actor.user_id, emoji, change.added, at)
        out: list[Outbound] = []
        if emoji == self._accept_emoji:
            for entry in self.repertoire.entries_for_message(src):
                if entry.kind == EntryKind.ANSWER and self.settle_accepted(entry) and change.added:
                    root = self.repertoire.thread_root(entry)
                    out.append(
                        Reply(
                            where=change.where,
                            text=f"✅ Marked as the accepted answer. Thanks, {entry.author_name}!",
                            ephemeral=False,
                            thread_id=root.source.message_id if root else entry.thread_id,
                        )
                    )
        save_kind = save_kind_for(rules, emoji)
        if save_kind is not None and change.added:
            out.extend(self._save_by_reaction(change, src, save_kind))
        thank_by_reaction(
            self.repertoire, rules, change, emoji, src, self.member_id, self.services.clock.now()
        )
        return out

    def _save_by_reaction(
        self, change: ReactionChange, src: SourceKey, kind: KnowhowKind = KnowhowKind.HOWTO
    ) -> list[Outbound]:
        entries = self.repertoire.entries_for_message(src)
        if any(e.kind == EntryKind.KNOWHOW for e in entries):
            return []
        if entries:
            known = entries[0]
            member = self.repertoire.get_member(known.author_id)
            author = Actor(
                platform=src.platform,
                user_id=member.user_id if member else "",
                display_name=known.author_name,
                workspace=src.workspace,
            )
            return self.on_save(
                SaveRequest(
                    where=change.where,
                    saver=change.actor,
                    message_id=change.message_id,
                    text=known.text,
                    author=author,
                    created_at=known.created_at,
                    permalink=known.permalink,
                    thread_id=known.thread_id,
                    kind=kind,
                )
            )
        return [
            FetchMessage(
                where=change.where, message_id=change.message_id, saver=change.actor, kind=kind
            )
        ]

    def accept_reaction_of(self, mark: AcceptMark) -> ReactionChange:
        """An explicit "this solved it" as the configured accept reaction by that member."""
        return ReactionChange(
            mark.where,
            mark.message_id,
            mark.actor,
            self.settings.capture.accept_reaction,
            True,
            mark.event_id,
            mark.at or self.services.clock.now(),
        )

    def settle_accepted(self, answer: Entry) -> bool:
        """Recompute whether ``answer`` is accepted; ``True`` when it became accepted."""
        reactors = self.repertoire.reactors(answer.source, self._accept_emoji)
        if not reactors and not answer.accepted:
            return False  # nothing to settle (the common case, and cheap for bulk imports)
        root = self.repertoire.thread_root(answer)
        if root is None or root.kind != EntryKind.QUESTION:
            self.repertoire.set_accepted(answer.id, False)  # no question, nothing to accept
            return False
        asker = self.repertoire.get_member(root.author_id)
        answerer = self.repertoire.get_member(answer.author_id)
        voters = reactors - {answerer.user_id if answerer else ""}  # no vote for oneself
        accepted = accepts(self.settings.capture, asker.user_id if asker else None, voters)
        changed = self.repertoire.set_accepted(answer.id, accepted)
        return changed and accepted

    def on_save(self, request: SaveRequest) -> list[Outbound]:
        """Save a message on purpose as know-how (any member may)."""
        text = clean_text(request.text)
        if not text:
            return [Reply(where=request.where, text=messages.NOTHING_TO_SAVE)]
        if self.repertoire.is_tombstoned(source_key(request.where, request.message_id)):
            return [Reply(where=request.where, text=messages.SAVED_MESSAGE_DELETED)]
        saver_id = self.member_id(request.saver, request.where.workspace)
        author_id = self.member_id(request.author, request.where.workspace)
        kind = request.kind if isinstance(request.kind, KnowhowKind) else KnowhowKind.HOWTO
        title = clean_text(request.title) or title_from(text)
        entry_id, created = self.repertoire.save_entry(
            NewEntry(
                kind=EntryKind.KNOWHOW,
                source=source_key(request.where, request.message_id),
                text=text,
                author_id=author_id,
                created_at=request.created_at,
                visibility=request.where.visibility.value,
                title=title,
                thread_id=request.thread_id,
                permalink=request.permalink,
                tags=tuple(request.tags) + extract_tags(text),
                knowhow_kind=kind.value,
                channel_name=request.where.channel_name,
                saved_by_id=saver_id,
            )
        )
        verb = "Saved" if created else "Already saved; updated"
        until = ""
        if request.valid_until is not None:
            set_valid_until(self.repertoire, entry_id, request.valid_until)
            until = f" (still true until {request.valid_until.isoformat()})"
        return [
            Reply(
                where=request.where,
                text=f"📌 {verb} to the repertoire as {kind.value} #{entry_id}: {title}{until}",
                recipient=request.saver,
                thread_id=request.thread_id,
            )
        ]
