"""Forum posts: Q&A by design. What a post's "solved" tag, tags and title mean.

A forum post is a question (capture makes it one); its replies are answers.
Two more things can change on a post after it is made, and this module says
what they mean for the repertoire:

* **The "solved" tag** (names configurable per platform). Only the post's
  author or a moderator can apply it, so it counts as *the asker accepting*:
  when it is applied and no answer is accepted yet, the most recent answer by
  someone other than the asker becomes accepted, recorded as the asker's
  accept reaction so that later reactions keep it (and the asker can move it
  by reacting to another answer). When the tag is removed, the asker's accepts
  in that thread are withdrawn: the post is not solved.
* **Tags and title**: the post's forum tags are the question's tags (plus the
  ``#tags`` written in its text); a renamed post renames the question.
"""

from __future__ import annotations

from bot.capture import Capture, channel_ref
from bot.emoji import canonical
from bot.events import ForumPostChanged, Outbound, Reply
from knowledge.models import Entry
from knowledge.text import clean_text, extract_tags


def on_forum_post_changed(capture: Capture, change: ForumPostChanged) -> list[Outbound]:
    """Apply a post's new tags, title or solved state to its question."""
    repertoire = capture.repertoire
    question = repertoire.question_for_thread(channel_ref(change.where), change.thread_id)
    if question is None:
        return []
    if change.tags is not None:
        repertoire.set_tags(question.id, tuple(change.tags) + extract_tags(question.text))
    title = clean_text(change.title)
    if title and title != question.title:
        repertoire.set_title(question.id, title)
    if change.solved is True:
        return _solve(capture, question, change)
    if change.solved is False:
        _unsolve(capture, question)
    return []


def _solve(capture: Capture, question: Entry, change: ForumPostChanged) -> list[Outbound]:
    repertoire = capture.repertoire
    answers = repertoire.answers_for(question)
    if any(a.accepted for a in answers):
        return []
    asker = repertoire.get_member(question.author_id)
    others = [a for a in answers if a.author_id != question.author_id]
    if asker is None or not others:
        return []
    chosen = max(others, key=lambda a: (a.created_at, a.id))
    accept = canonical(capture.settings.capture.accept_reaction)
    repertoire.set_reaction(
        chosen.source, asker.user_id, accept, True, capture.services.clock.now()
    )
    if not capture.settle_accepted(chosen):
        return []
    return [
        Reply(
            where=change.where,
            text=f"✅ Solved: marked {chosen.author_name}'s answer as the accepted one. "
            f"(Another answer solved it? The asker can react {accept} to that one.)",
            ephemeral=False,
            thread_id=change.thread_id,
        )
    ]


def _unsolve(capture: Capture, question: Entry) -> None:
    repertoire = capture.repertoire
    asker = repertoire.get_member(question.author_id)
    if asker is None:
        return
    accept = canonical(capture.settings.capture.accept_reaction)
    now = capture.services.clock.now()
    for answer in repertoire.answers_for(question):
        if asker.user_id in repertoire.reactors(answer.source, accept):
            repertoire.set_reaction(answer.source, asker.user_id, accept, False, now)
            capture.settle_accepted(answer)
