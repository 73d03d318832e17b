"""Similar questions at ask time, and the feedback members give on them.

When a question is captured in a channel whose rule allows it
(``suggest_similar``, on by default), the core looks for older answered
questions and know-how that match it (:func:`knowledge.similar.find_similar`,
only what that channel may see). When the best match is confident enough it
replies **once**, in the question's thread, with up to three of them: each
with its accepted answer's first lines and a link. Below the threshold it says
nothing.

Feedback, on every platform:

* a reaction on the suggestion: ✅ (the accept reaction) = the first item
  solved it; 👎 or ❌ = none of them is related;
* a button (``Reply.actions``) that the adapter turns into
  :class:`~bot.events.SuggestionFeedback` for one item;
* ``/cop solved [n]`` or ``/cop unrelated [n]`` typed in the thread.

"Not related" (from any member) means that pair is never suggested again.
"Solved it" from the asker, or from ``accept_votes`` members, links the
question to the older entry: the question counts as answered, and the older
answer becomes findable from the new question's words too.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from datetime import datetime

from bot import dm_policy, messages
from bot.capture import accepts, channel_ref, source_key
from bot.emoji import canonical
from bot.errors import UsageError
from bot.events import (
    Actor,
    IncomingMessage,
    Outbound,
    ReactionChange,
    Reply,
    ResultItem,
    SuggestionFeedback,
    Where,
)
from bot.ports import Services
from bot.results import entry_title, hit_to_item
from knowledge import feedback
from knowledge.confidence import QUIET_THRESHOLD, SEMANTIC_QUIET_THRESHOLD, ChannelThreshold
from knowledge.feedback import NOT_RELATED, SOLVED_IT, Suggestion
from knowledge.models import Entry, EntryKind, SearchHit
from knowledge.semantic import Embedder, SemanticUnavailable, load_embedder
from knowledge.similar import SEMANTIC_SUGGEST_THRESHOLD, SUGGEST_THRESHOLD, find_similar
from knowledge.storage import Viewer
from knowledge.text import shorten

log = logging.getLogger(__name__)

#: Loaded embedding models by setting (``None``: unavailable); a model is big, load it once.
_EMBEDDERS: dict[str, Embedder | None] = {}
#: Choices whose model a thread is loading now, set when it is done (guarded by
#: :data:`_LOADING_GUARD`).
_LOADING: dict[str, threading.Event] = {}
_LOADING_GUARD = threading.Lock()

ACTIONS = (SOLVED_IT, NOT_RELATED)
#: How the two verdicts read on buttons (Slack and Discord).
FEEDBACK_LABELS = {SOLVED_IT: "Solved it", NOT_RELATED: "Not related"}
NOT_RELATED_REACTIONS = frozenset({"👎", "❌"})
#: How much of an accepted answer a suggestion shows: its first lines, cut.
ANSWER_LINES = 2
ANSWER_CHARS = 240
#: How many matched words an explanation names.
EXPLAINED_WORDS = 4


def explain(hit: SearchHit) -> str:
    """Why a past question was suggested.

    For example "matched: `arpeggio`, `tracker`; accepted answer; 0.71".
    """
    parts: list[str] = []
    if hit.matched:
        parts.append("matched: " + ", ".join(f"`{w}`" for w in hit.matched[:EXPLAINED_WORDS]))
    if hit.entry.kind == EntryKind.KNOWHOW:
        parts.append("know-how")
    elif hit.answer is not None and hit.answer.accepted:
        parts.append("accepted answer")
    elif hit.answer is not None:
        parts.append("answered")
    parts.append(f"{hit.score:.2f}")
    return "; ".join(parts)


def first_lines(text: str, lines: int = ANSWER_LINES, limit: int = ANSWER_CHARS) -> str:
    """The first non-empty lines of an answer, cut at a word boundary."""
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][:lines]
    return shorten(" / ".join(kept), limit)


def suggestion_item(hit: SearchHit) -> ResultItem:
    """A search item whose answer part is the answer's first lines (not a snippet)."""
    item = hit_to_item(hit)
    if hit.answer is not None:
        item = replace(item, answer_snippet=first_lines(hit.answer.text))
    return item


