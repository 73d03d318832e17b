"""What the sitemaps list: every published question and know-how, with its last change.

``lastmod`` is the same instant the page itself reports (``dateModified`` on a
question page): the latest of the entry's and its published answers' texts,
curation changes and reactions. Here it is computed for a whole block of
entries with a few grouped queries, so a sitemap file is one pass, not one page
read per URL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from knowledge.models import Entry, Viewer, from_db_time
from knowledge.published import entries_where
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.relational.visibility import visibility_clause

__all__ = ["SITEMAP_URLS", "SitemapEntry", "sitemap_count", "sitemap_entries"]

#: URLs per sitemap file. The sitemaps.org protocol allows up to 50,000; smaller
#: files keep each request short (about a second at a million messages).
SITEMAP_URLS = 10_000

_KINDS = "e.kind IN ('question', 'knowhow')"
_ANSWERS = (
    "JOIN entries a ON a.kind = 'answer' AND a.platform = e.platform "
    "AND a.workspace = e.workspace AND a.channel = e.channel AND a.thread_id = e.message_id"
)
#: The latest reaction on message ``{x}`` (a correlated look-up, so SQLite reads the
#: reactions of that message, never a channel's).
_LAST_REACTION = (
    "(SELECT max(r.created_at) FROM reactions r WHERE r.platform = {x}.platform "
    "AND r.workspace = {x}.workspace AND r.channel = {x}.channel "
    "AND r.message_id = {x}.message_id)"
)


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    entry: Entry
    last_modified: datetime


def sitemap_count(repertoire: RelationalRepertoire, web: Viewer) -> int:
    visible, params = visibility_clause(web, "e")
    row = repertoire.sql.one(f"SELECT count(*) FROM entries e WHERE {_KINDS} AND {visible}", params)
    return int(row[0]) if row else 0


def sitemap_entries(
    repertoire: RelationalRepertoire, web: Viewer, offset: int, limit: int = SITEMAP_URLS
) -> list[SitemapEntry]:
    """Published questions and know-how by id, ``limit`` of them from ``offset``."""
    visible, params = visibility_clause(web, "e")
    entries = entries_where(repertoire, f"{_KINDS} AND {visible}", params, "e.id", limit, offset)
    if not entries:
        return []
    block = [entries[0].id, entries[-1].id]
    latest: dict[int, datetime] = {e.id: max(e.updated_at, e.created_at) for e in entries}
    visible_a, params_a = visibility_clause(web, "a")
    in_block = f"e.id BETWEEN ? AND ? AND {_KINDS} AND {visible}"
    grouped = [
        # published answers: their text
        (f"SELECT e.id, max(a.updated_at), max(a.created_at) FROM entries e {_ANSWERS} "
         f"AND {visible_a} WHERE {in_block} GROUP BY e.id", [*params_a, *block, *params]),
        # curation of the entry, and of its published answers
        (f"SELECT e.id, max(c.at) FROM entries e JOIN curation_changes c ON c.entry_id = e.id "
         f"WHERE {in_block} GROUP BY e.id", [*block, *params]),
        (f"SELECT e.id, max(c.at) FROM entries e {_ANSWERS} AND {visible_a} "
         f"JOIN curation_changes c ON c.entry_id = a.id WHERE {in_block} GROUP BY e.id",
         [*params_a, *block, *params]),
        # reactions on the entry's message, and on its published answers' messages
        (f"SELECT e.id, {_LAST_REACTION.format(x='e')} FROM entries e WHERE {in_block}",
         [*block, *params]),
        (f"SELECT e.id, max({_LAST_REACTION.format(x='a')}) FROM entries e {_ANSWERS} "
         f"AND {visible_a} WHERE {in_block} GROUP BY e.id", [*params_a, *block, *params]),
    ]  # fmt: skip
    for sql, sql_params in grouped:
        _merge(latest, repertoire.sql.rows(sql, sql_params))
    return [SitemapEntry(e, latest[e.id]) for e in entries]


def _merge(latest: dict[int, datetime], rows: Iterable[tuple[Any, ...]]) -> None:
    for entry_id, *moments in rows:
        for at in moments:
            if at and entry_id in latest:
                latest[entry_id] = max(latest[entry_id], from_db_time(str(at)))
