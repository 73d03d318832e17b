"""The digest of one channel for one period, built as a neutral :class:`~bot.events.Post`.

A digest keeps the practice visible: what was learned (new know-how, answered
questions with the accepted answer), what is still open (oldest first, with
members who know the topic), who helped, and how the period compares with
the one before. Adapters render the Post their way (Block Kit, embeds, text).

Small by construction, so it reads at a glance (:data:`BUDGET`): at most
:data:`MAX_ITEMS` lines a section, lines of at most :data:`LINE_CHARS`, a
section's lines together at most :data:`SECTION_CHARS`, and the whole
plain-text rendering at most :data:`POST_CHARS`. Longer sections end in "and N
more" with the ``/cop`` search that shows the rest. The budget is the core's
own: each adapter still cuts what it sends to its platform's limits
(``adapters/discord/render.py``, ``adapters/slack/blocks.py``), and the
renderers' tests check those against the numbers the platforms document.

Visibility: everything is read as the target channel sees it, so a digest
posted to channel C holds public entries and entries from C, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from bot.channel_spec import ChannelSpec
from bot.config import DigestSchedule, Settings
from bot.events import Post, PostSection, Visibility, Where
from bot.mentions import MENTION_END, MENTION_START, plain_mentions, platform_mentions
from bot.ports import Services
from bot.render_text import render_post
from bot.results import entry_title
from bot.who_can_help import experts_for, member_label
from knowledge.activity import (
    PeriodActivity,
    answered_questions,
    daily_counts,
    helpers,
    new_knowhow,
    period_activity,
    unanswered_questions,
)
from knowledge.models import ChannelRef, Entry
from knowledge.storage import Storage
from knowledge.text import shorten

MAX_ITEMS = 5
LINE_CHARS = 160
SECTION_CHARS = 1_000
TITLE_CHARS = 200
POST_CHARS = 1_900
#: The neutral post's limits, for adapters' renderers to check theirs against.
BUDGET = {
    "post_chars": POST_CHARS,
    "title_chars": TITLE_CHARS,
    "sections": 5,
    "items_per_section": MAX_ITEMS,
    "line_chars": LINE_CHARS,
    "section_chars": SECTION_CHARS,
}
#: Links longer than this are left out of a line rather than cutting its words.
LINK_CHARS = 120

SECTION_TITLES = {
    "knowhow": "📚 New know-how",
    "answered": "✅ Questions answered",
    "unanswered": "❓ Still open, oldest first",
    "helpers": "🙏 Thank you for helping",
    "activity": "📈 Activity against the previous period",
}


@dataclass(frozen=True, slots=True)
class DigestTarget:
    """The channel a digest goes to: ``key`` names it in the digest log."""

    key: str
    where: Where
    viewer: ChannelRef | None


def channel_matches(spec: str, where: Where) -> bool:
    """Whether a config channel (``slack:C0123``, ``slack:#help``) names ``where``."""
    return ChannelSpec.parse(spec).matches(where)


def resolve_channel(repertoire: Storage, spec: str) -> DigestTarget:
    """The channel a config spec names, as the repertoire knows it.

    A channel copbot has not seen yet gets public entries only: without its
    workspace and visibility we cannot prove an entry belongs to it.
    """
    parsed = ChannelSpec.parse(spec)
    platform, workspace, by_name = parsed.platform, parsed.workspace, parsed.by_name
    value = parsed.name if by_name else parsed.channel
    known = repertoire.find_channel(
        platform,
        channel_id=None if by_name else value,
        name=value if by_name else None,
        workspace=workspace,
    )
    if known is None:
        where = Where(platform, workspace, value, Visibility.PUBLIC, value if by_name else "")
        return DigestTarget(spec, where, None)
    ref = known.ref
    where = Where(platform, ref.workspace, ref.channel, Visibility(known.visibility), known.name)
    return DigestTarget(spec, where, ref)


def target_for(where: Where) -> DigestTarget:
    """The target for a channel a member is in (``/cop digest``)."""
    viewer = ChannelRef(where.platform, where.workspace, where.channel)
    return DigestTarget(where.ref, where, viewer)


def schedule_for(settings: Settings, where: Where) -> DigestSchedule | None:
    """The first digest schedule configured for ``where``, if any."""
    return next((s for s in settings.digests if channel_matches(s.channel, where)), None)


# ----------------------------------------------------------------------------- building


def build_digest(
    services: Services,
    target: DigestTarget,
    schedule: DigestSchedule,
    start: datetime,
    end: datetime,
    *,
    chart_dir: Path | None = None,
) -> Post | None:
    """The digest of ``[start, end)`` for ``target``; ``None`` for an empty period to skip."""
    repertoire = services.repertoire
    viewer = target.viewer
    activity = period_activity(repertoire, viewer, start, end)
    title = shorten(_title(services.settings, target, schedule, start, end), TITLE_CHARS)
    if activity.is_empty:
        if schedule.empty == "skip":
            return None
        return Post(
            where=target.where,
            title=title,
            text=f"A quiet period in {_channel_label(target.where)}: no new questions, "
            "answers or know-how.",
        )
    builder = _SectionBuilder(services, target, schedule, start, end, activity)
    sections = tuple(s for s in (builder.section(name) for name in schedule.sections) if s)
    image_path = ""
    if schedule.chart and chart_dir is not None:
        image_path = _chart(services, target, start, end, chart_dir)
    post = Post(
        where=target.where,
        title=title,
        sections=sections,
        text=shorten(
            f"{services.settings.community.name}: what we learned and what is still open.",
            LINE_CHARS,
        ),
        image_path=image_path,
    )
    return fit_post(post)


def _title(
    settings: Settings,
    target: DigestTarget,
    schedule: DigestSchedule,
    start: datetime,
    end: datetime,
) -> str:
    tz = settings.community.tz
    days = schedule.period_days
    label = {1: "Daily", 7: "Weekly", 14: "Fortnightly"}.get(days, f"{days}-day")
    first = start.astimezone(tz)
    last = (end - timedelta(microseconds=1)).astimezone(tz)
    span = f"{first:%d %b}" if first.date() == last.date() else f"{first:%d %b} – {last:%d %b %Y}"
    return f"{label} digest for {_channel_label(target.where)}, {span}"


def _channel_label(where: Where) -> str:
    return f"#{where.channel_name or where.channel}"


class _SectionBuilder:
    """Builds each section on demand, from the same period and viewer."""

    def __init__(
        self,
        services: Services,
        target: DigestTarget,
        schedule: DigestSchedule,
        start: datetime,
        end: datetime,
        activity: PeriodActivity,
    ) -> None:
        self.services = services
        self.repertoire = services.repertoire
        self.target = target
        self.schedule = schedule
        self.start = start
        self.end = end
        self.activity = activity
        self.after = start.date().isoformat()

    def section(self, name: str) -> PostSection | None:
        build = {
            "knowhow": self.knowhow,
            "answered": self.answered,
            "unanswered": self.unanswered,
            "helpers": self.helpers,
            "activity": self.activity_lines,
        }[name]
        section = build()
        if section is None or not (section.lines or section.more):
            return None
        return section

    def _where_note(self, entry: Entry) -> str:
        """'#channel' when an entry comes from another (public) channel than the digest's."""
        if entry.source.channel == self.target.where.channel:
            return ""
        return f" in #{entry.channel_name or entry.source.channel}"

    def knowhow(self) -> PostSection:
        listing = new_knowhow(self.repertoire, self.target.viewer, self.start, self.end, MAX_ITEMS)
        lines = []
        for entry in listing.entries:
            tags = "".join(f" #{t}" for t in entry.tags[:2])
            lines.append(
                _line(
                    entry_title(entry),
                    f" — {entry.author_name}{self._where_note(entry)}{tags}",
                    entry.permalink,
                )
            )
        return PostSection(
            SECTION_TITLES["knowhow"],
            tuple(lines),
            listing.total - len(lines),
            f"/cop kind:knowhow after:{self.after}",
        )

    def answered(self) -> PostSection:
        found, total = answered_questions(
            self.repertoire, self.target.viewer, self.start, self.end, MAX_ITEMS
        )
        lines = []
        for item in found:
            mark = "✅ " if item.answer.accepted else "↳ "
            answer = shorten(item.answer.text.replace("```", " "), 60)
            link = item.answer.permalink or item.question.permalink
            lines.append(
                _line(
                    entry_title(item.question),
                    f"{self._where_note(item.question)} — {mark}"
                    f"{item.answer.author_name}: {answer}",
                    link,
                )
            )
        return PostSection(
            SECTION_TITLES["answered"],
            tuple(lines),
            total - len(lines),
            f"/cop is:answered after:{self.after}",
        )

    def unanswered(self) -> PostSection:
        listing = unanswered_questions(self.repertoire, self.target.viewer, self.end, MAX_ITEMS)
        now = self.services.clock.now()
        lines = []
        for entry in listing.entries:
            experts = experts_for(self.repertoire, entry, self.target.viewer, now, limit=2)
            ask = ""
            if experts:
                names = ", ".join(
                    member_label(m, self.target.where, self.schedule.mention_experts)
                    for m in experts
                )
                ask = f" · who knows: {names}"
            age = _duration((self.end - entry.created_at).total_seconds())
            lines.append(
                _line(
                    entry_title(entry),
                    f" — {entry.author_name}{self._where_note(entry)}, {age} ago{ask}",
                    entry.permalink,
                )
            )
        return PostSection(
            SECTION_TITLES["unanswered"],
            tuple(lines),
            listing.total - len(lines),
            "/cop is:unanswered",
        )

    def helpers(self) -> PostSection:
        found, total = helpers(self.repertoire, self.target.viewer, self.start, self.end, MAX_ITEMS)
        lines = []
        for helper in found:
            parts = []
            if helper.accepted_answers:
                parts.append(_plural(helper.accepted_answers, "accepted answer"))
            other = helper.answers - helper.accepted_answers
            if other:
                parts.append(
                    _plural(other, "other answer" if helper.accepted_answers else "answer")
                )
            if helper.knowhow:
                parts.append(f"{helper.knowhow} know-how")
            lines.append(shorten(f"{helper.member.display_name} — {', '.join(parts)}", LINE_CHARS))
        return PostSection(SECTION_TITLES["helpers"], tuple(lines), total - len(lines))

    def activity_lines(self) -> PostSection:
        length = self.end - self.start
        before = period_activity(
            self.repertoire, self.target.viewer, self.start - length, self.start
        )
        now = self.activity
        lines = [
            f"Questions asked: {now.asked} (previous period: {before.asked})",
            f"Answered: {now.answered} of {now.asked} "
            f"(previous period: {before.answered} of {before.asked})",
            f"Median time to first answer: {_maybe_duration(now.median_first_answer_seconds)} "
            f"(previous period: {_maybe_duration(before.median_first_answer_seconds)})",
            f"Answers given: {now.answers} · know-how shared: {now.knowhow}",
        ]
        return PostSection(SECTION_TITLES["activity"], tuple(lines))


def _chart(
    services: Services, target: DigestTarget, start: datetime, end: datetime, chart_dir: Path
) -> str:
    from bot.chart import render_activity_chart

    tz = services.settings.community.tz
    days = daily_counts(services.repertoire, target.viewer, start, end, tz)
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in target.key)
    path = chart_dir / f"digest-{safe}-{start:%Y%m%dT%H%M}-{end:%Y%m%dT%H%M}.png"
    written = render_activity_chart(days, path, f"Activity in {_channel_label(target.where)}")
    return str(written) if written else ""


