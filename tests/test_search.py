"""Search: ranking sanity and every filter, through the repertoire and through ``/cop search``."""

from __future__ import annotations

from typing import TypedDict

import pytest

import knowledge.sqlite.keyword_search as search_module
from bot.events import MARK_END, MARK_START, KnowhowKind
from knowledge.query import parse_query
from knowledge.search import SearchOptions, search
from tests.chat_driver import Chat, replies, where

DAY = 24 * 60.0  # minutes


def ids(chat: Chat, text: str, limit: int = 20) -> list[str]:
    """Message ids of the public hits for ``text``, best first."""
    hits = search(
        chat.repertoire, parse_query(text, now=chat.at()), None, SearchOptions(limit=limit)
    )
    return [h.entry.source.message_id for h in hits]


# ------------------------------------------------------------------ ranking


def test_a_title_match_outranks_a_body_only_match(chat: Chat) -> None:
    chat.say("Why are my nightly uploads so slow and flaky? We moved them to zorblax.", mid="body")
    chat.say("How do I tune zorblax for nightly uploads?", mid="title")
    assert ids(chat, "zorblax") == ["title", "body"]


def test_an_answered_question_outranks_an_equally_relevant_open_one(chat: Chat) -> None:
    text = "How do I tune zorblax for nightly uploads?"
    chat.say(text, mid="open", channel="C1")
    chat.say(text, mid="answered", channel="C2")
    chat.say(text, mid="accepted", channel="C3", user="bob")
    chat.reply("answered", "Raise the pool size and batch the writes.", mid="r1", channel="C2")
    chat.reply("accepted", "Raise the pool size and batch the writes.", mid="r2", channel="C3")
    chat.react("r2", "bob", channel="C3")
    assert ids(chat, "zorblax") == ["accepted", "answered", "open"]


def test_stemming_finds_other_forms(chat: Chat) -> None:
    chat.say("Why is the query result cached for so long?", mid="q1")
    assert ids(chat, "caching") == ["q1"]
    assert ids(chat, "caches") == ["q1"]


@pytest.mark.parametrize(("stored", "typed"), [("café", "cafe"), ("cafe", "café"), ("Ça", "ca")])
def test_accents_are_folded(chat: Chat, stored: str, typed: str) -> None:
    chat.say(f"Where is the nearest {stored} with good wifi?", mid="q1")
    assert ids(chat, typed) == ["q1"]


def test_every_word_is_needed_before_any_word_is_enough(chat: Chat) -> None:
    chat.say("How do I configure zorblax?", mid="z")
    chat.say("How do I configure quuxify?", mid="q")
    chat.say("Does zorblax work with quuxify?", mid="zq")
    assert ids(chat, "zorblax quuxify") == ["zq"]  # AND finds one: no fallback
    chat.delete("zq")
    assert set(ids(chat, "zorblax quuxify")) == {"z", "q"}  # AND finds none: OR


