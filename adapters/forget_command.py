"""``copbot forget``: remove a member for good, from the repertoire and the chat transcript."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.cli_options import CommandFailed, config_option, db_option, opened
from bot.core import Core
from knowledge.backends import DatabaseTarget
from knowledge.forget import ForgetPlan

__all__ = ["forget"]


@click.command()
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
            raise CommandFailed(str(exc)) from exc
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
            raise CommandFailed(f"forgot {len(plans)} member(s), but {exc}") from exc
        click.echo(f"Forgot {len(plans)} member(s).")


def _finish_scrub(core: Core) -> None:
    """An earlier forget could not empty the write-ahead log: finish that first."""
    from knowledge.forget import ScrubIncomplete, scrub

    try:
        scrub(core.services.repertoire)
    except ScrubIncomplete as exc:
        raise CommandFailed(f"an earlier forget is still unfinished: {exc}") from exc
    click.echo("Finished removing what an earlier forget left in the write-ahead log.")


def _forget_in_console_transcript(
    core: Core, plans: list[ForgetPlan], database: DatabaseTarget
) -> None:
    """The terminal chat keeps its transcript (beside the repertoire): forget them there too."""
    from adapters.console_places import PLATFORM as CONSOLE
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
