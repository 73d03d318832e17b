"""Logging: secrets never reach a log line, whoever logged them and however."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from adapters.log_setup import TOKEN_SHAPES, setup_logging
from bot.logs import RedactSecrets, redact

BOT_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
APP_TOKEN = "xapp-1-A0123456789-1234567890123-abcdef0123456789"
USER_TOKEN = "xoxp-1234567890-0987654321-1122334455-abcdef"
DISCORD = "MTA1NjQ0NzY3ODkwMTIzNDU2Nw.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
SIGNING = "8f742231b10e8888abcd99yyyzzz85a5"  # not token-shaped: only known from the env


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[logging.Logger, io.StringIO]]:
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING)
    monkeypatch.setenv("DISCORD_TOKEN", DISCORD)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets(TOKEN_SHAPES))
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("copbot-test-redaction")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


SECRETS = [BOT_TOKEN, APP_TOKEN, USER_TOKEN, DISCORD, SIGNING]


@pytest.mark.parametrize("secret", SECRETS)
def test_secrets_in_the_message_or_its_arguments_are_redacted(
    logged: tuple[logging.Logger, io.StringIO], secret: str
) -> None:
    logger, stream = logged
    logger.info("token is %s", secret)
    logger.warning(f"inline {secret} here")
    logger.error("as a dict %(t)s", {"t": secret})
    output = stream.getvalue()
    assert secret not in output
    assert output.count("[redacted]") == 3
    assert "token is [redacted]" in output and "inline [redacted] here" in output


def test_secrets_in_tracebacks_are_redacted(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    try:
        raise RuntimeError(f"auth failed for {BOT_TOKEN} / {SIGNING}")
    except RuntimeError:
        logger.exception("call failed")
    output = stream.getvalue()
    assert "RuntimeError: auth failed for [redacted] / [redacted]" in output
    assert BOT_TOKEN not in output and SIGNING not in output


def test_ordinary_lines_are_untouched(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("captured %d entries in %s", 3, "C0123ABC")
    logger.info("100%% done, %s", "xox-not-a-token")
    assert stream.getvalue().splitlines() == [
        "INFO captured 3 entries in C0123ABC",
        "INFO 100% done, xox-not-a-token",
    ]


def test_a_malformed_log_call_neither_raises_nor_leaks(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    logger.info("100% done with %s", BOT_TOKEN)  # "% d" wants a number: a bug in the caller
    output = stream.getvalue()
    assert BOT_TOKEN not in output
    assert "[redacted]" in output


def test_short_env_values_are_not_redacted_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    # a 3-letter "secret" would blank out every word that contains it
    monkeypatch.setenv("SLACK_BOT_TOKEN", "abc")
    assert redact("abcdef") == "abcdef"


def test_slack_refresh_tokens_are_token_shaped() -> None:
    text = "refresh with xoxe-1-My0xLTEtMjM0NTY3ODkwLTEyMzQ1Njc4OTA"
    assert "xoxe-1-" not in redact(text, TOKEN_SHAPES)
    assert redact(text) == text  # the core alone knows no platform's tokens


def test_setup_logging_installs_the_filter(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COPBOT_LOG_LEVEL", raising=False)
    setup_logging("INFO")
    logging.getLogger("slack_bolt.App").info("connecting with %s", BOT_TOKEN)
    err = capsys.readouterr().err
    assert "connecting with [redacted]" in err
    assert BOT_TOKEN not in err


DATABASE_URL = "postgresql://copbot:s3cr%40t-Pw9@db.internal:5432/copbot?sslmode=require"


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("connecting to " + DATABASE_URL, "postgresql://copbot:[redacted]@db.internal:5432/copbot"),
        ("postgres://u:hunter22@h/db failed", "postgres://u:[redacted]@h/db failed"),
        ("conninfo host=db password='a b\\' c' user=x", "host=db password=[redacted] user=x"),
        ("postgresql://h/db?password=hunter22&sslmode=x", "?password=[redacted]&sslmode=x"),
        ("auth failed for s3cr@t-Pw9", "auth failed for [redacted]"),  # decoded, on its own
    ],
)
def test_database_passwords_are_redacted_and_the_rest_of_the_url_kept(
    logged: tuple[logging.Logger, io.StringIO],
    monkeypatch: pytest.MonkeyPatch,
    line: str,
    kept: str,
) -> None:
    monkeypatch.setenv("COPBOT_DATABASE_URL", DATABASE_URL)
    logger, stream = logged
    logger.warning("%s", line)
    output = stream.getvalue()
    assert kept in output
    for secret in ("s3cr", "hunter22", "a b"):
        assert secret not in output


def test_urls_without_passwords_are_untouched() -> None:
    for line in ("postgresql://copbot@db/copbot", "http://example.com:8080/x?password"):
        assert redact(line) == line


def test_the_database_url_variable_is_the_backends() -> None:
    from bot.config import SECRET_ENV_VARS
    from knowledge.postgres.url import DATABASE_URL_ENV

    assert SECRET_ENV_VARS["storage"] == (DATABASE_URL_ENV,)