def test_the_any_word_fallback_keeps_the_rarest_words_within_its_posting_budget(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(8):
        chat.say(f"Is wibble number {i} ever going to ship?", mid=f"common{i}")
    chat.say("Who maintains the grommet registry?", mid="rare1")
    chat.say("Why do grommet builds fail on arm64?", mid="rare2")
    # No document holds both words: any word is enough.
    assert set(ids(chat, "wibble grommet")) == {f"common{i}" for i in range(8)} | {
        "rare1",
        "rare2",
    }
    # Over the budget (here 2 + 8 postings > 5), the common word is left out: the
    # rare word's documents only, not the common word's eight.
    monkeypatch.setattr(search_module, "FALLBACK_POSTINGS", 5)
    assert set(ids(chat, "wibble grommet")) == {"rare1", "rare2"}
    assert set(ids(chat, "grommet wibble")) == {"rare1", "rare2"}  # order does not matter
    # The rarest word stays even when it alone is over the budget.
    monkeypatch.setattr(search_module, "FALLBACK_POSTINGS", 1)
    assert set(ids(chat, "wibble grommet")) == {"rare1", "rare2"}
    # A word no document holds is no reason to drop the others.
    monkeypatch.setattr(search_module, "FALLBACK_POSTINGS", 10)
    assert len(ids(chat, "wibble grommet zzyzxq")) == 10


def test_stop_words_do_not_have_to_match(chat: Chat) -> None:
    chat.say("Zorblax keeps timing out on large uploads?", mid="q1")
    assert ids(chat, "how do I fix zorblax") == ["q1"]


def test_words_in_answers_find_the_question(chat: Chat) -> None:
    chat.say("How do I make uploads faster?", mid="q1")
    chat.reply("q1", "Switch to zorblax multipart.", mid="r1", user="chen")
    assert ids(chat, "zorblax") == ["q1"]


def test_a_phrase_needs_its_words_in_order(chat: Chat) -> None:
    chat.say("How do I read memory usage of a frame?", mid="in_order")
    chat.say("Why is usage of memory so high here?", mid="other_order")
    assert ids(chat, '"memory usage"') == ["in_order"]
    assert set(ids(chat, "memory usage")) == {"in_order", "other_order"}


def test_excluded_words(chat: Chat) -> None:
    chat.say("How do I cache results in redis?", mid="redis")
    chat.say("How do I cache results in memory?", mid="memory")
    assert ids(chat, "cache -redis") == ["memory"]


def test_matched_words_are_marked_in_the_snippet(chat: Chat) -> None:
    chat.say("Tip: the zorblax flag halves memory use on big uploads.", mid="m1")
    chat.save("m1", "Tip: the zorblax flag halves memory use on big uploads.")
    hits = search(chat.repertoire, parse_query("zorblax"), None)
    assert f"{MARK_START}zorblax{MARK_END}" in hits[0].snippet


def test_the_limit_is_respected(chat: Chat) -> None:
    for n in range(8):
        chat.say(f"How do I tune zorblax setting number {n}?", mid=f"q{n}")
    assert len(ids(chat, "zorblax", limit=3)) == 3
    out = replies(chat.cop("search zorblax"))
    assert len(out[0].items) == chat.core.services.settings.search.results


# ------------------------------------------------------------------ filters


class Speaker(TypedDict):
    """A member as ``Chat.say`` takes them: their id and display name."""

    user: str
    name: str


@pytest.fixture
def library(chat: Chat) -> Chat:
    """A small repertoire: questions, answers and know-how by three members in two channels."""
    c = chat
    c.places["C1"] = where("C1", name="help")
    c.places["C2"] = where("C2", name="tips")
    alice: Speaker = {"user": "U01ALICE", "name": "Alice Moreau"}
    jose: Speaker = {"user": "U05JOSE", "name": "José García"}
    c.say("How do I shrink pandas memory? #pandas", mid="q_old", minutes=-40 * DAY, **alice)
    c.reply("q_old", "Use pandas categories.", mid="r_old", user="chen", minutes=-40 * DAY + 5)
    c.react("r_old", "U01ALICE")
    c.say(
        "How do I read pandas files in chunks? #pandas #io", mid="q_new", minutes=-2 * DAY, **jose
    )
    c.reply("q_new", "Pass chunksize to read_csv.", mid="r_new", user="chen", minutes=-DAY)
    c.say("Why is pandas groupby slow? #pandas", mid="q_open", minutes=-DAY, **jose)
    c.cop("share kind:resource The pandas user guide on memory #pandas", user="chen",
          channel="C2", event_id="k-res")  # fmt: skip
    c.cop("share Use pandas eval for fast column math #pandas", user="chen", channel="C2",
          event_id="k-howto")  # fmt: skip
    return c


def test_tag_filter(library: Chat) -> None:
    assert ids(library, "tag:io") == ["q_new"]
    assert set(ids(library, "tag:pandas")) == {
        "q_old",
        "q_new",
        "q_open",
        "share-k-res",
        "share-k-howto",
    }
    assert ids(library, "tag:io tag:pandas") == ["q_new"]  # every tag must match
    assert ids(library, "tag:nothere") == []


def test_tag_filter_with_words(library: Chat) -> None:
    assert ids(library, "chunks tag:pandas") == ["q_new"]
    assert ids(library, "chunks tag:io") == ["q_new"]
    assert ids(library, "groupby tag:io") == []


@pytest.mark.parametrize(
    "who",
    ["U05JOSE", "u05jose", "José", "jose", "from:@jose", "José García", "josegarcia", "<@U05JOSE>"],
)
def test_from_filter_by_id_name_or_first_name(library: Chat, who: str) -> None:
    value = who if who.startswith("from:") else f'from:"{who}"' if " " in who else f"from:{who}"
    assert set(ids(library, value)) == {"q_new", "q_open"}


def test_from_filter_by_first_name(library: Chat) -> None:
    assert set(ids(library, "pandas from:alice")) == {"q_old"}
    assert set(ids(library, "from:Alice")) == {"q_old"}


def test_from_filter_by_someone_unknown(library: Chat) -> None:
    assert ids(library, "pandas from:nobody") == []


def test_in_filter_by_name_or_id(library: Chat) -> None:
    assert set(ids(library, "in:tips")) == {"share-k-res", "share-k-howto"}
    assert set(ids(library, "pandas in:#tips")) == {"share-k-res", "share-k-howto"}
    assert set(ids(library, "pandas in:C2")) == {"share-k-res", "share-k-howto"}
    assert "share-k-res" not in ids(library, "pandas in:help")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("question", {"q_old", "q_new", "q_open"}),
        ("knowhow", {"share-k-res", "share-k-howto"}),
        ("resource", {"share-k-res"}),
        ("howto", {"share-k-howto"}),
        ("story", set()),
    ],
)
def test_kind_filter(library: Chat, kind: str, expected: set[str]) -> None:
    assert set(ids(library, f"pandas kind:{kind}")) == expected
    assert set(ids(library, f"kind:{kind}")) == expected


