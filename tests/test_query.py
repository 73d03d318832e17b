"""The search grammar: every element, and arbitrary text that must never break search."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.app import command_registry
from bot.config import Settings
from bot.core import Core
from bot.events import CommandInvocation
from bot.ports import FixedClock, Services
from knowledge.query import MAX_TERMS, fts_expression, parse_query
from knowledge.search import search
from knowledge.sqlite.repertoire import Repertoire
from knowledge.text import clean_text
from tests.chat_driver import NOW, Chat, actor, replies, where
from tests.sqlite_file import sqlite_of

# ------------------------------------------------------------------ grammar, element by element


def test_words_are_folded_and_deduplicated() -> None:
    q = parse_query("Café CAFE naïve résumé")
    assert q.terms == ("cafe", "naive", "resume")
    assert q.has_match and not q.is_empty


def test_a_quoted_phrase() -> None:
    q = parse_query('"memory usage" pandas')
    assert q.phrases == (("memory", "usage"),)
    assert q.terms == ("pandas",)
    assert q.all_words == ["pandas", "memory", "usage"]


def test_a_quoted_single_word_is_a_term() -> None:
    assert parse_query('"pandas"').terms == ("pandas",)


def test_an_unterminated_quote_runs_to_the_end() -> None:
    q = parse_query('airflow "retry delay')
    assert q.terms == ("airflow",)
    assert q.phrases == (("retry", "delay"),)


def test_exclusions() -> None:
    q = parse_query('pandas -polars -"spark sql"')
    assert q.terms == ("pandas",)
    assert q.excluded == (("polars",), ("spark", "sql"))


def test_a_lone_dash_is_nothing() -> None:
    assert parse_query("-").is_empty
    assert parse_query("- -- ---").is_empty


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("tag:pandas", ("pandas",)),
        ("tag:#Pandas", ("pandas",)),
        ("TAG:Pandas tag:memory", ("pandas", "memory")),
        ("tag:pandas tag:PANDAS", ("pandas",)),
        ('tag:"data eng"', ("data eng",)),
    ],
)
def test_tag_filters(text: str, tags: tuple[str, ...]) -> None:
    q = parse_query(text)
    assert q.tags == tags
    assert not q.has_match and not q.is_empty


@pytest.mark.parametrize(
    ("text", "author"),
    [
        ("from:alice", "alice"),
        ("from:@Alice", "alice"),
        ("from:<@U01ALICE>", "u01alice"),
        ("from:<@!U01ALICE>", "u01alice"),
        ("from:<@U01ALICE|alice>", "u01alice"),
        ("from:José", "jose"),
    ],
)
def test_from_filters(text: str, author: str) -> None:
    assert parse_query(text).authors == (author,)


@pytest.mark.parametrize("text", ["in:data-help", "in:#data-help", "IN:#Data-Help"])
def test_in_filters(text: str) -> None:
    assert parse_query(text).channels == ("data-help",)


def test_kind_filters() -> None:
    q = parse_query("kind:question kind:Howto kind:question")
    assert q.kinds == ("question", "howto")
    bad = parse_query("kind:poem")
    assert bad.kinds == () and any("poem" in n for n in bad.notes)


def test_is_filters() -> None:
    assert parse_query("is:answered is:accepted").flags == ("answered", "accepted")
    assert parse_query("is:UNANSWERED").flags == ("unanswered",)
    bad = parse_query("is:lovely")
    assert bad.flags == () and any("lovely" in n for n in bad.notes)


def test_absolute_dates() -> None:
    q = parse_query("before:2026-01-31 after:2025-12-01")
    assert q.before == datetime(2026, 1, 31, tzinfo=UTC)
    assert q.after == datetime(2025, 12, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "days"), [("30d", 30), ("4w", 28), ("6m", 180), ("1y", 365), ("0d", 0)]
)
def test_relative_dates(value: str, days: int) -> None:
    assert parse_query(f"after:{value}", now=NOW).after == NOW - timedelta(days=days)
    assert parse_query(f"before:{value}", now=NOW).before == NOW - timedelta(days=days)


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", "2026-02-30", "12345d", "-3d"])
def test_unreadable_dates_become_a_note(value: str) -> None:
    q = parse_query(f"pandas after:{value}", now=NOW)
    assert q.after is None
    assert q.terms == ("pandas",)
    assert any(value in n for n in q.notes)


@pytest.mark.parametrize("value", ["9999y", "9999m", "5000y", "0001-01-01", "9999-12-31"])
def test_far_dates_never_raise(value: str) -> None:
    q = parse_query(f"before:{value} after:{value}", now=NOW)
    # either read as a date or explained in a note, never an exception
    assert (q.after is not None) or q.notes


def test_an_unknown_key_is_searched_as_words() -> None:
    q = parse_query("title:pandas col:x")
    assert q.terms == ("title", "pandas", "col", "x")
    assert q.tags == () and q.channels == ()


def test_an_empty_filter_value_is_ignored() -> None:
    q = parse_query('tag:"" pandas')
    assert q.tags == ()
    assert q.terms == ("pandas",)


def test_a_negated_filter_is_not_applied_as_a_filter() -> None:
    # "-tag:pandas" asks to leave pandas out: it must not keep only pandas
    q = parse_query("-tag:pandas memory")
    assert "pandas" not in q.tags
    assert q.terms == ("memory",)
    assert q.notes


def test_long_queries_are_cut_with_a_note() -> None:
    text = " ".join(f"word{i}" for i in range(MAX_TERMS + 10))
    q = parse_query(text)
    assert len(q.terms) == MAX_TERMS
    assert q.notes
    many_phrases = " ".join(f'"a{i} b{i}"' for i in range(MAX_TERMS + 5))
    assert len(parse_query(many_phrases).phrases) <= MAX_TERMS


def test_fts_expression_quotes_every_term() -> None:
    q = parse_query('how do I cache "query results" -redis')
    assert fts_expression(q, mode="and") == '("cache" AND "query results") NOT "redis"'
    assert fts_expression(q, mode="or") == (
        '("how" OR "do" OR "i" OR "cache" OR "query results") NOT "redis"'
    )


def test_fts_expression_keeps_stopwords_when_nothing_else_is_left() -> None:
    assert fts_expression(parse_query("how do I"), mode="and") == '("how" AND "do" AND "i")'


def test_fts_expression_without_words_is_none() -> None:
    assert fts_expression(parse_query("tag:pandas"), mode="and") is None
    assert fts_expression(parse_query("-pandas"), mode="or") is None


# ------------------------------------------------------------------ arbitrary text, property based

SEED = [
    ("How do I reduce pandas memory usage?", "Use category dtypes and usecols."),
    ("Why is my Airflow task not retrying?", "Set retries in default_args."),
    ("Où est le café près du bureau ?", "Rue de l'Église, à droite."),
    ("Is NEAR(alpha beta) valid in FTS5?", "Only inside MATCH, and we never pass it raw."),
    ("كيف أقرأ ملف CSV كبير؟", "استخدم polars."),
    ("How do I cache 🐍 results with * and : in keys?", "Quote them."),
]

FRAGMENTS = [
    '"',
    '""',
    "'",
    "NEAR(",
    "NEAR(a b, 3)",
    "NEAR/2",
    "AND",
    "OR",
    "NOT",
    "*",
    "a*",
    "^",
    ":",
    "col:x",
    "title:pandas",
    "{title body}:",
    "(",
    ")",
    "[",
    "]",
    "-",
    "--",
    "+",
    "tag:",
    "tag:#",
    "from:<@",
    "from:<@U1|x>",
    "in:#",
    "kind:",
    "is:",
    "before:",
    "after:9999y",
    "after:99999d",
    "before:0000-00-00",
    "\x00",
    "\u200b",
    "\u200f",
    "\u202e",
    "\ufeff",
    "e\u0301",
    "\u0301\u0301",
    "🐍",
    "👩‍💻",
    "ﷺ",
    "¼",
    "ǅ",
    "שלום",
    "مرحبا",
    "\\",
    "%",
    "_",
    "\x02",
    "\x03",
    "\ud800",
]

any_char = st.characters(codec=None)
surrogate = st.characters(categories=["Cs"])
piece = st.one_of(
    st.sampled_from(FRAGMENTS),
    st.text(any_char, max_size=12),
    st.text(st.one_of(any_char, surrogate), max_size=6),
    st.sampled_from(["pandas", "memory", "café", "airflow", "alpha", "beta"]),
)
queries = st.lists(piece, max_size=16).flatmap(
    lambda parts: st.sampled_from([" ".join(parts), "".join(parts)])
)

EXAMPLES = [
    "",
    " ",
    '"NEAR(a b)"',
    "a OR b",
    "col:x",
    "*",
    '"',
    '"""',
    "-",
    "\x00",
    "\u200b\u200b",
    "x" * 10_000,
    "pandas " * 2_000,
    '"' + "a " * 5_000,
    "café\u0301 naïve\u200b résumé",
    "e" + "\u0301" * 50,
    "after:9999y",
    "in:\ud800 from:\udfff tag:\ud800",
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Core]:
    repertoire = Repertoire.open(tmp_path_factory.mktemp("query") / "copbot.db")
    core = Core(Services(repertoire, Settings(), FixedClock(NOW)), command_registry())
    chat = Chat(core, FixedClock(NOW))
    for number, (question, answer) in enumerate(SEED):
        chat.say(question, mid=f"q{number}", tags=("seed",))
        chat.reply(f"q{number}", answer, mid=f"r{number}", user="chen")
    yield core
    repertoire.close()


