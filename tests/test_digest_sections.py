"""Each digest section's order, counts and reach, read exactly.

The rules pinned here were left unguarded (mutation testing showed it): open
questions oldest first and know-how newest first, when more than fit; who
helped, counted per kind; a private channel's digest counting its own
entries in every section; the chart's days in the community's time zone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.config import DigestSchedule
from bot.core import Core
from bot.digest import MAX_ITEMS, SECTION_TITLES, build_digest, resolve_channel
from bot.events import Post
from knowledge.activity import daily_counts, period_activity
from knowledge.models import ChannelRef
from tests.digest_support import (
    ANA,
    BEN,
    CAM,
    DEE,
    HELP,
    SECRET,
    TIPS,
    MovableClock,
    accept,
    make_core,
    say,
    share,
)

END = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = END - timedelta(days=7)
#: Titles in reverse alphabetical order of age, so no other order can pass for the right one.
NAMES = ["zeta", "theta", "sigma", "kappa", "gamma", "delta", "alpha"]


def _post(core: Core, spec: str) -> Post:
    schedule = DigestSchedule(channel=spec)
    target = resolve_channel(core.services.repertoire, spec)
    post = build_digest(core.services, target, schedule, START, END)
    assert post is not None
    return post


def _lines(post: Post, name: str) -> tuple[str, ...]:
    return next((s.lines for s in post.sections if s.title == SECTION_TITLES[name]), ())


def _more(post: Post, name: str) -> int:
    return next(s.more for s in post.sections if s.title == SECTION_TITLES[name])


def test_open_questions_oldest_first_and_know_how_newest_first(tmp_path: Path) -> None:
    core = make_core(tmp_path / "o.db", MovableClock(END))
    for n in (3, 0, 6, 1, 5, 2, 4):  # said out of order: no order but the rule's can pass
        name = NAMES[n]
        at = START + timedelta(hours=1 + n)
        where = HELP if n % 2 else TIPS  # two public channels: no other order can pass either
        say(core, where, ANA, f"q-{name}", f"Why does the {name} job fail?", at)
        share(core, TIPS, DEE, f"k-{name}", f"Tip about {name} jobs", at)
    post = _post(core, "slack:C-HELP")
    assert [line.split()[3] for line in _lines(post, "unanswered")] == NAMES[:MAX_ITEMS]
    assert _more(post, "unanswered") == len(NAMES) - MAX_ITEMS
    newest_first = list(reversed(NAMES))[:MAX_ITEMS]
    assert [line.split()[2] for line in _lines(post, "knowhow")] == newest_first
    assert _more(post, "knowhow") == len(NAMES) - MAX_ITEMS


def test_who_helped_counts_each_kind_of_help(tmp_path: Path) -> None:
    core = make_core(tmp_path / "h.db", MovableClock(END))
    t = START + timedelta(days=1)
    for n, asker in enumerate((ANA, CAM, DEE)):
        say(core, HELP, asker, f"q{n}", f"How do I fix build {n}?", t)
        say(core, HELP, BEN, f"a{n}", f"Pin version {n}.", t + timedelta(minutes=5), f"q{n}")
        if n < 2:
            accept(core, HELP, asker, f"a{n}", t + timedelta(minutes=10))
    say(core, HELP, CAM, "q0-cam", "Or pin it in the lock file.", t, "q0")
    for n in range(2):
        share(core, TIPS, DEE, f"k{n}", f"Tip number {n}", t + timedelta(hours=n))
    assert _lines(_post(core, "slack:C-HELP"), "helpers") == (
        "Ben — 2 accepted answers, 1 other answer",
        "Dee — 2 know-how",
        "Cam — 1 answer",
    )


def test_a_private_channels_digest_counts_its_own_entries_everywhere(tmp_path: Path) -> None:
    core = make_core(tmp_path / "p.db", MovableClock(END))
    t = START + timedelta(days=2)
    say(core, SECRET, ANA, "q-vault", "How do we rotate the vault token?", t)
    say(
        core, SECRET, BEN, "a-vault", "Run the rotation runbook.", t + timedelta(hours=1), "q-vault"
    )
    share(core, SECRET, CAM, "k-vault", "Vault runbook lives in the wiki", t)
    post = _post(core, "slack:#secret")
    assert any("rotate the vault token" in line for line in _lines(post, "answered"))
    assert [line.split(" — ")[0] for line in _lines(post, "helpers")] == ["Cam", "Ben"]
    assert _lines(post, "activity")[0] == "Questions asked: 1 (previous period: 0)"
    assert _lines(post, "activity")[3] == "Answers given: 1 · know-how shared: 1"
    viewer = ChannelRef(SECRET.platform, SECRET.workspace, SECRET.channel)
    days = daily_counts(core.services.repertoire, viewer, START, END, ZoneInfo("UTC"))
    assert (t.date(), 1, 1) in days
    public = daily_counts(core.services.repertoire, None, START, END, ZoneInfo("UTC"))
    assert all(q == a == 0 for _, q, a in public)


def test_chart_days_are_the_communitys_local_days(tmp_path: Path) -> None:
    """Two local days in Paris; a question at 23:30 UTC is already the next day there."""
    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 6, 1, 0, 0, tzinfo=paris)  # Monday, local midnight
    end = datetime(2026, 6, 3, 0, 0, tzinfo=paris)
    core = make_core(tmp_path / "d.db", MovableClock(end.astimezone(UTC)))
    late = datetime(2026, 6, 1, 23, 30, tzinfo=UTC)  # 01:30 on Tuesday in Paris
    say(core, HELP, ANA, "q1", "How do I read parquet lazily?", late)
    say(core, HELP, BEN, "a1", "scan_parquet.", late + timedelta(minutes=5), "q1")
    say(core, HELP, CAM, "a2", "Or with pyarrow datasets.", late + timedelta(minutes=9), "q1")
    say(core, HELP, DEE, "q2", "Why does my sensor hang?", datetime(2026, 6, 1, 8, tzinfo=UTC))
    days = daily_counts(core.services.repertoire, None, start, end, paris)
    # A period that ends at local midnight stops the day before.
    assert days == [(date(2026, 6, 1), 1, 0), (date(2026, 6, 2), 1, 2)]
    # One that ends at 01:00 local (still the day before in UTC) shows its last, short day.
    later = datetime(2026, 6, 3, 1, 0, tzinfo=paris)
    days = daily_counts(core.services.repertoire, None, start, later, paris)
    assert days == [(date(2026, 6, 1), 1, 0), (date(2026, 6, 2), 1, 2), (date(2026, 6, 3), 0, 0)]


def test_an_answer_stamped_before_its_question_waited_zero_seconds(tmp_path: Path) -> None:
    """Clocks disagree (imports, edits): a first answer stamped before its question counts
    as an immediate answer, never a negative wait."""
    core = make_core(tmp_path / "w.db", MovableClock(END))
    t = START + timedelta(days=1)
    say(core, HELP, ANA, "q1", "How do I read parquet lazily?", t)
    say(core, HELP, BEN, "a1", "scan_parquet.", t - timedelta(seconds=30), "q1")
    activity = period_activity(core.services.repertoire, None, START, END)
    assert (activity.asked, activity.answered) == (1, 1)
    assert activity.median_first_answer_seconds == 0.0
