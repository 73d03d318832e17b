"""The ``copbot`` command line (click, as sqlite-utils and datasette use).

It is the composition root: it reads the config, opens the repertoire and
starts the adapters. Every command takes ``--db FILE`` and ``--config FILE``;
a missing or malformed config file is one clear message and exit code 2.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from adapters.copy_command import copy_command
from adapters.database_option import db_option
from adapters.importers.commands import export_command, import_command
from adapters.web.commands import web_command
from bot.app import build_core, database_for
from bot.channel_spec import ChannelSpec
from bot.config import ConfigError, Settings, find_config, load_settings
from bot.core import Core
from bot.events import Reply, Visibility, Where
from bot.logs import setup_logging
from bot.render_text import render_reply
from bot.results import hit_to_item
from knowledge.backends import DatabaseTarget
from knowledge.forget import ForgetPlan
from knowledge.models import ChannelRef
from knowledge.postgres.url import DatabaseUrlError
from knowledge.query import parse_query
from knowledge.search import SearchOptions, search
from knowledge.stats import repertoire_stats
from knowledge.storage import StorageUnavailable

DEMO_DB = Path("demo-data") / "copbot-demo.db"

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Config file (default: $COPBOT_CONFIG, then ./copbot.toml).",
)


@dataclass
class Loaded:
    settings: Settings
    #: The repertoire's SQLite file or PostgreSQL server.
    database: DatabaseTarget


def load(
    config_path: Path | None, db_path: str | Path | None, default_db: Path | None = None
) -> Loaded:
    """Settings and the database to use, or exit 2 with one clear message.

    A ``--db`` that names no usable backend raises (:class:`CopbotGroup` says why).
    """
    try:
        settings = load_settings(find_config(config_path))
    except ConfigError as exc:
        click.echo(f"copbot: {exc}", err=True)
        sys.exit(2)
    return Loaded(settings, database_for(settings, db_path or default_db))


@contextmanager
def opened(config_path: Path | None, db_path: str | Path | None) -> Iterator[tuple[Loaded, Core]]:
    """The loaded settings and a core on the repertoire, closed on the way out."""
    loaded = load(config_path, db_path)
    core = build_core(loaded.settings, loaded.database)
    try:
        yield loaded, core
    finally:
        core.services.repertoire.close()


class CopbotGroup(click.Group):
    """Every command: a database that cannot be used is one line and exit code 2.

    A file that is not an SQLite database, a server that cannot be reached, a
    URL that names neither: the message names it (never its password).
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (StorageUnavailable, DatabaseUrlError) as exc:
            click.echo(f"copbot: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=CopbotGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="copbot")
def cli() -> None:
    """copbot keeps a community of practice's answers and know-how from chat."""
    setup_logging("WARNING")


digest_every_option = click.option(
    "--digest-every",
    "digest_every",
    type=click.IntRange(1, 1440),
    default=None,
    help="Also post a digest of the current channel every N minutes (demo).",
)


#: The sample community's public channels, published by the demo's web view.
DEMO_WEB_CHANNELS = ("console:#data-help", "console:#tips-and-tricks")


@cli.command()
@db_option
@config_option
@digest_every_option
@click.option("--web/--no-web", default=True, help="Also serve the web view (default: on).")
@click.option(
    "--web-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Port of the web view (default: [web] port, 8080; a free one if taken).",
)
def demo(
    db_path: str | None,
    config_path: Path | None,
    digest_every: int | None,
    web: bool,
    web_port: int | None,
) -> None:
    """Open the terminal chat on a sample community (seeded on first run), and its web view."""
    loaded = load(config_path, db_path, DEMO_DB)
    if web and not loaded.settings.web.channels:
        # The sample's public channels (not its private one), under the sample's name.
        from bot.sample import load_sample

        title = loaded.settings.web.title or load_sample().name
        web_settings = loaded.settings.web.model_copy(
            update={"channels": DEMO_WEB_CHANNELS, "title": title}
        )
        loaded.settings = loaded.settings.model_copy(update={"web": web_settings})
    asyncio.run(_chat(loaded, seed=True, digest_every=digest_every, web=web, web_port=web_port))


@cli.command()
@db_option
@config_option
@digest_every_option
def chat(db_path: str | None, config_path: Path | None, digest_every: int | None) -> None:
    """Open the terminal chat on the configured database."""
    loaded = load(config_path, db_path)
    asyncio.run(_chat(loaded, seed=False, digest_every=digest_every))


async def _chat(
    loaded: Loaded,
    seed: bool,
    digest_every: int | None = None,
    *,
    web: bool = False,
    web_port: int | None = None,
) -> None:
    """The terminal chat; with ``web``, the web view beside it in the same loop."""
    from adapters.console import ConsoleChat, stdin_lines
    from adapters.console_transcript import Transcript, transcript_file
    from bot.runtime import AsyncCore
    from bot.sample import load_sample

    core = build_core(loaded.settings, loaded.database)
    async_core = AsyncCore(core)
    transcript = Transcript(transcript_file(loaded.database))
    interactive = sys.stdin.isatty()
    chat = ConsoleChat(
        async_core, transcript, sys.stdout, color=interactive and sys.stdout.isatty()
    )
    try:
        seeded = seed and core.services.repertoire.get_meta("sample_seeded") is None
        if seeded:
            count = await chat.seed(load_sample(), core.services.clock.now())
            await async_core.run(core.services.repertoire.set_meta, "sample_seeded", str(count))
            click.echo(f"Loaded the sample community ({count} events) into {loaded.database}.")
        elif seed:
            chat.me = next(iter(chat.members.values()), chat.me)
        report = await chat.catch_up()  # said in the transcript while copbot was not running
        if report.messages and not seeded:  # (after seeding: the sample's own messages)
            click.echo(f"(read {report.messages} message(s) said while copbot was away)")
        click.echo(
            f"copbot terminal chat on {loaded.database}. Type a message, `/cop help` for "
            f"commands, `/help` for controls, `/quit` to leave."
        )
        if not interactive:
            click.echo("(reading lines from standard input)")
        from adapters.digest_cli import demo_schedule, start_digests
        from adapters.web.commands import start_demo_web

        web_view = await start_demo_web(loaded.database, loaded.settings, web_port) if web else None
        extra = (demo_schedule(chat.here.ref, digest_every),) if digest_every else ()
        from bot.semantic_job import start_embedding

        digests = await start_digests(async_core, chat, loaded.database, extra)
        embedding = await start_embedding(async_core)
        try:
            await chat.run(stdin_lines(None, chat))
        finally:
            if digests is not None:
                digests.shutdown()
            if embedding is not None:
                await embedding.stop()
            if web_view is not None:
                await web_view.close()
    finally:
        async_core.close()
        transcript.close()
        core.services.repertoire.close()


@cli.command()
@click.option("--http", is_flag=True, help="Slack over HTTP (Events API) instead of Socket Mode.")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="HTTP port (--http).")
@db_option
@config_option
def run(http: bool, port: int | None, db_path: str | None, config_path: Path | None) -> None:
    """Run the bot on every platform enabled in the config (Slack, Discord or both)."""
    from adapters.runner import NothingToRun
    from adapters.runner import run as run_platforms

    loaded = load(config_path, db_path)
    setup_logging("INFO")
    try:
        asyncio.run(run_platforms(loaded.settings, loaded.database, http=http, port=port))
    except (NothingToRun, ConfigError) as exc:  # ConfigError: e.g. a Slack token not set
        click.echo(f"copbot: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        pass


@cli.command("commands")
@click.option(
    "--platform",
    type=click.Choice(["discord", "slack"]),
    required=True,
    help="Whose registration to print.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the JSON payload itself.")
@config_option
def commands_command(platform: str, as_json: bool, config_path: Path | None) -> None:
    """Print the commands copbot registers: Discord's payload, or Slack's manifest part."""
    from bot.app import command_registry

    loaded = load(config_path, None)
    registry = command_registry()
    payload: Any
    if platform == "discord":
        from adapters.discord.commands import registration_payload

        payload = registration_payload(registry)
    else:
        from adapters.slack.manifest import manifest_commands

        payload = manifest_commands(loaded.settings.slack.command, registry)
    if as_json:
        click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        return
    prefix = "/cop" if platform == "discord" else loaded.settings.slack.command
    for spec in registry:
        click.echo(f"{prefix} {spec.usage}")


@cli.command()
@click.option("--http", is_flag=True, help="Check for HTTP mode (signing secret, no app token).")
@click.option("--api-url", default=None, hidden=True, help="Slack Web API base URL (tests).")
@config_option
def doctor(http: bool, api_url: str | None, config_path: Path | None) -> None:
    """Check the Slack tokens in the environment and say what is missing (never prints them)."""
    import os

    from adapters.slack.doctor import run_checks

    loaded = load(config_path, None)
    http = http or loaded.settings.slack.mode == "http"
    click.echo(f"Slack, {'HTTP' if http else 'Socket Mode'}:")
    checks = asyncio.run(run_checks(os.environ, http=http, base_url=api_url))
    for check in checks:
        click.echo(check.line())
    if not all(check.ok for check in checks):
        sys.exit(1)


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


@cli.command("search")
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


@cli.command()
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


cli.add_command(import_command)
cli.add_command(copy_command)
cli.add_command(export_command)
cli.add_command(web_command)


@cli.command()
@click.argument("member")
@click.option("--platform", default=None, help="Only the member on this platform (slack, discord).")
@click.option("--dry-run", is_flag=True, help="List what would be removed, remove nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@db_option
@config_option
def forget(
    member: str,
    platform: str | None,
    dry_run: bool,
    yes: bool,
    db_path: str | None,
    config_path: Path | None,
) -> None:
    """Remove a member's entries, reactions and profile from the repertoire."""
    from bot.errors import UserError
    from bot.forget import carry_out, plan_for
    from knowledge.forget import ScrubIncomplete, scrub, scrub_pending

    with opened(config_path, db_path) as (loaded, core):
        try:
            plans = plan_for(core, member, platform)
        except UserError as exc:
            if not dry_run and scrub_pending(core.services.repertoire):
                _finish_scrub(core)
            click.echo(f"copbot: {exc}", err=True)
            sys.exit(1)
        for plan in plans:
            who = plan.member
            click.echo(
                f"{who.display_name} ({who.platform}:{who.workspace}:{who.user_id}): "
                f"{len(plan.entries)} entries, {plan.reactions} reactions, {plan.thanks} thanks, "
                f"{plan.identity_links} identity links, {plan.curation_changes} curation "
                "changes (kept, credited to 'a forgotten member'), and the profile"
            )
            for entry in plan.entries:
                click.echo(
                    f"  - {entry.kind.value} #{entry.id} in #{entry.channel_name}: "
                    f"{(entry.title or entry.text)[:70]}"
                )
        if dry_run:
            click.echo("Dry run: nothing was removed.")
            return
        if not yes and not click.confirm("Remove all of this for good?", default=False):
            click.echo("Nothing was removed.")
            return
        for plan in plans:
            carry_out(core, plan)
        _forget_in_console_transcript(core, plans, loaded.database)
        try:
            scrub(core.services.repertoire)
        except ScrubIncomplete as exc:
            click.echo(f"copbot: forgot {len(plans)} member(s), but {exc}", err=True)
            sys.exit(1)
        click.echo(f"Forgot {len(plans)} member(s).")


def _finish_scrub(core: Core) -> None:
    """An earlier forget could not empty the write-ahead log: finish that first."""
    from knowledge.forget import ScrubIncomplete, scrub

    try:
        scrub(core.services.repertoire)
    except ScrubIncomplete as exc:
        click.echo(f"copbot: an earlier forget is still unfinished: {exc}", err=True)
        sys.exit(1)
    click.echo("Finished removing what an earlier forget left in the write-ahead log.")


def _forget_in_console_transcript(
    core: Core, plans: list[ForgetPlan], database: DatabaseTarget
) -> None:
    """The terminal chat keeps its transcript (beside the repertoire): forget them there too."""
    from adapters.console import PLATFORM as CONSOLE
    from adapters.console_transcript import Transcript, transcript_file

    path = transcript_file(database)
    if not Transcript.exists_in(path):
        return
    transcript = Transcript(path)
    try:
        for plan in plans:
            if plan.member.platform != CONSOLE:
                continue
            transcript.forget(
                plan.member.user_id,
                plan.member.display_name,
                [e.source.message_id for e in plan.entries if e.source.platform == CONSOLE],
            )
    finally:
        transcript.close()


@cli.command("digest")
@click.option("--channel", "spec", required=True, help="platform:ID or platform:#name.")
@click.option("--dry-run", "mode", flag_value="dry-run", default=True, help="Print it (default).")
@click.option("--post", "mode", flag_value="post", help="Post it to the channel, once per period.")
@click.option("--days", type=click.IntRange(1, 366), default=None, help="Days it covers.")
@click.option("--chart/--no-chart", default=None, help="Attach the PNG chart (needs matplotlib).")
@db_option
@config_option
def digest_command(
    spec: str,
    mode: str,
    days: int | None,
    chart: bool | None,
    db_path: str | None,
    config_path: Path | None,
) -> None:
    """Show (or post) a channel's digest now."""
    from adapters.digest_cli import DigestError, preview
    from bot.schedule import chart_dir_for

    with opened(config_path, db_path) as (loaded, core):
        charts = chart_dir_for(loaded.database)
        try:
            if mode == "post":
                click.echo(asyncio.run(_post_digest(core, spec, days, charts, chart)))
            else:
                click.echo(preview(core, spec, days, charts, chart))
        except DigestError as exc:
            click.echo(f"copbot: {exc}", err=True)
            sys.exit(2)


async def _post_digest(
    core: Core, spec: str, days: int | None, charts: Path, chart: bool | None
) -> str:
    from adapters.base import Outboxes
    from adapters.digest_cli import PrintOutbox, post_now
    from adapters.runner import make_adapters
    from bot.ports import Outbox
    from bot.runtime import AsyncCore

    outbox: Outbox = PrintOutbox()
    async_core = AsyncCore(core)
    try:
        if not spec.startswith("console:"):
            outboxes = Outboxes()
            for adapter in make_adapters(async_core, core.services.settings, http=False, port=None):
                outboxes.register(adapter)
            outbox = outboxes
        return await post_now(core, spec, days, outbox, charts, chart)
    finally:
        async_core.close()


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
