# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""Member text leaves copbot as text: it never pings, links or formats on its way out.

Through the real renderers and harnesses: the Slack app (signed requests, the
fake Web API records what was posted), the Discord client (its REST calls on
the fake Discord), and ``copbot export --format markdown`` rendered to HTML by
a real CommonMark renderer (markdown-it-py, which rich already depends on).
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from markdown_it import MarkdownIt

from adapters.cli import cli
from adapters.digest_cli import post_now
from bot.app import build_core
from bot.config import Settings
from bot.events import Actor, IncomingMessage, ReactionChange, Visibility, Where
from tests import discord_harness as dh
from tests.slack_harness import TEAM, SlackHarness, fake_slack, slack  # noqa: F401

# --------------------------------------------------------------------------- Slack

SLACK_TS = "1800000001.000100"


async def share(slack: SlackHarness, channel: str, entry_id: int) -> None:
    await slack.interactive(
        {
            "type": "block_actions",
            "team": {"id": TEAM, "domain": "acme"},
            "user": {"id": "U0VOTE", "username": "cy", "team_id": TEAM},
            "channel": {"id": channel, "name": "random"},
            "container": {"type": "message", "is_ephemeral": True},
            "trigger_id": "trigger.share",
            "response_url": f"{slack.fake.url}/response/share",
            "actions": [
                {
                    "action_id": "copbot_share",
                    "block_id": "b1",
                    "type": "button",
                    "value": str(entry_id),
                    "action_ts": "1800000200.000000",
                }
            ],
        }
    )


def slack_controls(text: str) -> list[str]:
    """Slack's special sequences in a message's text: ``<!channel>``, ``<@U1>``, ``<url|x>``."""
    return re.findall(r"<[!@#][^>]*>|<https?:[^>]*>", text)


async def test_a_shared_result_cannot_ping_the_channel_from_its_fallback_text(
    slack: SlackHarness,
) -> None:
    # Slack escapes what a member types: "<!channel>" arrives as "&lt;!channel&gt;".
    await slack.message(
        "C0PUBLIC",
        "U0ASK",
        "How do I stop &lt;!channel&gt; pings in &lt;@U0ANS&gt; alerts?",
        SLACK_TS,
    )
    [entry] = slack.entries()
    await share(slack, "C0OTHER", int(entry["id"]))
    [post] = slack.fake.of("chat.postMessage")
    assert "stop" in post["text"] and "&lt;!channel&gt;" in post["text"]
    assert slack_controls(post["text"]) == []
    # The blocks hold one control: the link back to the question, which copbot made.
    in_blocks = slack_controls(json.dumps(post["blocks"], ensure_ascii=False))
    assert in_blocks and all(c.startswith("<https://acme.slack.com/") for c in in_blocks)


async def test_a_public_thank_you_carries_the_reason_as_text(slack: SlackHarness) -> None:
    await slack.message("C0PUBLIC", "U0ANS", "How do I stop a runaway query?", SLACK_TS)
    await slack.command(
        "C0PUBLIC", "U0ASK", "thanks <@U0ANS> for <!here> and <https://evil.example|docs>"
    )
    [post] = slack.fake.of("chat.postMessage")
    assert "thanks" in post["text"] and "&lt;!here&gt;" in post["text"]
    assert slack_controls(post["text"]) == []


# --------------------------------------------------------------------------- Discord

GENERAL = 210
ASKER = (11, "Alice")
#: A member whose name is all markup: a masked link, a heading, a spoiler, @everyone.
TRICKSTER = (12, "@everyone [free nitro](https://evil.example) ||x|| <@&5>")
MASKED_LINK = re.compile(r"(?<!\\)\[[^\]\n]*(?<!\\)\]\(")


def discord_texts(body: dict[str, Any]) -> list[str]:
    """Every place Discord renders markdown in a message body."""
    texts = [str(body.get("content") or "")]
    for embed in body.get("embeds") or []:
        texts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        for field in embed.get("fields") or []:
            texts += [str(field["name"]), str(field["value"])]
    return texts


def assert_inert(body: dict[str, Any]) -> None:
    for text in discord_texts(body):
        assert not MASKED_LINK.search(text), text
        assert "@everyone" not in text and "@here" not in text, text
        assert not re.search(r"(?<!\\)<@&", text), text
        assert not re.search(r"(?<!\\)\|\|", text), text
        assert not re.search(r"(?m)^\s*#", text), text
    assert body["allowed_mentions"]["parse"] == []


