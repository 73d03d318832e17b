"""``copbot import`` and ``copbot export``: the click commands (registered in adapters/cli.py)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol

import click

from adapters.cli_options import CommandFailed, db_option, opened
from bot.import_replay import ImportItem, ImportStopped, ImportSummary, Problem, run_import
from knowledge.relational.repertoire import RelationalRepertoire

log = logging.getLogger(__name__)


class ItemSource(Protocol):
    total_bytes: int
    bytes_done: int

    def __iter__(self) -> Iterator[ImportItem]: ...


def sniff(path: Path) -> str:
    """``slack``, ``discord``, ``copbot`` (our own JSON export) or ``unknown``."""
    from adapters.importers.slack_export import looks_like_slack_export

    if looks_like_slack_export(path):
        return "slack"
    if path.is_file():
        try:
            with path.open("rb") as handle:
                head = handle.read(4096).decode("utf-8", "replace")
        except OSError:
            return "unknown"
        if '"copbot-repertoire"' in head:
            return "copbot"
        if '"guild"' in head or '"messages"' in head:
            return "discord"
    if path.is_dir():
        return "discord-folder"
    return "unknown"


def sources_for(
    path: Path,
    *,
    include_dms: bool,
    workspace: str,
    workspace_url: str,
    public: bool,
) -> list[ItemSource]:
    from adapters.importers.discord_export import DiscordExport
    from adapters.importers.slack_export import SlackExport

    kind = sniff(path)
    if kind == "slack":
        return [
            SlackExport(
                path, include_dms=include_dms, workspace=workspace, workspace_url=workspace_url
            )
        ]
    if kind == "discord":
        return [DiscordExport(path, include_dms=include_dms, public=public)]
    if kind == "discord-folder":
        return [
            DiscordExport(p, include_dms=include_dms, public=public)
            for p in sorted(path.rglob("*.json"))
        ]
    return [_Unknown(path)]


class _Unknown:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.total_bytes = 0
        self.bytes_done = 0

    def __iter__(self) -> Iterator[ImportItem]:
        if not self.path.exists():
            yield Problem(str(self.path), "no such file or folder")
        else:
            yield Problem(
                str(self.path),
                "not a Slack export (ZIP or folder with channels.json), a "
                "DiscordChatExporter JSON file, or a copbot JSON export",
            )


class _Chained:
    """Several sources read one after another, with their bytes added up for progress."""

    def __init__(self, sources: list[ItemSource]) -> None:
        self.sources = sources

    @property
    def total_bytes(self) -> int:
        return sum(s.total_bytes for s in self.sources)

    @property
    def bytes_done(self) -> int:
        return sum(s.bytes_done for s in self.sources)

    def __iter__(self) -> Iterator[ImportItem]:
        for source in self.sources:
            try:
                yield from source
            except Exception as exc:  # one unreadable file never stops the others
                name = str(getattr(source, "path", "?"))
                log.debug("import of %s stopped", name, exc_info=True)
                yield Problem(name, f"could not be read further ({type(exc).__name__}: {exc})")


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--include-dms", is_flag=True, help="Read direct messages too (skipped otherwise).")
@click.option("--workspace", default="", help="Slack team id (default: from users.json).")
@click.option(
    "--workspace-url",
    default=None,
    help="Slack workspace URL for permalinks, e.g. https://acme.slack.com "
    "(default: slack.workspace_url in the config).",
)
@click.option(
    "--public/--private",
    default=False,
    help="Discord: the exported guild channels are public (their entries show in every "
    "channel). Default --private: a DiscordChatExporter file does not say who could read "
    "a channel, and unknown means private.",
)
@click.option("--batch-size", default=5_000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option(
    "--fast",
    is_flag=True,
    help="No syncing to disk during the import (SQLite's synchronous=OFF): a killed import "
    "loses nothing committed, "
    "but a power loss may corrupt the file (import into a fresh file).",
)
@click.option(
    "--lock-wait",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0, 86_400),
    help="Seconds to wait, in all, for another process writing to the database (a running "
    "bot) before stopping; what was imported stays, and a re-run completes it.",
)
@click.option(
    "--one-by-one",
    is_flag=True,
    help="Replay every event through the live rules, one transaction per batch, even into "
    "an empty database (by default an empty one is filled set-wise: the same result, "
    "about twenty times faster, written in one transaction at the end).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@db_option
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
def import_command(
    paths: tuple[Path, ...],
    include_dms: bool,
    workspace: str,
    workspace_url: str | None,
    public: bool,
    batch_size: int,
    fast: bool,
    lock_wait: float,
    one_by_one: bool,
    no_progress: bool,
    db_path: str | None,
    config_path: Path | None,
) -> None:
    """Import chat history: a Slack export, DiscordChatExporter JSON, or a copbot JSON export.

    Questions, answers and accepted answers are rebuilt by the same rules as live
    capture. Importing the same (or an overlapping) export again adds nothing twice.
    """

    failed = 0
    with opened(config_path, db_path) as (loaded, core):
        url = workspace_url if workspace_url is not None else loaded.settings.slack.workspace_url
        own = [p for p in paths if sniff(p) == "copbot"]
        chats = [p for p in paths if p not in own]
        for path in own:
            failed += not _restore(core.services.repertoire, path)
        if chats:
            sources: list[ItemSource] = []
            for path in chats:
                sources.extend(
                    sources_for(
                        path,
                        include_dms=include_dms,
                        workspace=workspace,
                        workspace_url=url,
                        public=public,
                    )
                )
            source = _Chained(sources)
            try:
                summary = _run_with_progress(
                    core, source, batch_size, fast, no_progress, lock_wait, not one_by_one
                )
            except ImportStopped as stopped:
                for line in stopped.summary.lines():
                    click.echo(line)
                raise CommandFailed(f"import stopped: {stopped}") from stopped
            for line in summary.lines():
                click.echo(line)
            failed += summary.problem_count + summary.failed
    if failed:
        # Scripts must know: something was not imported (the rest was, and is kept).
        raise CommandFailed(f"finished with {failed:,} problem(s): exit code 1")


def _restore(repertoire: RelationalRepertoire, path: Path) -> bool:
    """Restore one copbot JSON export whole, or report why not and keep nothing of it."""
    from knowledge.restore import ExportFormatError, RestoreError, import_json

    try:
        counts = import_json(repertoire, path)
    except (ExportFormatError, RestoreError) as exc:
        click.echo(f"{exc}", err=True)
        return False
    except OSError as exc:
        click.echo(
            f"{path}: could not be read ({exc.strerror or exc}); nothing was restored", err=True
        )
        return False
    click.echo(f"{path}: restored " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return True


def _run_with_progress(
    core: object,
    source: _Chained,
    batch_size: int,
    fast: bool,
    no_progress: bool,
    lock_wait: float,
    setwise: bool = True,
) -> ImportSummary:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from bot.core import Core

    assert isinstance(core, Core)
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("[bold]importing"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[messages]:>10,} messages"),
        TextColumn("{task.fields[rate]:>8,.0f} msg/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        disable=no_progress or not console.is_terminal,
    )
    with progress:
        task = progress.add_task("import", total=None, messages=0, rate=0.0)

        def update(summary: ImportSummary) -> None:
            total = source.total_bytes or None
            progress.update(
                task,
                total=total,
                completed=source.bytes_done,
                messages=summary.messages_read,
                rate=summary.rate,
            )

        items: Iterable[ImportItem] = source
        return run_import(
            core,
            items,
            batch_size=batch_size,
            durable=not fast,
            on_progress=update,
            lock_wait=lock_wait,
            setwise=setwise,
        )


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "markdown"]),
    default="json",
    show_default=True,
    help="json: the whole repertoire, re-importable; markdown: a small static knowledge base.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("copbot-export"),
    show_default=True,
    help="Folder to write into (JSON goes to DIR/repertoire.json).",
)
@click.option(
    "--include-private",
    is_flag=True,
    help="Markdown: also write private and DM entries (JSON always holds everything).",
)
@db_option
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path))
def export_command(
    fmt: str,
    out_dir: Path,
    include_private: bool,
    db_path: str | None,
    config_path: Path | None,
) -> None:
    """Export the repertoire: entries, threads, tags, members and sources."""
    from knowledge.export import export_json, export_markdown

    with opened(config_path, db_path) as (loaded, core):
        out_dir.mkdir(parents=True, exist_ok=True)
        if fmt == "json":
            target = out_dir / "repertoire.json"
            with target.open("w", encoding="utf-8") as handle:
                counts = export_json(core.services.repertoire, handle)
        else:
            target = out_dir / "index.md"
            counts = export_markdown(
                core.services.repertoire,
                out_dir,
                include_private=include_private,
                title=loaded.settings.community.name,
            )
        click.echo(f"wrote {target}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
