"""Block Kit rendering of the core's neutral replies, results and posts.

Slack's limits are enforced here so that a long answer never makes a call
fail: at most 50 blocks per message, 3,000 characters per section text, 150
per header and button text, 2,000 per button value. Text from members is
escaped (``&``, ``<``, ``>``) so it can neither ping anybody nor forge a link,
in the blocks and in the fallback ``text`` alike (Slack shows the fallback in
notifications and where blocks are not shown, and parses it the same way).
"""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from bot.events import KnowhowKind, Post, Reply, ResultItem
from bot.mentions import plain_mentions, platform_mentions
from bot.render_text import cut, kind_label, mark, question_status, unmarked
from bot.suggest import FEEDBACK_LABELS

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_FALLBACK_CHARS = 3000
MAX_METADATA_CHARS = 3000

SHARE_ACTION = "copbot_share"
#: Buttons on a similar-questions suggestion: "Solved it" / "Not related".
FEEDBACK_ACTIONS = {"solved_it": "copbot_solved_it", "not_related": "copbot_not_related"}
SAVE_SHORTCUT = "copbot_save"
ACCEPT_SHORTCUT = "copbot_accept"
SAVE_MODAL = "copbot_save_modal"

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters, escaped as Slack documents."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def bold_marks(snippet: str) -> str:
    """Matched words (between the core's markers) in bold, the rest escaped."""
    return mark(snippet, lambda word: f"*{word}*", escape)


def link(url: str, label: str) -> str:
    """``<url|label>`` for http(s) links; just the label otherwise."""
    label = escape(label).replace("|", "¦")
    if url.startswith(("https://", "http://")):
        return f"<{url.replace('>', '%3E').replace('|', '%7C')}|{label}>"
    return label


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION_CHARS)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, 2000)}]}


def item_blocks(index: int, item: ResultItem, *, share: bool, tz: ZoneInfo | None) -> list[Block]:
    """One result: title (linked), snippet, accepted answer, who/when/where."""
    status = {"accepted": " ✅", "open": " _(open)_"}.get(question_status(item), "")
    title = f"*{index}. {link(item.permalink, item.title or 'Untitled')}*{status}"
    lines = [title]
    snippet = unmarked(item.snippet)
    if item.snippet and snippet.strip() != item.title.strip():
        lines.append(bold_marks(item.snippet))
    if item.answer_snippet:
        who = escape(item.answer_author or "someone")
        answer = f"↳ *{who}*: {bold_marks(item.answer_snippet)}"
        if item.answer_permalink.startswith("http"):
            answer += f" {link(item.answer_permalink, 'view answer')}"
        lines.append(answer)
    block = section("\n".join(lines))
    if share:
        block["accessory"] = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Share in channel"},
            "action_id": SHARE_ACTION,
            "value": str(item.entry_id),
        }
    when = item.created_at.astimezone(tz) if tz else item.created_at
    meta = [
        kind_label(item),
        escape(item.author or "unknown"),
        f"{when:%Y-%m-%d}",
        f"#{escape(item.channel_name)}" if item.channel_name else "",
        f"on {item.platform}" if item.platform != "slack" else "",
        " ".join(f"#{escape(t)}" for t in item.tags[:8]),
    ]
    return [block, context(" · ".join(part for part in meta if part))]


def feedback_block(suggestion_id: int, entry_id: int, verdicts: tuple[str, ...]) -> Block:
    """The buttons members answer a suggested past answer with (value: suggestion:entry)."""
    return {
        "type": "actions",
        "elements": [
            {
                "type": "button",
                "text": {"type": "plain_text", "text": FEEDBACK_LABELS[verdict]},
                "action_id": FEEDBACK_ACTIONS[verdict],
                "value": f"{suggestion_id}:{entry_id}",
            }
            for verdict in verdicts
            if verdict in FEEDBACK_ACTIONS
        ],
    }


