"""What each page reads, run on a reader thread with the public-web viewer.

One function per page: it gathers everything the page shows in one go (one
hop to the reader thread per request) and returns plain values for the
template, or ``None`` for a page that does not exist for the public web.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters.web.links import channel_keys
from adapters.web.reader import ReadContext
from adapters.web.render import MARK_END, MARK_START
from bot.publication import week_bounds, weeks_between
from knowledge.models import Entry, EntryKind, SearchHit
from knowledge.published import (
    KnowhowPage,
    PublishedChannel,
    QuestionThread,
    answer_page,
    knowhow_page,
    page_entry,
    published_channels,
    question_thread,
)
from knowledge.published_archive import PeriodDigest, channel_span, period_digest
from knowledge.published_lists import (
    EntryPage,
    QuestionSummary,
    TopicCount,
    new_knowhow,
    open_questions,
    published_tags,
    recent_answered,
    recent_topics,
    topic_page,
)
from knowledge.published_members import MemberPage, member_page
from knowledge.published_sitemap import (
    SITEMAP_URLS,
    SitemapEntry,
    sitemap_count,
    sitemap_entries,
)
from knowledge.query import parse_query
from knowledge.search import SearchOptions, search

#: Results per page of search and topic listings.
PER_PAGE = 10
#: Deeper pages are not served: refine the search instead (crawlers have the sitemap).
MAX_PAGE = 20


@dataclass(frozen=True, slots=True)
class HomeData:
    answered: tuple[QuestionSummary, ...]
    open: tuple[QuestionSummary, ...]
    knowhow: tuple[QuestionSummary, ...]
    topics: list[TopicCount]
    channels: dict[str, PublishedChannel]


@dataclass(frozen=True, slots=True)
class WebHit:
    """A search hit and the page it is shown on: itself, or an answer's question."""

    hit: SearchHit
    page: Entry


@dataclass(frozen=True, slots=True)
class SearchData:
    query: str
    notes: tuple[str, ...]
    hits: list[WebHit]
    page: int
    has_next: bool


@dataclass(frozen=True, slots=True)
class ChannelArchive:
    key: str
    channel: PublishedChannel
    weeks: list[tuple[int, int]]


@dataclass(frozen=True, slots=True)
class WeekData:
    key: str
    channel: PublishedChannel
    year: int
    week: int
    digest: PeriodDigest
    previous: tuple[int, int] | None
    following: tuple[int, int] | None


def home(ctx: ReadContext) -> HomeData:
    repertoire, web = ctx.repertoire, ctx.web
    return HomeData(
        answered=recent_answered(repertoire, web, 10),
        open=open_questions(repertoire, web, 10),
        knowhow=new_knowhow(repertoire, web, 8),
        topics=recent_topics(repertoire, web, 24),
        channels=channel_keys(published_channels(repertoire, web)),
    )


def search_page(ctx: ReadContext, text: str, page: int) -> SearchData:
    """``/cop search``'s grammar and ranking, for the public web, one page of it."""
    query = parse_query(text, now=ctx.now)
    options = SearchOptions(
        limit=PER_PAGE + 1,
        offset=(page - 1) * PER_PAGE,
        mark_start=MARK_START,
        mark_end=MARK_END,
    )
    hits = search(ctx.repertoire, query, ctx.web, options)
    shown: list[WebHit] = []
    for hit in hits[:PER_PAGE]:
        if hit.entry.kind != EntryKind.ANSWER:
            shown.append(WebHit(hit, hit.entry))
            continue
        # kind:answer finds answers themselves: shown on their question's page, if it has one.
        root = answer_page(ctx.repertoire, ctx.web, hit.entry)
        if root is not None:
            shown.append(WebHit(hit, root))
    return SearchData(text, query.notes, shown, page, len(hits) > PER_PAGE)


def published_entry(ctx: ReadContext, entry_id: int) -> Entry | None:
    """The published question or know-how ``entry_id`` (for redirects to its page)."""
    return page_entry(ctx.repertoire, ctx.web, entry_id)


def question(ctx: ReadContext, entry_id: int) -> QuestionThread | None:
    return question_thread(ctx.repertoire, ctx.web, entry_id)


def knowhow(ctx: ReadContext, entry_id: int) -> KnowhowPage | None:
    stale = ctx.settings.practice.update_stale_days
    return knowhow_page(ctx.repertoire, ctx.web, entry_id, ctx.now, stale)


def topic(ctx: ReadContext, tag: str, page: int) -> EntryPage:
    return topic_page(ctx.repertoire, ctx.web, tag, (page - 1) * PER_PAGE, PER_PAGE)


def member(ctx: ReadContext, member_id: int) -> MemberPage | None:
    return member_page(ctx.repertoire, ctx.web, member_id)


def channels(ctx: ReadContext) -> dict[str, PublishedChannel]:
    return channel_keys(published_channels(ctx.repertoire, ctx.web))


def channel_archive(ctx: ReadContext, key: str) -> ChannelArchive | None:
    channel = channels(ctx).get(key)
    if channel is None:
        return None
    span = channel_span(ctx.repertoire, ctx.web, channel.ref)
    weeks = weeks_between(*span, ctx.settings.community.tz) if span else []
    return ChannelArchive(key, channel, weeks)


def week(ctx: ReadContext, key: str, year: int, number: int) -> WeekData | None:
    archive = channel_archive(ctx, key)
    if archive is None or (year, number) not in archive.weeks:
        return None
    start, end = week_bounds(year, number, ctx.settings.community.tz)
    digest = period_digest(ctx.repertoire, ctx.web, archive.channel.ref, start, end)
    if digest is None:
        return None
    at = archive.weeks.index((year, number))  # newest first
    newer = archive.weeks[at - 1] if at > 0 else None
    older = archive.weeks[at + 1] if at + 1 < len(archive.weeks) else None
    return WeekData(key, archive.channel, year, number, digest, older, newer)


def sitemap_parts(ctx: ReadContext) -> int:
    """How many entry sitemaps there are (part 0 holds the home page and the topics)."""
    return -(-sitemap_count(ctx.repertoire, ctx.web) // SITEMAP_URLS)


def sitemap_topics(ctx: ReadContext) -> list[str]:
    return published_tags(ctx.repertoire, ctx.web)


def sitemap_part(ctx: ReadContext, part: int) -> list[SitemapEntry]:
    return sitemap_entries(ctx.repertoire, ctx.web, (part - 1) * SITEMAP_URLS)
