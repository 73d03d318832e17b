"""Named query parameters, so SQL can be built from fixed pieces with every value kept apart.

Builders (the tsquery compiler, the search filters) add each value through
:meth:`Params.add` and write only the placeholder it returns into the SQL
text; the values travel separately to the server. No value, and no user text,
is ever formatted into a statement.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Params"]


class Params:
    """Values of one statement, each under a generated name (``%(p0)s``, ``%(p1)s``, ...)."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def add(self, value: Any) -> str:
        """Keep ``value``; the placeholder to write in its place."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"%({name})s"
