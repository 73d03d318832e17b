"""Privacy oracle for digests: hidden entries change nothing a channel's digest shows.

Same idea as ``tests/test_privacy.py``: for every channel of a random
community (public and private channels, DMs saved on purpose), the digest
built on the full repertoire must equal, character for character, the one
built on a copy from which every entry that channel may not see was deleted.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_core
from bot.config import DigestSchedule, Settings
from bot.core import Core
from bot.digest import build_digest, resolve_channel
from bot.ports import FixedClock
from bot.render_text import render_post
from knowledge.relational.repertoire import RelationalRepertoire
from knowledge.storage import Viewer
from tests.streams import START, make_community
from tests.test_privacy import copy_visible_only, populate_randomly

EVERYTHING = Viewer.operator_including_private()


def _digest_text(
    core: Core, repertoire: RelationalRepertoire, spec: str, days: int, end: datetime
) -> str:
    services = core.services.__class__(repertoire, core.services.settings, core.services.clock)
    schedule = DigestSchedule(channel=spec, period_days=days, empty="note", mention_experts=True)
    target = resolve_channel(repertoire, spec)
    post = build_digest(services, target, schedule, end - timedelta(days=days), end)
    assert post is not None
    return render_post(post)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), days=st.sampled_from([1, 7, 30]))
def test_hidden_entries_change_nothing_in_a_digest(tmp_path: Path, seed: int, days: int) -> None:
    db = tmp_path / f"d{seed}-{days}.db"
    db.unlink(missing_ok=True)
    core = build_core(Settings(), db, clock=FixedClock(START))
    try:
        populate_randomly(core, seed)
        [newest] = core.repertoire.entries(EVERYTHING, order="newest", limit=1)
        end = newest.created_at + timedelta(hours=1)
        for where in make_community().channels:
            spec = f"{where.platform}:{where.workspace}:{where.channel}"
            copy_path = tmp_path / f"d{seed}-{days}-{where.channel}.db"
            copy_path.unlink(missing_ok=True)
            visible = copy_visible_only(db, copy_path, where)
            try:
                full = _digest_text(core, core.repertoire, spec, days, end)
                only = _digest_text(core, visible, spec, days, end)
                assert full == only
            finally:
                visible.close()
    finally:
        core.repertoire.close()
