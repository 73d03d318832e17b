"""What search engines read: QAPage structured data, sitemaps and robots.txt.

Question pages carry schema.org ``QAPage`` JSON-LD (the accepted answer as
``acceptedAnswer``, the others as ``suggestedAnswer``), as Google's Q&A rich
results ask. Sitemaps follow the sitemaps.org protocol: an index, then files of
10,000 URLs (50,000 is the protocol's limit), with ``lastmod`` the last change to
what the page shows.
Member pages are left out of sitemaps and marked ``noindex``: people are found
by what they gave, not looked up by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from adapters.web.links import Links
from adapters.web.render import plain_summary
from bot.results import entry_title
from knowledge.models import Entry
from knowledge.published import QuestionThread
from knowledge.published_sitemap import SitemapEntry


def _person(entry: Entry, origin: str, links: Links) -> dict[str, Any]:
    return {
        "@type": "Person",
        "name": entry.author_name,
        "url": origin + links.member(entry.author_id, entry.author_name),
    }


def _answer(answer: Entry, question: Entry, origin: str, links: Links) -> dict[str, Any]:
    return {
        "@type": "Answer",
        "text": answer.text,
        "dateCreated": answer.created_at.isoformat(),
        "url": origin + links.answer(answer, question),
        "author": _person(answer, origin, links),
    }


def qa_page(thread: QuestionThread, origin: str, links: Links) -> dict[str, Any]:
    """The ``QAPage`` JSON-LD of a question page (serialised by the template's ``tojson``)."""
    question = thread.question
    main: dict[str, Any] = {
        "@type": "Question",
        "name": entry_title(question),
        "text": question.text,
        "answerCount": len(thread.answers),
        "dateCreated": question.created_at.isoformat(),
        "dateModified": thread.last_modified.isoformat(),
        "author": _person(question, origin, links),
        "url": origin + links.entry(question),
    }
    if question.tags:
        main["keywords"] = ", ".join(question.tags)
    accepted = thread.accepted
    if accepted is not None:
        main["acceptedAnswer"] = _answer(accepted, question, origin, links)
    others = [a for a in thread.answers if a is not accepted]
    if others:
        main["suggestedAnswer"] = [_answer(a, question, origin, links) for a in others]
    return {"@context": "https://schema.org", "@type": "QAPage", "mainEntity": main}


def description(entry: Entry) -> str:
    return plain_summary(entry.text, 200)


# ----------------------------------------------------------------------------- sitemaps


def _url(loc: str, lastmod: datetime | None = None) -> str:
    mod = f"<lastmod>{lastmod.isoformat(timespec='seconds')}</lastmod>" if lastmod else ""
    return f"<url><loc>{xml_escape(loc)}</loc>{mod}</url>"


def sitemap_index(origin: str, links: Links, parts: int) -> str:
    items = "".join(
        f"<sitemap><loc>{xml_escape(origin + links.sitemap(n))}</loc></sitemap>"
        for n in range(parts + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>\n'
    )


def urlset(urls: Iterable[str]) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(urls)
        + "</urlset>\n"
    )


def pages_sitemap(origin: str, links: Links, topics: list[str]) -> str:
    """Part 0: the home page, the digest index and every topic."""
    urls = [_url(origin + links.home()), _url(origin + links.digests())]
    urls += [_url(origin + links.topic(tag)) for tag in topics]
    return urlset(urls)


def entries_sitemap(origin: str, links: Links, entries: list[SitemapEntry]) -> str:
    return urlset(_url(origin + links.entry(e.entry), e.last_modified) for e in entries)


def robots(origin: str, links: Links) -> str:
    """Crawl everything but search results (endless and thin); point to the sitemap."""
    return f"User-agent: *\nDisallow: {links.search()}\nSitemap: {origin}{links.sitemap()}\n"
