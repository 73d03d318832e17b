"""The built-in ``/cop`` commands: search, ask, share, who, stats, help.

``/cop <sub> <args>``; a first word that is no sub-command makes the whole
text a search (``/cop pandas memory`` = ``/cop search pandas memory``). Each
handler gets a :class:`~bot.command_registry.CommandContext` and returns what
to say; :data:`BUILTIN_COMMANDS` lists them for the registry
(:func:`bot.app.command_registry`).
"""

from __future__ import annotations

from datetime import datetime

from bot.command_registry import CommandContext, CommandSpec, Param
from bot.errors import UsageError
from bot.events import IncomingMessage, KnowhowKind, Outbound, SaveRequest
from bot.practice import mark_outdated, take_until
from bot.results import hit_to_item
from knowledge.expertise import rank_experts
from knowledge.query import parse_query
from knowledge.search import SearchOptions, search
from knowledge.stats import repertoire_stats
from knowledge.text import extract_tags, shorten, strip_tags, title_from

# ---------------------------------------------------------------------------- built-ins

#: A ``/cop ask`` question's message id until the platform posts it (then its real id).
ASKED_PREFIX = "ask-"


def _search(ctx: CommandContext) -> list[Outbound]:
    if not ctx.args:
        raise UsageError("What should I look for? Try `/cop search pandas memory`.", "search")
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


def _ask(ctx: CommandContext) -> list[Outbound]:
    if not ctx.args.strip():
        raise UsageError("What is your question? Try `/cop ask how do I ...?`", "ask")
    inv = ctx.invocation
    message_id = ASKED_PREFIX + (inv.event_id or f"{inv.actor.user_id}-{inv.at.timestamp():.6f}")
    captured = ctx.capture.on_message(
        IncomingMessage(
            where=inv.where,
            author=inv.actor,
            message_id=message_id,
            text=ctx.args,
            created_at=inv.at,
            event_id="",
        ),
        explicit_question=True,
    )
    if captured is None:
        raise UsageError("That question had no text I could keep.", "ask")
    entry, _created = captured
    name = inv.actor.display_name or inv.actor.user_id
    return [
        ctx.reply(
            f"❓ {name} asks: {ctx.args.strip()}\n(Answer in this thread; the asker can mark "
            f"the answer that solved it.)",
            ephemeral=False,
            anchor_entry_id=entry.id,
        )
    ]


def _share(ctx: CommandContext) -> list[Outbound]:
    text = ctx.args.strip()
    kind = KnowhowKind.HOWTO
    first, _, rest = text.partition(" ")
    if first.lower().startswith("kind:"):
        wanted = first.split(":", 1)[1].lower()
        try:
            kind = KnowhowKind(wanted)
        except ValueError:
            kinds = ", ".join(k.value for k in KnowhowKind)
            raise UsageError(f"Unknown kind '{wanted}'. Use one of: {kinds}.", "share") from None
        text = rest.strip()
    valid_until, text = take_until(text)
    if valid_until is not None and kind != KnowhowKind.UPDATE:
        raise UsageError("`until:` is for `kind:update` (news that stops being true).", "share")
    if not strip_tags(text):
        raise UsageError(
            "What should I keep? Try `/cop share use polars for big CSVs #polars`", "share"
        )
    inv = ctx.invocation
    message_id = f"share-{inv.event_id or f'{inv.actor.user_id}-{inv.at.timestamp():.6f}'}"
    return ctx.capture.on_save(
        SaveRequest(
            where=inv.where,
            saver=inv.actor,
            message_id=message_id,
            text=text,
            author=inv.actor,
            created_at=inv.at,
            title=title_from(text),
            tags=extract_tags(text),
            kind=kind,
            valid_until=valid_until,
        )
    )


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
        raise UsageError("Which topic? Try `/cop who airflow`.", "who")
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


def _help(ctx: CommandContext) -> list[Outbound]:
    return [ctx.reply(ctx.registry.help_text())]


_KINDS = tuple(k.value for k in KnowhowKind)

BUILTIN_COMMANDS = (
    CommandSpec(
        "search",
        "search <query>",
        "find past answers and know-how",
        _search,
        (Param("query", 'Words, "a phrase", tag:x, from:name, in:channel, is:accepted…'),),
    ),
    CommandSpec(
        "ask",
        "ask <question>",
        "ask the community; answers in the thread are kept",
        _ask,
        (Param("question", "Your question"),),
    ),
    CommandSpec(
        "share",
        "share [kind:howto|resource|story|update] [until:YYYY-MM-DD] <know-how> #tags",
        "add know-how (an update may say until when it holds)",
        _share,
        (
            Param("kind", "What kind of know-how", required=False, choices=_KINDS, prefix="kind:"),
            Param(
                "until",
                "An update holds until this day (YYYY-MM-DD)",
                required=False,
                prefix="until:",
            ),
            Param("text", "What to keep; #tags welcome"),
        ),
    ),
    CommandSpec(
        "who",
        "who <topic>",
        "who knows a topic, from accepted answers and know-how",
        _who,
        (Param("topic", "A topic, e.g. airflow"),),
    ),
    CommandSpec("stats", "stats", "what the repertoire holds", _stats),
)
HELP_COMMAND = CommandSpec("help", "help", "this help", _help)
