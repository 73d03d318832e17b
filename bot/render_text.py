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
KIND_NAME = {"question": "Question", "knowhow": "Know-how", "answer": "Answer"}


def plain(text: str) -> str:
    return text


# The presentation helpers every renderer shares (terminal here, Slack Block Kit and
# Discord embeds in their adapters): each platform only says how bold and escaping look.


def mark(text: str, bold: Style, escape: Style = plain) -> str:
    """Replace the neutral match markers with the renderer's ``bold``; ``escape`` the rest.

    Member text reaches ``bold`` already escaped, so a matched word cannot smuggle
    the platform's markup in.
    """
    out: list[str] = []
    rest = text
    while MARK_START in rest:
        before, _, after = rest.partition(MARK_START)
        word, _, rest = after.partition(MARK_END)
        out.append(escape(before))
        if word.strip():
            out.append(bold(escape(word)))
        else:
            out.append(escape(word))
    out.append(escape(rest.replace(MARK_END, "")))
    return "".join(out)


def unmarked(text: str) -> str:
    """``text`` without the match markers."""
    return text.replace(MARK_START, "").replace(MARK_END, "")


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, ending in … when cut (platform limits are hard)."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def kind_label(item: ResultItem, names: dict[str, str] = KIND_NAME) -> str:
    """ "Question", "Know-how (story)", ...: what kind of entry a result is."""
    label = names.get(item.kind, item.kind)
    if item.kind == "knowhow" and item.knowhow_kind:
        label = f"{label} ({item.knowhow_kind})"
    return label


def question_status(item: ResultItem) -> str:
    """For a question: "accepted", "answered" or "open"; "" for other kinds.

    A ✅ means an accepted answer, never merely a reply.
    """
    if item.kind != "question":
        return ""
    if item.accepted:
        return "accepted"
    return "answered" if item.answered else "open"


def render_item(
    index: int,
    item: ResultItem,
    bold: Style = plain,
    dim: Style = plain,
    tz: ZoneInfo | None = None,
) -> str:
    when = item.created_at.astimezone(tz) if tz else item.created_at
    label = kind_label(item, KIND_LABEL)
    status = {"accepted": " ✅", "open": " (open)"}.get(question_status(item), "")
    if item.outdated:
        status += " ⚠️ possibly outdated"
    tags = " " + " ".join(f"#{t}" for t in item.tags) if item.tags else ""
    lines = [f"{index}. [{label}] {bold(item.title)}{status}{tags}"]
    if item.snippet and unmarked(item.snippet) != item.title:
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
