"""Logging set-up, with secrets kept out of every line.

Tokens come from the environment; a filter replaces their values, and
anything shaped like a platform's token (the shapes each adapter knows, given
to :func:`setup_logging`), with ``[redacted]`` before a record is written,
whatever library logged it. Database passwords too: the
password of any ``postgresql://user:password@host`` URL or ``password=``
setting in a line, and the password of ``COPBOT_DATABASE_URL`` wherever it
shows (the rest of a URL, its host and database, stays readable).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from bot.config import SECRET_ENV_VARS

#: What a token looks like on a platform (the adapters know theirs).
TokenShapes = Sequence[re.Pattern[str]]


# The password of a URL's user part: scheme://user:PASSWORD@ (no "/" in it, so a
# host:port/path is never taken for one).
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s/:@]*:)[^\s/@]+@", re.IGNORECASE)
# password=... in a libpq conninfo string or a URL's query: quoted or up to a space or "&".
_PASSWORD_SETTING = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)", re.IGNORECASE)


def _database_password() -> str:
    """The password inside ``COPBOT_DATABASE_URL`` ('' when none), as a server would see it."""
    url = os.environ.get("COPBOT_DATABASE_URL", "")
    try:
        return unquote(urlsplit(url).password or "")
    except ValueError:
        return ""


def redact(text: str, token_shapes: TokenShapes = ()) -> str:
    """``text`` with every known secret value and token-shaped string replaced."""
    text = _URL_PASSWORD.sub(r"\1[redacted]@", text)
    text = _PASSWORD_SETTING.sub(r"\1[redacted]", text)
    secrets = [os.environ.get(name) for names in SECRET_ENV_VARS.values() for name in names]
    for value in [*secrets, _database_password()]:
        if value and len(value) >= 6:
            text = text.replace(value, "[redacted]")
    for shape in token_shapes:
        text = shape.sub("[redacted]", text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites each record's message (with its arguments) without secrets."""

    def __init__(self, token_shapes: TokenShapes = ()) -> None:
        super().__init__()
        self.token_shapes = tuple(token_shapes)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call elsewhere must not raise here, nor leak its args
            message = f"{record.msg} {record.args!r}"
        cleaned = redact(message, self.token_shapes)
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.token_shapes)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


def setup_logging(level: str = "INFO", token_shapes: TokenShapes = ()) -> None:
    """The root logger at ``level`` (``COPBOT_LOG_LEVEL`` wins), every record redacted."""
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets(token_shapes))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("COPBOT_LOG_LEVEL", level).upper())