def reply_blocks(reply: Reply, tz: ZoneInfo | None = None) -> tuple[str, list[Block]]:
    """The fallback text and the blocks for a reply (results get a share button)."""
    share = "share" in reply.actions
    blocks: list[Block] = []
    if reply.text:
        blocks.extend(_text_sections(escape_reply_text(reply.text)))
    verdicts = tuple(a for a in reply.actions if a in FEEDBACK_ACTIONS)
    for index, item in enumerate(reply.items, 1):
        blocks.extend(item_blocks(index, item, share=share, tz=tz))
        if verdicts and reply.suggestion_id is not None:
            blocks.append(feedback_block(reply.suggestion_id, item.entry_id, verdicts))
    fallback = unmarked(reply.text)
    if reply.items:
        fallback += "".join(f"\n{i}. {unmarked(it.title)}" for i, it in enumerate(reply.items, 1))
    return cut(escape(fallback), MAX_FALLBACK_CHARS), cap_blocks(blocks)


def escape_reply_text(text: str) -> str:
    """The core's text is Slack-style markdown already (``*bold*``, ``_italic_``); escape it."""
    return escape(text)


def _text_sections(text: str) -> list[Block]:
    """Long text as several sections, each under the 3,000-character limit."""
    blocks: list[Block] = []
    chunk = ""
    for line in text.split("\n"):
        while len(line) > MAX_SECTION_CHARS:
            if chunk:
                blocks.append(section(chunk))
                chunk = ""
            blocks.append(section(line[:MAX_SECTION_CHARS]))
            line = line[MAX_SECTION_CHARS:]
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > MAX_SECTION_CHARS:
            blocks.append(section(chunk))
            chunk = line
        else:
            chunk = candidate
    if chunk.strip():
        blocks.append(section(chunk))
    return blocks


def cap_blocks(blocks: list[Block]) -> list[Block]:
    """At most 50 blocks; the last one says how many were left out."""
    if len(blocks) <= MAX_BLOCKS:
        return blocks
    kept = blocks[: MAX_BLOCKS - 1]
    kept.append(context(f"… and {len(blocks) - len(kept)} more blocks not shown"))
    return kept


def post_blocks(post: Post) -> tuple[str, list[Block]]:
    """A digest: a header, then one section per part, cut with 'and N more'."""
    blocks: list[Block] = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": cut(post.title or "copbot", MAX_HEADER_CHARS)},
        }
    ]
    if post.text:
        blocks.extend(_text_sections(escape(post.text)))
    for part in post.sections:
        lines = [f"*{escape(part.title)}*"]
        lines.extend(f"• {platform_mentions(escape(line))}" for line in part.lines)
        if part.more:
            lines.append(f"_… and {part.more} more_")
        blocks.extend(_text_sections("\n".join(lines)))
    fallback = post.title + (f"\n{post.text}" if post.text else "")
    return cut(escape(plain_mentions(fallback)), MAX_FALLBACK_CHARS), cap_blocks(blocks)


def save_modal(
    *, title: str, tags: tuple[str, ...], metadata: dict[str, Any], excerpt: str
) -> dict[str, Any]:
    """The "Save to repertoire" modal: confirm a title, tags and the kind of know-how."""
    return {
        "type": "modal",
        "callback_id": SAVE_MODAL,
        "title": {"type": "plain_text", "text": "Save to repertoire"},
        "submit": {"type": "plain_text", "text": "Save"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata, ensure_ascii=False),
        "blocks": [
            context(cut(escape(excerpt), 300) or "_(no text)_"),
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "initial_value": cut(title, 150),
                    "max_length": 150,
                },
            },
            {
                "type": "input",
                "block_id": "tags",
                "optional": True,
                "label": {"type": "plain_text", "text": "Tags"},
                "hint": {"type": "plain_text", "text": "Words separated by spaces or commas"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    **({"initial_value": " ".join(tags)} if tags else {}),
                },
            },
            {
                "type": "input",
                "block_id": "kind",
                "label": {"type": "plain_text", "text": "Kind"},
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "initial_option": _option(KnowhowKind.HOWTO),
                    "options": [_option(k) for k in KnowhowKind],
                },
            },
        ],
    }


def _option(kind: KnowhowKind) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": kind.value}, "value": kind.value}
