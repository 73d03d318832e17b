"""The web view's routes: server-rendered HTML, read-only, safe and cacheable.

:class:`WebView` adds its routes to any aiohttp application, so ``copbot web``
serves them alone and ``copbot run`` can mount them beside Slack's HTTP
endpoint. Every response carries the security headers (a Content Security
Policy that allows no script at all, ``nosniff``, a referrer policy, no
framing) and an ``ETag``; a request whose ``If-None-Match`` matches gets a
``304`` without a body. Pages render without JavaScript.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextvars import ContextVar
from datetime import tzinfo
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import quote, unquote, urlsplit

from aiohttp import web

from adapters.web import loaders
from adapters.web.links import Links
from adapters.web.reader import ReadContext, WebReader
from adapters.web.seo import (
    description,
    entries_sitemap,
    pages_sitemap,
    qa_page,
    robots,
    sitemap_index,
)
from adapters.web.templates import STATIC_TYPES, environment, static_file
from bot.config import Settings
from bot.results import entry_title

#: Sent with every response of the web view.
SECURITY_HEADERS = {
    # No script runs on these pages (JSON-LD is data, not script); styles and images
    # come from this site only; forms post here only; nobody may frame the pages.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

HTML = "text/html"

P = ParamSpec("P")
T = TypeVar("T")

#: CPU milliseconds spent on the request being answered, by step (``Server-Timing``).
_TIMINGS: ContextVar[dict[str, float] | None] = ContextVar("copbot_web_timings", default=None)


def _note(step: str, milliseconds: float) -> None:
    timings = _TIMINGS.get()
    if timings is None:
        timings = {}
        _TIMINGS.set(timings)
    timings[step] = timings.get(step, 0.0) + milliseconds


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match`` (RFC 9110: weak comparison, a list, or ``*``) against ``etag``."""
    if not header:
        return False
    wanted = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


