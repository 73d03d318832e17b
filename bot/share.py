"""Share one search result in a channel (the "Share in channel" button).

Search results are shown only to the member who searched; a button lets them
post one result for everybody. Whether that is allowed is a visibility rule,
so it lives here and not in an adapter: a result may be posted in channel C
only when it is public or came from C itself. The button's value is checked
again at click time, because the entry may have been deleted or its channel's
visibility may have changed since the search.
"""

from __future__ import annotations

from bot.capture import channel_ref
from bot.events import Actor, Outbound, Reply, Where
from bot.ports import Services
from bot.results import hit_to_item
from knowledge.models import SearchHit
from knowledge.storage import Viewer
from knowledge.text import shorten

SNIPPET_CHARS = 220


def share_result(services: Services, entry_id: int, where: Where, actor: Actor) -> list[Outbound]:
    """Post entry ``entry_id`` in ``where`` for everybody, if the rule allows it."""
    repertoire = services.repertoire
    entry = repertoire.entry_for(Viewer.in_channel(channel_ref(where)), entry_id)
    if entry is None:
        return [
            Reply(
                where=where,
                text="That result can't be shared here (it is gone, or it belongs to "
                "another channel).",
                recipient=actor,
            )
        ]
    answers = repertoire.visible_answers(entry, channel_ref(where))
    accepted = next((a for a in answers if a.accepted), None)
    hit = SearchHit(
        entry=entry,
        score=0.0,
        snippet=shorten(entry.text, SNIPPET_CHARS),
        answer=accepted,
        answer_snippet=shorten(accepted.text, SNIPPET_CHARS) if accepted else "",
        answer_count=len(answers),
    )
    name = actor.display_name or actor.user_id
    return [
        Reply(
            where=where,
            text=f"{name} shared this from the repertoire:",
            items=(hit_to_item(hit),),
            ephemeral=False,
        )
    ]
