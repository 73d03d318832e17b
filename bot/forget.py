"""``copbot forget MEMBER``: remove a member's entries and profile, on request.

The storage work is in :mod:`knowledge.forget`; this module re-applies the
accept rule to answers the member had voted on, since removing their vote can
change which answer stands accepted.
"""

from __future__ import annotations

from bot import messages
from bot.core import Core
from bot.errors import UserError
from knowledge.forget import ForgetPlan, forget, is_placeholder, plan_forget
from knowledge.models import EntryKind


def plan_for(core: Core, name: str, platform: str | None = None) -> list[ForgetPlan]:
    """The plans for every member called ``name`` (id, handle or display name)."""
    members = [m for m in core.repertoire.find_members(name.lstrip("@")) if not is_placeholder(m)]
    if platform:
        members = [m for m in members if m.platform == platform]
    if not members:
        raise UserError(messages.unknown_member_to_forget(name))
    return [plan_forget(core.repertoire, m) for m in members]


def carry_out(core: Core, plan: ForgetPlan) -> None:
    """Forget the member in one transaction, then settle the answers they had voted on."""
    repertoire = core.repertoire
    with repertoire.transaction():
        reacted = forget(repertoire, plan, core.services.clock.now())
        for source in reacted:
            for entry in repertoire.entries_for_message(source):
                if entry.kind == EntryKind.ANSWER:
                    core.capture.settle_accepted(entry)