# ----------------------------------------------------------------------------- sizing


def _line(main: str, suffix: str, link: str = "") -> str:
    """One item: its text cut so the whole line, link included, fits :data:`LINE_CHARS`."""
    tail = suffix + (f" · {link}" if link and len(link) <= LINK_CHARS else "")
    room = max(30, LINE_CHARS - len(tail))
    line = shorten(main, room) + tail
    return line if len(line) <= LINE_CHARS else shorten(line, LINE_CHARS)


def fit_post(post: Post, limit: int = POST_CHARS) -> Post:
    """Cut the longest sections' last lines (into "and N more") until the post fits."""
    sections = [_fit_section(s) for s in post.sections]
    current = replace(post, title=shorten(post.title, TITLE_CHARS), sections=tuple(sections))
    while _size(current) > limit:
        # Lists give way first; the activity numbers are short and go last.
        candidates = [
            i for i, s in enumerate(sections) if s.lines and s.title != SECTION_TITLES["activity"]
        ] or [i for i, s in enumerate(sections) if s.lines]
        if not candidates:
            break
        index = max(candidates, key=lambda i: (len(sections[i].lines), _chars(sections[i])))
        cut = sections[index]
        sections[index] = replace(cut, lines=cut.lines[:-1], more=cut.more + 1)
        current = replace(current, sections=tuple(sections))
    return current


