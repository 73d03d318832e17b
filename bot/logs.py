"""Logging set-up, with secrets kept out of every line.

Tokens come from the environment; a filter replaces their values, and
anything shaped like a Slack or Discord token, with ``[redacted]`` before a
record is written, whatever library logged it. Database passwords too: the
password of any ``postgresql://user:password@host`` URL or ``password=``
setting in a line, and the password of ``COPBOT_DATABASE_URL`` wherever it
shows (the rest of a URL, its host and database, stays readable).
"""

from __future__ import annotations

import logging
import os
import re
from urllib.parse import unquote, urlsplit

from bot.config import SECRET_ENV_VARS

_TOKEN_SHAPES = re.compile(
    r"(xox[abeposr]-[0-9A-Za-z-]{6,}|xapp-[0-9A-Za-z-]{6,}"
    r"|[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,})"
)


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


def redact(text: str) -> str:
    """``text`` with every known secret value and token-shaped string replaced."""
    text = _URL_PASSWORD.sub(r"\1[redacted]@", text)
    text = _PASSWORD_SETTING.sub(r"\1[redacted]", text)
    secrets = [os.environ.get(name) for names in SECRET_ENV_VARS.values() for name in names]
    for value in [*secrets, _database_password()]:
        if value and len(value) >= 6:
            text = text.replace(value, "[redacted]")
    return _TOKEN_SHAPES.sub("[redacted]", text)


class RedactSecrets(logging.Filter):
    """Rewrites each record's message (with its arguments) without secrets."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call elsewhere must not raise here, nor leak its args
            message = f"{record.msg} {record.args!r}"
        cleaned = redact(message)
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if cleaned != message or record.args:
            record.msg = cleaned
            record.args = None
        return True


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactSecrets())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("COPBOT_LOG_LEVEL", level).upper())
