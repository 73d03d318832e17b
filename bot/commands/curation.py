"""``/cop`` commands of the practice: profiles, thanks, session hosts, identity links, curation.

:data:`PRACTICE_COMMANDS` lists them for the registry
(:func:`bot.app.command_registry`). Every command shows only what the channel
it was typed in may see: public entries and entries from that channel.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.command_registry import CommandContext, CommandSpec, Param
from bot.commands import describe_expert_reason
from bot.errors import UsageError, UserError
from bot.events import Outbound, ResultItem
from bot.practice import leaderboard_on, mark_outdated
from bot.results import entry_title
from knowledge.curation import (
    Change,
    CurationError,
    change_field,
    get_change,
    history,
    latest_undoable,
    retag,
    undo,
    valid_until,
)
from knowledge.hosts import frequent_topics, hosts_for_topic
from knowledge.identity import (
    IdentityError,
    identity_group,
    linked_identities,
    pending_links,
    request_link,
    unlink,
)
from knowledge.models import ChannelRef, Entry, EntryKind, Member
from knowledge.profiles import member_profile
from knowledge.storage import Viewer, as_viewer
from knowledge.text import fold, normalize_tag, shorten
from knowledge.thanks import record_thanks, thanks_leaderboard

_MENTION = re.compile(r"^<@!?([\w.-]+)(?:\|[^>]*)?>$")
_ENTRY_REF = re.compile(r"^(?:#|entry:)?(\d+)$", re.IGNORECASE)
_CHANGE_REF = re.compile(r"^c(\d+)$", re.IGNORECASE)
_CLEAR_WORDS = {"no", "off", "clear", "false", "not", "undo", "current", "fresh"}


# --------------------------------------------------------------------------- helpers


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def actor_member(ctx: CommandContext) -> int:
    """The member id of whoever typed the command."""
    inv = ctx.invocation
    return ctx.capture.member_id(inv.actor, inv.where.workspace)


def resolve_member(ctx: CommandContext, text: str, command_name: str) -> Member:
    """A member named by mention (``<@U123>``), ``platform:id``, ``@handle`` or name."""
    repertoire = ctx.services.repertoire
    where = ctx.invocation.where
    raw = text.strip()
    mention = _MENTION.match(raw)
    candidates: list[Member] = []
    if mention:
        candidates = repertoire.members_with_user_id(where.platform, mention.group(1))
        if not candidates:  # a mention names a real member of this platform, even a quiet one
            member_id = repertoire.upsert_member(where.platform, where.workspace, mention.group(1))
            candidates = [m for m in [repertoire.get_member(member_id)] if m]
    elif ":" in raw and not raw.startswith("@"):
        platform, _, user_id = raw.partition(":")
        candidates = repertoire.members_with_user_id(platform.lower(), user_id)
    else:
        name = raw.lstrip("@")
        candidates = repertoire.find_members(name)
        if not candidates and name:
            wanted = fold(name).replace(" ", "")
            for member in repertoire.all_members():
                full = fold(member.display_name)
                if wanted in (full.replace(" ", ""), full.split(" ")[0]) or (
                    len(wanted) >= 3 and full.startswith(wanted)
                ):
                    candidates.append(member)
    if not candidates:
        raise UsageError(f"I don't know a member called “{shorten(raw, 40)}”.", command_name)
    # The same person on several platforms is one candidate; prefer the viewer's platform.
    people: dict[int, Member] = {}
    for member in sorted(candidates, key=lambda m: (m.platform != where.platform, m.id)):
        group = identity_group(repertoire, member.id)
        if not any(g in people for g in group):
            people[member.id] = member
    if len(people) > 1:
        names = ", ".join(f"{m.display_name} ({m.platform}:{m.user_id})" for m in people.values())
        raise UsageError(f"“{shorten(raw, 40)}” could be {names}; be more precise.", command_name)
    return next(iter(people.values()))


def visible_entry(ctx: CommandContext, ref: str, command_name: str) -> Entry:
    """The entry ``#12`` / ``12`` if the channel may see it (else as if it did not exist)."""
    match = _ENTRY_REF.match(ref.strip())
    if match is None:
        raise UsageError(f"“{shorten(ref, 20)}” is not an entry number like #12.", command_name)
    entry = ctx.services.repertoire.entry_for(as_viewer(ctx.viewer), int(match.group(1)))
    if entry is None:
        raise UserError(f"There is no entry #{match.group(1)} that can be shown here.")
    return entry


