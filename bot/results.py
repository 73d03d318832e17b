"""Turn repertoire hits into the neutral :class:`~bot.events.ResultItem` adapters render."""

from __future__ import annotations

from dataclasses import replace

from bot.events import ResultItem, Visibility, Where
from bot.ports import Services
from knowledge.curation import outdated_entries
from knowledge.models import Entry, EntryKind, SearchHit
from knowledge.text import shorten, title_from


def entry_title(entry: Entry) -> str:
    return entry.title or title_from(entry.text) or shorten(entry.text, 80)


def entry_item(
    entry: Entry, title: str = "", answered: bool = False, snippet: str | None = None
) -> ResultItem:
    """An entry as a result: its title, a snippet (its text's start by default), where from."""
    return ResultItem(
        entry_id=entry.id,
        kind=entry.kind.value,
        title=title or entry_title(entry),
        snippet=shorten(entry.text, 160) if snippet is None else snippet,
        author=entry.author_name,
        created_at=entry.created_at,
        channel_name=entry.channel_name or entry.source.channel,
        permalink=entry.permalink,
        platform=entry.source.platform,
        tags=entry.tags,
        answered=answered or entry.kind != EntryKind.QUESTION,
        knowhow_kind=entry.knowhow_kind,
    )


def hit_to_item(hit: SearchHit) -> ResultItem:
    """A search hit as a result: the entry, and its best answer when it has one."""
    answer = hit.answer
    return replace(
        entry_item(hit.entry, snippet=hit.snippet, answered=hit.answer_count > 0),
        answer_snippet=hit.answer_snippet if answer else "",
        accepted=answer is not None and answer.accepted,
        answer_author=answer.author_name if answer else "",
        answer_permalink=answer.permalink if answer else "",
        score=round(hit.score, 4),
    )


def where_said(entry: Entry) -> Where:
    """Where an entry was said, with the visibility its channel has now."""
    return Where(
        entry.source.platform,
        entry.source.workspace,
        entry.source.channel,
        Visibility(entry.visibility),
        entry.channel_name,
    )


def mark_outdated(services: Services, items: tuple[ResultItem, ...]) -> tuple[ResultItem, ...]:
    """Set ``outdated`` on the items to show as possibly outdated now."""
    flagged = outdated_entries(
        services.repertoire,
        [i.entry_id for i in items],
        services.clock.now(),
        update_stale_days=services.settings.practice.update_stale_days,
    )
    return tuple(replace(i, outdated=True) if i.entry_id in flagged else i for i in items)
