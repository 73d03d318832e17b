"""``/cop hosts [topic]``: who could lead a session on a topic the community asks about often."""

from __future__ import annotations

from datetime import timedelta

from bot import messages
from bot.command_registry import CommandContext, CommandSpec, Param
from bot.commands.arguments import plural
from bot.commands.search import describe_expert_reason
from bot.errors import UsageError
from bot.events import Outbound
from bot.results import entry_item
from knowledge.hosts import frequent_topics, hosts_for_topic
from knowledge.text import shorten

__all__ = ["HOSTS_COMMAND"]


def _hosts(ctx: CommandContext) -> list[Outbound]:
    topic = ctx.args.strip()
    now = ctx.services.clock.now()
    repertoire = ctx.services.repertoire
    practice = ctx.services.settings.practice
    if not topic:
        since = now - timedelta(days=practice.hosts_period_days)
        topics = frequent_topics(
            repertoire, ctx.viewer, since=since, min_questions=practice.hosts_min_questions
        )
        if not topics:
            raise UsageError(messages.HOSTS_WHICH_TOPIC, "hosts")
        lines = [f"Topics asked most in the last {practice.hosts_period_days} days:"]
        for tag, count in topics:
            suggestion = hosts_for_topic(repertoire, f"tag:{tag}", ctx.viewer, now=now, hosts=2)
            who = ", ".join(e.member.display_name for e in suggestion.hosts) or "nobody yet"
            lines.append(f"• #{tag}: {plural(count, 'question')} — could host: {who}")
        lines.append("`/cop hosts <topic>` shows why, with the questions.")
        return [ctx.reply("\n".join(lines))]
    suggestion = hosts_for_topic(repertoire, topic, ctx.viewer, now=now)
    shown = shorten(topic, 60)
    if not suggestion.questions:
        return [ctx.reply(f"Nobody has asked about “{shown}” yet: no session needed so far.")]
    lines = [
        f"Session on “{shown}”: asked {plural(suggestion.questions, 'time')}, "
        f"{suggestion.open_questions} still without an accepted answer."
    ]
    if suggestion.hosts:
        lines.append("Could lead it (same ranking as `/cop who`):")
        for rank, expert in enumerate(suggestion.hosts, 1):
            reason = describe_expert_reason(
                expert.accepted_answers, expert.answers, expert.knowhow, expert.latest, shown, now
            )
            lines.append(f"{rank}. {expert.member.display_name} — {reason}")
    else:
        lines.append("Nobody has answered or shared know-how on it yet: an outside speaker?")
    lines.append("The questions that show the need:")
    items = tuple(entry_item(q.entry, answered=q.answered) for q in suggestion.recent)
    return [ctx.reply("\n".join(lines), items=items)]


HOSTS_COMMAND = CommandSpec(
    "hosts",
    "hosts [topic]",
    "who could lead a session on a topic we ask about often",
    _hosts,
    (Param("topic", "A topic (default: the topics asked about most)", required=False),),
)
