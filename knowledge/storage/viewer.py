"""For whom a read is: the one argument every read of member content takes.

The visibility rule: an entry is shown to a viewer when it is public, or when
the viewer *is* the channel it was said in. Unknown means private. An answer is
held to the same rule by itself (a public question's answer from a private
channel stays private), and an entry's visibility is its channel's as of now.
The operator's view (an admin export with ``--include-private``) sees
everything; it has a long name on purpose, so no code path takes it by accident.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.models import ChannelRef, Entry

__all__ = ["Viewer", "as_viewer"]


@dataclass(frozen=True, slots=True)
class Viewer:
    """Where a result will be shown.

    Build one with :meth:`in_channel`, :meth:`public_web` or
    :meth:`operator_including_private`; the fields are for backends.
    """

    #: The channel the result is shown in (its own entries are visible there), or ``None``.
    channel: ChannelRef | None = None
    #: The operator's view: every entry, private ones included.
    includes_private: bool = False

    @classmethod
    def in_channel(cls, channel: ChannelRef) -> Viewer:
        """A result shown in ``channel``: public entries plus that channel's own."""
        return cls(channel=channel)

    @classmethod
    def public_web(cls) -> Viewer:
        """Public entries only (the command line, the public web, a channel copbot never saw)."""
        return cls()

    @classmethod
    def operator_including_private(cls) -> Viewer:
        """Everything, private channels and DMs included: only for an operator's own export."""
        return cls(includes_private=True)

    def sees(self, entry: Entry) -> bool:
        """The visibility rule for one entry (the backends apply the same rule in their queries)."""
        return (
            self.includes_private
            or entry.visibility == "public"
            or (self.channel is not None and entry.channel_ref == self.channel)
        )


def as_viewer(viewer: Viewer | ChannelRef | None) -> Viewer:
    """The transition adapter: older call sites pass a ``ChannelRef`` (or ``None`` for public)."""
    if isinstance(viewer, Viewer):
        return viewer
    return Viewer.public_web() if viewer is None else Viewer.in_channel(viewer)
