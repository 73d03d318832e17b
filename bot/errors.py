"""Errors the core turns into friendly replies.

Exception hierarchy::

    UserError            the member asked for something we can explain (shown to them)
    └── UsageError       a command's words were off (shown with that command's help)
"""

from __future__ import annotations


class UserError(Exception):
    """Something the member can fix; its message is shown to them as is."""


class UsageError(UserError):
    """A command was used the wrong way; ``command`` names it for the help text."""

    def __init__(self, message: str, command: str = "") -> None:
        super().__init__(message)
        self.command = command
