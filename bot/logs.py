"""Logging set-up, with secrets kept out of every line.

Tokens come from the environment; a filter replaces their values, and
anything shaped like a Slack or Discord token, with ``[redacted]`` before a
record is written, whatever library logged it.
"""

from __future__ import annotations

import logging
import os
import re

from bot.config import SECRET_ENV_VARS

_TOKEN_SHAPES = re.compile(
    r"(xox[abeposr]-[0-9A-Za-z-]{6,}|xapp-[0-9A-Za-z-]{6,}"
    r"|[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,})"
)


def redact(text: str) -> str:
    """``text`` with every known secret value and token-shaped string replaced."""
    for names in SECRET_ENV_VARS.values():
        for name in names:
            value = os.environ.get(name)
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
