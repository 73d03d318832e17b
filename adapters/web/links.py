"""Canonical URLs of the web view: one readable address per page.

``/q/123-how-do-i-read-a-huge-csv`` (a question), ``/k/…`` (know-how),
``/t/pandas`` (a topic), ``/m/7-chen-wei`` (a member), ``/digests/slack-data-help``
(a channel's digest archive) and ``/digests/slack-data-help/2026-W05`` (one
week). The number finds the page; the words are for people and search engines,
and a request with other words is redirected to the canonical address.
Behind a reverse proxy with a path (``base_url = "https://example.org/answers"``)
every link starts with that path.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode, urlsplit

from adapters.web.render import path_part, slugify
from bot.results import entry_title
from knowledge.models import Entry, EntryKind, Member
from knowledge.published import PublishedChannel


@dataclass(frozen=True, slots=True)
class Links:
    """Builds every link of the site from the configured base path."""

    base_path: str = ""

    @classmethod
    def for_base_url(cls, base_url: str) -> Links:
        return cls(urlsplit(base_url).path.rstrip("/") if base_url else "")

    def home(self) -> str:
        return f"{self.base_path}/"

    def static(self, name: str) -> str:
        return f"{self.base_path}/static/{name}"

    def search(self, query: str = "", page: int = 1) -> str:
        if not query:
            return f"{self.base_path}/search"
        params = {"q": query} | ({"page": str(page)} if page > 1 else {})
        return f"{self.base_path}/search?{urlencode(params)}"

    def entry(self, entry: Entry) -> str:
        """The page of a question or know-how entry."""
        prefix = "k" if entry.kind == EntryKind.KNOWHOW else "q"
        return f"{self.base_path}/{prefix}/{entry_slug(entry)}"

    def answer(self, answer: Entry, question: Entry) -> str:
        return f"{self.entry(question)}#a{answer.id}"

    def topic(self, tag: str, page: int = 1) -> str:
        suffix = f"?page={page}" if page > 1 else ""
        return f"{self.base_path}/t/{path_part(tag)}{suffix}"

    def member(self, member_id: int, name: str) -> str:
        slug = quote(slugify(name, 40), safe="-")
        return f"{self.base_path}/m/{member_id}" + (f"-{slug}" if slug else "")

    def member_of(self, member: Member) -> str:
        return self.member(member.id, member.display_name)

    def digests(self) -> str:
        return f"{self.base_path}/digests"

    def channel(self, key: str) -> str:
        return f"{self.base_path}/digests/{path_part(key)}"

    def week(self, key: str, year: int, week: int) -> str:
        return f"{self.channel(key)}/{year}-W{week:02d}"

    def sitemap(self, part: int | None = None) -> str:
        return (
            f"{self.base_path}/sitemap.xml"
            if part is None
            else (f"{self.base_path}/sitemap-{part}.xml")
        )


def entry_slug(entry: Entry) -> str:
    """``123-how-do-i-read-a-huge-csv``: the id, then the title's words."""
    slug = quote(slugify(entry_title(entry)), safe="-")
    return f"{entry.id}-{slug}" if slug else str(entry.id)


def channel_keys(channels: list[PublishedChannel]) -> dict[str, PublishedChannel]:
    """A readable, unique key per published channel: ``slack-data-help``.

    Two channels with the same name on one platform (two workspaces) get their
    id appended, so a key always names one channel.
    """
    first: dict[str, list[PublishedChannel]] = {}
    for channel in channels:
        base = f"{channel.ref.platform}-{slugify(channel.name, 40) or slugify(channel.ref.channel)}"
        first.setdefault(base, []).append(channel)
    keys: dict[str, PublishedChannel] = {}
    for base, group in first.items():
        if len(group) == 1:
            keys[base] = group[0]
            continue
        for channel in group:
            keys[f"{base}-{slugify(channel.ref.channel)}"] = channel
    return keys
