"""Finding what the repertoire holds: ``/cop search``, ``/cop who`` and ``/cop stats``.

A first word that is no sub-command makes the whole text a search
(``/cop pandas memory`` = ``/cop search pandas memory``): the registry's rule.
"""

from __future__ import annotations

from datetime import datetime

from bot import messages
from bot.command_registry import CommandContext, CommandSpec, Param
from bot.errors import UsageError
from bot.events import Outbound
from bot.results import hit_to_item, mark_outdated
from knowledge.expertise import rank_experts
from knowledge.query import parse_query
from knowledge.search import SearchOptions, search
from knowledge.stats import repertoire_stats
from knowledge.text import shorten

__all__ = ["SEARCH_COMMAND", "STATS_COMMAND", "WHO_COMMAND", "describe_expert_reason"]


def _search(ctx: CommandContext) -> list[Outbound]:
    if not ctx.args:
        raise UsageError(messages.SEARCH_WHAT, "search")
    settings = ctx.services.settings
    query = parse_query(ctx.args, now=ctx.services.clock.now())
    hits = search(
        ctx.services.repertoire, query, ctx.viewer, SearchOptions(limit=settings.search.results)
    )
    notes = "".join(f"\n({note})" for note in query.notes)
    if not hits:
        return [
            ctx.reply(
                f"Nothing found for “{shorten(ctx.args, 80)}”. Try fewer or other words, "
                f"or ask the community with `/cop ask`.{notes}"
            )
        ]
    items = mark_outdated(ctx.services, tuple(hit_to_item(h) for h in hits))
    count = len(items)
    header = f"{count} result{'s' if count != 1 else ''} for “{shorten(ctx.args, 80)}”{notes}"
    return [ctx.reply(header, items=items, actions=("share",))]


def describe_expert_reason(
    accepted: int, answers: int, knowhow: int, latest: datetime | None, topic: str, now: datetime
) -> str:
    """One line that says why a member ranks for a topic."""
    parts: list[str] = []
    if accepted:
        parts.append(f"{accepted} accepted answer{'s' if accepted != 1 else ''}")
    other = answers - accepted
    if other:
        parts.append(f"{other} other answer{'s' if other != 1 else ''}")
    if knowhow:
        parts.append(f"{knowhow} know-how")
    reason = ", ".join(parts) or "contributions"
    if latest is not None:
        days = max(0, int((now - latest).total_seconds() // 86400))
        ago = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''} ago"
        reason += f" on {topic}, latest {ago}"
    return reason


def _who(ctx: CommandContext) -> list[Outbound]:
    topic = ctx.args.strip()
    if not topic:
        raise UsageError(messages.WHO_WHICH_TOPIC, "who")
    now = ctx.services.clock.now()
    experts = rank_experts(ctx.services.repertoire, topic, ctx.viewer, now=now)
    if not experts:
        return [ctx.reply(f"Nobody has answered or shared know-how on “{shorten(topic, 60)}” yet.")]
    lines = [f"Who knows “{shorten(topic, 60)}”:"]
    for rank, expert in enumerate(experts, 1):
        reason = describe_expert_reason(
            expert.accepted_answers, expert.answers, expert.knowhow, expert.latest, topic, now
        )
        lines.append(f"{rank}. {expert.member.display_name} — {reason}")
    return [ctx.reply("\n".join(lines))]


def _stats(ctx: CommandContext) -> list[Outbound]:
    stats = repertoire_stats(ctx.services.repertoire, ctx.viewer)
    return [
        ctx.reply(
            f"Repertoire: {stats.questions} questions ({stats.answered} answered, "
            f"{stats.accepted} with an accepted answer, {stats.unanswered} open), "
            f"{stats.answers} answers, {stats.knowhow} know-how; "
            f"{stats.members} members in {stats.channels} channels."
        )
    ]


SEARCH_COMMAND = CommandSpec(
    "search",
    "search <query>",
    "find past answers and know-how",
    _search,
    (Param("query", 'Words, "a phrase", tag:x, from:name, in:channel, is:accepted…'),),
)
WHO_COMMAND = CommandSpec(
    "who",
    "who <topic>",
    "who knows a topic, from accepted answers and know-how",
    _who,
    (Param("topic", "A topic, e.g. airflow"),),
)
STATS_COMMAND = CommandSpec("stats", "stats", "what the repertoire holds", _stats)
