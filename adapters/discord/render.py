"""The core's neutral replies and posts as Discord messages: content plus embeds.

Discord refuses a message that breaks its limits, so everything here is cut
to fit rather than hoped to fit: content 2,000 characters; per embed a title
of 256, a description of 4,096, 25 fields of 1,024 (names 256), a footer of
2,048; 6,000 characters over all the embeds of a message; 10 embeds.

Member text is made inert here, where it becomes Discord markdown
(:func:`adapters.discord.neutral.neutral`: no masked links, headings or
spoilers, no ``@everyone``); footers are shown as plain text by Discord.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import discord

from adapters.discord.neutral import neutral
from bot.events import Post, Reply, ResultItem
from bot.mentions import render_mentions
from bot.render_text import cut, kind_label, mark, question_status, unmarked

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBEDS_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10

#: Discord's "blurple", so our results look like one family.
COLOUR = discord.Colour(0x5865F2)


@dataclass
class Rendered:
    """One Discord message: ``content`` and up to 10 embeds that fit every limit."""

    content: str
    embeds: list[discord.Embed] = field(default_factory=list)
    #: Members the core asked to ping (opt-in digests and follow-ups): embeds never
    #: ping, so the outbox names them in ``content`` and allows exactly these.
    pings: list[int] = field(default_factory=list)


def marked(text: str) -> str:
    """Neutralise Discord markdown in member text and turn the core's match markers into bold."""
    return mark(text, lambda word: f"**{word}**", neutral)


def _is_link(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def embed_size(embed: discord.Embed) -> int:
    """What Discord counts towards the 6,000 characters of a message's embeds."""
    return len(embed)


def item_embed(index: int, item: ResultItem, description_limit: int = 700) -> discord.Embed:
    """One search result: linked title, snippet, best answer, who/when/where in the footer."""
    label = kind_label(item)
    status = {"accepted": " ✅", "open": " (open)"}.get(question_status(item), "")
    title = cut(f"{index}. {neutral(item.title)}{status}", TITLE_LIMIT)
    embed = discord.Embed(
        title=title,
        url=item.permalink if _is_link(item.permalink) else None,
        colour=COLOUR,
    )
    lines: list[str] = []
    if item.snippet and unmarked(item.snippet) != item.title:
        lines.append(marked(item.snippet))
    if item.answer_snippet:
        answer = f"↳ **{neutral(item.answer_author)}**: "
        answer += marked(item.answer_snippet)
        if _is_link(item.answer_permalink):
            answer += f" ([answer]({item.answer_permalink}))"
        lines.append(answer)
    if item.tags:
        lines.append(" ".join(f"`#{t}`" for t in item.tags))
    embed.description = cut("\n".join(lines), description_limit) or None
    footer = (
        f"{label} · {item.author} · {item.created_at:%Y-%m-%d} · #{item.channel_name} "
        f"· {item.platform}"
    )
    embed.set_footer(text=cut(footer, FOOTER_LIMIT))
    return embed


def _fit(embeds: list[discord.Embed]) -> tuple[list[discord.Embed], int]:
    """Keep embeds, in order, while they fit 10 per message and 6,000 characters."""
    kept: list[discord.Embed] = []
    total = 0
    for embed in embeds:
        size = embed_size(embed)
        if len(kept) >= EMBEDS_PER_MESSAGE or total + size > EMBEDS_TOTAL_LIMIT:
            break
        kept.append(embed)
        total += size
    return kept, len(embeds) - len(kept)


def render_reply(reply: Reply) -> Rendered:
    """A reply: its text as content, one embed per result item."""
    # Share the 6,000 characters between the results, so ten short ones all fit.
    budget = max(150, min(700, 4500 // max(1, len(reply.items)) - 150))
    embeds = [item_embed(i, item, budget) for i, item in enumerate(reply.items, 1)]
    kept, dropped = _fit(embeds)
    text = neutral(reply.text)
    if dropped:
        text += f"\n…and {dropped} more; narrow the search to see them."
    if len(text) > CONTENT_LIMIT and not kept:
        # A long text (help, a long list) reads better whole in an embed than cut at 2,000.
        first_line = text.splitlines()[0] if text.strip() else "…"
        body = discord.Embed(description=cut(text, DESCRIPTION_LIMIT), colour=COLOUR)
        return Rendered(cut(first_line, CONTENT_LIMIT), [body])
    return Rendered(cut(text, CONTENT_LIMIT), kept)


def _section_value(lines: tuple[str, ...], more: int, more_command: str = "") -> str:
    """Bullet lines cut to one field's 1,024 characters, counting what was left out."""
    shown: list[str] = []
    size = 0
    for pos, line in enumerate(lines):
        bullet = "• " + cut(line, 300)
        left = len(lines) - pos - 1 + more
        tail = f"\n…and {left} more" if left else ""
        if size + len(bullet) + 1 + len(tail) > FIELD_VALUE_LIMIT:
            left = len(lines) - pos + more
            shown.append(f"…and {left} more")
            return "\n".join(shown)
        shown.append(bullet)
        size += len(bullet) + 1
    if more:
        shown.append(f"…and {more} more" + (f": `{more_command}`" if more_command else ""))
    return "\n".join(shown) or "—"


def render_post(post: Post) -> Rendered:
    """A digest: title and text in the first embed, one field per section.

    Past 25 fields a further embed of the same message takes the next ones;
    sections that would break the 6,000-character budget are left out and
    counted in the content line.
    """
    first = discord.Embed(
        title=cut(neutral(post.title), TITLE_LIMIT) or None,
        description=cut(neutral(post.text), DESCRIPTION_LIMIT // 2) or None,
        colour=COLOUR,
    )
    embeds = [first]
    total = embed_size(first)
    dropped = 0
    pings: list[int] = []

    def as_discord(text: str) -> str:
        def ping(user_id: str, _name: str) -> str:
            if user_id.isdigit() and int(user_id) not in pings:
                pings.append(int(user_id))
            return f"<@{user_id}>"

        return render_mentions(text, ping)

    for section in post.sections:
        name = cut(neutral(section.title), FIELD_NAME_LIMIT) or "—"
        lines = tuple(as_discord(neutral(line)) for line in section.lines)
        value = _section_value(lines, section.more, section.more_command)
        if dropped or total + len(name) + len(value) > EMBEDS_TOTAL_LIMIT:
            dropped += 1
            continue
        if len(embeds[-1].fields) >= FIELD_COUNT_LIMIT:
            if len(embeds) >= EMBEDS_PER_MESSAGE:
                dropped += 1
                continue
            embeds.append(discord.Embed(colour=COLOUR))
        embeds[-1].add_field(name=name, value=value, inline=False)
        total += len(name) + len(value)
    content = f"…and {dropped} more section{'s' if dropped != 1 else ''}" if dropped else ""
    return Rendered(content, embeds, pings)
