"""The ``copbot`` command line over a real repertoire file (click's CliRunner)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from adapters.cli import cli
from bot.config import CONFIG_ENV_VAR
from knowledge.sqlite.repertoire import Repertoire
from knowledge.stats import repertoire_stats
from tests.chat_driver import Chat, MakeChat

DB = "cli.db"


@pytest.fixture
def filled(make_chat: MakeChat, tmp_path: Path) -> Chat:
    chat = make_chat(name=DB)
    chat.say("How do I tune zorblax retries?", mid="q-pub", channel="C1", permalink="https://x/1")
    chat.reply("q-pub", "Set zorblax retries to 3.", mid="r-pub", channel="C1", user="chen")
    chat.react("r-pub", "alice", channel="C1")
    chat.say("Why does zorblax leak memory?", mid="q-open", channel="C2")
    chat.say("How do we tune zorblax on the private cluster?", mid="q-priv", channel="G1")
    chat.save("d-1", "zorblax note to self", channel="D1")
    return chat


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, filled: Chat) -> Callable[..., Result]:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, [*args, "--db", str(tmp_path / DB)])

    return invoke


def test_search_json_is_parseable_and_public_only(run: Callable[..., Result]) -> None:
    result = run("search", "zorblax", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["query"] == "zorblax" and data["notes"] == []
    titles = [r["title"] for r in data["results"]]
    assert titles[0] == "How do I tune zorblax retries?"  # answered and accepted: first
    assert set(titles) == {"How do I tune zorblax retries?", "Why does zorblax leak memory?"}
    first = data["results"][0]
    assert first["answered"] and first["answer_author"] == "Chen"
    assert first["permalink"] == "https://x/1"
    assert "[zorblax]" in first["answer_snippet"]
    assert "\x02" not in result.stdout and "\x03" not in result.stdout


def test_search_as_seen_from_a_private_channel(run: Callable[..., Result]) -> None:
    data = json.loads(run("search", "zorblax", "--json", "--channel", "test:W1:G1").stdout)
    titles = {r["title"] for r in data["results"]}
    assert "How do we tune zorblax on the private cluster?" in titles
    assert not any("note to self" in t for t in titles)


def test_search_text_output(run: Callable[..., Result]) -> None:
    result = run("search", "zorblax retries")
    assert result.exit_code == 0
    assert result.stdout.startswith("1 result(s):")
    assert "How do I tune zorblax retries?" in result.stdout
    assert "private cluster" not in result.stdout


def test_search_with_nothing_found(run: Callable[..., Result]) -> None:
    result = run("search", "quuxify")
    assert result.exit_code == 0
    assert "Nothing found" in result.stdout
    assert json.loads(run("search", "quuxify", "--json").stdout)["results"] == []


def test_search_limit_and_notes(run: Callable[..., Result]) -> None:
    data = json.loads(run("search", "zorblax kind:poem", "--json", "--limit", "1").stdout)
    assert len(data["results"]) == 1
    assert any("poem" in n for n in data["notes"])


def test_search_with_a_bad_channel_is_a_usage_error(run: Callable[..., Result]) -> None:
    result = run("search", "zorblax", "--channel", "G1")
    assert result.exit_code == 2
    assert "platform:workspace:channel" in result.stderr


def test_stats_json_matches_the_public_counts(run: Callable[..., Result], filled: Chat) -> None:
    result = run("stats", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == repertoire_stats(filled.repertoire, None).as_dict()
    assert json.loads(result.stdout)["questions"] == 2  # the private one is not counted


def test_stats_text(run: Callable[..., Result]) -> None:
    lines = run("stats").stdout.splitlines()
    assert any(line.split() == ["questions:", "2"] for line in lines)


def test_run_with_nothing_enabled_exits_2_and_closes_the_file(
    run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Repertoire] = []
    closed: list[Repertoire] = []
    real_open, real_close = Repertoire.open, Repertoire.close

    def track_open(cls: type[Repertoire], path: str | Path) -> Repertoire:
        repertoire = real_open(path)
        opened.append(repertoire)
        return repertoire

    def track_close(self: Repertoire) -> None:
        closed.append(self)
        real_close(self)

    monkeypatch.setattr(Repertoire, "open", classmethod(track_open))
    monkeypatch.setattr(Repertoire, "close", track_close)
    result = run("run")
    assert result.exit_code == 2
    assert "no platform is enabled" in result.stderr
    assert opened and all(r in closed for r in opened)


def test_version_and_help() -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["--version"]).exit_code == 0
    help_text = runner.invoke(cli, ["--help"]).stdout
    for command in ("demo", "chat", "search", "stats", "run"):
        assert command in help_text