class Suggester:
    """The similar-questions feature, wired into the core by ``bot.app.build_core``."""

    def __init__(self, services: Services) -> None:
        self.services = services

    @property
    def embedder(self) -> Embedder | None:
        """The semantic stage when configured, installed and loaded; never waits for a load.

        While another thread loads the model (the background job starts loading it
        when the bot starts: seconds, and on a first start the int8 model is built),
        this is ``None`` at once: a question captured meanwhile is matched by its words
        rather than holding up capture on the database thread until the model is in.
        """
        return self._embedder(wait=False)

    def load_embedder(self) -> Embedder | None:
        """The semantic stage, loaded here or waited for when another thread loads it
        (what the background job needs before it starts)."""
        return self._embedder(wait=True)

    def _embedder(self, *, wait: bool) -> Embedder | None:
        choice = self.services.settings.similar.semantic
        if choice == "off":
            return None
        with _LOADING_GUARD:
            if choice in _EMBEDDERS:
                return _EMBEDDERS[choice]
            done = _LOADING.get(choice)
            if done is None:
                done = _LOADING[choice] = threading.Event()
                loads_it = True
            else:
                loads_it = False
        if not loads_it:
            if not wait:
                return None
            done.wait()
            with _LOADING_GUARD:
                return _EMBEDDERS.get(choice)  # absent when that load failed (it was logged)
        loaded: Embedder | None = None
        try:
            loaded = load_embedder(choice)
        except SemanticUnavailable as exc:
            log.warning("similar questions stay lexical: %s", exc)
        except BaseException:
            with _LOADING_GUARD:
                del _LOADING[choice]  # not kept: the next caller tries again
            done.set()
            raise
        with _LOADING_GUARD:
            _EMBEDDERS[choice] = loaded
            del _LOADING[choice]
        done.set()
        return loaded

    @property
    def threshold(self) -> float:
        """The configured (or shipped) probability from which the bot replies in public."""
        configured = self.services.settings.similar.min_confidence
        if configured is not None:
            return configured
        return SUGGEST_THRESHOLD if self.embedder is None else SEMANTIC_SUGGEST_THRESHOLD

    @property
    def quiet_threshold(self) -> float:
        """From this probability, below :attr:`threshold`, the asker alone is told."""
        shipped = QUIET_THRESHOLD if self.embedder is None else SEMANTIC_QUIET_THRESHOLD
        return min(shipped, self.threshold)

    def channel_threshold(self, where: Where) -> ChannelThreshold:
        """This channel's threshold, moved by its members' ✅ and 👎 (bounded, resettable)."""
        solved, rejected = feedback.channel_verdicts(self.services.repertoire, channel_ref(where))
        return ChannelThreshold(self.threshold, solved, rejected)

    def enabled_in(self, where: Where) -> bool:
        settings = self.services.settings
        if not settings.similar.enabled or not dm_policy.suggests(where):
            return False
        return settings.rule_for(where).suggest_similar

    # ------------------------------------------------------------------ ask time

    def on_question(self, entry: Entry, message: IncomingMessage) -> list[Outbound]:
        """A question hook: reply once in its thread when a confident match exists.

        A failure here is logged and undone (a savepoint), never the capture's loss.
        """
        if not self.enabled_in(message.where):
            return []
        repertoire = self.services.repertoire
        try:
            with repertoire.transaction():
                if feedback.suggested_before(repertoire, entry.id):
                    return []  # once per question
                return self.suggest(entry, message.where)
        except Exception:
            log.exception("could not look for questions similar to entry %s; skipped", entry.id)
            return []

    def suggest(self, question: Entry, where: Where, *, again: bool = False) -> list[Outbound]:
        repertoire = self.services.repertoire
        excluded = feedback.not_related_ids(repertoire, question.id)
        if again:
            excluded |= feedback.suggested_before(repertoire, question.id)
        linked = feedback.linked_entry(repertoire, question.id)
        if linked is not None:
            excluded.add(linked)
        text = (
            question.text
            if question.text.startswith(question.title)
            else (f"{question.title}\n{question.text}")
        )
        channel = self.channel_threshold(where)
        found = find_similar(
            repertoire,
            text,
            channel_ref(where),
            exclude_entry_id=question.id,
            exclude_ids=excluded,
            limit=self.services.settings.similar.max_suggestions,
            min_confidence=channel.applied(self.quiet_threshold),
            embedder=self.embedder,
        )
        hits = [h for h in found if h.score >= channel.value]
        if not hits:
            return self._quietly(question, where, found[:1])
        suggestion_id = feedback.record_suggestion(
            repertoire,
            question.id,
            question.source,
            [(h.entry.id, h.score) for h in hits],
            self.services.clock.now(),
        )
        accept = self.services.settings.capture.accept_reaction
        many = len(hits) > 1
        text = (
            f"💡 This may have been answered before{' — here are the closest' if many else ''}. "
            f"React {canonical(accept)} if {'the first one' if many else 'it'} solved your "
            f"question, 👎 if {'none is' if many else 'it is not'} related "
            f"(or `/cop solved{' N' if many else ''}` · `/cop unrelated` in this thread)."
        )
        return [
            Reply(
                where=where,
                text=text,
                items=tuple(suggestion_item(h) for h in hits),
                ephemeral=False,
                thread_id=question.source.message_id,
                actions=ACTIONS,
                suggestion_id=suggestion_id,
            )
        ]

    def _quietly(self, question: Entry, where: Where, hits: list[SearchHit]) -> list[Outbound]:
        """Not sure enough for the thread: offer the best match to the asker alone."""
        asker = self.services.repertoire.get_member(question.author_id)
        if not hits or asker is None:
            return []
        return [
            Reply(
                where=where,
                text="🔎 Possibly related (only you see this; I'm not sure enough to say it "
                f"in the thread): {explain(hits[0])}",
                items=(suggestion_item(hits[0]),),
                ephemeral=True,
                quiet=True,
                recipient=Actor(where.platform, asker.user_id, asker.display_name, where.workspace),
                thread_id=question.source.message_id,
            )
        ]

    def on_posted(self, reply: Reply, message_id: str) -> None:
        """A posted hook: remember which message carries the suggestion."""
        if reply.suggestion_id is not None:
            feedback.set_suggestion_message(
                self.services.repertoire, reply.suggestion_id, message_id
            )

    # ------------------------------------------------------------------ feedback

    def on_reaction(self, change: ReactionChange) -> list[Outbound]:
        """A reaction hook: ✅ / 👎 / ❌ on a suggestion message are feedback.

        Like :meth:`on_question`, a failure is logged and undone, and the
        reaction itself (acceptance, saves) still counts.
        """
        repertoire = self.services.repertoire
        try:
            with repertoire.transaction():
                return self._reaction_feedback(change)
        except Exception:
            log.exception("could not read %s as suggestion feedback; skipped", change.emoji)
            return []

    def _reaction_feedback(self, change: ReactionChange) -> list[Outbound]:
        # The emoji first: most reactions are no feedback, and need no query.
        emoji = canonical(change.emoji)
        if emoji in (canonical(self.services.settings.capture.accept_reaction), "✅"):
            verdict = SOLVED_IT
        elif emoji in NOT_RELATED_REACTIONS:
            verdict = NOT_RELATED
        else:
            return []
        repertoire = self.services.repertoire
        suggestion = feedback.suggestion_for_message(
            repertoire, source_key(change.where, change.message_id)
        )
        if suggestion is None or not suggestion.entry_ids:
            return []
        entry_ids = suggestion.entry_ids[:1] if verdict == SOLVED_IT else suggestion.entry_ids
        at = change.at or self.services.clock.now()
        return self.give(
            suggestion, entry_ids, change.actor, change.where, verdict, at, change.added
        )

    def on_feedback(self, event: SuggestionFeedback) -> list[Outbound]:
        """A button: "solved it" or "not related" for one item (or all of them)."""
        suggestion = feedback.get_suggestion(self.services.repertoire, event.suggestion_id)
        if suggestion is None:
            return []
        if event.verdict not in ACTIONS:
            raise UsageError(messages.unknown_feedback(event.verdict))
        if event.entry_id is None:
            ids = suggestion.entry_ids if event.verdict == NOT_RELATED else suggestion.entry_ids[:1]
        elif event.entry_id in suggestion.entry_ids:
            ids = (event.entry_id,)
        else:
            return []
        at = event.at or self.services.clock.now()
        return self.give(suggestion, ids, event.actor, event.where, event.verdict, at, True)

    def give(
        self,
        suggestion: Suggestion,
        entry_ids: tuple[int, ...],
        actor: Actor,
        where: Where,
        verdict: str,
        at: datetime,
        added: bool = True,
    ) -> list[Outbound]:
        """Record (or withdraw) a member's verdict and act on it."""
        repertoire = self.services.repertoire
        question = repertoire.get_entry(suggestion.question_id)
        if question is None:
            return []
        for entry_id in entry_ids:
            if added:
                other = NOT_RELATED if verdict == SOLVED_IT else SOLVED_IT
                feedback.withdraw_feedback(repertoire, question.id, entry_id, actor.user_id, other)
                feedback.record_feedback(
                    repertoire, question.id, entry_id, actor.user_id, verdict, at
                )
            else:
                feedback.withdraw_feedback(
                    repertoire, question.id, entry_id, actor.user_id, verdict
                )
        thread = question.source.message_id
        if verdict == NOT_RELATED:
            if not added:
                return []
            titles = ", ".join(f"“{self._title(i, where)}”" for i in entry_ids)
            return [
                Reply(
                    where=where,
                    text=f"👍 Thanks — noted that {titles} "
                    f"{'is' if len(entry_ids) == 1 else 'are'} not related; I won't suggest "
                    f"{'it' if len(entry_ids) == 1 else 'them'} for this question again.",
                    recipient=actor,
                    thread_id=thread,
                )
            ]
        entry_id = entry_ids[0]
        if self._solved_decided(question, entry_id):
            if feedback.link_solved(repertoire, question.id, entry_id, at):
                return [
                    Reply(
                        where=where,
                        text="✅ Marked as solved by an earlier answer: "
                        f"“{self._title(entry_id, where)}”. The two questions are now linked.",
                        ephemeral=False,
                        thread_id=thread,
                    )
                ]
            return []
        if not added:
            feedback.unlink_solved(repertoire, question.id, entry_id)
            return []
        return [
            Reply(
                where=where,
                text="Thanks — noted that it helped. The asker's ✅ (or more votes) marks the "
                "question as solved.",
                recipient=actor,
                thread_id=thread,
            )
        ]

    def _solved_decided(self, question: Entry, entry_id: int) -> bool:
        repertoire = self.services.repertoire
        rules = self.services.settings.capture
        votes = feedback.voters(repertoire, question.id, entry_id, SOLVED_IT)
        asker = repertoire.get_member(question.author_id)
        return accepts(rules, asker.user_id if asker else None, set(votes))

    def _title(self, entry_id: int, where: Where) -> str:
        """The entry's title as ``where`` may read it (its channel may have turned private)."""
        entry = self.services.repertoire.entry_for(Viewer.in_channel(channel_ref(where)), entry_id)
        if entry is None:
            return "an earlier answer"
        return shorten(entry_title(entry), 80)
