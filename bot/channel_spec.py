"""How the config and the command line name a channel: ``platform:ID`` and its variants.

One parser for every place a channel is written (``[[channels.rules]]``,
``[[digests]]``, ``copbot digest --channel``, ``copbot search --channel``):

* ``slack:C0123ABCD``: a channel by its id;
* ``slack:#data-help``: by its name (case-insensitive, as members see it);
* ``slack:T0123:C0123ABCD`` (or ``slack:T0123:#data-help``): within one workspace,
  when a community spans several.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.events import Where

EXAMPLE = "'slack:C0123ABC', 'slack:#data-help' or 'discord:123456789012345678'"


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """A channel named in the config: by id or by ``#name``, maybe within one workspace."""

    platform: str
    channel: str = ""
    name: str = ""
    workspace: str = ""

    @classmethod
    def parse(cls, text: str) -> ChannelSpec:
        """Read ``platform:ID``, ``platform:#name`` or ``platform:workspace:ID``.

        Raises :class:`ValueError` with a message that shows the forms allowed.
        """
        parts = [part.strip() for part in text.strip().split(":")]
        name = parts[-1][1:].strip() if parts[-1].startswith("#") else ""
        if len(parts) not in (2, 3) or not all(parts) or parts[-1] == "#" * len(parts[-1]):
            raise ValueError(
                f"'{text}' is not a channel: write 'platform:ID' or 'platform:#name', "
                f"e.g. {EXAMPLE}"
            )
        platform = parts[0].lower()
        workspace = parts[1] if len(parts) == 3 else ""
        target = parts[-1]
        if name:
            return cls(platform, name=name, workspace=workspace)
        return cls(platform, channel=target, workspace=workspace)

    @property
    def by_name(self) -> bool:
        return bool(self.name)

    def matches(self, where: Where) -> bool:
        """Whether this spec names the channel ``where``."""
        if self.platform != where.platform:
            return False
        if self.workspace and self.workspace != where.workspace:
            return False
        if self.by_name:
            return self.name.casefold() == where.channel_name.casefold()
        return self.channel == where.channel

    def __str__(self) -> str:
        target = f"#{self.name}" if self.by_name else self.channel
        if self.workspace:
            return f"{self.platform}:{self.workspace}:{target}"
        return f"{self.platform}:{target}"
