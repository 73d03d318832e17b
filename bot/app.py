"""Wiring: settings and a database path in, a ready :class:`~bot.core.Core` out."""

from __future__ import annotations

from pathlib import Path

from bot.command_registry import CommandRegistry
from bot.commands.contribute import ASK_COMMAND, SHARE_COMMAND
from bot.commands.curation import CURATION_COMMANDS
from bot.commands.digest import DIGEST_COMMANDS
from bot.commands.help import HELP_COMMAND
from bot.commands.hosts import HOSTS_COMMAND
from bot.commands.identity import IDENTITY_COMMANDS
from bot.commands.profile import PROFILE_COMMAND
from bot.commands.search import SEARCH_COMMAND, STATS_COMMAND, WHO_COMMAND
from bot.commands.suggestions import SUGGEST_COMMANDS
from bot.commands.thanks import THANKS_COMMAND
from bot.commands.web import WEB_COMMANDS
from bot.config import Settings
from bot.core import Core
from bot.events import SuggestionFeedback
from bot.ports import Clock, Services, SystemClock
from bot.suggest import Suggester
from knowledge.backends import DatabaseTarget, choose_database, open_storage


def command_registry() -> CommandRegistry:
    """Every ``/cop`` command, in the order ``/cop help`` lists them.

    The one list the core answers and every platform offers: Discord's slash
    commands are generated from it, Slack and the terminal take its text.
    """
    return CommandRegistry(
        [
            SEARCH_COMMAND,
            ASK_COMMAND,
            SHARE_COMMAND,
            WHO_COMMAND,
            STATS_COMMAND,
            *SUGGEST_COMMANDS,
            *DIGEST_COMMANDS,
            PROFILE_COMMAND,
            THANKS_COMMAND,
            HOSTS_COMMAND,
            *IDENTITY_COMMANDS,
            *CURATION_COMMANDS,
            *WEB_COMMANDS,
            HELP_COMMAND,
        ]
    )


def database_for(
    settings: Settings, db: DatabaseTarget | str | Path | None = None
) -> DatabaseTarget:
    """The repertoire to open: ``db`` (``--db``) when given, else the environment and config."""
    if isinstance(db, DatabaseTarget):
        return db
    return choose_database(db, config_url=settings.storage.url, config_file=settings.database)


def build_core(
    settings: Settings,
    db_path: DatabaseTarget | str | Path | None = None,
    clock: Clock | None = None,
) -> Core:
    """Open the repertoire (migrating it) and assemble the core with every feature.

    ``db_path`` is a SQLite file, a ``postgresql://`` URL or a chosen
    :class:`~knowledge.backends.DatabaseTarget`; ``None`` takes the one the
    environment and config name. A target that cannot be used raises
    :class:`~knowledge.storage.StorageUnavailable` (a file that is not an SQLite
    database, a server that cannot be reached) or
    :class:`~knowledge.postgres.url.DatabaseUrlError`.
    """
    repertoire = open_storage(database_for(settings, db_path))
    services = Services(repertoire=repertoire, settings=settings, clock=clock or SystemClock())
    return assemble_core(services)


def assemble_core(services: Services) -> Core:
    """The core with every feature, over an open repertoire (of any backend)."""
    core = Core(services, command_registry())
    suggester = Suggester(services)  # similar questions at ask time
    core.question_hooks.append(suggester.on_question)
    core.reaction_hooks.append(suggester.on_reaction)
    core.posted_hooks.append(suggester.on_posted)
    core.event_handlers[SuggestionFeedback] = suggester.on_feedback
    return core
