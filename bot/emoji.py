"""Reactions compared in one form, whether named by shortcode (``white_check_mark``) or as ✅.

Shortcodes are the words the config speaks (``accept_reaction =
"white_check_mark"``) and the names Slack gives reactions; Discord sends the
character and knows the same codes (its exports carry them). The core compares
reactions in one canonical form, so the same config works on every platform.
A platform's own spelling (Slack's ``::skin-tone-2`` suffix) is its adapter's
to take off (:mod:`adapters.slack.emoji`).
"""

from __future__ import annotations

from functools import lru_cache

#: The shortcodes of the reactions copbot gives a role (and a few common ones).
SHORTCODES: dict[str, str] = {
    "white_check_mark": "✅",
    "heavy_check_mark": "✔️",
    "ballot_box_with_check": "☑️",
    "pushpin": "📌",
    "round_pushpin": "📍",
    "bookmark": "🔖",
    "star": "⭐",
    "pray": "🙏",
    "+1": "👍",
    "thumbsup": "👍",
    "-1": "👎",
    "thumbsdown": "👎",
    "heart": "❤️",
    "tada": "🎉",
    "bulb": "💡",
    "x": "❌",
    "raised_hands": "🙌",
    "link": "🔗",
    "book": "📖",
    "open_book": "📖",
    "mega": "📣",
}


@lru_cache(maxsize=4096)
def canonical(emoji: str) -> str:
    """The one form we compare: the character when we know it, else the bare name.

    Cached: a big import asks it for every reaction, of a few dozen emoji.
    """
    name = emoji.strip().strip(":").lower()
    if name in SHORTCODES:
        return SHORTCODES[name]
    stripped = emoji.strip().replace("\ufe0f", "")
    for char in SHORTCODES.values():
        if char.replace("\ufe0f", "") == stripped:
            return char
    return name or emoji
