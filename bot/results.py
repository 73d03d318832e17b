"""Turn repertoire hits into the neutral :class:`~bot.events.ResultItem` adapters render."""

from __future__ import annotations

from dataclasses import replace

from bot.events import ResultItem
from bot.ports import Services
from knowledge.curation import outdated_entries
from knowledge.models import Entry, EntryKind, SearchHit
from knowledge.text import shorten, title_from


def entry_title(entry: Entry) -> str:
    return entry.title or title_from(entry.text) or shorten(entry.text, 80)


def hit_to_item(hit: SearchHit) -> ResultItem:
    entry = hit.entry
    answer = hit.answer
    return ResultItem(
        entry_id=entry.id,
        kind=entry.kind.value,
        title=entry_title(entry),
        snippet=hit.snippet,
        author=entry.author_name,
        created_at=entry.created_at,
        channel_name=entry.channel_name or entry.source.channel,
        permalink=entry.permalink,
        platform=entry.source.platform,
        tags=entry.tags,
        answered=entry.kind != EntryKind.QUESTION or hit.answer_count > 0,
        answer_snippet=hit.answer_snippet if answer else "",
        accepted=answer is not None and answer.accepted,
        answer_author=answer.author_name if answer else "",
        answer_permalink=answer.permalink if answer else "",
        knowhow_kind=entry.knowhow_kind,
        score=round(hit.score, 4),
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
