"""The ``/cop`` grammar, the same on every platform.

``/cop <sub> <args>``; a first word that is no sub-command makes the whole
text a search (``/cop pandas memory`` = ``/cop search pandas memory``).
Features add sub-commands with :func:`command`; each handler gets a
:class:`CommandContext` and returns what to say.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.capture import Capture, channel_ref
from bot.errors import UsageError
from bot.events import (
    CommandInvocation,
    IncomingMessage,
    KnowhowKind,
    Outbound,
    Reply,
    ResultItem,
    SaveRequest,
)
from bot.ports import Services
from bot.practice import mark_outdated, take_until
from bot.results import hit_to_item
from knowledge.expertise import rank_experts
from knowledge.models import ChannelRef
from knowledge.query import parse_query
from knowledge.search import SearchOptions, search
from knowledge.stats import repertoire_stats
from knowledge.text import clean_text, extract_tags, shorten, strip_tags, title_from


@dataclass(frozen=True)
class CommandContext:
    services: Services
    capture: Capture
    invocation: CommandInvocation
    args: str

    @property
    def viewer(self) -> ChannelRef:
        return channel_ref(self.invocation.where)

    def reply(
        self,
        text: str,
        *,
        items: tuple[ResultItem, ...] = (),
        ephemeral: bool = True,
        actions: tuple[str, ...] = (),
        anchor_entry_id: int | None = None,
    ) -> Reply:
        """An answer to the member, shown only to them unless said otherwise."""
        return Reply(
            where=self.invocation.where,
            text=text,
            items=items,
            ephemeral=ephemeral,
            actions=actions,
            anchor_entry_id=anchor_entry_id,
            thread_id=self.invocation.thread_id,
            recipient=self.invocation.actor,
        )


Handler = Callable[[CommandContext], list[Outbound]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    usage: str
    summary: str
    handler: Handler


COMMANDS: dict[str, CommandSpec] = {}


def command(name: str, usage: str, summary: str) -> Callable[[Handler], Handler]:
    """Register a sub-command of ``/cop``."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = CommandSpec(name, usage, summary, handler)
        return handler

    return register


SEARCH_GRAMMAR = (
    'Search grammar: words, "a phrase", -exclude, tag:pandas, from:alice, in:data-help, '
    "kind:question|knowhow|howto|resource|story|update, is:answered|unanswered|accepted, "
    "before:2026-01-31, after:30d"
)


def help_text(prefix: str = "/cop") -> str:
    lines = ["copbot keeps our community's answers and know-how. Commands:"]
    for spec in COMMANDS.values():
        lines.append(f"• `{prefix} {spec.usage}` — {spec.summary}")
    lines.append(f"• `{prefix} <words>` — same as search")
    lines.append(SEARCH_GRAMMAR)
    return "\n".join(lines)


def dispatch(ctx_factory: Callable[[str], CommandContext], text: str) -> list[Outbound]:
    """Pick the sub-command for ``text`` and run it."""
    text = clean_text(text)  # strips, and drops what cannot be stored or shown
    first, _, rest = text.partition(" ")
    name = first.lower()
    if not text or name in {"help", "-h", "--help", "?"}:
        ctx = ctx_factory(rest)
        return [ctx.reply(help_text())]
    spec = COMMANDS.get(name)
    if spec is None:
        spec = COMMANDS["search"]
        rest = text
    return spec.handler(ctx_factory(rest.strip()))


# ---------------------------------------------------------------------------- built-ins


@command("search", "search <query>", "find past answers and know-how")
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


@command("ask", "ask <question>", "ask the community; answers in the thread are kept")
def _ask(ctx: CommandContext) -> list[Outbound]:
    if not ctx.args.strip():
        raise UsageError("What is your question? Try `/cop ask how do I ...?`", "ask")
    inv = ctx.invocation
    message_id = f"ask-{inv.event_id or f'{inv.actor.user_id}-{inv.at.timestamp():.6f}'}"
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


@command(
    "share",
    "share [kind:howto|resource|story|update] [until:YYYY-MM-DD] <know-how> #tags",
    "add know-how (an update may say until when it holds)",
)
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


@command("who", "who <topic>", "who knows a topic, from accepted answers and know-how")
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


@command("stats", "stats", "what the repertoire holds")
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


@command("help", "help", "this help")
def _help(ctx: CommandContext) -> list[Outbound]:
    return [ctx.reply(help_text())]