TestFunction = TypeVar("TestFunction", bound=Callable[..., None])


def with_examples(test: TestFunction) -> TestFunction:
    """``test`` with every hand-picked hostile query as an explicit hypothesis example."""
    for text in EXAMPLES:
        test = example(text)(test)
    return test


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@PROPERTY
@with_examples
@given(text=queries)
def test_parse_query_never_raises_and_fts_accepts_its_expression(seeded: Core, text: str) -> None:
    query = parse_query(text, now=NOW)
    for mode in ("and", "or"):
        expression = fts_expression(query, mode=mode)
        if expression is None:
            continue
        try:
            sqlite_of(seeded.repertoire).db.execute(
                "SELECT count(*) FROM search_fts WHERE search_fts MATCH ?", [expression]
            ).fetchone()
        except sqlite3.Error as exc:  # pragma: no cover - the failure we look for
            pytest.fail(f"FTS5 rejected {expression!r} from {text!r}: {exc}")


@PROPERTY
@with_examples
@given(text=queries)
def test_search_never_raises(seeded: Core, text: str) -> None:
    query = parse_query(text, now=NOW)
    hits = search(seeded.repertoire, query, None)
    assert len(hits) <= 5


@PROPERTY
@with_examples
@given(text=queries)
def test_cop_search_always_replies(seeded: Core, text: str) -> None:
    out = replies(seeded.handle(_invocation(f"search {text}")))
    assert len(out) == 1
    reply = out[0]
    assert "went wrong" not in reply.text
    if text.strip():
        # results, or a friendly word (text of only control characters is no query at all)
        assert (
            reply.items or "Nothing found" in reply.text or "What should I look for" in (reply.text)
        )
    else:
        assert "What should I look for" in reply.text
    # the same words without "search" are a search too, unless they start with a command
    # (as the core reads them: cleaned, so a lone surrogate becomes "?", the help alias)
    first = clean_text(text).strip().partition(" ")[0].lower()
    if first and first not in command_registry() and first not in {"-h", "--help", "?"}:
        bare = replies(seeded.handle(_invocation(text)))
        assert len(bare) == 1 and "went wrong" not in bare[0].text
        assert [i.entry_id for i in bare[0].items] == [i.entry_id for i in reply.items]


