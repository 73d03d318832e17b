"""The gentle follow-up: an unanswered question gets one reply in its thread.

Opt-in per channel (``follow_up_hours`` in a ``[[channels.rules]]``). After
that many hours without an answer, the question gets one reply suggesting
similar past answers and the members who know the topic, read as that
channel sees the repertoire. The ``follow_ups`` table makes it once: claim,
post, mark (see :mod:`knowledge.relational.digest_log`).

Questions older than :data:`LOOKBACK` past their due time are left alone, so
switching follow-ups on does not nudge a year of old questions at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.config import ChannelRule
from bot.events import Post, PostSection
from bot.ports import Services
from bot.results import entry_title, where_said
from bot.who_can_help import experts_for, member_label, similar_answered
from knowledge.models import Entry
from knowledge.text import shorten

LOOKBACK = timedelta(days=7)
#: At most this many follow-ups go out per scan; the rest wait for the next one.
PER_SCAN = 20


@dataclass(frozen=True, slots=True)
class PreparedFollowUp:
    entry_id: int
    post: Post


class FollowUps:
    """Finds due questions and builds their follow-up; runs on the database thread."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.repertoire = services.repertoire
        self.log = services.repertoire.digest_log

    def rules(self) -> list[ChannelRule]:
        return [r for r in self.services.settings.channels.rules if r.follow_up_hours]

    def due(self) -> list[tuple[int, ChannelRule]]:
        """Questions past their rule's hours with no answer and no follow-up yet, oldest first."""
        now = self.services.clock.now()
        found: list[tuple[int, ChannelRule]] = []
        for rule in self.rules():
            assert rule.follow_up_hours is not None
            spec = rule.spec
            due_before = now - timedelta(hours=rule.follow_up_hours)
            entries = self.repertoire.due_follow_ups(
                spec.platform,
                workspace=spec.workspace or None,
                channel_id=None if spec.by_name else spec.channel,
                channel_name=spec.name if spec.by_name else None,
                asked_from=due_before - LOOKBACK,
                asked_until=due_before,
                limit=PER_SCAN,
            )
            found.extend((e.id, rule) for e in entries)
        return found[:PER_SCAN]

    def prepare(self, entry_id: int, rule: ChannelRule) -> PreparedFollowUp | None:
        """Claim the question's one follow-up and build it; ``None`` when taken or answered."""
        entry = self.repertoire.get_entry(entry_id)
        if entry is None or self.repertoire.answers_for(entry):
            return None
        now = self.services.clock.now()
        if not self.log.claim_follow_up(entry_id, rule.channel, now):
            return None
        try:
            post = self.build(entry, rule)
        except Exception:
            self.log.mark_follow_up(entry_id, "failed", now)
            raise
        return PreparedFollowUp(entry_id, post)

    def finish(self, entry_id: int, status: str, message_id: str = "") -> None:
        self.log.mark_follow_up(entry_id, status, self.services.clock.now(), message_id)

    def build(self, entry: Entry, rule: ChannelRule) -> Post:
        """The reply: similar past answers and who knows the topic, as the channel sees them."""
        where = where_said(entry)
        viewer = entry.channel_ref
        now = self.services.clock.now()
        sections: list[PostSection] = []
        similar = similar_answered(self.repertoire, entry, viewer, limit=3)
        if similar:
            lines = []
            for hit in similar:
                answer = ""
                if hit.answer is not None:
                    mark = "✅" if hit.answer.accepted else "↳"
                    said = shorten(hit.answer.text.replace("```", " "), 60)  # no open code fence
                    answer = f" — {mark} {hit.answer.author_name}: {said}"
                link = hit.entry.permalink
                line = shorten(entry_title(hit.entry), 70) + answer + (f" · {link}" if link else "")
                lines.append(shorten(line, 200))
            sections.append(PostSection("Similar past answers", tuple(lines)))
        experts = experts_for(self.repertoire, entry, viewer, now, limit=2)
        if experts:
            names = ", ".join(member_label(m, where, rule.follow_up_mention) for m in experts)
            sections.append(PostSection("Members who know the topic", (names,)))
        hours = f"{rule.follow_up_hours:g}"
        text = f"No answer yet after {hours} hours, so here is a gentle nudge."
        if not sections:
            text += " Can anyone help? If you found the answer yourself, please share it here."
        return Post(
            where=where,
            title="Still looking for an answer",
            sections=tuple(sections),
            text=text,
            thread_id=entry.source.message_id,
        )
