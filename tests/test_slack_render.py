"""Block Kit rendering within Slack's limits, and the translation of Slack's markup."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from adapters.slack.blocks import post_blocks, reply_blocks, save_modal
from adapters.slack.translate import (
    guess_visibility,
    permalink_from_url,
    plain_text,
    split_tags,
    visibility_from_channel_type,
)
from bot.events import MARK_END, MARK_START, Post, PostSection, Reply, ResultItem, Visibility, Where
from tests.platform_limits import (
    SLACK_BLOCKS_PER_MESSAGE,
    SLACK_MESSAGE_TEXT,
    check_slack_blocks,
    check_slack_view,
)

WHERE = Where("slack", "T1", "C1", Visibility.PUBLIC, "data-help")


def item(
    n: int,
    *,
    title: str | None = None,
    snippet: str = f"how to read {MARK_START}csv{MARK_END} fast",
    answer_snippet: str = "use polars",
) -> ResultItem:
    return ResultItem(
        entry_id=n,
        kind="question",
        title=f"Question {n}" if title is None else title,
        snippet=snippet,
        author="Ada",
        created_at=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        channel_name="data-help",
        permalink=f"https://acme.slack.com/archives/C1/p{n}",
        platform="slack",
        answered=True,
        answer_snippet=answer_snippet,
        answer_author="Ben",
    )


def all_text(blocks: list[dict[str, object]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_result_shows_title_link_snippet_answer_author_date_channel() -> None:
    _text, blocks = reply_blocks(Reply(WHERE, "1 result", (item(7),), actions=("share",)))
    body = all_text(blocks)
    assert "<https://acme.slack.com/archives/C1/p7|Question 7>" in body
    assert "how to read *csv* fast" in body
    assert "Ben" in body and "use polars" in body
    assert "Ada" in body and "2026-03-01" in body and "#data-help" in body
    assert blocks[1]["accessory"]["value"] == "7"


def test_dates_follow_the_community_time_zone() -> None:
    from zoneinfo import ZoneInfo

    _t, blocks = reply_blocks(Reply(WHERE, "x", (item(1),)), ZoneInfo("Europe/Paris"))
    assert "2026-03-02" in all_text(blocks)


def test_member_text_cannot_ping_or_forge_links() -> None:
    evil = item(1, title="<!channel> <https://evil.example|click>", snippet="<@U123> & co")
    _t, blocks = reply_blocks(Reply(WHERE, "found <!here>", (evil,)))
    body = all_text(blocks)
    assert "<!channel>" not in body and "<!here>" not in body and "<@U123>" not in body
    assert "&lt;!channel&gt;" in body and "&amp; co" in body


def test_long_texts_and_many_results_stay_within_limits() -> None:
    long = "word " * 2000
    items = tuple(item(n, snippet=long, answer_snippet=long) for n in range(40))
    text, blocks = reply_blocks(Reply(WHERE, long * 2, items, actions=("share",)))
    check_slack_blocks(blocks)
    assert len(blocks) == SLACK_BLOCKS_PER_MESSAGE  # full, and the last one says so
    assert "more blocks not shown" in all_text(blocks[-1:])
    assert len(text) <= SLACK_MESSAGE_TEXT


def test_a_long_digest_and_a_suggestion_stay_within_block_kit_limits() -> None:
    long = "line " * 800
    post = Post(
        WHERE,
        "Weekly digest " + "w" * 400,
        tuple(PostSection("s" * 400, tuple(long for _ in range(30)), 9) for _ in range(40)),
        text=long,
    )
    text, blocks = post_blocks(post)
    check_slack_blocks(blocks)
    assert len(text) <= SLACK_MESSAGE_TEXT
    items = tuple(item(n, snippet=long, answer_snippet=long) for n in range(5))
    reply = Reply(WHERE, long, items, actions=("solved_it", "not_related"), suggestion_id=10**15)
    check_slack_blocks(reply_blocks(reply)[1])


def test_no_share_button_unless_asked() -> None:
    _t, blocks = reply_blocks(Reply(WHERE, "x", (item(1),)))
    assert "accessory" not in all_text(blocks)


def test_digest_post_has_a_header_and_sections_with_more() -> None:
    post = Post(WHERE, "Weekly digest", (PostSection("New know-how", ("a", "b"), more=3),))
    text, blocks = post_blocks(post)
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"] == "Weekly digest"
    assert "*New know-how*" in all_text(blocks) and "and 3 more" in all_text(blocks)
    assert text.startswith("Weekly digest")


def test_save_modal_carries_its_metadata() -> None:
    view = save_modal(title="T" * 400, tags=("ci",), metadata={"ts": "1.2"}, excerpt="x" * 9000)
    assert json.loads(view["private_metadata"]) == {"ts": "1.2"}
    check_slack_view(view)


def test_plain_text_undoes_slack_markup() -> None:
    raw = "see <https://docs.pola.rs|the docs> &amp; <#C1|data-help> <!here> <@U1> &lt;3"
    assert plain_text(raw) == "see the docs (https://docs.pola.rs) & #data-help @here <@U1> <3"
    assert plain_text("<https://x.org>") == "https://x.org"


def test_visibility_from_slack() -> None:
    assert visibility_from_channel_type("channel") == Visibility.PUBLIC
    assert visibility_from_channel_type("group") == Visibility.PRIVATE
    assert visibility_from_channel_type("im") == Visibility.DM
    assert visibility_from_channel_type("mpim") == Visibility.DM
    assert visibility_from_channel_type(None) is None
    assert guess_visibility("D123") == Visibility.DM
    assert guess_visibility("C123", "mpdm-a--b-1") == Visibility.DM
    assert guess_visibility("C123") == Visibility.PRIVATE  # unknown: the safe side


def test_permalinks_built_from_the_workspace_url() -> None:
    assert (
        permalink_from_url("https://acme.slack.com/", "C1", "1700000000.000100", None)
        == "https://acme.slack.com/archives/C1/p1700000000000100"
    )
    assert permalink_from_url("https://acme.slack.com", "C1", "2.0", "1.0").endswith(
        "p20?thread_ts=1.0&cid=C1"
    )
    assert permalink_from_url("", "C1", "1.0", None) == ""


def test_split_tags() -> None:
    assert split_tags("pandas, #Memory  io,,pandas") == ("pandas", "memory", "io")
    assert split_tags("") == ()


def test_mentions_become_handles_when_known() -> None:
    assert (
        plain_text("hi <@U1> and <@U2|bob> and <@U3>", {"U1": "ada"})
        == "hi @ada and @bob and <@U3>"
    )
