"""Messages of a kind an importer does not know: skipped, and counted kind by kind.

Slack adds message subtypes over the years (and DiscordChatExporter message
types): an export of a newer workspace carries kinds this copbot has never
seen. Such a message is not a fault in the export, so it is not a problem (a
problem makes the import exit 1): it is skipped, everything else goes in, and
the summary says how many of each kind were left out, e.g.::

    skipped 3: Slack messages of subtype 'huddle_recap' (a kind copbot does not read yet)

The kind comes from the file, so it is shown cleaned (letters, digits and
``_.:-``, at most :data:`MAX_SHOWN` characters), and at most :data:`MAX_KINDS`
kinds are told apart per file read: an export with a new kind in every message
makes one more line for the rest, not a million.
"""

from __future__ import annotations

import re

from bot.import_replay import Skipped

__all__ = ["MAX_KINDS", "MAX_SHOWN", "UnknownKinds"]

#: Distinct unknown kinds named in the summary; the others are counted together.
MAX_KINDS = 20
#: The longest kind shown (a real subtype is a few words in snake_case).
MAX_SHOWN = 40

_NOT_SHOWN = re.compile(r"[^\w.:-]", re.ASCII)


class UnknownKinds:
    """The skip notes of one reader: ``what`` ("Slack messages") by ``field`` ("subtype")."""

    def __init__(self, what: str, field: str) -> None:
        self.what = what
        self.field = field
        self._named: set[str] = set()

    def skipped(self, kind: str) -> Skipped:
        """The note for one message of ``kind``: named while few kinds were seen, else grouped."""
        shown = _NOT_SHOWN.sub("?", kind[:MAX_SHOWN]) + ("…" if len(kind) > MAX_SHOWN else "")
        if shown not in self._named and len(self._named) >= MAX_KINDS:
            return Skipped(
                f"{self.what} of other unknown {self.field}s (past the first {MAX_KINDS} "
                "kinds named here; copbot does not read them yet)"
            )
        self._named.add(shown)
        return Skipped(f"{self.what} of {self.field} '{shown}' (a kind copbot does not read yet)")
