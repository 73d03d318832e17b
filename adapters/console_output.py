"""What the terminal chat shows, and its platform operations for the delivery step.

Text is printed with rich: the match marks of results and the titles of posts
are bold, message ids and "only you" notes dim, when the terminal shows colour,
and plain words (no markup characters) when it does not, e.g. when piped.

:class:`ConsoleOps` is the terminal's side of :mod:`adapters.delivery`: a
private reply is printed as "only you can see this"; a public one is written to
the transcript (what a chat server would keep) and printed with its id; a
message is read back from the transcript.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.text import Text

from adapters.delivery import FetchedMessage, Sent
from bot.events import Actor, Post, Reply, Where
from bot.render_text import render_post, render_reply

if TYPE_CHECKING:
    from adapters.console_transcript import Transcript

#: Private-use delimiters the renderers put around styled words; never shown.
_BOLD = ("\ue000", "\ue001")
_DIM = ("\ue002", "\ue003")
_STYLES = {_BOLD[0]: ("bold", _BOLD[1]), _DIM[0]: ("dim", _DIM[1])}

BOT_ID = "copbot"


def bold(text: str) -> str:
    return f"{_BOLD[0]}{text}{_BOLD[1]}"


def dim(text: str) -> str:
    return f"{_DIM[0]}{text}{_DIM[1]}"


def styled(text: str) -> Text:
    """Rich text from a string with :func:`bold` and :func:`dim` spans."""
    out = Text()
    rest = text
    while True:
        starts = [(rest.find(mark), mark) for mark in _STYLES if mark in rest]
        if not starts:
            out.append(rest)
            return out
        at, mark = min(starts)
        style, end_mark = _STYLES[mark]
        out.append(rest[:at])
        inner, _, rest = rest[at + 1 :].partition(end_mark)
        out.append(inner.replace(_BOLD[1], "").replace(_DIM[1], ""), style=style)


class Printer:
    """Prints lines with rich: styled on a colour terminal, plain words otherwise."""

    def __init__(self, out: TextIO, *, color: bool) -> None:
        self.console = Console(
            file=out,
            force_terminal=color,
            color_system="standard" if color else None,
            no_color=not color,
            highlight=False,
            markup=False,
            emoji=False,
            soft_wrap=True,
        )
        self.out = out

    def print(self, text: str, indent: bool = False) -> None:
        if indent:
            text = "\n".join("    " + line for line in text.splitlines())
        self.console.print(styled(text))
        self.out.flush()


def tag(message_id: str) -> str:
    return dim(f"[{message_id}]")


def permalink(message_id: str) -> str:
    """The console's link back to a conversation: the control that shows it."""
    return f"/thread {message_id}"


class ConsoleOps:
    """The terminal's operations for :class:`adapters.delivery.Delivery` (no context)."""

    def __init__(
        self,
        transcript: Transcript,
        printer: Printer,
        member: Callable[[str], Actor],
    ) -> None:
        self.transcript = transcript
        self.printer = printer
        self.member = member

    async def send_private(self, reply: Reply, context: None) -> None:
        text = render_reply(reply, bold=bold, dim=dim)
        self.printer.print(
            dim("(only you can see this)") + " copbot: " + text, indent=bool(reply.thread_id)
        )

    async def send_public(self, reply: Reply, context: None) -> Sent:
        said = self.transcript.write(reply.where.channel, BOT_ID, reply.text, reply.thread_id)
        message_id = said.message_id
        text = render_reply(reply, bold=bold, dim=dim)
        self.printer.print(f"{tag(message_id)} copbot: {text}", indent=bool(reply.thread_id))
        return Sent(message_id, permalink(message_id))

    async def send_post(self, post: Post) -> str | None:
        place = f"#{post.where.channel_name or post.where.channel}"
        if post.thread_id:  # a follow-up goes into the question's thread
            place = f"the thread of [{post.thread_id}] in {place}"
        self.printer.print(f"\ncopbot posted in {place}:\n" + render_post(post, bold=bold))
        return None

    async def fetch_message(self, where: Where, message_id: str) -> FetchedMessage | None:
        message = self.transcript.get(message_id)
        if message is None:
            return None
        return FetchedMessage(
            text=message.text,
            author=self.member(message.author),
            created_at=message.created_at,
            permalink=permalink(message.message_id),
            thread_id=message.thread_id,
        )
