"""Plain-text rendering of replies and posts, for the terminal and the CLI.

Slack (Block Kit) and Discord (embeds) render the same neutral values their
own way in their adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from bot.events import MARK_END, MARK_START, Post, Reply, ResultItem
from bot.mentions import plain_mentions

Style = Callable[[str], str]

KIND_LABEL = {"question": "Q", "knowhow": "Know-how", "answer": "A"}


def plain(text: str) -> str:
    return text


def mark(text: str, bold: Style) -> str:
    """Replace the neutral match markers with the renderer's bold."""
    out: list[str] = []
    rest = text
    while MARK_START in rest:
        before, _, after = rest.partition(MARK_START)
        word, _, rest = after.partition(MARK_END)
        out.append(before)
        out.append(bold(word))
    out.append(rest)
    return "".join(out).replace(MARK_END, "")


def render_item(
    index: int,
    item: ResultItem,
    bold: Style = plain,
    dim: Style = plain,
    tz: ZoneInfo | None = None,
) -> str:
    when = item.created_at.astimezone(tz) if tz else item.created_at
    label = KIND_LABEL.get(item.kind, item.kind)
    if item.kind == "knowhow" and item.knowhow_kind:
        label = f"Know-how ({item.knowhow_kind})"
    status = ""
    if item.kind == "question":
        status = (
            " ✅"
            if item.answer_snippet and item.answered
            else (" (open)" if not item.answered else "")
        )
    if item.outdated:
        status += " ⚠️ possibly outdated"
    tags = " " + " ".join(f"#{t}" for t in item.tags) if item.tags else ""
    lines = [f"{index}. [{label}] {bold(item.title)}{status}{tags}"]
    if item.snippet and item.snippet.replace(MARK_START, "").replace(MARK_END, "") != item.title:
        lines.append(f"   {mark(item.snippet, bold)}")
    if item.answer_snippet:
        lines.append(f"   ↳ {item.answer_author}: {mark(item.answer_snippet, bold)}")
    meta = f"{item.author} · {when:%Y-%m-%d} · #{item.channel_name} · {item.platform}"
    if item.permalink:
        meta += f" · {item.permalink}"
    meta += f" · #{item.entry_id}"
    lines.append("   " + dim(meta))
    return "\n".join(lines)


def render_reply(
    reply: Reply, bold: Style = plain, dim: Style = plain, tz: ZoneInfo | None = None
) -> str:
    parts = [reply.text]
    for index, item in enumerate(reply.items, 1):
        parts.append(render_item(index, item, bold, dim, tz))
    return "\n".join(parts)


def render_post(post: Post, bold: Style = plain, mentions: Style = plain_mentions) -> str:
    """A post as text; mentions as ``@name`` unless told otherwise (the terminal pings nobody)."""
    return mentions(_render_post(post, bold))


def _render_post(post: Post, bold: Style) -> str:
    lines = [bold(post.title)]
    if post.text:
        lines.append(post.text)
    for section in post.sections:
        lines.append("")
        lines.append(bold(section.title))
        lines.extend(f"  • {line}" for line in section.lines)
        if section.more:
            hint = f": {section.more_command}" if section.more_command else ""
            lines.append(f"  … and {section.more} more{hint}")
    if post.image_path:
        lines.append(f"(chart saved to {post.image_path})")
    return "\n".join(lines)