def _size(post: Post) -> int:
    """The rendered length with mentions as ``@name`` or as ``<@id>``, whichever is longer."""
    return max(len(render_post(post)), len(render_post(post, mentions=platform_mentions)))


def _fit_section(section: PostSection) -> PostSection:
    lines = [_cut_line(line) for line in section.lines[:MAX_ITEMS]]
    more = section.more + len(section.lines) - len(lines)
    while lines and sum(_width(line) + 1 for line in lines) > SECTION_CHARS:
        lines.pop()
        more += 1
    return replace(section, title=shorten(section.title, 100), lines=tuple(lines), more=more)


def _width(line: str) -> int:
    """A line's length with its mentions in their longer form."""
    return max(len(plain_mentions(line)), len(platform_mentions(line)))


def _cut_line(line: str) -> str:
    """At most :data:`LINE_CHARS`, never cutting a mention token in half."""
    cut = shorten(line, LINE_CHARS)
    last = cut.rfind(MENTION_START)
    if last != -1 and MENTION_END not in cut[last:]:
        cut = cut[:last].rstrip() + "…"
    return cut


def _chars(section: PostSection) -> int:
    return sum(len(line) for line in section.lines)


# ----------------------------------------------------------------------------- words


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _duration(seconds: float) -> str:
    """A short human duration: 45m, 3h 10m, 2d 4h."""
    minutes = int(max(0.0, seconds) // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h" if hours else f"{days}d"


def _maybe_duration(seconds: float | None) -> str:
    return "n/a" if seconds is None else _duration(seconds)
