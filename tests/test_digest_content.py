"""What a digest holds, who may see it, and that it fits every platform's message."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import DigestSchedule
from bot.digest import (
    LINE_CHARS,
    MAX_ITEMS,
    POST_CHARS,
    SECTION_CHARS,
    SECTION_TITLES,
    build_digest,
    fit_post,
    resolve_channel,
)
from bot.events import CommandInvocation, Post, PostSection, Reply
from bot.mentions import MENTION_START, mention, platform_mentions
from bot.periods import period_for
from bot.render_text import render_post
from knowledge.models import EntryKind
from knowledge.storage import EntryFilter, Viewer
from tests.digest_support import (
    ANA,
    BEN,
    CAM,
    HELP,
    SECRET,
    TIPS,
    WEEK_END,
    MovableClock,
    known_community,
    make_core,
    say,
    share,
)

EVERYTHING = Viewer.operator_including_private()


def _digest(tmp_path: Path, spec: str, **options: object) -> Post | None:
    core = make_core(tmp_path / "r.db", MovableClock(WEEK_END))
    known_community(core)
    start, end = period_for(WEEK_END, 7, core.services.settings.community.tz)
    schedule = DigestSchedule.model_validate({"channel": spec, **options})
    target = resolve_channel(core.services.repertoire, spec)
    return build_digest(core.services, target, schedule, start, end)


def _section(post: Post, name: str) -> PostSection:
    return next(s for s in post.sections if s.title == SECTION_TITLES[name])


def test_sections_hold_the_period(tmp_path: Path) -> None:
    post = _digest(tmp_path, "slack:C-HELP")
    assert post is not None
    knowhow = _section(post, "knowhow").lines
    assert len(knowhow) == 1 and "Partition parquet" in knowhow[0] and "Dee" in knowhow[0]
    answered = _section(post, "answered").lines
    # The accepted answer is shown (not the later one), accepted questions first.
    assert "pandas memory" in answered[0] and "✅ Ben" in answered[0]
    assert "category dtype" in answered[0] and "downcast" not in answered[0]
    assert "airflow sensor" in answered[1] and "Cam" in answered[1]
    # Still open: oldest first, from before the period too; answered ones are not open.
    still_open = _section(post, "unanswered").lines
    assert ["polars streaming" in still_open[0], "kafka consumer" in still_open[1]] == [True, True]
    assert not any("pandas memory" in line or "read parquet" in line for line in still_open)
    helpers = _section(post, "helpers").lines
    assert helpers[0].startswith("Ben — 1 accepted answer")
    assert any(line.startswith("Cam — 2 answers") for line in helpers)
    assert not any(line.startswith("Ana") for line in helpers)  # her know-how is private
    activity = "\n".join(_section(post, "activity").lines)
    assert "Questions asked: 3 (previous period: 2)" in activity
    assert "Answered: 2 of 3 (previous period: 1 of 2)" in activity
    # First answers after 30 min and 2 h: median 1h 15m; the week before, 4 h.
    assert "Median time to first answer: 1h 15m (previous period: 4h)" in activity


def test_visibility_public_channel_sees_no_private_or_dm_entry(tmp_path: Path) -> None:
    post = _digest(tmp_path, "slack:C-HELP")
    assert post is not None
    text = render_post(post)
    assert "vault" not in text.lower()
    assert "dm-only-note" not in text


def test_visibility_private_channel_sees_its_own_and_public(tmp_path: Path) -> None:
    post = _digest(tmp_path, "slack:#secret")
    assert post is not None
    text = render_post(post)
    assert "Rotate vault tokens" in text and "vault-secret token" in text
    assert "Partition parquet" in text  # public know-how from #tips
    assert "dm-only-note" not in text
    assert post.where == SECRET


def test_unknown_channel_gets_public_entries_only(tmp_path: Path) -> None:
    post = _digest(tmp_path, "slack:C-NEVER-SEEN")
    assert post is not None
    text = render_post(post)
    assert "Partition parquet" in text and "vault" not in text.lower()


def test_empty_period_skips_or_notes(tmp_path: Path) -> None:
    core = make_core(tmp_path / "r.db", MovableClock(WEEK_END))
    known_community(core)
    target = resolve_channel(core.services.repertoire, "slack:C-HELP")
    later = WEEK_END + timedelta(days=60)
    start, end = period_for(later, 7, core.services.settings.community.tz)
    skip = DigestSchedule(channel="slack:C-HELP")
    assert build_digest(core.services, target, skip, start, end) is None
    note = build_digest(
        core.services, target, skip.model_copy(update={"empty": "note"}), start, end
    )
    assert note is not None and not note.sections
    assert "quiet" in note.text.lower() and "\n" not in note.text


def test_experts_are_named_or_pinged_as_configured(tmp_path: Path) -> None:
    quiet = _digest(tmp_path, "slack:C-HELP")
    assert quiet is not None
    polars = _section(quiet, "unanswered").lines[0]
    # Ben answered the polars/parquet question, so knows the topic; Dee asked it: not suggested.
    assert "who knows: Ben" in polars and "<@" not in polars
    assert "Dee" not in polars.split("who knows:")[1]
    pinged = _digest(tmp_path / "p", "slack:C-HELP", mention_experts=True)
    assert pinged is not None
    assert f"who knows: {mention('U-BEN', 'Ben')}" in _section(pinged, "unanswered").lines[0]
    assert "who knows: @Ben" in render_post(pinged)  # the terminal names, pings nobody


def test_slack_pings_the_experts_but_never_what_members_wrote(tmp_path: Path) -> None:
    from adapters.slack.blocks import post_blocks

    core = make_core(tmp_path / "r.db", MovableClock(WEEK_END))
    known_community(core)
    # A Slack question that mentions someone carries the raw <@…> token in its text.
    say(
        core,
        HELP,
        CAM,
        "q-ping",
        "<@U-DEE> why does polars streaming stall?",
        WEEK_END - timedelta(days=1),
    )
    start, end = period_for(WEEK_END, 7, core.services.settings.community.tz)
    schedule = DigestSchedule(channel="slack:C-HELP", mention_experts=True)
    target = resolve_channel(core.services.repertoire, "slack:C-HELP")
    post = build_digest(core.services, target, schedule, start, end)
    assert post is not None
    _fallback, blocks = post_blocks(post)
    text = "\n".join(str(b) for b in blocks)
    assert "<@U-BEN>" in text  # the expert is pinged
    assert "<@U-DEE>" not in text and "&lt;@U-DEE&gt;" in text  # the member's text is not
    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


def test_sections_follow_the_schedule(tmp_path: Path) -> None:
    post = _digest(tmp_path, "slack:C-HELP", sections=("activity", "knowhow"))
    assert post is not None
    assert [s.title for s in post.sections] == [
        SECTION_TITLES["activity"],
        SECTION_TITLES["knowhow"],
    ]


def _busy(tmp_path: Path) -> Post:
    """A channel with far more than fits: 40 long questions, answers, know-how."""
    core = make_core(tmp_path / "busy.db", MovableClock(WEEK_END))
    long_words = " ".join(["supercalifragilistic"] * 30)
    start = WEEK_END - timedelta(days=6)
    for n in range(40):
        at = start + timedelta(hours=n)
        say(core, HELP, ANA, f"q{n}", f"How do I {long_words} number {n}?", at)
        if n % 2:
            say(
                core,
                HELP,
                BEN,
                f"q{n}-r",
                f"Answer {n} {long_words}",
                at + timedelta(minutes=5),
                f"q{n}",
            )
        share(
            core, TIPS, BEN, f"k{n}", f"Tip {n} {long_words}", at, "tag-with-a-long-name", "other"
        )
    schedule = DigestSchedule(channel="slack:C-HELP")
    target = resolve_channel(core.services.repertoire, "slack:C-HELP")
    s, e = period_for(WEEK_END, 7, core.services.settings.community.tz)
    post = build_digest(core.services, target, schedule, s, e)
    assert post is not None
    return post


def test_a_busy_digest_fits_every_platform(tmp_path: Path) -> None:
    post = _busy(tmp_path)
    text = render_post(post)
    assert len(text) <= POST_CHARS  # Discord: 2,000 characters per message
    assert len(post.title) <= 256  # Discord embed title
    assert len(post.sections) <= 25  # Discord embed fields; Slack: 1 + 2 per section << 50 blocks
    assert 2 + 2 * len(post.sections) <= 50
    for section in post.sections:
        assert len(section.lines) <= MAX_ITEMS
        assert all(len(line) <= LINE_CHARS for line in section.lines)
        assert sum(len(line) + 1 for line in section.lines) <= SECTION_CHARS  # embed field 1,024
    # Cut sections say how many more and how to see them.
    still_open = _section(post, "unanswered")
    assert still_open.more > 0 and still_open.lines
    assert len(still_open.lines) + still_open.more == 20
    assert still_open.more_command == "/cop is:unanswered"
    assert f"and {still_open.more} more: /cop is:unanswered" in text
    knowhow = _section(post, "knowhow")
    assert len(knowhow.lines) + knowhow.more == 40


@given(
    st.lists(
        st.lists(
            st.one_of(
                st.text(min_size=0, max_size=400),
                st.builds(
                    lambda a, b: f"{a} {mention('1' * 19, 'Bo')} {b}",
                    st.text(max_size=150),
                    st.text(max_size=50),
                ),
            ),
            min_size=0,
            max_size=12,
        ),
        min_size=0,
        max_size=6,
    )
)
def test_fit_post_always_fits_and_counts_what_it_cuts(sections: list[list[str]]) -> None:
    post = Post(
        where=HELP,
        title="t" * 300,
        sections=tuple(PostSection(f"S{i}", tuple(lines)) for i, lines in enumerate(sections)),
    )
    fitted = fit_post(post)
    assert len(render_post(fitted)) <= POST_CHARS
    assert len(render_post(fitted, mentions=platform_mentions)) <= POST_CHARS
    for before, after in zip(post.sections, fitted.sections, strict=True):
        assert len(after.lines) + after.more == len(before.lines)


def test_cop_digest_shows_the_channel_digest_only_to_the_caller(tmp_path: Path) -> None:
    core = make_core(tmp_path / "r.db", MovableClock(WEEK_END))
    known_community(core)
    out = core.handle(CommandInvocation(SECRET, BEN, "digest", WEEK_END, event_id="e1"))
    assert len(out) == 1 and isinstance(out[0], Reply)
    reply = out[0]
    assert reply.ephemeral and reply.recipient == BEN and reply.where == SECRET
    assert "Rotate vault tokens" in reply.text and "Weekly digest for #secret" in reply.text
    public = core.handle(CommandInvocation(HELP, BEN, "digest 30", WEEK_END, event_id="e2"))
    assert isinstance(public[0], Reply) and "vault" not in public[0].text.lower()
    assert "30-day digest" in public[0].text


@pytest.mark.parametrize("args", ["abc", "0", "9999", "3 4"])
def test_cop_digest_bad_days_is_a_friendly_error(tmp_path: Path, args: str) -> None:
    core = make_core(tmp_path / "r.db", MovableClock(WEEK_END))
    out = core.handle(CommandInvocation(HELP, BEN, f"digest {args}", WEEK_END, event_id=args))
    assert isinstance(out[0], Reply) and "number of days" in out[0].text
    assert "/cop digest [days]" in out[0].text


def test_chart_is_a_small_png_beside_the_digest(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    core = make_core(tmp_path / "r.db", MovableClock(WEEK_END))
    known_community(core)
    start, end = period_for(WEEK_END, 7, core.services.settings.community.tz)
    schedule = DigestSchedule(channel="slack:C-HELP", chart=True)
    target = resolve_channel(core.services.repertoire, "slack:C-HELP")
    post = build_digest(core.services, target, schedule, start, end, chart_dir=tmp_path / "charts")
    assert post is not None and post.image_path
    png = Path(post.image_path)
    assert png.parent == tmp_path / "charts"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 60_000
    assert f"(chart saved to {png})" in render_post(post)


def test_daily_counts_per_local_day(tmp_path: Path) -> None:
    from zoneinfo import ZoneInfo

    from knowledge.activity import daily_counts

    core = make_core(tmp_path / "r.db", MovableClock(WEEK_END))
    known_community(core)
    start, end = period_for(WEEK_END, 7, ZoneInfo("UTC"))
    days = daily_counts(core.services.repertoire, None, start, end, ZoneInfo("UTC"))
    assert len(days) == 8  # 09:00 to 09:00 touches eight calendar days
    assert sum(d[1] for d in days) == 3 and sum(d[2] for d in days) == 3  # public only


def test_member_text_cannot_forge_a_mention(tmp_path: Path) -> None:
    core = make_core(tmp_path / "r.db", MovableClock(WEEK_END))
    say(core, HELP, CAM, "q-forge", f"{mention('U-ANA', 'Ana')} how do I forge pings?", WEEK_END)
    entry = core.services.repertoire.entries(EVERYTHING, EntryFilter(kinds=(EntryKind.QUESTION,)))[
        0
    ]
    assert MENTION_START not in entry.text and MENTION_START not in entry.title


def test_budget_counts_mentions_in_their_platform_form() -> None:
    discord_id = "1" * 19
    line = "x" * 60 + " " + " ".join(mention(discord_id, "Bo") for _ in range(4))
    post = Post(
        where=HELP,
        title="digest",
        sections=tuple(PostSection(f"S{i}", (line,) * 5) for i in range(5)),
    )
    fitted = fit_post(post)
    assert len(render_post(fitted, mentions=platform_mentions)) <= POST_CHARS
    assert len(render_post(fitted)) < POST_CHARS - 400  # so the plain form alone would not do
    for section in fitted.sections:  # a Discord embed field holds 1,024
        assert sum(len(platform_mentions(line)) + 1 for line in section.lines) <= SECTION_CHARS
    long_line = "y" * 150 + " " + mention(discord_id, "Bo")  # the cap falls inside the token
    (cut,) = fit_post(Post(HELP, "t", (PostSection("S", (long_line,)),))).sections[0].lines
    assert MENTION_START not in cut and len(cut) <= LINE_CHARS