def entry_item(entry: Entry, title: str = "", answered: bool = False) -> ResultItem:
    return ResultItem(
        entry_id=entry.id,
        kind=entry.kind.value,
        title=title or entry_title(entry),
        snippet=shorten(entry.text, 160),
        author=entry.author_name,
        created_at=entry.created_at,
        channel_name=entry.channel_name or entry.source.channel,
        permalink=entry.permalink,
        platform=entry.source.platform,
        tags=entry.tags,
        answered=answered or entry.kind != EntryKind.QUESTION,
        knowhow_kind=entry.knowhow_kind,
    )


# --------------------------------------------------------------------------- profile


def _profile(ctx: CommandContext) -> list[Outbound]:
    repertoire = ctx.services.repertoire
    if ctx.args.strip():
        member = resolve_member(ctx, ctx.args, "profile")
        member_id = member.id
    else:
        member_id = actor_member(ctx)
    profile = member_profile(repertoire, member_id, ctx.viewer)
    if profile is None:  # pragma: no cover - resolve_member returns known members
        raise UserError("I don't know that member.")
    name = profile.member.display_name
    lines = [f"👤 *{name}* ({profile.member.platform})"]
    if profile.identities:
        also = ", ".join(f"{m.platform} as {m.display_name}" for m in profile.identities)
        lines[0] += f" — also on {also}"
    if profile.is_empty:
        lines.append("Nothing here yet that this channel may see.")
        return [ctx.reply("\n".join(lines))]
    given: list[str] = []
    if profile.answers:
        given.append(f"{_plural(profile.answers, 'answer')} ({profile.accepted} accepted)")
    if profile.knowhow:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(profile.knowhow_by_kind.items()))
        given.append(f"{profile.knowhow} know-how ({kinds})")
    summary = "Gave " + "; ".join(given) if given else "Gave nothing yet"
    summary += f"; asked {_plural(profile.questions, 'question')}."
    lines.append(summary)
    if profile.thanks:
        givers = ", ".join(profile.thanks.givers[:6])
        more = len(profile.thanks.givers) - 6
        lines.append(
            f"🙏 Thanked {_plural(profile.thanks.count, 'time')} by {givers}"
            + (f" and {more} more" if more > 0 else "")
            + "."
        )
    if profile.topics:
        parts = []
        for topic in profile.topics:
            bits = []
            if topic.accepted:
                bits.append(f"{topic.accepted} accepted")
            if topic.answers - topic.accepted:
                bits.append(_plural(topic.answers - topic.accepted, "other answer"))
            if topic.knowhow:
                bits.append(f"{topic.knowhow} know-how")
            parts.append(f"#{topic.tag} ({', '.join(bits)})")
        lines.append("Knows about: " + ", ".join(parts))
    if profile.open_questions:
        lines.append("Asked, still open:")
        for item in profile.open_questions:
            state = (
                "no answer yet"
                if item.answers == 0
                else f"{_plural(item.answers, 'answer')}, none accepted"
            )
            lines.append(f"  • #{item.entry.id} {entry_title(item.entry)} ({state})")
    items: tuple[ResultItem, ...] = ()
    if profile.recent:
        lines.append("Recent contributions:")
        items = mark_outdated(
            ctx.services, tuple(entry_item(c.entry, c.title) for c in profile.recent)
        )
    return [ctx.reply("\n".join(lines), items=items)]


# --------------------------------------------------------------------------- thanks


def _thread_answer(ctx: CommandContext, member_id: int) -> Entry | None:
    """In a thread, the member's latest answer there (what a thank-you is likely for)."""
    inv = ctx.invocation
    if not inv.thread_id:
        return None
    ids = identity_group(ctx.services.repertoire, member_id)
    here = ChannelRef(inv.where.platform, inv.where.workspace, inv.where.channel)
    return ctx.services.repertoire.latest_answer_in_thread(
        Viewer.in_channel(here), here, inv.thread_id, tuple(ids)
    )


