"""Discord rendering keeps every message inside Discord's limits (real discord.Embed objects)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.discord import render
from adapters.discord.feedback import feedback_view
from adapters.discord.share_button import share_view
from bot.events import MARK_END, MARK_START, Post, PostSection, Reply, ResultItem, Visibility, Where
from tests.platform_limits import (
    DISCORD_CONTENT,
    DISCORD_FIELD_VALUE,
    check_discord_components,
    check_discord_message,
)

WHERE = Where("discord", "1", "2", Visibility.PUBLIC, "general")
WHEN = datetime(2026, 11, 1, tzinfo=UTC)


def item(n: int, size: int, permalink: str = "https://discord.com/channels/1/2/3") -> ResultItem:
    return ResultItem(
        entry_id=n,
        kind="question",
        title=("T" * size)[:size] or "t",
        snippet=f"before {MARK_START}match{MARK_END} after " + "s" * size,
        author="Alice_" + "a" * (size // 10),
        created_at=WHEN,
        channel_name="general",
        permalink=permalink,
        platform="discord",
        tags=tuple(f"tag{i}" for i in range(min(size // 50, 30))),
        answered=True,
        accepted=True,
        answer_snippet="use *polars* " + "x" * size,
        answer_author="Bob",
        answer_permalink="https://discord.com/channels/1/2/4",
    )


def assert_within_limits(rendered: render.Rendered) -> None:
    """Discord's documented limits (tests/platform_limits.py), on the JSON discord.py sends."""
    check_discord_message(rendered.content, [embed.to_dict() for embed in rendered.embeds])


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=20),
    size=st.integers(min_value=0, max_value=5000),
    text=st.text(max_size=5000),
)
def test_any_reply_fits_discord_limits(count: int, size: int, text: str) -> None:
    reply = Reply(WHERE, text or "x", items=tuple(item(i, size) for i in range(count)))
    rendered = render.render_reply(reply)
    assert_within_limits(rendered)
    if count and len(rendered.embeds) < count:
        assert f"{count - len(rendered.embeds)} more" in rendered.content


def test_small_results_are_all_shown_with_links_and_marked_words() -> None:
    rendered = render.render_reply(Reply(WHERE, "2 results", items=(item(1, 20), item(2, 20))))
    assert len(rendered.embeds) == 2
    first = rendered.embeds[0]
    assert first.url == "https://discord.com/channels/1/2/3"
    assert first.title is not None and first.title.startswith("1. ") and first.title.endswith("✅")
    # A reply that was not accepted is an answer, not a solution: no ✅.
    replied = replace(item(3, 20), accepted=False)
    assert not (
        render.render_reply(Reply(WHERE, "1", items=(replied,))).embeds[0].title or ""
    ).endswith("✅")
    assert "**match**" in (first.description or "")
    # User text is data: its markdown is escaped, our bold is not.
    assert "\\*polars\\*" in (first.description or "")
    assert first.footer.text is not None and "general" in first.footer.text


def test_a_result_without_a_web_link_has_no_url() -> None:
    rendered = render.render_reply(Reply(WHERE, "1 result", items=(item(1, 10, permalink=""),)))
    assert rendered.embeds[0].url is None


@settings(max_examples=40, deadline=None)
@given(
    sections=st.integers(min_value=0, max_value=60),
    lines=st.integers(min_value=0, max_value=80),
    width=st.integers(min_value=0, max_value=600),
)
def test_any_digest_fits_discord_limits(sections: int, lines: int, width: int) -> None:
    post = Post(
        WHERE,
        "Weekly digest " + "w" * width,
        sections=tuple(
            PostSection(f"Section {s} " + "n" * width, tuple("l" * width for _ in range(lines)), 3)
            for s in range(sections)
        ),
        text="t" * (width * 10),
    )
    rendered = render.render_post(post)
    assert_within_limits(rendered)
    shown = sum(len(e.fields) for e in rendered.embeds)
    assert shown + (int(rendered.content.split()[1]) if rendered.content else 0) == sections


def test_a_long_section_says_how_many_lines_it_left_out() -> None:
    lines = tuple(f"question number {i} about pandas and memory" for i in range(100))
    post = Post(WHERE, "Digest", sections=(PostSection("Unanswered", lines, more=5),))
    [embed] = render.render_post(post).embeds
    [field] = embed.fields
    assert field.value is not None and len(field.value) <= DISCORD_FIELD_VALUE
    shown = field.value.count("• ")
    assert field.value.endswith(f"…and {100 - shown + 5} more")


def test_ten_typical_results_all_fit_in_one_message() -> None:
    items = tuple(item(i, 80) for i in range(10))
    rendered = render.render_reply(Reply(WHERE, "10 results", items=items))
    assert len(rendered.embeds) == 10
    assert "more" not in rendered.content


def test_a_long_text_reply_goes_whole_into_an_embed() -> None:
    text = "Who knows airflow:\n" + "\n".join(
        f"{i}. member {i} — 3 accepted answers" for i in range(90)
    )
    rendered = render.render_reply(Reply(WHERE, text))
    assert len(text) > DISCORD_CONTENT
    assert rendered.content == "Who knows airflow:"
    [embed] = rendered.embeds
    assert embed.description == text
    assert_within_limits(rendered)


def test_share_and_feedback_buttons_fit_discords_component_limits() -> None:
    many = [10**15 + n for n in range(40)]  # entry ids as long as they may get
    check_discord_components(share_view(many).to_components())
    check_discord_components(
        feedback_view(10**15, many, ("solved_it", "not_related")).to_components()
    )
