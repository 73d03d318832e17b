"""Reactions arrive as Slack names (``white_check_mark``) or characters (✅).

The core compares them in one canonical form, so the same config works on
every platform.
"""

from __future__ import annotations

from functools import lru_cache

_ALIASES: dict[str, str] = {
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
    name = name.split("::", 1)[0]  # Slack skin tones: "+1::skin-tone-2"
    if name in _ALIASES:
        return _ALIASES[name]
    stripped = emoji.strip().replace("\ufe0f", "")
    for char in _ALIASES.values():
        if char.replace("\ufe0f", "") == stripped:
            return char
    return name or emoji
