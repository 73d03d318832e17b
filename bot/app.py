"""Wiring: settings and a database path in, a ready :class:`~bot.core.Core` out."""

from __future__ import annotations

from pathlib import Path

import bot.digest_command  # noqa: F401  (registers /cop digest)
from bot.config import Settings
from bot.core import Core
from bot.events import SuggestionFeedback
from bot.ports import Clock, Services, SystemClock
from bot.suggest import Suggester
from knowledge.dbfile import open_repertoire


def build_core(
    settings: Settings, db_path: str | Path | None = None, clock: Clock | None = None
) -> Core:
    """Open the repertoire (migrating it) and assemble the core with every feature.

    A file that is not an SQLite database raises :class:`knowledge.dbfile.DatabaseFileError`.
    """
    repertoire = open_repertoire(db_path or settings.database)
    services = Services(repertoire=repertoire, settings=settings, clock=clock or SystemClock())
    core = Core(services)
    suggester = Suggester(services)  # similar questions at ask time (issue 6)
    core.question_hooks.append(suggester.on_question)
    core.reaction_hooks.append(suggester.on_reaction)
    core.posted_hooks.append(suggester.on_posted)
    core.event_handlers[SuggestionFeedback] = suggester.on_feedback
    return core
