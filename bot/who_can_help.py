"""Who could answer an open question, and which past answers look like it.

Digests (still-open questions) and follow-ups (the gentle nudge) both need
the same two suggestions; keeping them here means they never disagree and
there is one call site to swap when a better similar-question finder lands
(:func:`similar_answered`).
"""

from __future__ import annotations

from datetime import datetime

from bot.events import Where
from bot.mentions import mention
from knowledge.expertise import rank_experts
from knowledge.models import ChannelRef, Entry, Member, SearchHit
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.similar import find_similar
from knowledge.text import STOPWORDS, fold, words

#: A follow-up comes because a question is still waiting, so it offers the best
#: matches there are, without the bar an unprompted suggestion at ask time must
#: clear (the confidence margin needs a large repertoire to mean much).
FOLLOW_UP_MIN_CONFIDENCE = 0.0

#: At most this many words of a question make its topic.
TOPIC_WORDS = 6


def topic_words(entry: Entry, limit: int = TOPIC_WORDS) -> list[str]:
    """A question's informative words: its tags, then title words that are no stop word."""
    out: list[str] = list(entry.tags)
    for word in words(entry.title or entry.text):
        folded = fold(word)
        if len(folded) >= 3 and folded not in STOPWORDS and not folded.isdigit():
            out.append(folded)
    return list(dict.fromkeys(out))[:limit]


def experts_for(
    repertoire: RelationalRepertoire,
    question: Entry,
    viewer: ChannelRef | None,
    now: datetime,
    limit: int = 2,
) -> list[Member]:
    """Up to ``limit`` members who know the question's topic (never the asker).

    Uses :func:`knowledge.expertise.rank_experts`, the one expertise ranking:
    first on the tags (or the informative words) together, then word by word
    until enough members are found.
    """
    topic = topic_words(question)
    if not topic:
        return []
    found: dict[int, Member] = {}
    attempts = [" ".join(question.tags)] if question.tags else []
    attempts.append(" ".join(topic[:3]))
    attempts.extend(topic)
    for attempt in attempts:
        if not attempt:
            continue
        for expert in rank_experts(repertoire, attempt, viewer, now=now, limit=limit + 1):
            if expert.member.id != question.author_id:
                found.setdefault(expert.member.id, expert.member)
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


def similar_answered(
    repertoire: RelationalRepertoire, question: Entry, viewer: ChannelRef | None, limit: int = 3
) -> list[SearchHit]:
    """Answered questions and know-how that look like ``question`` (never itself).

    The same finder as the suggestions at ask time (``knowledge/similar.py``:
    the question's most informative words, answered entries only).
    """
    return find_similar(
        repertoire,
        question.text,
        viewer,
        exclude_entry_id=question.id,
        limit=limit,
        min_confidence=FOLLOW_UP_MIN_CONFIDENCE,
    )


def member_label(member: Member, where: Where, ping: bool) -> str:
    """A member's name in a post to ``where``; a mention token when pinging is on and possible.

    A member of another platform (one community may span Slack and Discord)
    cannot be pinged there, so gets their name.
    """
    if ping and member.platform == where.platform:
        return mention(member.user_id, member.display_name)
    return member.display_name