def test_kind_answer_searches_answers(library: Chat) -> None:
    assert ids(library, "chunksize kind:answer") == ["r_new"]
    assert set(ids(library, "kind:answer")) == {"r_old", "r_new"}


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("answered", {"q_old", "q_new", "share-k-res", "share-k-howto"}),
        ("unanswered", {"q_open"}),
        ("accepted", {"q_old"}),
    ],
)
def test_is_filter(library: Chat, flag: str, expected: set[str]) -> None:
    assert set(ids(library, f"pandas is:{flag}")) == expected


def test_date_filters(library: Chat) -> None:
    old_enough = library.at(-10 * DAY).date().isoformat()
    assert set(ids(library, f"pandas before:{old_enough}")) == {"q_old"}
    assert "q_old" not in ids(library, f"pandas after:{old_enough}")
    assert set(ids(library, "pandas after:7d")) == {
        "q_new",
        "q_open",
        "share-k-res",
        "share-k-howto",
    }
    assert set(ids(library, "pandas before:7d")) == {"q_old"}
    assert ids(library, "pandas before:0999-01-01") == []
    assert len(ids(library, "pandas after:9999y")) == 5


def test_filters_combine(library: Chat) -> None:
    assert ids(library, "pandas from:jose is:unanswered tag:pandas after:30d in:help") == ["q_open"]


# ------------------------------------------------------------------ through /cop


def test_cop_search_replies_with_items_and_links(chat: Chat) -> None:
    chat.say("How do I tune zorblax?", mid="q1", permalink="https://chat/q1")
    chat.reply("q1", "Raise the zorblax pool size.", mid="r1", user="chen",
               permalink="https://chat/r1")  # fmt: skip
    chat.react("r1", "alice")
    out = replies(chat.cop("search zorblax"))
    assert len(out) == 1 and out[0].ephemeral
    item = out[0].items[0]
    assert item.permalink == "https://chat/q1"
    assert item.answered and item.answer_author == "Chen"
    assert item.answer_permalink == "https://chat/r1"
    assert MARK_START in item.answer_snippet


def test_a_bare_cop_query_is_a_search(chat: Chat) -> None:
    chat.say("How do I tune zorblax?", mid="q1")
    assert [i.title for i in replies(chat.cop("zorblax"))[0].items] == [
        i.title for i in replies(chat.cop("search zorblax"))[0].items
    ]
    # an unknown first word is part of the query, not an error
    assert replies(chat.cop("tune zorblax"))[0].items


def test_nothing_found_is_friendly_and_carries_notes(chat: Chat) -> None:
    out = replies(chat.cop("search zorblax kind:poem"))
    assert "Nothing found" in out[0].text
    assert "poem" in out[0].text


def test_search_without_words_asks_what_to_look_for(chat: Chat) -> None:
    out = replies(chat.cop("search"))
    assert "Usage" in out[0].text and not out[0].items


def test_knowhow_kinds_show_in_results(chat: Chat) -> None:
    chat.save("k1", "Story: the zorblax outage of 2025", kind=KnowhowKind.STORY)
    item = replies(chat.cop("search zorblax"))[0].items[0]
    assert item.kind == "knowhow" and item.knowhow_kind == "story"
