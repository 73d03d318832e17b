"""For whom a read is: the one argument every read of member content takes.

:class:`~knowledge.models.Viewer` (a plain value, so :mod:`knowledge.models`
holds it beside the entries it judges) carries the visibility rule; this module
is its home in the storage interface and holds the transition adapter for call
sites that still pass a channel.
"""

from __future__ import annotations

from knowledge.models import Audience, Viewer

__all__ = ["Viewer", "as_viewer"]


def as_viewer(viewer: Audience) -> Viewer:
    """The transition adapter: older call sites pass a ``ChannelRef`` (or ``None`` for public)."""
    if isinstance(viewer, Viewer):
        return viewer
    return Viewer.public() if viewer is None else Viewer.in_channel(viewer)