def _invocation(text: str) -> CommandInvocation:
    return CommandInvocation(where("C1"), actor("alice"), text, NOW)


# ------------------------------------------------------------------ user text is data


def _found(core: Core, text: str) -> set[str]:
    return {h.entry.source.message_id for h in search(core.repertoire, parse_query(text), None)}


@pytest.fixture
def operators(chat: Chat) -> Core:
    chat.say("How do I configure alpha widgets?", mid="a")
    chat.say("How do I configure beta widgets?", mid="b")
    chat.say("Is alpha near beta or not, in the widget title?", mid="ab")
    return chat.core


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("alpha OR beta", "alpha or beta"),
        ("alpha AND beta", "alpha and beta"),
        ("alpha NOT beta", "alpha not beta"),
        ('"NEAR(alpha beta)"', '"near alpha beta"'),
        ("NEAR(alpha beta, 1)", "near alpha beta 1"),
        ("title:alpha", "title alpha"),
        ("{title}:alpha", "title alpha"),
        ("alpha + beta", "alpha beta"),
        ("^alpha", "alpha"),
    ],
)
def test_fts5_syntax_in_a_search_is_only_words(operators: Core, typed: str, plain: str) -> None:
    assert _found(operators, typed) == _found(operators, plain)


def test_or_is_not_an_operator(operators: Core) -> None:
    # as an operator it would find both single-word questions; as words, only the one with both
    assert _found(operators, "alpha OR beta") == {"ab"}


def test_not_is_not_an_operator(operators: Core) -> None:
    assert _found(operators, "alpha NOT beta") == {"ab"}


def test_a_star_is_not_a_prefix_query(operators: Core) -> None:
    assert _found(operators, "alph*") == set()
    assert _found(operators, "*") == set()


def test_a_column_filter_is_not_applied(operators: Core) -> None:
    # 'title:' would restrict to the title column; as a word 'title' must be present
    assert _found(operators, "title:widget") == {"ab"}
