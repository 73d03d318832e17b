"""An entry's visibility is its channel's, as of now.

When a public channel turns private (or a private one public), the entries
said there before follow it: a search from another channel shows them only
while the channel is public. Unknown means private.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import command_registry
from bot.config import Settings
from bot.core import Core
from bot.events import Actor, CommandInvocation, IncomingMessage, Reply, Visibility, Where
from bot.ports import FixedClock, Services
from knowledge.sqlite.repertoire import Repertoire

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CHANNELS = ["C1", "C2"]
ELSEWHERE = Where("slack", "T1", "C-OTHER", Visibility.PUBLIC, "other")


@settings(max_examples=30, deadline=None)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(CHANNELS), st.sampled_from([Visibility.PUBLIC, Visibility.PRIVATE])
        ),
        min_size=1,
        max_size=8,
    )
)
def test_entries_follow_their_channels_visibility_as_of_now(
    steps: list[tuple[str, Visibility]],
) -> None:
    """Each step is a question said in a channel as the channel is at that moment."""
    with tempfile.TemporaryDirectory() as tmp:
        repertoire = Repertoire.open(Path(tmp) / "v.db")
        try:
            core = Core(Services(repertoire, Settings(), FixedClock(NOW)), command_registry())
            author = Actor("slack", "U1", "Ada", "T1")
            current: dict[str, Visibility] = {}
            said: list[tuple[str, str]] = []
            for n, (channel, visibility) in enumerate(steps):
                where = Where("slack", "T1", channel, visibility, channel.lower())
                word = f"zq{n}word"
                core.handle(
                    IncomingMessage(
                        where, author, f"m{n}", f"Why does {word} fail?", NOW + timedelta(seconds=n)
                    )
                )
                current[channel] = visibility
                said.append((channel, word))
            viewer = Actor("slack", "U2", "Viewer", "T1")
            for channel, word in said:
                out = core.handle(CommandInvocation(ELSEWHERE, viewer, f"search {word}", NOW))
                shown = " ".join(
                    item.title for o in out if isinstance(o, Reply) for item in o.items
                )
                assert (word in shown) == (current[channel] == Visibility.PUBLIC), (channel, word)
        finally:
            repertoire.close()