class WebView:
    """The public web view of one repertoire."""

    def __init__(self, reader: WebReader, settings: Settings) -> None:
        self.reader = reader
        self.settings = settings
        self.links = Links.for_base_url(settings.web.base_url)
        self.tz: tzinfo = settings.community.tz
        self.env = environment(self.links, self.tz)
        self.site_name = settings.web.title or settings.community.name
        self.static = {name: static_file(name) for name in STATIC_TYPES}

    # ------------------------------------------------------------------ wiring

    def add_routes(self, app: web.Application) -> None:
        base = self.links.base_path
        entry = r"{entry_id:\d{1,12}}{slug:(?:-[^/]*)?}"
        app.add_routes(
            [
                web.get(f"{base}/", self.home),
                web.get(f"{base}/search", self.search),
                web.get(f"{base}/q/{entry}", self.question),
                web.get(f"{base}/k/{entry}", self.knowhow),
                web.get(f"{base}/t/{{tag}}", self.topic),
                web.get(rf"{base}/m/{{member_id:\d{{1,12}}}}{{slug:(?:-[^/]*)?}}", self.member),
                web.get(f"{base}/digests", self.digests),
                web.get(f"{base}/digests/{{key}}", self.channel),
                web.get(rf"{base}/digests/{{key}}/{{year:\d{{4}}}}-W{{week:\d{{2}}}}", self.week),
                web.get(f"{base}/sitemap.xml", self.sitemap),
                web.get(rf"{base}/sitemap-{{part:\d{{1,6}}}}.xml", self.sitemap_part),
                web.get(f"{base}/robots.txt", self.robots),
                web.get(f"{base}/static/{{name}}", self.static_file),
            ]
        )

    # ------------------------------------------------------------------ responses

    async def read(
        self, fn: Callable[Concatenate[ReadContext, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a page's read on a reader thread, noting the CPU time it took there."""
        result, cpu_ms = await self.reader.read_timed(fn, *args, **kwargs)
        _note("read", cpu_ms)
        return result

    def origin(self, request: web.Request) -> str:
        """``https://host`` of the configured address, else of the request."""
        if self.settings.web.base_url:
            parts = urlsplit(self.settings.web.base_url)
            return f"{parts.scheme}://{parts.netloc}"
        return f"{request.scheme}://{request.host}"

    def respond(
        self,
        request: web.Request,
        body: str | bytes,
        *,
        content_type: str = HTML,
        status: int = 200,
        max_age: int | None = None,
    ) -> web.Response:
        data = body.encode("utf-8") if isinstance(body, str) else body
        etag = etag_of(data)
        age = self.settings.web.cache_seconds if max_age is None else max_age
        headers = dict(SECURITY_HEADERS)
        headers["ETag"] = etag
        headers["Cache-Control"] = f"public, max-age={age}" if status == 200 else "no-cache"
        timings = _TIMINGS.get()
        _TIMINGS.set(None)
        if self.settings.web.server_timing and timings:
            headers["Server-Timing"] = ", ".join(
                f"{step};dur={ms:.2f}" for step, ms in timings.items()
            )
        if status == 200 and etag_matches(request.headers.get("If-None-Match"), etag):
            return web.Response(status=304, headers=headers)
        charset = "utf-8" if content_type.startswith("text/") or "xml" in content_type else None
        return web.Response(
            body=data, status=status, content_type=content_type, charset=charset, headers=headers
        )

    def page(
        self, request: web.Request, template: str, *, status: int = 200, **context: Any
    ) -> web.Response:
        context.setdefault("query", "")
        context.setdefault("noindex", False)
        context.setdefault("canonical", "")
        context.setdefault("description", "")
        context.setdefault("og_type", "website")
        context.setdefault("jsonld", None)
        started = time.thread_time()
        html = self.env.get_template(template).render(
            site_name=self.site_name, origin=self.origin(request), **context
        )
        _note("render", (time.thread_time() - started) * 1000)
        return self.respond(request, html, status=status)

    def not_found(self, request: web.Request, what: str = "page") -> web.Response:
        return self.page(
            request,
            "error.html",
            status=404,
            title="Not found",
            message=f"There is no such {what} on this site, or it is no longer public.",
            noindex=True,
        )

    def redirect(self, path: str) -> web.HTTPMovedPermanently:
        return web.HTTPMovedPermanently(quote(path, safe="/-_.~%?=&#+"), headers=SECURITY_HEADERS)

    @staticmethod
    def _page_number(request: web.Request) -> int | None:
        raw = request.query.get("page", "1")
        if not raw.isdigit() or not 1 <= int(raw) <= loaders.MAX_PAGE:
            return None
        return int(raw)

    # ------------------------------------------------------------------ pages

    async def home(self, request: web.Request) -> web.Response:
        data = await self.read(loaders.home)
        return self.page(
            request,
            "home.html",
            data=data,
            canonical=self.origin(request) + self.links.home(),
            description=f"Questions, answers and know-how of {self.site_name}.",
        )

    async def search(self, request: web.Request) -> web.Response:
        text = request.query.get("q", "").strip()
        page = self._page_number(request)
        if page is None:
            return self.not_found(request)
        data = await self.read(loaders.search_page, text, page) if text else None
        return self.page(request, "search.html", data=data, query=text, noindex=True)

    async def question(self, request: web.Request) -> web.Response:
        entry_id = int(request.match_info["entry_id"])
        thread = await self.read(loaders.question, entry_id)
        if thread is None:
            return await self._elsewhere(request, entry_id)
        path = self.links.entry(thread.question)
        if unquote(path) != request.path:
            raise self.redirect(path)
        origin = self.origin(request)
        return self.page(
            request,
            "question.html",
            thread=thread,
            canonical=origin + path,
            title=entry_title(thread.question),
            description=description(thread.question),
            og_type="article",
            jsonld=qa_page(thread, origin, self.links),
        )

    async def knowhow(self, request: web.Request) -> web.Response:
        entry_id = int(request.match_info["entry_id"])
        found = await self.read(loaders.knowhow, entry_id)
        if found is None:
            return await self._elsewhere(request, entry_id)
        path = self.links.entry(found.entry)
        if unquote(path) != request.path:
            raise self.redirect(path)
        return self.page(
            request,
            "knowhow.html",
            item=found,
            canonical=self.origin(request) + path,
            title=entry_title(found.entry),
            description=description(found.entry),
            og_type="article",
        )

    async def _elsewhere(self, request: web.Request, entry_id: int) -> web.Response:
        """A /q/ address of know-how (or the reverse) moves to its page; else not found."""
        entry = await self.read(loaders.published_entry, entry_id)
        if entry is None:
            return self.not_found(request, "question or know-how")
        raise self.redirect(self.links.entry(entry))

    async def topic(self, request: web.Request) -> web.Response:
        tag = request.match_info["tag"]
        page = self._page_number(request)
        if page is None:
            return self.not_found(request)
        found = await self.read(loaders.topic, tag, page)
        if not found.entries:
            return self.not_found(request, "topic")
        return self.page(
            request,
            "topic.html",
            tag=tag,
            found=found,
            page=page,
            max_page=loaders.MAX_PAGE,
            canonical=self.origin(request) + self.links.topic(tag, page),
            title=f"#{tag}",
            description=f"Questions and know-how about {tag} in {self.site_name}.",
        )

    async def member(self, request: web.Request) -> web.Response:
        member_id = int(request.match_info["member_id"])
        found = await self.read(loaders.member, member_id)
        if found is None:
            return self.not_found(request, "member page")
        path = self.links.member(found.canonical_id, found.member.display_name)
        if unquote(path) != request.path:
            raise self.redirect(path)
        return self.page(
            request,
            "member.html",
            found=found,
            canonical=self.origin(request) + path,
            title=found.member.display_name,
            description=f"What {found.member.display_name} shared in {self.site_name}.",
            noindex=True,
        )

    async def digests(self, request: web.Request) -> web.Response:
        channels = await self.read(loaders.channels)
        return self.page(
            request,
            "digests.html",
            channels=channels,
            canonical=self.origin(request) + self.links.digests(),
            title="Digests",
            description=f"Week by week, what {self.site_name} learned.",
        )

    async def channel(self, request: web.Request) -> web.Response:
        archive = await self.read(loaders.channel_archive, request.match_info["key"])
        if archive is None:
            return self.not_found(request, "channel")
        return self.page(
            request,
            "channel.html",
            archive=archive,
            canonical=self.origin(request) + self.links.channel(archive.key),
            title=f"#{archive.channel.name} digests",
            description=f"Weekly digests of #{archive.channel.name}.",
        )

    async def week(self, request: web.Request) -> web.Response:
        match = request.match_info
        found = await self.read(loaders.week, match["key"], int(match["year"]), int(match["week"]))
        if found is None:
            return self.not_found(request, "digest")
        return self.page(
            request,
            "week.html",
            found=found,
            canonical=self.origin(request) + self.links.week(found.key, found.year, found.week),
            title=f"#{found.channel.name}, week {found.week} of {found.year}",
            description=f"What #{found.channel.name} learned in week {found.week} of {found.year}.",
            noindex=found.digest.is_empty,
        )

    # ------------------------------------------------------------------ for machines

    async def sitemap(self, request: web.Request) -> web.Response:
        parts = await self.read(loaders.sitemap_parts)
        xml = sitemap_index(self.origin(request), self.links, parts)
        return self.respond(request, xml, content_type="application/xml")

    async def sitemap_part(self, request: web.Request) -> web.Response:
        part = int(request.match_info["part"])
        origin = self.origin(request)
        if part == 0:
            topics = await self.read(loaders.sitemap_topics)
            xml = pages_sitemap(origin, self.links, topics)
        else:
            entries = await self.read(loaders.sitemap_part, part)
            if not entries:
                return self.not_found(request, "sitemap")
            xml = entries_sitemap(origin, self.links, entries)
        return self.respond(request, xml, content_type="application/xml")

    async def robots(self, request: web.Request) -> web.Response:
        text = robots(self.origin(request), self.links)
        return self.respond(request, text, content_type="text/plain")

    async def static_file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.static:
            return self.not_found(request, "file")
        # Links carry a version (?v=hash of the files): a day in caches is safe.
        return self.respond(
            request, self.static[name], content_type=STATIC_TYPES[name], max_age=86_400
        )


VIEW_KEY = web.AppKey("copbot.web", WebView)


@web.middleware
async def not_found_pages(request: web.Request, handler: Any) -> web.StreamResponse:
    """Unknown addresses get the site's 404 page, with its headers (standalone server)."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPNotFound:
        view = request.app[VIEW_KEY]
        return view.not_found(request)
    return response


def build_web_app(reader: WebReader, settings: Settings) -> web.Application:
    """The web view as its own aiohttp application (``copbot web``, tests)."""
    app = web.Application(middlewares=[not_found_pages])
    view = WebView(reader, settings)
    app[VIEW_KEY] = view
    view.add_routes(app)
    return app
