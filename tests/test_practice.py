"""Issue 9: kinds of know-how, profiles, identity links, thanks, session hosts, curation."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import command_registry
from bot.config import ChannelRule, ChannelSettings, PracticeSettings, Settings
from bot.core import Core
from bot.events import (
    Actor,
    CommandInvocation,
    FetchMessage,
    IncomingMessage,
    KnowhowKind,
    MessageDeleted,
    Outbound,
    ReactionChange,
    Reply,
    SaveRequest,
    Visibility,
    Where,
)
from bot.ports import FixedClock, Services
from bot.render_text import render_reply
from knowledge.curation import history
from knowledge.hosts import frequent_topics, hosts_for_topic
from knowledge.identity import identity_group
from knowledge.kinds import knowhow_by_kind
from knowledge.models import ChannelRef, SourceKey
from knowledge.sqlite.repertoire import Repertoire
from knowledge.thanks import thanks_leaderboard
from tests.sqlite_file import sqlite_of

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=1)
WS = "W1"
HELP = Where("slack", WS, "C-HELP", Visibility.PUBLIC, "data-help")
TIPS = Where("slack", WS, "C-TIPS", Visibility.PUBLIC, "tips")
SECRET = Where("slack", WS, "G-PLAT", Visibility.PRIVATE, "platform-team")
DISCORD = Where("discord", "G1", "900", Visibility.PUBLIC, "general")

ALICE = Actor("slack", "UALICE", "Alice", WS)
BOB = Actor("slack", "UBOB", "Bob", WS)
CHEN = Actor("slack", "UCHEN", "Chen", WS)
DIANA = Actor("slack", "UDIANA", "Diana", WS)
CHEN_DISCORD = Actor("discord", "111", "chen_w", "G1")
EVE_DISCORD = Actor("discord", "666", "eve", "G1")

_ids = itertools.count(1)


def make_core(settings: Settings | None = None) -> Core:
    repertoire = Repertoire.open(":memory:")
    return Core(Services(repertoire, settings or Settings(), FixedClock(NOW)), command_registry())


def say(
    core: Core,
    where: Where,
    who: Actor,
    text: str,
    *,
    thread: str | None = None,
    days_ago: float = 1.0,
    tags: tuple[str, ...] = (),
) -> str:
    message_id = f"m{next(_ids)}"
    core.handle(
        IncomingMessage(
            where,
            who,
            message_id,
            text,
            NOW - timedelta(days=days_ago),
            thread_id=thread,
            tags=tags,
            event_id=f"e-{message_id}",
        )
    )
    return message_id


def react(
    core: Core, where: Where, message_id: str, who: Actor, emoji: str, added: bool = True
) -> list[Outbound]:
    return core.handle(
        ReactionChange(where, message_id, who, emoji, added, event_id=f"r{next(_ids)}", at=NOW)
    )


def cop(core: Core, where: Where, who: Actor, text: str, thread: str | None = None) -> list[Reply]:
    out = core.handle(
        CommandInvocation(where, who, text, NOW, thread_id=thread, event_id=f"c{next(_ids)}")
    )
    assert all(isinstance(o, Reply) for o in out)
    return [o for o in out if isinstance(o, Reply)]


def text_of(replies: list[Reply]) -> str:
    return "\n".join(render_reply(r) for r in replies)


def qa(
    core: Core,
    where: Where,
    asker: Actor,
    answerer: Actor,
    question: str,
    tags: tuple[str, ...],
    *,
    accepted: bool = True,
    days_ago: float = 3.0,
) -> tuple[str, str]:
    """A question, one answer, accepted by the asker."""
    q = say(core, where, asker, question, tags=tags, days_ago=days_ago)
    a = say(core, where, answerer, f"answer to: {question}", thread=q, days_ago=days_ago - 0.1)
    if accepted:
        react(core, where, a, asker, "white_check_mark")
    return q, a


def entry_id_of(core: Core, where: Where, message_id: str, kind: str) -> int:
    key = SourceKey(where.platform, where.workspace, where.channel, message_id)
    [entry] = [e for e in core.repertoire.entries_for_message(key) if e.kind == kind]
    return entry.id


# --------------------------------------------------------------------------- kinds


def test_save_reactions_pick_the_kind_of_know_how() -> None:
    core = make_core()
    m_link = say(core, TIPS, BOB, "The DuckDB docs are excellent: https://duckdb.org/docs")
    m_story = say(core, TIPS, CHEN, "The day we wrote 400k tiny parquet files")
    m_pin = say(core, TIPS, CHEN, "Use category dtype for repeated strings")
    # Not captured (no question), so the core asks the adapter for the text, with the kind.
    out = react(core, TIPS, m_link, ALICE, "link")
    assert [type(o) for o in out] == [FetchMessage]
    assert isinstance(out[0], FetchMessage) and out[0].kind == KnowhowKind.RESOURCE
    (story,) = react(core, TIPS, m_story, ALICE, "📖")
    assert isinstance(story, FetchMessage) and story.kind == KnowhowKind.STORY
    (pin,) = react(core, TIPS, m_pin, ALICE, "pushpin")
    assert isinstance(pin, FetchMessage) and pin.kind == KnowhowKind.HOWTO

    # A captured message is saved at once, with the kind of the reaction.
    q = say(core, HELP, ALICE, "Has anyone seen the dbt 1.8 tests rename?", tags=("dbt",))
    out = react(core, HELP, q, BOB, "mega")
    assert len(out) == 1 and isinstance(out[0], Reply) and "as update" in out[0].text
    entry = core.repertoire.get_entry(entry_id_of(core, HELP, q, "knowhow"))
    assert entry is not None and entry.knowhow_kind == "update"


def test_share_kinds_search_filter_and_digest_grouping() -> None:
    core = make_core()
    cop(core, TIPS, CHEN, "share kind:story We tried spark small files, learned to compact #spark")
    cop(core, TIPS, BOB, "share kind:resource Spark tuning guide https://spark.apache.org #spark")
    cop(core, TIPS, BOB, "share Use coalesce before writing in spark #spark")
    out = text_of(cop(core, TIPS, ALICE, "search spark kind:story"))
    assert "1 result" in out and "Know-how (story)" in out
    out = text_of(cop(core, TIPS, ALICE, "search kind:resource"))
    assert "Spark tuning guide" in out and "story" not in out

    grouped = knowhow_by_kind(
        core.repertoire, ChannelRef("slack", WS, "C-HELP"), NOW - timedelta(days=1), LATER
    )
    assert list(grouped) == ["howto", "resource", "story"]
    assert [len(v) for v in grouped.values()] == [1, 1, 1]


def test_update_until_date_marks_it_possibly_outdated() -> None:
    core = make_core()
    cop(core, TIPS, DIANA, "share kind:update until:2026-01-31 dbt 1.8 renames tests #dbt")
    cop(core, TIPS, DIANA, "share kind:update until:2027-03-01 Airflow 2.10 is current #dbt")
    out = text_of(cop(core, TIPS, ALICE, "search tag:dbt"))
    lines = [line for line in out.splitlines() if line.startswith(("1.", "2."))]
    assert any("dbt 1.8" in line and "possibly outdated" in line for line in lines)
    assert any("Airflow 2.10" in line and "possibly outdated" not in line for line in lines)
    # until: is only for updates, and must be a date.
    assert "kind:update" in text_of(cop(core, TIPS, ALICE, "share until:2027-01-01 a tip #x"))
    assert "YYYY-MM-DD" in text_of(cop(core, TIPS, ALICE, "share kind:update until:soon x"))


def test_update_without_date_goes_stale_only_when_configured() -> None:
    settings = Settings(practice=PracticeSettings(update_stale_days=30))
    core = make_core(settings)
    q = say(core, TIPS, DIANA, "pandas 3 makes copy on write the default", days_ago=40)
    core.handle(
        SaveRequest(
            TIPS, DIANA, q, "pandas 3 makes copy on write the default", DIANA,
            NOW - timedelta(days=40), kind=KnowhowKind.UPDATE, tags=("pandas",),
        )
    )  # fmt: skip
    assert "possibly outdated" in text_of(cop(core, TIPS, ALICE, "search copy on write"))
    plain = make_core()
    cop(plain, TIPS, DIANA, "share kind:update pandas 3 makes copy on write the default")
    assert "possibly outdated" not in text_of(cop(plain, TIPS, ALICE, "search copy on write"))


# --------------------------------------------------------------------------- profiles


def test_profile_shows_topics_contributions_and_open_questions() -> None:
    core = make_core()
    qa(core, HELP, ALICE, CHEN, "How do I shrink a pandas DataFrame?", ("pandas", "memory"))
    qa(core, HELP, BOB, CHEN, "Why is pandas slow on strings?", ("pandas",), accepted=False)
    cop(core, TIPS, CHEN, "share Use category for repeated strings #pandas")
    say(core, HELP, CHEN, "How should we version parquet schemas?", tags=("parquet",))
    out = text_of(cop(core, HELP, ALICE, "profile @Chen"))
    assert "Chen" in out
    assert "2 answers (1 accepted)" in out
    assert "1 know-how (1 howto)" in out
    assert "#pandas (1 accepted, 1 other answer, 1 know-how)" in out
    assert "How should we version parquet schemas?" in out and "no answer yet" in out
    assert "Recent contributions" in out and "Use category for repeated strings" in out
    # Without a name: your own profile.
    assert "Chen" in text_of(cop(core, HELP, CHEN, "profile"))
    # Slack mention form.
    assert "2 answers" in text_of(cop(core, HELP, ALICE, "profile <@UCHEN>"))
    assert "don't know a member" in text_of(cop(core, HELP, ALICE, "profile nobody-here"))


def test_profile_shows_only_what_the_channel_may_see() -> None:
    core = make_core()
    qa(core, SECRET, DIANA, CHEN, "Who can restart the scheduler on our cluster?", ("airflow",))
    say(core, SECRET, CHEN, "Why did our Snowflake bill double?", tags=("snowflake",))
    qa(core, HELP, ALICE, CHEN, "How do Airflow retries work?", ("airflow", "retries"))
    public = text_of(cop(core, HELP, ALICE, "profile chen"))
    assert "1 answer (1 accepted)" in public
    assert "scheduler" not in public and "Snowflake" not in public
    private = text_of(cop(core, SECRET, DIANA, "profile chen"))
    assert "2 answers (2 accepted)" in private
    assert "Snowflake" in private and "scheduler" in private


# --------------------------------------------------------------------------- identity


def test_identity_link_needs_both_confirmations() -> None:
    core = make_core()
    qa(core, HELP, ALICE, CHEN, "How do Airflow retries work?", ("airflow",))
    qa(core, DISCORD, EVE_DISCORD, CHEN_DISCORD, "Kafka consumer lag growing?", ("kafka",))

    out = text_of(cop(core, HELP, CHEN, "link discord:111"))
    assert "both sides" in out
    assert "also on" not in text_of(cop(core, HELP, ALICE, "profile chen"))
    # Someone else on Discord cannot complete it: it is not them who was named.
    cop(core, DISCORD, EVE_DISCORD, "link slack:UCHEN")
    assert "also on" not in text_of(cop(core, HELP, ALICE, "profile chen"))
    slack_chen = core.repertoire.find_members("UCHEN")[0]
    assert identity_group(core.repertoire, slack_chen.id) == [slack_chen.id]
    assert "waiting for discord:111" in text_of(cop(core, HELP, CHEN, "link"))
    assert "says it is you" in text_of(cop(core, DISCORD, CHEN_DISCORD, "link"))

    # The named Discord user confirms from Discord: linked.
    assert "Linked" in text_of(cop(core, DISCORD, CHEN_DISCORD, "link slack:UCHEN"))
    profile = text_of(cop(core, HELP, ALICE, "profile chen"))
    assert "also on discord as chen_w" in profile
    # The profile gathers both identities' contributions.
    assert "2 answers" in profile and "#kafka" in profile and "#airflow" in profile
    assert "already linked" in text_of(cop(core, HELP, CHEN, "link discord:111"))
    # Same-platform links are refused; either side may unlink.
    assert "another platform" in text_of(cop(core, HELP, CHEN, "link slack:UBOB"))
    assert "Unlinked" in text_of(cop(core, DISCORD, CHEN_DISCORD, "unlink slack:UCHEN"))
    assert "also on" not in text_of(cop(core, HELP, ALICE, "profile chen"))


# --------------------------------------------------------------------------- thanks


def test_thanks_count_once_per_member_and_entry() -> None:
    core = make_core()
    q, a = qa(core, HELP, ALICE, CHEN, "How do I shrink a pandas DataFrame?", ("pandas",))
    answer_id = entry_id_of(core, HELP, a, "answer")
    react(core, HELP, a, ALICE, "pray")
    react(core, HELP, a, ALICE, "🙏")  # the same reaction again (a replay)
    out = text_of(cop(core, HELP, ALICE, f"thanks @chen for #{answer_id}"))
    assert "already thanked" in out
    assert "Thanked 1 time by Alice" in text_of(cop(core, HELP, BOB, "profile chen"))

    # Another member, and a thank-you without an entry, count.
    replies = cop(core, HELP, BOB, "thanks chen for the pairing session")
    assert not replies[0].ephemeral and "Bob thanks Chen" in replies[0].text
    assert "already" in text_of(cop(core, HELP, BOB, "thanks chen for the pairing session"))
    # In the thread, a thank-you goes to the member's answer there.
    cop(core, HELP, DIANA, "thanks chen", thread=q)
    profile = text_of(cop(core, HELP, BOB, "profile chen"))
    assert "Thanked 3 times by Alice, Bob, Diana" in profile
    helpers = thanks_leaderboard(
        core.repertoire, ChannelRef("slack", WS, "C-HELP"), NOW - timedelta(days=7)
    )
    assert [(h.member.display_name, h.count) for h in helpers] == [("Chen", 3)]
    assert answer_id in helpers[0].entry_ids

    # Removing the reaction withdraws that thank-you, unless it was also said in words.
    react(core, HELP, a, ALICE, "pray", added=False)
    assert "Thanked 3 times" in text_of(cop(core, HELP, BOB, "profile chen"))
    react(core, HELP, a, BOB, "pray")
    assert "Thanked 4 times" in text_of(cop(core, HELP, BOB, "profile chen"))
    react(core, HELP, a, BOB, "pray", added=False)
    assert "Thanked 3 times" in text_of(cop(core, HELP, BOB, "profile chen"))
    assert "isn't counted" in text_of(cop(core, HELP, CHEN, "thanks chen"))


def test_thanks_follow_visibility_and_leaderboard_is_opt_in() -> None:
    core = make_core()
    say(core, HELP, CHEN, "How does this bot work?")  # Chen is a member now
    cop(core, SECRET, DIANA, "thanks chen for the incident help")
    assert "Thanked" not in text_of(cop(core, HELP, ALICE, "profile chen"))
    assert "Thanked 1 time" in text_of(cop(core, SECRET, DIANA, "profile chen"))
    assert "no thanks leaderboard" in text_of(cop(core, HELP, ALICE, "thanks top"))

    rule = ChannelRule(channel="slack:C-HELP", leaderboard=True)
    on = make_core(Settings(channels=ChannelSettings(rules=(rule,))))
    assert "don't know a member" in text_of(cop(on, HELP, ALICE, "thanks bob"))
    cop(on, HELP, ALICE, "thanks <@UBOB>")  # a mention names a member even before they speak
    say(on, HELP, BOB, "What is this channel for?")  # Bob's name arrives with his message
    assert "already thanked Bob" in text_of(cop(on, HELP, ALICE, "thanks bob"))
    out = text_of(cop(on, HELP, ALICE, "thanks top"))
    assert "1. Bob — 1 thank-you" in out
    assert "no thanks leaderboard" in text_of(cop(on, TIPS, ALICE, "thanks top"))


# --------------------------------------------------------------------------- hosts


def test_hosts_use_the_expertise_ranking_and_show_the_need() -> None:
    core = make_core()
    qa(core, HELP, ALICE, DIANA, "How do Airflow retries work?", ("airflow",))
    qa(core, HELP, BOB, DIANA, "Can Airflow sensors be deferrable?", ("airflow",))
    qa(core, HELP, ALICE, CHEN, "Why is the Airflow scheduler slow?", ("airflow",), accepted=False)
    say(core, HELP, BOB, "How do we test Airflow DAGs?", tags=("airflow",))
    qa(core, SECRET, DIANA, BOB, "Who restarts our Airflow cluster?", ("airflow",))

    who = text_of(cop(core, HELP, ALICE, "who airflow"))
    out = text_of(cop(core, HELP, ALICE, "hosts airflow"))
    assert "asked 4 times, 2 still without an accepted answer" in out
    who_order = [line.split(" — ")[0] for line in who.splitlines()[1:]]
    host_lines = [line for line in out.splitlines() if " — " in line and line[0].isdigit()]
    assert [line.split(" — ")[0] for line in host_lines] == who_order[: len(host_lines)]
    assert host_lines[0].startswith("1. Diana")
    assert "How do we test Airflow DAGs?" in out and "(open)" in out
    assert "restarts our Airflow cluster" not in out  # private channel, asked from public

    suggestion = hosts_for_topic(core.repertoire, "airflow", None, now=NOW)
    assert suggestion.questions == 4 and suggestion.hosts[0].member.display_name == "Diana"
    since = NOW - timedelta(days=90)
    assert frequent_topics(core.repertoire, None, since=since, min_questions=3) == [("airflow", 4)]
    assert "#airflow: 4 questions" in text_of(cop(core, HELP, ALICE, "hosts"))
    assert "Nobody has asked" in text_of(cop(core, HELP, ALICE, "hosts cobol"))


# --------------------------------------------------------------------------- curation


def test_curation_history_and_undo_by_any_member() -> None:
    core = make_core()
    q, _a = qa(core, HELP, ALICE, CHEN, "How do I shrink a pandas DataFrame?", ("pandas",))
    qid = entry_id_of(core, HELP, q, "question")
    assert "c1" in text_of(cop(core, HELP, BOB, f"retag #{qid} +memory +dtypes"))
    assert "c2" in text_of(cop(core, HELP, CHEN, f"retitle {qid} Shrinking pandas DataFrames"))
    assert "c3" in text_of(cop(core, HELP, DIANA, f"outdated #{qid}"))
    entry = core.repertoire.get_entry(qid)
    assert entry is not None and entry.tags == ("dtypes", "memory", "pandas")
    assert entry.title == "Shrinking pandas DataFrames"
    # The new title is searchable, and the flag shows in results.
    out = text_of(cop(core, HELP, ALICE, "search shrinking"))
    assert "Shrinking pandas DataFrames" in out and "possibly outdated" in out

    hist = text_of(cop(core, HELP, ALICE, f"history #{qid}"))
    assert "c3" in hist and "Diana: flagged outdated" in hist
    assert "Chen: title" in hist and "Bob: tags +#dtypes +#memory" in hist

    # Anyone undoes anything; the undo is in the history too.
    assert "undid c2" in text_of(cop(core, HELP, ALICE, "undo c2"))
    entry = core.repertoire.get_entry(qid)
    assert entry is not None and entry.title.startswith("How do I shrink")
    assert "already undone" in text_of(cop(core, HELP, BOB, "undo c2"))
    # Undoing the latest change of an entry: the outdated flag.
    assert "undid c3" in text_of(cop(core, HELP, BOB, f"undo #{qid}"))
    assert "possibly outdated" not in text_of(cop(core, HELP, ALICE, "search shrink"))
    # A change overtaken by a later one cannot be undone first.
    cop(core, HELP, DIANA, f"retag #{qid} -dtypes")
    assert "changed since" in text_of(cop(core, HELP, ALICE, "undo c1"))
    changes = history(core.repertoire, qid)
    assert [c.member_name for c in changes][:3] == ["Diana", "Bob", "Alice"]
    assert changes[1].undoes == 3 and changes[2].undoes == 2


def test_curation_respects_visibility_and_refuses_answers() -> None:
    core = make_core()
    q, a = qa(core, SECRET, DIANA, CHEN, "Who restarts our cluster?", ("airflow",))
    qid = entry_id_of(core, SECRET, q, "question")
    assert "no entry" in text_of(cop(core, HELP, ALICE, f"retitle #{qid} leaked"))
    assert "no entry" in text_of(cop(core, HELP, ALICE, f"history #{qid}"))
    aid = entry_id_of(core, SECRET, a, "answer")
    assert "curate the question" in text_of(cop(core, SECRET, DIANA, f"retag #{aid} +x"))
    assert "nothing changed" in text_of(cop(core, SECRET, DIANA, f"retag #{qid} +airflow"))


@pytest.mark.parametrize("emoji", ["pray", "🙏"])
def test_thanks_reaction_on_unknown_message_does_nothing(emoji: str) -> None:
    core = make_core()
    assert react(core, HELP, "never-seen", ALICE, emoji) == []
    outbound: list[Outbound] = react(core, HELP, "never-seen", ALICE, emoji, added=False)
    assert outbound == []


def test_deleting_a_message_takes_its_history_and_thanks_with_it() -> None:
    core = make_core()
    q, a = qa(core, HELP, ALICE, CHEN, "How do I shrink a pandas DataFrame?", ("pandas",))
    qid = entry_id_of(core, HELP, q, "question")
    cop(core, HELP, BOB, f"retag #{qid} +memory")
    cop(core, HELP, BOB, f"undo #{qid}")
    react(core, HELP, a, ALICE, "pray")
    cop(core, HELP, BOB, f"thanks alice for #{qid}")
    core.handle(MessageDeleted(HELP, q, event_id="del-q"))
    core.handle(MessageDeleted(HELP, a, event_id="del-a"))
    db = sqlite_of(core.repertoire).db
    assert db.execute("SELECT count(*) FROM curation_changes").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM thanks").fetchone()[0] == 0
    assert "no entry" in text_of(cop(core, HELP, BOB, f"history #{qid}"))
