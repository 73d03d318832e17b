"""The Jinja2 environment of the web view: autoescaped templates and the filters they use.

Autoescape is on for every template, so a value is HTML-escaped unless it is
already :class:`~markupsafe.Markup`, and only :mod:`adapters.web.render` makes
Markup out of member text. ``StrictUndefined`` turns a typo in a template into
an error in the tests rather than an empty spot on a page.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, tzinfo
from importlib import resources

from jinja2 import Environment, PackageLoader, StrictUndefined

from adapters.web.links import Links, entry_slug
from adapters.web.render import member_text, safe_url, slugify, snippet
from bot.results import entry_title
from knowledge.models import Entry

PLATFORM_NAMES = {"slack": "Slack", "discord": "Discord"}
KNOWHOW_LABELS = {
    "howto": "How-to",
    "resource": "Resource",
    "story": "Story",
    "update": "Update",
}


#: The files under ``static/`` and their content types (nothing else is served from there).
STATIC_TYPES = {"style.css": "text/css", "icon.svg": "image/svg+xml"}


def static_file(name: str) -> bytes:
    """A file of ``adapters/web/static`` (package data)."""
    return resources.files("adapters.web").joinpath("static", name).read_bytes()


def environment(links: Links, tz: tzinfo) -> Environment:
    env = Environment(
        loader=PackageLoader("adapters.web", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=StrictUndefined,
    )

    def day(moment: datetime) -> str:
        local = moment.astimezone(tz)
        return f"{local.day} {local:%b %Y}"

    def iso(moment: datetime) -> str:
        return moment.isoformat(timespec="seconds")

    def plural(count: int, word: str, many: str = "") -> str:
        return f"{count} {word if count == 1 else (many or word + 's')}"

    def continue_label(entry: Entry) -> str:
        return f"Continue in {PLATFORM_NAMES.get(entry.source.platform, 'the chat')}"

    def knowhow_label(entry: Entry) -> str:
        return KNOWHOW_LABELS.get(entry.knowhow_kind or "howto", "Know-how")

    env.filters.update(
        member_text=member_text,
        snippet=snippet,
        day=day,
        iso=iso,
        title=entry_title,
        slug=slugify,
        safe_url=safe_url,
        continue_label=continue_label,
        knowhow_label=knowhow_label,
    )
    env.globals.update(
        links=links,
        plural=plural,
        entry_slug=entry_slug,
        static_version=hashlib.sha256(
            b"".join(static_file(name) for name in sorted(STATIC_TYPES))
        ).hexdigest()[:10],
    )
    return env
