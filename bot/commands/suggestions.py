"""``/cop similar``, ``/cop solved`` and ``/cop unrelated``: similar questions on demand,
and feedback typed in a suggestion's thread (the same as its buttons and reactions).
"""

from __future__ import annotations

from bot import messages
from bot.capture import channel_ref, source_key
from bot.command_registry import CommandContext, CommandSpec, Param
from bot.errors import UsageError
from bot.events import Outbound
from bot.suggest import Suggester, explain, suggestion_item
from knowledge import feedback
from knowledge.feedback import NOT_RELATED, SOLVED_IT, Suggestion
from knowledge.similar import find_similar


def _thread_suggestion(ctx: CommandContext) -> Suggestion:
    inv = ctx.invocation
    if inv.thread_id is None:
        raise UsageError(messages.NO_SUGGESTION_THREAD)
    suggestion = feedback.suggestion_in_thread(
        ctx.services.repertoire, source_key(inv.where, inv.thread_id)
    )
    if suggestion is None or not suggestion.entry_ids:
        raise UsageError(messages.NOT_SUGGESTED_HERE)
    return suggestion


def _picked(suggestion: Suggestion, args: str, name: str) -> tuple[int, ...] | None:
    """Item numbers typed after the command (``2`` or ``1 3``); ``None`` when none were."""
    numbers = args.replace(",", " ").split()
    if not numbers:
        return None
    picked: list[int] = []
    for number in numbers:
        if not number.isdigit() or not 1 <= int(number) <= len(suggestion.entry_ids):
            raise UsageError(
                messages.not_a_suggestion(number, len(suggestion.entry_ids)),
                name,
            )
        picked.append(suggestion.entry_ids[int(number) - 1])
    return tuple(picked)


def _solved(ctx: CommandContext) -> list[Outbound]:
    suggestion = _thread_suggestion(ctx)
    picked = _picked(suggestion, ctx.args, "solved") or suggestion.entry_ids[:1]
    inv = ctx.invocation
    return Suggester(ctx.services).give(
        suggestion, picked[:1], inv.actor, inv.where, SOLVED_IT, inv.at
    )


def _unrelated(ctx: CommandContext) -> list[Outbound]:
    suggestion = _thread_suggestion(ctx)
    picked = _picked(suggestion, ctx.args, "unrelated") or suggestion.entry_ids
    inv = ctx.invocation
    return Suggester(ctx.services).give(
        suggestion, picked, inv.actor, inv.where, NOT_RELATED, inv.at
    )


def _similar(ctx: CommandContext) -> list[Outbound]:
    text = ctx.args.strip()
    if not text:
        raise UsageError(messages.SIMILAR_WHAT, "similar")
    suggester = Suggester(ctx.services)
    hits = find_similar(
        ctx.services.repertoire, text, ctx.viewer, limit=5, embedder=suggester.embedder
    )
    if not hits:
        return [ctx.reply("No similar answered question or know-how found.")]
    channel = suggester.channel_threshold(ctx.invocation.where)
    quiet = channel.applied(suggester.quiet_threshold)
    lines = [
        f"{i}) {explain(h)}"
        + (" ✓" if h.score >= channel.value else " (quietly)" if h.score >= quiet else "")
        for i, h in enumerate(hits, 1)
    ]
    return [
        ctx.reply(
            "Closest past answers, with the chance each one answers it:\n"
            + "\n".join(lines)
            + f"\n✓: I would suggest it in the thread here (from {channel.value:.2f}); "
            f"quietly: only to the asker (from {quiet:.2f}).",
            items=tuple(suggestion_item(h) for h in hits),
        )
    ]


def _suggestions(ctx: CommandContext) -> list[Outbound]:
    args = ctx.args.strip().lower()
    suggester = Suggester(ctx.services)
    where = ctx.invocation.where
    if args == "reset":
        feedback.reset_channel(ctx.services.repertoire, channel_ref(where), ctx.invocation.at)
        channel = suggester.channel_threshold(where)
        return [
            ctx.reply(
                f"Reset: I suggest past answers here from {channel.value:.2f} again; "
                "earlier ✅ and 👎 no longer move it.",
                ephemeral=False,
            )
        ]
    if args:
        raise UsageError(
            messages.suggestions_word(args), "suggestions"
        )
    channel = suggester.channel_threshold(where)
    return [
        ctx.reply(
            f"Here I suggest a past answer in the thread from {channel.explain()}; below that, "
            f"from {channel.applied(suggester.quiet_threshold):.2f}, I offer it quietly to the "
            "asker. 👎 on my suggestions raises it, ✅ lowers it; `/cop suggestions reset` "
            "forgets this channel's feedback."
        )
    ]


SUGGEST_COMMANDS = (
    CommandSpec(
        "similar",
        "similar <question>",
        "past answers close to a question, with confidence",
        _similar,
        (Param("question", "A question, as you would ask it"),),
    ),
    CommandSpec(
        "solved",
        "solved [N]",
        "in a suggestion's thread: suggestion N (default 1) solved it",
        _solved,
        (
            Param(
                "n",
                "Which suggestion solved it (default 1)",
                kind="integer",
                required=False,
                min_value=1,
                max_value=5,
            ),
        ),
    ),
    CommandSpec(
        "unrelated",
        "unrelated [N ...]",
        "in a suggestion's thread: those suggestions miss",
        _unrelated,
        (Param("numbers", "Which suggestions miss, e.g. 1 3 (default: all)", required=False),),
    ),
    CommandSpec(
        "suggestions",
        "suggestions [reset]",
        "how sure I must be to suggest past answers here; reset forgets this channel's feedback",
        _suggestions,
        (
            Param(
                "reset", "reset: forget this channel's feedback", required=False, choices=("reset",)
            ),
        ),
    ),
)
