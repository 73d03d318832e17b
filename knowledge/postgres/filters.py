"""SQL conditions on entries (alias ``e``): the visibility rule and the search grammar's filters.

The twin of ``_filters`` in ``knowledge/search.py`` and of
``visibility_clause`` in ``knowledge/relational/visibility.py``, written against PostgreSQL's
types, with every value a named parameter (:class:`Params`).
"""

from __future__ import annotations

from knowledge.models import Audience, ChannelRef, Viewer
from knowledge.postgres.params import Params
from knowledge.query import ParsedQuery
from knowledge.relevance import KNOWHOW_KINDS
from knowledge.storage.viewer import as_viewer


def visibility(viewer: Audience, params: Params) -> str:
    """Public entries, plus those from the viewer's own channel; ``None`` sees public only.

    Only ``'public'`` is public: any other or unknown value is private. The
    public web sees public entries of its published channels, by members who
    did not opt out (nothing until a channel is published).
    """
    viewer = as_viewer(viewer)
    if viewer.includes_private:
        return "true"
    if viewer.published is not None:
        return _public_web(viewer, viewer.published, params)
    ref = viewer.channel
    if ref is None:
        return "e.visibility = 'public'"
    return (
        f"(e.visibility = 'public' OR (e.platform = {params.add(ref.platform)} "
        f"AND e.workspace = {params.add(ref.workspace)} "
        f"AND e.channel = {params.add(ref.channel)}))"
    )


def _public_web(web: Viewer, published: frozenset[ChannelRef], params: Params) -> str:
    if not published:
        return "false"
    channels = sorted(published, key=lambda c: (c.platform, c.workspace, c.channel))
    rows = (
        f"SELECT * FROM unnest({params.add([c.platform for c in channels])}::text[], "
        f"{params.add([c.workspace for c in channels])}::text[], "
        f"{params.add([c.channel for c in channels])}::text[])"
    )
    sql = f"(e.visibility = 'public' AND (e.platform, e.workspace, e.channel) IN ({rows})"
    if web.hidden_authors:
        sql += f" AND NOT (e.author_id = ANY({params.add(sorted(web.hidden_authors))}))"
    return sql + ")"


# A member's names as ``from:`` may give them, folded as knowledge.text.fold does:
# user id, handle, display name (spaces squeezed, or removed) and its first word.
_AUTHOR = """e.author_id IN (
    SELECT m.id FROM members m
    CROSS JOIN LATERAL (SELECT regexp_replace(btrim(copbot_fold(m.display_name)), '\\s+', ' ', 'g')
        AS name) n
    WHERE EXISTS (
        SELECT 1 FROM unnest(ARRAY[copbot_fold(m.user_id), copbot_fold(m.handle), n.name,
            replace(n.name, ' ', ''), split_part(n.name, ' ', 1)]) AS form
        WHERE form <> '' AND form = ANY({authors})))"""


def query_filters(query: ParsedQuery, params: Params) -> list[str]:
    """Conditions for ``tag:``, ``from:``, ``in:``, ``kind:``, ``is:``, ``before:``, ``after:``."""
    where: list[str] = []
    for tag in query.tags:
        where.append(f"e.id IN (SELECT entry_id FROM entry_tags WHERE tag = {params.add(tag)})")
    if query.authors:
        where.append(_AUTHOR.format(authors=params.add(list(query.authors))))
    if query.channels:
        names = params.add(list(query.channels))
        where.append(f"(lower(e.channel_name) = ANY({names}) OR lower(e.channel) = ANY({names}))")
    if query.kinds:
        base = [k for k in query.kinds if k in {"question", "knowhow", "answer"}]
        sub = [k for k in query.kinds if k in KNOWHOW_KINDS]
        either: list[str] = []
        if base:
            either.append(f"e.kind = ANY({params.add(base)})")
        if sub:
            either.append(
                "(e.kind = 'knowhow' AND (CASE WHEN e.knowhow_kind = '' THEN 'howto' "
                f"ELSE e.knowhow_kind END) = ANY({params.add(sub)}))"
            )
        where.append("(" + " OR ".join(either) + ")")
    for flag in query.flags:
        if flag == "answered":
            where.append("(e.kind <> 'question' OR e.answer_count > 0)")
        elif flag == "unanswered":
            where.append("(e.kind = 'question' AND e.answer_count = 0)")
        elif flag == "accepted":
            where.append("(e.kind = 'question' AND e.has_accepted)")
    if query.before is not None:
        where.append(f"e.created_at < {params.add(query.before)}")
    if query.after is not None:
        where.append(f"e.created_at >= {params.add(query.after)}")
    return where
