"""A community for the web view's contract tests, and everything the web shows of it.

``build`` writes it through the storage interface on either backend: a
published public channel, a public channel nobody published, a private channel
and a DM (both listed in the config, to show listing is not enough), a member
who opted out of the web, and a message deleted in chat. Each place it must not
reach the web holds a secret word. ``everything_shown`` reads every published
listing and page the web view serves, so a test can look for those words in
all of it at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from knowledge.models import Entry, EntryKind, Viewer
from knowledge.published import (
    knowhow_page,
    page_entry,
    public_web,
    published_channels,
    question_thread,
)
from knowledge.published_archive import channel_span, period_digest
from knowledge.published_lists import (
    new_knowhow,
    open_questions,
    published_tags,
    recent_answered,
    recent_topics,
    topic_page,
)
from knowledge.published_members import member_page
from knowledge.published_sitemap import sitemap_count, sitemap_entries
from knowledge.sqlite.repertoire import Repertoire
from knowledge.web_consent import set_web_optout
from tests.contract.support import DM, OTHER_PUBLIC, PRIVATE, PUBLIC, T0, Community

__all__ = ["NOW", "SPECS", "Built", "build", "every_entry", "everything_shown", "web_of"]

#: ``[web] channels`` as specs: the public channel, and the private channel and DM
#: listed too (a listed channel is published only while it is public).
SPECS = [
    (PUBLIC.platform, PUBLIC.workspace, PUBLIC.channel, ""),
    (PRIVATE.platform, PRIVATE.workspace, "", "team"),
    (DM.platform, DM.workspace, DM.channel, ""),
]

#: After every entry of :func:`build`.
NOW = T0 + timedelta(days=1)


@dataclass
class Built:
    """What :func:`build` said, by name, and the words that must never reach the web."""

    members: dict[str, int] = field(default_factory=dict)
    said: dict[str, Entry] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)


def build(community: Community) -> Built:
    """The community (see the module's docstring), written as capture would."""
    built = Built()
    members = built.members
    for name in ("ana", "ben", "cy", "erin"):
        members[name] = community.member(f"U-{name}", name.title())
    said = built.said
    said["q1"] = community.ask(PUBLIC, "How do I read a huge CSV with pandas?", members["ana"],
                               tags=("pandas",))  # fmt: skip
    said["q1a"] = community.answer(said["q1"], "Use chunksize and stream it.", members["ben"])
    said["q1b"] = community.answer(said["q1"], "Polars scan_csv streams too.", members["cy"],
                                   minutes=2)  # fmt: skip
    community.rep.set_accepted(said["q1a"].id, True)
    said["q2"] = community.ask(PUBLIC, "Why does airflow retry twice?", members["ben"],
                               minutes=10, tags=("airflow",))  # fmt: skip
    said["k1"] = community.say(
        EntryKind.KNOWHOW, PUBLIC, "Peek at a Kafka topic with kcat", members["cy"],
        minutes=20, tags=("kafka",),
    )  # fmt: skip
    # A public channel nobody published.
    said["u1"] = community.ask(OTHER_PUBLIC, "Where is the zebracorn runbook?", members["ben"],
                               minutes=30, tags=("pandas",))  # fmt: skip
    community.answer(said["u1"], "The zebracorn runbook is in the wiki.", members["ana"],
                     minutes=31)  # fmt: skip
    # A private channel and a DM, both listed in the config.
    said["p1"] = community.ask(PRIVATE, "Who restarts the quokka scheduler?", members["ana"],
                               minutes=32, tags=("kafka",))  # fmt: skip
    community.answer(said["p1"], "Only the quokka on-call.", members["cy"], minutes=33)
    said["d1"] = community.say(
        EntryKind.KNOWHOW, DM, "The wombat token is in the vault", members["ana"],
        minutes=34, tags=("secrets",),
    )  # fmt: skip
    # erin speaks in the published channel, then opts out of the web.
    said["e1"] = community.ask(PUBLIC, "Why does the yeti consumer lag?", members["erin"],
                               minutes=40, tags=("yeti",))  # fmt: skip
    said["e2"] = community.answer(said["q1"], "Try the yeti trick.", members["erin"], minutes=41)
    set_web_optout(community.rep, members["erin"], True, NOW)
    # A question deleted in chat, and an answer deleted from a kept question.
    said["x1"] = community.ask(PUBLIC, "Is the narwhal cluster down?", members["ben"],
                               minutes=50, tags=("narwhal",))  # fmt: skip
    said["x2"] = community.answer(said["q2"], "Ask the narwhal team.", members["ana"], minutes=51)
    community.rep.delete_message(said["x1"].source)
    community.rep.delete_message(said["x2"].source)
    built.secrets += ["zebracorn", "quokka", "wombat", "yeti", "narwhal", "secrets"]
    return built


def web_of(repertoire: Repertoire) -> Viewer:
    """The public web as a viewer of ``repertoire`` now (the config's channels: :data:`SPECS`)."""
    return public_web(repertoire, SPECS)


def everything_shown(repertoire: Repertoire, web: Viewer, member_ids: list[int]) -> str:
    """Every list and page the web view serves, as one text (``repr`` of what they return)."""
    parts: list[object] = [
        published_channels(repertoire, web),
        recent_answered(repertoire, web, 50),
        open_questions(repertoire, web, 50),
        new_knowhow(repertoire, web, 50),
        recent_topics(repertoire, web, 50),
        published_tags(repertoire, web),
        sitemap_count(repertoire, web),
        sitemap_entries(repertoire, web, 0),
    ]
    entries = every_entry(repertoire)
    for tag in sorted({tag for entry in entries for tag in entry.tags}):
        parts.append(topic_page(repertoire, web, tag, 0, 50))
    for entry_id in [entry.id for entry in entries]:
        parts += [
            page_entry(repertoire, web, entry_id),
            question_thread(repertoire, web, entry_id),
            knowhow_page(repertoire, web, entry_id, NOW),
        ]
    for member_id in member_ids:
        parts.append(member_page(repertoire, web, member_id))
    for channel in (PUBLIC, OTHER_PUBLIC, PRIVATE, DM):
        parts.append(channel_span(repertoire, web, channel))
        parts.append(period_digest(repertoire, web, channel, T0 - timedelta(days=1), NOW))
    return repr(parts)


def every_entry(repertoire: Repertoire) -> list[Entry]:
    """Every entry, private ones included (what the web must choose from)."""
    return repertoire.entries(Viewer.operator_including_private(), order="id", limit=100_000)