def _thanks(ctx: CommandContext) -> list[Outbound]:
    repertoire = ctx.services.repertoire
    text = ctx.args.strip()
    if not text or text.lower() in {"top", "leaderboard", "board"}:
        return _leaderboard(ctx, asked=bool(text))
    first, _, rest = text.partition(" ")
    rest = rest.strip()
    if rest.lower().startswith("for "):
        rest = rest[4:].strip()
    entry: Entry | None = None
    if _ENTRY_REF.match(first) and first.startswith("#"):
        entry = visible_entry(ctx, first, "thanks")
        receiver_id = entry.author_id
    else:
        receiver_id = resolve_member(ctx, first, "thanks").id
        ref = rest.split(" ")[0] if rest else ""
        if ref.startswith("#") and _ENTRY_REF.match(ref):
            entry = visible_entry(ctx, ref, "thanks")
            rest = rest[len(ref) :].strip()
            if entry.author_id not in identity_group(repertoire, receiver_id):
                raise UserError(f"#{entry.id} is by {entry.author_name}, not by that member.")
        else:
            entry = _thread_answer(ctx, receiver_id)
    giver_id = actor_member(ctx)
    receiver = repertoire.get_member(receiver_id)
    assert receiver is not None
    if receiver_id in identity_group(repertoire, giver_id):
        raise UserError("Thanking yourself is kind, but it isn't counted. 🙂")
    where = ctx.invocation.where
    recorded = record_thanks(
        repertoire,
        giver_id,
        receiver_id,
        entry_id=entry.id if entry else None,
        where=ctx.viewer,
        visibility=where.visibility.value,
        at=ctx.invocation.at,
        reason=shorten(rest, 200),
    )
    what = f" for “{entry_title(entry)}” (#{entry.id})" if entry else ""
    if rest:
        what += f": {shorten(rest, 120)}"
    if not recorded:
        return [
            ctx.reply(
                f"You already thanked {receiver.display_name}"
                + (f" for #{entry.id}" if entry else "")
                + "; a thank-you counts once per member and entry."
            )
        ]
    giver = ctx.invocation.actor.display_name or ctx.invocation.actor.user_id
    return [ctx.reply(f"🙏 {giver} thanks {receiver.display_name}{what}", ephemeral=False)]


def _leaderboard(ctx: CommandContext, asked: bool) -> list[Outbound]:
    where = ctx.invocation.where
    if not leaderboard_on(ctx.services.settings, where):
        if not asked:
            raise UsageError(
                "Whom do you want to thank? Try `/cop thanks @chen for #12`.", "thanks"
            )
        return [
            ctx.reply(
                "There is no thanks leaderboard in this channel (points can turn help into a "
                "contest; a channel can turn one on with `leaderboard = true`). "
                "`/cop profile @member` shows who thanked whom."
            )
        ]
    since = ctx.services.clock.now() - timedelta(days=90)
    helpers = thanks_leaderboard(ctx.services.repertoire, ctx.viewer, since)
    if not helpers:
        return [ctx.reply("No thanks in the last 90 days yet.")]
    lines = ["Most thanked in the last 90 days:"]
    for rank, helper in enumerate(helpers, 1):
        lines.append(
            f"{rank}. {helper.member.display_name} — {_plural(helper.count, 'thank-you', 'thanks')}"
        )
    return [ctx.reply("\n".join(lines))]


