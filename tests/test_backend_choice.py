"""Which backend a command opens: ``--db``, ``COPBOT_DATABASE_URL``, ``[storage] url``, the file.

These need no server: a URL that names an unreachable one must fail in one
clear line, and a password must never be echoed. The commands on a real
PostgreSQL are in ``test_postgres_commands.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from adapters.cli import cli
from bot.app import database_for
from bot.config import CONFIG_ENV_VAR, ConfigError, Settings, load_settings
from knowledge.backends import DatabaseTarget, choose_database, open_storage, parse_target
from knowledge.postgres.url import DATABASE_URL_ENV, DatabaseUrlError, InsecureDatabaseUrl
from knowledge.sqlite.repertoire import Repertoire
from knowledge.storage import StorageUnavailable

SERVER = "postgresql://copbot@db.example/copbot"
SECRET = "hunter22"
#: A server nobody listens at: a unix socket folder that does not exist (fails at once).
NOWHERE = "postgresql://copbot@/copbot?host=/nonexistent/copbot-socket"


def test_the_option_wins_then_the_environment_then_the_config_url_then_the_file() -> None:
    env = {DATABASE_URL_ENV: f"postgresql://copbot:{SECRET}@env.example/copbot"}
    assert choose_database("mine.db", config_url=SERVER, environ=env) == DatabaseTarget("mine.db")
    assert choose_database(SERVER, environ=env) == DatabaseTarget(SERVER, postgres=True)
    from_env = choose_database(None, config_url=SERVER, config_file="file.db", environ=env)
    assert from_env.postgres and from_env.location == env[DATABASE_URL_ENV]
    assert choose_database(None, config_url=SERVER, config_file="file.db", environ={}) == (
        DatabaseTarget(SERVER, postgres=True)
    )
    assert choose_database(None, config_file="file.db", environ={}) == DatabaseTarget("file.db")


def test_settings_choose_as_the_command_line_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    settings = Settings.model_validate({"database": "x.db", "storage": {"url": SERVER}})
    assert database_for(settings) == DatabaseTarget(SERVER, postgres=True)
    assert database_for(settings, "other.db") == DatabaseTarget("other.db")
    assert database_for(Settings(database="x.db")) == DatabaseTarget("x.db")


def test_a_target_shows_no_password_and_keeps_files_beside_a_sqlite_file(tmp_path: Path) -> None:
    secret = DatabaseTarget(f"postgresql://copbot:{SECRET}@db.example/copbot", postgres=True)
    assert SECRET not in secret.shown and SECRET not in str(secret)
    assert SECRET not in repr(secret) and SECRET not in f"{[secret]}"  # tracebacks, %r
    assert secret.sqlite_path is None
    local = DatabaseTarget(str(tmp_path / "c.db"))
    assert local.sqlite_path == tmp_path / "c.db" and local.local_dir == tmp_path


def test_files_of_a_server_community_go_to_the_users_cache_not_the_shared_temp_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Digest charts name private channels: never in a folder every user of the machine reads."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    server = DatabaseTarget("postgresql://copbot@db.example/copbot", postgres=True)
    assert server.local_dir == tmp_path / "cache" / "copbot"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert server.local_dir == Path.home() / ".cache" / "copbot"


def test_a_password_on_the_command_line_is_refused_without_repeating_it() -> None:
    with pytest.raises(InsecureDatabaseUrl) as raised:
        parse_target(f"postgresql://copbot:{SECRET}@db.example/copbot")
    assert SECRET not in str(raised.value) and DATABASE_URL_ENV in str(raised.value)


@pytest.mark.parametrize("url", ["mysql://db.example/copbot", "sqlite://copbot.db"])
def test_another_scheme_names_neither_backend(url: str) -> None:
    with pytest.raises(DatabaseUrlError, match="neither a SQLite file nor a PostgreSQL"):
        parse_target(url)


@pytest.mark.parametrize("text", ["postgresql:/copbot@/copbot?host=/tmp", "postgres:/db.example/x"])
def test_a_url_that_lost_a_slash_is_refused_not_made_a_file(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Path("postgresql://h/db")`` folds ``//`` into ``/``: that is no file name to create."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatabaseUrlError, match="neither a SQLite file"):
        parse_target(text)
    with pytest.raises(DatabaseUrlError, match="two slashes"):
        open_storage(Path(text.replace(":/", "://", 1)))
    assert list(tmp_path.iterdir()) == []


def test_a_key_value_connection_string_is_refused_not_made_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DatabaseUrlError, match="postgresql://"):
        open_storage("user=postgres dbname=copbot host=/tmp/socket")
    assert list(tmp_path.iterdir()) == []


def test_open_storage_opens_a_sqlite_file_by_its_name(tmp_path: Path) -> None:
    repertoire = open_storage(tmp_path / "new.db")
    try:
        assert type(repertoire) is Repertoire
    finally:
        repertoire.close()
    assert (tmp_path / "new.db").is_file()


def test_an_unreachable_server_is_one_clear_error_naming_it() -> None:
    with pytest.raises(StorageUnavailable, match="cannot connect to postgresql://copbot@"):
        open_storage(parse_target(NOWHERE))


def test_a_password_in_the_config_file_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "copbot.toml"
    config.write_text(f'[storage]\nurl = "postgresql://copbot:{SECRET}@db/copbot"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(config)
    message = str(raised.value)
    assert "storage.url" in message and DATABASE_URL_ENV in message and SECRET not in message
    config.write_text('[storage]\nurl = "copbot.db"\n')
    with pytest.raises(ConfigError, match=r"storage\.url: use a postgresql://"):
        load_settings(config)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv(CONFIG_ENV_VAR, raising=False)
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.mark.parametrize(
    ("db", "says"),
    [
        (NOWHERE, "cannot connect to postgresql://copbot@/copbot"),
        ("mysql://db.example/copbot", "names neither a SQLite file nor a PostgreSQL server"),
        (f"postgresql://copbot:{SECRET}@db.example/copbot", DATABASE_URL_ENV),
    ],
)
@pytest.mark.parametrize("command", [["stats"], ["search", "x"], ["export"], ["forget", "ana"]])
def test_a_db_that_names_no_usable_backend_is_one_line_and_exit_2(
    run: CliRunner, command: list[str], db: str, says: str
) -> None:
    result = run.invoke(cli, [*command, "--db", db])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("copbot: ") and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert SECRET not in result.output and "Traceback" not in result.output


def test_the_environment_url_is_used_and_its_password_never_shown(
    run: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, NOWHERE.replace("copbot@", f"copbot:{SECRET}@"))
    result = run.invoke(cli, ["stats"])
    assert result.exit_code == 2
    assert "cannot connect to postgresql://copbot:***@" in result.stderr
    assert SECRET not in result.output


def test_the_web_view_on_a_server_it_cannot_reach_says_so_in_one_line(
    run: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, NOWHERE.replace("copbot@", f"copbot:{SECRET}@"))
    result = run.invoke(cli, ["web", "--port", "0"])
    assert result.exit_code == 2
    assert result.stderr.startswith("copbot: cannot connect to postgresql://copbot:***@")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert SECRET not in result.output
