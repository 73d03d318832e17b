"""``copbot search`` and ``copbot stats``: reading the repertoire from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from adapters.cli_options import config_option, db_option, opened
from bot.channel_spec import ChannelSpec
from bot.events import Reply, Visibility, Where
from bot.render_text import render_reply
from bot.results import hit_to_item
from knowledge.models import ChannelRef
from knowledge.query import parse_query
from knowledge.search import SearchOptions, search
from knowledge.stats import repertoire_stats

__all__ = ["search_command", "stats"]


def _viewer(channel: str | None) -> ChannelRef | None:
    """``platform:workspace:channel`` to search as that channel sees; else public only."""
    if not channel:
        return None
    try:
        spec = ChannelSpec.parse(channel)
    except ValueError:
        spec = None
    if spec is None or not spec.workspace or spec.by_name:
        raise click.BadParameter("use platform:workspace:channel, e.g. console:local:G03PLATFORM")
    return ChannelRef(spec.platform, spec.workspace, spec.channel)


@click.command("search")
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
@click.option("--limit", default=None, type=click.IntRange(1, 100), help="How many results.")
@click.option("--channel", default=None, help="Search as seen from platform:workspace:channel.")
@db_option
@config_option
def search_command(
    query: str,
    as_json: bool,
    limit: int | None,
    channel: str | None,
    db_path: str | None,
    config_path: Path | None,
) -> None:
    """Search the repertoire (public entries unless --channel is given)."""
    with opened(config_path, db_path) as (loaded, core):
        parsed = parse_query(query, now=core.services.clock.now())
        hits = search(
            core.services.repertoire,
            parsed,
            _viewer(channel),
            SearchOptions(limit=limit or loaded.settings.search.results),
        )
        items = [hit_to_item(h) for h in hits]
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "query": query,
                        "notes": list(parsed.notes),
                        "results": [_item_json(i) for i in items],
                    },
                    ensure_ascii=False,
                    indent=2,
                )
            )
            return
        if not items:
            click.echo(f"Nothing found for “{query}”.")
            return
        where = Where("cli", "", "", Visibility.PUBLIC)
        click.echo(render_reply(Reply(where, f"{len(items)} result(s):", tuple(items))))


def _item_json(item: Any) -> dict[str, Any]:
    from dataclasses import asdict

    from bot.render_text import mark

    data = asdict(item)
    data["created_at"] = item.created_at.isoformat()
    data["snippet"] = mark(item.snippet, lambda w: f"[{w}]")
    data["answer_snippet"] = mark(item.answer_snippet, lambda w: f"[{w}]")
    data["tags"] = list(item.tags)
    return data


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print counts as JSON.")
@db_option
@config_option
def stats(as_json: bool, db_path: str | None, config_path: Path | None) -> None:
    """Counts of entries by kind, members and channels (public entries)."""
    with opened(config_path, db_path) as (_loaded, core):
        counts = repertoire_stats(core.services.repertoire, None).as_dict()
    if as_json:
        click.echo(json.dumps(counts, indent=2))
    else:
        for key, value in counts.items():
            click.echo(f"{key:>11}: {value}")