# --------------------------------------------------------------------------- hosts


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
            raise UsageError("Which topic? Try `/cop hosts airflow`.", "hosts")
        lines = [f"Topics asked most in the last {practice.hosts_period_days} days:"]
        for tag, count in topics:
            suggestion = hosts_for_topic(repertoire, f"tag:{tag}", ctx.viewer, now=now, hosts=2)
            who = ", ".join(e.member.display_name for e in suggestion.hosts) or "nobody yet"
            lines.append(f"• #{tag}: {_plural(count, 'question')} — could host: {who}")
        lines.append("`/cop hosts <topic>` shows why, with the questions.")
        return [ctx.reply("\n".join(lines))]
    suggestion = hosts_for_topic(repertoire, topic, ctx.viewer, now=now)
    shown = shorten(topic, 60)
    if not suggestion.questions:
        return [ctx.reply(f"Nobody has asked about “{shown}” yet: no session needed so far.")]
    lines = [
        f"Session on “{shown}”: asked {_plural(suggestion.questions, 'time')}, "
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


# --------------------------------------------------------------------------- identity links


def _split_identity(text: str, command_name: str) -> tuple[str, str]:
    platform, sep, user_id = text.strip().partition(":")
    mention = _MENTION.match(user_id.strip())
    if mention:
        user_id = mention.group(1)
    if not sep or not platform or not user_id.strip():
        raise UsageError(
            "Name your identity on the other platform as platform:user-id, "
            "e.g. `/cop link discord:123456789012345678`.",
            command_name,
        )
    return platform.lower(), user_id.strip()


def _link(ctx: CommandContext) -> list[Outbound]:
    repertoire = ctx.services.repertoire
    me = actor_member(ctx)
    if not ctx.args.strip():
        lines = []
        for member in linked_identities(repertoire, me):
            lines.append(f"• linked: {member.platform}:{member.user_id} ({member.display_name})")
        for pending in pending_links(repertoire, me):
            if pending.outgoing:
                lines.append(
                    f"• waiting for {pending.to_platform}:{pending.to_user_id} to confirm "
                    f"(there: `/cop link {pending.from_member.platform}:"
                    f"{pending.from_member.user_id}`)"
                )
            else:
                asker = pending.from_member
                lines.append(
                    f"• {asker.platform}:{asker.user_id} ({asker.display_name}) says it is you: "
                    f"confirm with `/cop link {asker.platform}:{asker.user_id}`"
                )
        if not lines:
            lines.append(
                "No linked identities. On one platform type `/cop link <other platform>:<your "
                "id there>`, then confirm from the other platform."
            )
        return [ctx.reply("\n".join(lines))]
    platform, user_id = _split_identity(ctx.args, "link")
    try:
        result = request_link(repertoire, me, platform, user_id, ctx.invocation.at)
    except IdentityError as exc:
        raise UsageError(str(exc), "link") from None
    inv = ctx.invocation
    back = f"`/cop link {inv.where.platform}:{inv.actor.user_id}`"
    if result.status == "confirmed":
        other = result.other
        name = f"{other.platform}:{other.user_id}" if other else f"{platform}:{user_id}"
        return [ctx.reply(f"🔗 Linked: you are also {name}. Both sides confirmed.")]
    if result.status == "already-linked":
        return [ctx.reply(f"You are already linked with {platform}:{user_id}.")]
    return [
        ctx.reply(
            f"Half done: to confirm that {platform}:{user_id} is you, type {back} there. "
            "The link needs a confirmation from both sides."
        )
    ]


def _unlink(ctx: CommandContext) -> list[Outbound]:
    platform, user_id = _split_identity(ctx.args, "unlink")
    if unlink(ctx.services.repertoire, actor_member(ctx), platform, user_id):
        return [ctx.reply(f"Unlinked {platform}:{user_id}.")]
    return [ctx.reply(f"You had no link with {platform}:{user_id}.")]


# --------------------------------------------------------------------------- curation


def _done(ctx: CommandContext, change: Change | None, entry: Entry) -> list[Outbound]:
    if change is None:
        return [ctx.reply(f"#{entry.id} already looks like that; nothing changed.")]
    return [
        ctx.reply(
            f"✏️ #{entry.id}: {change.describe()} (change c{change.id}; "
            f"anyone can undo it with `/cop undo c{change.id}`)"
        )
    ]


def _entry_and_rest(ctx: CommandContext, name: str, example: str) -> tuple[Entry, str]:
    ref, _, rest = ctx.args.strip().partition(" ")
    if not ref:
        raise UsageError(f"Which entry? Try `/cop {example}`.", name)
    return visible_entry(ctx, ref, name), rest.strip()


def _retag(ctx: CommandContext) -> list[Outbound]:
    entry, rest = _entry_and_rest(ctx, "retag", "retag #12 +polars -pandas")
    words = rest.split()
    if not words:
        raise UsageError("Which tags? `#a #b` replaces them, `+a` adds, `-b` removes.", "retag")
    add = tuple(w[1:] for w in words if w.startswith("+"))
    remove = tuple(w[1:] for w in words if w.startswith("-"))
    plain = tuple(w.lstrip("#") for w in words if w[0] not in "+-")
    if not any(normalize_tag(t) for t in (*add, *remove, *plain)):
        raise UsageError("Those are no tags I can keep.", "retag")
    try:
        change = retag(
            ctx.services.repertoire,
            entry.id,
            actor_member(ctx),
            ctx.invocation.at,
            add=add,
            remove=remove,
            replace=plain or None,
        )
    except CurationError as exc:
        raise UserError(str(exc)) from None
    return _done(ctx, change, entry)


def _retitle(ctx: CommandContext) -> list[Outbound]:
    entry, rest = _entry_and_rest(ctx, "retitle", "retitle #12 Reading huge CSVs with polars")
    if not rest:
        raise UsageError("What should the title be?", "retitle")
    try:
        change = change_field(
            ctx.services.repertoire,
            entry.id,
            "title",
            shorten(rest, 200),
            actor_member(ctx),
            ctx.invocation.at,
        )
    except CurationError as exc:
        raise UserError(str(exc)) from None
    return _done(ctx, change, entry)


def _outdated(ctx: CommandContext) -> list[Outbound]:
    entry, rest = _entry_and_rest(ctx, "outdated", "outdated #12")
    flag = rest.split(" ")[0].lower() not in _CLEAR_WORDS if rest else True
    try:
        change = change_field(
            ctx.services.repertoire,
            entry.id,
            "outdated",
            flag,
            actor_member(ctx),
            ctx.invocation.at,
        )
    except CurationError as exc:
        raise UserError(str(exc)) from None
    return _done(ctx, change, entry)


def _history(ctx: CommandContext) -> list[Outbound]:
    entry, _rest = _entry_and_rest(ctx, "history", "history #12")
    changes = history(ctx.services.repertoire, entry.id)
    header = f"#{entry.id} {entry_title(entry)}"
    until = valid_until(ctx.services.repertoire, entry.id)
    if until is not None:
        header += f" (still true until {until.isoformat()})"
    if not changes:
        return [ctx.reply(f"{header}\nNo changes since it was captured.")]
    lines = [header]
    for change in changes:
        undone = f" — undone by c{change.undone_by}" if change.undone_by else ""
        lines.append(
            f"c{change.id} · {change.at:%Y-%m-%d %H:%M} UTC · {change.member_name}: "
            f"{change.describe()}{undone}"
        )
    lines.append("Undo one with `/cop undo c<N>` (or `/cop undo #entry` for the latest).")
    return [ctx.reply("\n".join(lines))]


def _undo(ctx: CommandContext) -> list[Outbound]:
    ref = ctx.args.strip().split(" ")[0] if ctx.args.strip() else ""
    repertoire = ctx.services.repertoire
    change_match = _CHANGE_REF.match(ref)
    if change_match:
        change = get_change(repertoire, int(change_match.group(1)))
        shown = (
            repertoire.entry_for(as_viewer(ctx.viewer), change.entry_id)
            if change is not None
            else None
        )
        if change is None or shown is None:
            # The same words whether it is missing or belongs to a place this
            # channel cannot see: the answer must not tell the two apart.
            raise UserError(f"There is no change {ref.lower()} that can be undone here.")
        entry = shown
    elif ref:
        entry = visible_entry(ctx, ref, "undo")
        change = latest_undoable(repertoire, entry.id)
        if change is None:
            return [ctx.reply(f"#{entry.id} has no change to undo.")]
    else:
        raise UsageError("Which change? See `/cop history #12`, then `/cop undo c3`.", "undo")
    try:
        reverting = undo(repertoire, change.id, actor_member(ctx), ctx.invocation.at)
    except CurationError as exc:
        raise UserError(str(exc)) from None
    return [
        ctx.reply(f"↩️ #{entry.id}: undid c{change.id} ({change.describe()}) as c{reverting.id}.")
    ]


_ENTRY = Param("entry", "The entry's number, e.g. #12")

PRACTICE_COMMANDS = (
    CommandSpec(
        "profile",
        "profile [@member]",
        "what a member knows and has given",
        _profile,
        (Param("member", "A @member, a name or platform:user-id (default: you)", required=False),),
    ),
    CommandSpec(
        "thanks",
        "thanks @member [for #entry | for <what>]",
        "thank a member for their help",
        _thanks,
        (
            Param("member", "A @member to thank (or `top` for the leaderboard)"),
            Param("what", "What for: an #entry or a few words", required=False, prefix="for "),
        ),
    ),
    CommandSpec(
        "hosts",
        "hosts [topic]",
        "who could lead a session on a topic we ask about often",
        _hosts,
        (Param("topic", "A topic (default: the topics asked about most)", required=False),),
    ),
    CommandSpec(
        "link",
        "link [platform:user-id]",
        "link your identities on Slack and Discord",
        _link,
        (
            Param(
                "identity",
                "You on the other platform, e.g. slack:U0123 (empty: your links)",
                required=False,
            ),
        ),
    ),
    CommandSpec(
        "unlink",
        "unlink platform:user-id",
        "remove a link between your identities",
        _unlink,
        (Param("identity", "The identity to unlink, e.g. slack:U0123"),),
    ),
    CommandSpec(
        "retag",
        "retag <#entry> [#tag ...] [+tag] [-tag]",
        "change an entry's tags",
        _retag,
        (_ENTRY, Param("tags", "#tags to set, +tag to add, -tag to remove", required=False)),
    ),
    CommandSpec(
        "retitle",
        "retitle <#entry> <new title>",
        "fix an entry's title",
        _retitle,
        (_ENTRY, Param("title", "The new title")),
    ),
    CommandSpec(
        "outdated",
        "outdated <#entry> [no]",
        "flag an entry as outdated (`no` clears it)",
        _outdated,
        (_ENTRY, Param("flag", "`no` clears the flag", required=False, choices=("yes", "no"))),
    ),
    CommandSpec(
        "history",
        "history <#entry>",
        "who changed an entry, and when",
        _history,
        (_ENTRY,),
    ),
    CommandSpec(
        "undo",
        "undo <c-change | #entry>",
        "undo a curation change (anyone may)",
        _undo,
        (Param("change", "A change (c12) or an entry (#12): its latest change"),),
    ),
)
