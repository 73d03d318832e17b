"""The ``/cop`` command list, owned by the core and handed to it explicitly.

Every feature module exposes its sub-commands as a tuple of :class:`CommandSpec`
(``BUILTIN_COMMANDS``, ``PRACTICE_COMMANDS``...); :func:`bot.app.command_registry`
puts them in one :class:`CommandRegistry`, which ``Core`` receives. Nothing
registers itself on import, so the list a core answers, the list ``/cop help``
prints and the list a platform registers (Discord's slash commands are
generated from it) are the same object.

A command's :class:`Param` list says what it takes in a structured form, for
platforms whose commands have typed options; :meth:`CommandSpec.text_for` turns
those options back into the one text grammar every platform shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from bot.capture import Capture, channel_ref
from bot.events import CommandInvocation, Outbound, Reply, ResultItem
from bot.ports import Services
from knowledge.models import ChannelRef
from knowledge.text import clean_text

SEARCH_GRAMMAR = (
    'Search grammar: words, "a phrase", -exclude, tag:pandas, from:alice, in:data-help, '
    "kind:question|knowhow|howto|resource|story|update, is:answered|unanswered|accepted, "
    "before:2026-01-31, after:30d"
)

#: What ``/cop help``, ``/cop -h`` ... mean: the help text, whatever follows.
HELP_WORDS = frozenset({"help", "-h", "--help", "?"})


@dataclass(frozen=True)
class CommandContext:
    services: Services
    capture: Capture
    invocation: CommandInvocation
    args: str
    registry: CommandRegistry

    @property
    def viewer(self) -> ChannelRef:
        return channel_ref(self.invocation.where)

    def reply(
        self,
        text: str,
        *,
        items: tuple[ResultItem, ...] = (),
        ephemeral: bool = True,
        actions: tuple[str, ...] = (),
        anchor_entry_id: int | None = None,
    ) -> Reply:
        """An answer to the member, shown only to them unless said otherwise."""
        return Reply(
            where=self.invocation.where,
            text=text,
            items=items,
            ephemeral=ephemeral,
            actions=actions,
            anchor_entry_id=anchor_entry_id,
            thread_id=self.invocation.thread_id,
            recipient=self.invocation.actor,
        )


Handler = Callable[[CommandContext], list[Outbound]]


@dataclass(frozen=True)
class Param:
    """One value a command takes, for platforms with typed command options.

    ``prefix`` is how the value is written in the text grammar (``kind:`` in
    ``share kind:story ...``); ``choices`` limits a text value to a few words.
    """

    name: str
    description: str
    kind: Literal["text", "integer"] = "text"
    required: bool = True
    choices: tuple[str, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    prefix: str = ""


@dataclass(frozen=True)
class CommandSpec:
    """A ``/cop`` sub-command: its name, how to type it, what it does, and its handler."""

    name: str
    usage: str
    summary: str
    handler: Handler
    params: tuple[Param, ...] = ()

    def text_for(self, values: Mapping[str, object]) -> str:
        """The grammar text that typed options stand for (``share kind:story <text>``)."""
        parts = [self.name]
        for param in self.params:
            value = values.get(param.name)
            if value is None or not str(value).strip():
                continue
            parts.append(f"{param.prefix}{str(value).strip()}")
        return " ".join(parts)


class CommandRegistry:
    """The sub-commands of ``/cop``, in the order ``/cop help`` lists them."""

    def __init__(self, specs: Iterable[CommandSpec]) -> None:
        self._specs: dict[str, CommandSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ValueError(f"two /cop commands are named '{spec.name}'")
            self._specs[spec.name] = spec
        if "search" not in self._specs:
            raise ValueError("the registry needs a 'search' command: /cop <words> is a search")

    def __iter__(self) -> Iterator[CommandSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def get(self, name: str) -> CommandSpec | None:
        return self._specs.get(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._specs)

    def help_text(self, prefix: str = "/cop") -> str:
        lines = ["copbot keeps our community's answers and know-how. Commands:"]
        for spec in self:
            lines.append(f"• `{prefix} {spec.usage}` — {spec.summary}")
        lines.append(f"• `{prefix} <words>` — same as search")
        lines.append(SEARCH_GRAMMAR)
        return "\n".join(lines)

    def dispatch(self, ctx_factory: Callable[[str], CommandContext], text: str) -> list[Outbound]:
        """Pick the sub-command for ``text`` and run it; unknown first words search."""
        text = clean_text(text)  # strips, and drops what cannot be stored or shown
        first, _, rest = text.partition(" ")
        name = first.lower()
        if not text or name in HELP_WORDS:
            return [ctx_factory(rest).reply(self.help_text())]
        spec = self._specs.get(name)
        if spec is None:
            spec = self._specs["search"]
            rest = text
        return spec.handler(ctx_factory(rest.strip()))