async def test_discord_replies_and_digests_keep_member_markdown_inert(tmp_path: Path) -> None:
    async with dh.running(tmp_path) as h:
        h.add_guild(dh.guild([dh.text_channel(GENERAL, "general")]))
        question, answer = dh.new_id(), dh.new_id()
        await h.feed(
            "MESSAGE_CREATE",
            dh.message(
                question,
                GENERAL,
                ASKER,
                "# How do I claim [free nitro](https://evil.example) for @everyone?",
            ),
        )
        await h.feed("THREAD_CREATE", dh.thread(question, GENERAL, "nitro", ASKER[0]))
        await h.feed(
            "MESSAGE_CREATE",
            dh.message(answer, question, TRICKSTER, "> click [here](https://evil.example) ||now||"),
        )
        h.api.clear()
        await h.feed(
            "MESSAGE_REACTION_ADD", dh.reaction(answer, question, ASKER[0], ASKER[1], "✅")
        )
        [accepted] = h.api.calls_to("POST", f"/channels/{question}/messages")
        assert "Marked as the accepted answer" in accepted.body["content"]
        assert "free nitro" in accepted.body["content"]  # shown, as text
        assert_inert(accepted.body)

        h.api.clear()
        await post_now(h.core, f"discord:{GENERAL}", 7, h.adapter, None)
        [digest] = h.api.calls_to("POST", f"/channels/{GENERAL}/messages")
        shown = "\n".join(discord_texts(digest.body))
        assert "claim" in shown and "evil.example" in shown  # the content is all there
        assert_inert(digest.body)


# --------------------------------------------------------------------------- Markdown export


def markdown_export(tmp_path: Path, texts: list[str]) -> dict[str, str]:
    """``copbot export --format markdown`` of questions with ``texts`` as answers, as HTML."""
    db = tmp_path / "copbot.db"
    core = build_core(Settings(), db)
    where = Where("console", "local", "C1", Visibility.PUBLIC, "general")
    asker, helper = Actor("console", "ana", "Ana"), Actor("console", "ben", "<b>Ben</b>")
    from datetime import UTC, datetime, timedelta

    at = datetime(2026, 1, 5, tzinfo=UTC)
    for n, text in enumerate(texts):
        title = f"How do I render <script>x</script> item {n}?"
        core.handle(IncomingMessage(where, asker, f"q{n}", title, at + timedelta(minutes=n)))
        core.handle(IncomingMessage(where, helper, f"a{n}", text, at, thread_id=f"q{n}"))
        core.handle(ReactionChange(where, f"a{n}", asker, "✅", at=at))
    core.services.repertoire.close()
    out = tmp_path / "kb"
    result = CliRunner().invoke(
        cli, ["export", "--format", "markdown", "--db", str(db), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    renderer = MarkdownIt("commonmark")  # raw HTML allowed, as many publishers do
    return {
        str(p.relative_to(out)): renderer.render(p.read_text("utf-8")) for p in out.rglob("*.md")
    }


def test_the_markdown_export_shows_member_html_and_links_and_runs_none(tmp_path: Path) -> None:
    answers = [
        "<script>alert(1)</script> then <img src=x onerror=alert(2)>",
        "[the docs](javascript:alert(3)) or [real docs](https://docs.example/x) or "
        "[mail](mailto:help@example.org) ![pixel](https://tracker.example/p.png)",
        "[ref][1]\n\n[1]: javascript:alert(4)\n\n&#106;avascript:alert(5) <javascript:alert(6)>",
        "Use this:\n```python\nif a < b and c > d:\n    print('<b>')\n```\nor `x < y` inline.",
    ]
    pages = markdown_export(tmp_path, answers)
    html = "\n".join(pages.values())
    assert len([p for p in pages if p.startswith("questions/")]) == 4
    tags = re.findall(r"<([a-zA-Z][^>]*)>", html)
    names = {t.split()[0].lower() for t in tags}
    assert names <= {"h1", "h2", "h3", "p", "a", "ul", "li", "em", "strong", "code", "pre"}, names
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert all(h.startswith(("https://", "mailto:")) or h.endswith(".md") for h in hrefs), hrefs
    assert "https://docs.example/x" in hrefs and "mailto:help@example.org" in hrefs
    assert "https://tracker.example/p.png" in hrefs  # an image becomes a link: nothing loads
    # What the members wrote is still there, as text.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;Ben&lt;/b&gt;" in html
    assert "javascript:alert(3)" in html  # visible, not a link
    # Code stays code, with its characters as written.
    assert '<pre><code class="language-python">if a &lt; b and c &gt; d:' in html
    assert "<code>x &lt; y</code>" in html
    with sqlite3.connect(tmp_path / "copbot.db") as conn:
        assert conn.execute("SELECT count(*) FROM entries WHERE accepted = 1").fetchone() == (4,)
