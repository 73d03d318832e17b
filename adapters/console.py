"""The terminal chat: a local stand-in for Slack or Discord that needs no account.

You are a member in a channel. Plain lines are chat messages; ``/cop ...``
are copbot commands; other ``/`` controls reply in threads, react, edit,
delete, save, and switch channel or member (``/help`` lists them). When
standard input is not a terminal, lines are read from it, so a session can be
scripted. The console keeps its own transcript (what a chat server would
keep) in the same SQLite file, so threads and saves work across runs.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import TextIO

from adapters.catchup import CatchUp, CatchUpReport
from adapters.console_history import ConsoleHistory, record_reaction
from adapters.console_output import ConsoleOps, Printer, permalink, tag
from adapters.console_places import PLATFORM, WORKSPACE, ConsolePlaces
from adapters.console_transcript import ChatMessage, Transcript
from adapters.delivery import Delivery
from bot.events import (
    AcceptMark,
    Actor,
    CommandInvocation,
    InboundEvent,
    IncomingMessage,
    KnowhowKind,
    MessageDeleted,
    MessageEdited,
    Outbound,
    Post,
    ReactionChange,
    SaveRequest,
    ShareRequest,
    Visibility,
    Where,
)
from bot.runtime import AsyncCore
from bot.sample import SampleCommunity, sample_events

CONTROLS = """Controls (everything else you type is a chat message in the current channel):
  /cop <command>          copbot: /cop help, /cop search <words>, /cop ask, /cop who, ...
  /reply <id> <text>      reply in the thread of message <id>
  /react <id> <emoji>     add a reaction (✅ or white_check_mark marks an answer accepted, 📌 saves)
                          (🔗 📖 📣 save as resource, story, update; 🙏 thanks the author)
  /unreact <id> <emoji>   remove your reaction
  /edit <id> <text>       edit your message        /delete <id>   delete a message
  /save <id> [kind] [#tags]  save a message as know-how (kind: howto, resource, story, update)
  /accept <id>            this answer solved it (as the ✅ reaction)
  /share <entry>          show a search result (its #number) to everybody here
  /history [n]            the last n messages here  /thread <id>   a whole thread
  /channel <name> [private]  switch channel (made if new)   /channels   list them
  /dm                     a private conversation with copbot
  /as <name>              speak as another member (made if new)   /members   list them
  /help                   this help                 /quit          leave"""


class ConsoleChat:
    """A line-based chat session driving the core."""

    def __init__(
        self,
        core: AsyncCore,
        transcript: Transcript,
        out: TextIO,
        *,
        color: bool = False,
        command_prefix: str = "/cop",
    ) -> None:
        self.core = core
        self.transcript = transcript
        self.printer = Printer(out, color=color)
        self.places = ConsolePlaces(transcript)
        self.ops = ConsoleOps(transcript, self.printer, self.places.author)
        self.delivery: Delivery[None] = Delivery(core, self.ops)
        #: The transcript read back after downtime (its ``page_size`` may be set).
        self.history = ConsoleHistory(transcript, self._where_of, self.places.author)
        self.catchup = CatchUp(core, self.history, self._handle)
        self.prefix = command_prefix
        self.members = self.places.members
        self.channels = self.places.channels
        # Until a member or channel is chosen (or seeded), speak as "you" in #general;
        # neither is remembered before it is used.
        self.me: Actor = next(
            iter(self.members.values()), Actor(PLATFORM, "U-you", "you", WORKSPACE)
        )
        self.here: Where = next(
            iter(self.channels.values()),
            Where(PLATFORM, WORKSPACE, "C-general", Visibility.PUBLIC, "general"),
        )
        self._event_seq = 0

    def _where_of(self, channel: str) -> Where:
        return self.places.where_of(channel, self.here)

    # ------------------------------------------------------------------ seeding

    async def seed(self, sample: SampleCommunity, now: datetime) -> int:
        """Load the sample community through the core; returns how many events were new."""
        for actor in sample.members.values():
            self.places.add_member(actor)
        for channel in sample.channels.values():
            self.places.add_channel(sample.where(channel.id))
        self.me = next(iter(sample.members.values()))
        self.here = sample.where(next(iter(sample.channels)))
        count = 0
        for event in sample_events(sample, now):
            if isinstance(event, IncomingMessage | SaveRequest):
                # Said in the chat (shared know-how too): it goes in the transcript.
                event = replace(event, permalink=permalink(event.message_id))
                thread_id = event.thread_id if isinstance(event, IncomingMessage) else None
                self.transcript.add(
                    ChatMessage(
                        event.message_id,
                        event.where.channel,
                        event.author.user_id,
                        event.text,
                        event.created_at,
                        thread_id,
                    )
                )
            await self.core.handle(event)
            count += 1
        return count

    # ------------------------------------------------------------------ the loop

    @property
    def prompt(self) -> str:
        visibility = " 🔒" if self.here.visibility != Visibility.PUBLIC else ""
        return f"[{self.me.display_name} in #{self.here.channel_name}{visibility}] > "

    async def run(self, lines: AsyncIterator[str]) -> None:
        async for line in lines:
            if not await self.handle_line(line):
                break

    async def handle_line(self, line: str) -> bool:
        """Act on one typed line; ``False`` when the member quits."""
        # Undecodable bytes from a pipe arrive as lone surrogates, which cannot be stored.
        line = line.rstrip("\r\n").encode("utf-8", "replace").decode("utf-8")
        if not line.strip():
            return True
        if line.startswith(self.prefix + " ") or line.strip() == self.prefix:
            await self._command(line[len(self.prefix) :].strip())
            return True
        if line.startswith("/"):
            return await self._control(line)
        await self._say(line, thread_id=None)
        return True

    def _event_id(self) -> str:
        self._event_seq += 1
        return f"console-{datetime.now(UTC).timestamp():.6f}-{self._event_seq}"

    async def _say(self, text: str, thread_id: str | None) -> None:
        said = self.transcript.write(self.here.channel, self.me.user_id, text, thread_id)
        self._print(
            f"{tag(said.message_id)} {self.me.display_name}: {text}", indent=bool(thread_id)
        )
        await self._deliver(
            await self.core.handle(
                IncomingMessage(
                    self.here,
                    self.me,
                    said.message_id,
                    text,
                    said.created_at,
                    thread_id=thread_id,
                    permalink=permalink(said.message_id),
                    event_id=self._event_id(),
                )
            )
        )

    async def _command(self, text: str) -> None:
        await self._deliver(
            await self.core.handle(
                CommandInvocation(
                    self.here, self.me, text, datetime.now(UTC), event_id=self._event_id()
                )
            )
        )

    async def _control(self, line: str) -> bool:
        name, _, rest = line[1:].partition(" ")
        name = name.lower()
        rest = rest.strip()
        if name in {"quit", "exit", "q"}:
            return False
        if name == "help":
            self._print(CONTROLS)
        elif name == "reply":
            await self._reply(rest)
        elif name in {"react", "unreact"}:
            await self._react(rest, added=name == "react")
        elif name == "edit":
            await self._edit(rest)
        elif name == "delete":
            await self._delete(rest)
        elif name == "save":
            await self._save(rest)
        elif name == "accept":
            await self._accept(rest)
        elif name == "share":
            await self._share(rest)
        elif name == "history":
            self._history(int(rest) if rest.isdigit() else 10)
        elif name == "thread":
            self._thread(rest)
        elif name == "channel" and rest:
            words = rest.split()
            self.here = self.places.channel(words[0], private="private" in words[1:])
            self._print(f"Now in #{self.here.channel_name} ({self.here.visibility.value}).")
        elif name == "channels":
            for where in self.channels.values():
                self._print(f"  #{where.channel_name} ({where.visibility.value})")
        elif name == "dm":
            self.here = self.places.dm_with(self.me)
            self._print(
                "Now in a private conversation with copbot (never captured unless you save)."
            )
        elif name == "as" and rest:
            self.me = self.places.member(rest)
            self._print(f"You are now {self.me.display_name}.")
        elif name == "members":
            for actor in self.members.values():
                self._print(f"  {actor.display_name} ({actor.user_id})")
        else:
            self._print(f"Unknown control '/{name}'.\n{CONTROLS}")
        return True

    def _known(self, message_id: str) -> ChatMessage | None:
        message = self.transcript.get(message_id.lstrip("#[").rstrip("]"))
        if message is None:
            self._print(f"No message with id '{message_id}'. Try /history to see ids.")
        return message

    async def _reply(self, rest: str) -> None:
        target, _, text = rest.partition(" ")
        message = self._known(target)
        if message is None or not text.strip():
            if message is not None:
                self._print("Usage: /reply <id> <text>")
            return
        self.here = self._where_of(message.channel)
        await self._say(text.strip(), thread_id=message.thread_id or message.message_id)

    async def _react(self, rest: str, added: bool) -> None:
        target, _, emoji = rest.partition(" ")
        message = self._known(target)
        if message is None or not emoji.strip():
            if message is not None:
                self._print("Usage: /react <id> <emoji>")
            return
        where = self._where_of(message.channel)
        record_reaction(self.transcript, message.message_id, self.me.user_id, emoji.strip(), added)
        await self._deliver(
            await self.core.handle(
                ReactionChange(
                    where,
                    message.message_id,
                    self.me,
                    emoji.strip(),
                    added,
                    event_id=self._event_id(),
                    at=datetime.now(UTC),
                )
            )
        )
        self._print(f"({'added' if added else 'removed'} {emoji.strip()} on {message.message_id})")

    async def _edit(self, rest: str) -> None:
        target, _, text = rest.partition(" ")
        message = self._known(target)
        if message is None or not text.strip():
            return
        self.transcript.edit(message.message_id, text.strip())
        where = self._where_of(message.channel)
        await self.core.handle(
            MessageEdited(
                where,
                message.message_id,
                text.strip(),
                datetime.now(UTC),
                event_id=self._event_id(),
                editor=self.me,
            )
        )
        self._print(f"(edited {message.message_id})")

    async def _delete(self, rest: str) -> None:
        message = self._known(rest.split(" ")[0] if rest else "")
        if message is None:
            return
        self.transcript.delete(message.message_id)
        where = self._where_of(message.channel)
        await self.core.handle(MessageDeleted(where, message.message_id, event_id=self._event_id()))
        self._print(f"(deleted {message.message_id})")

    async def _save(self, rest: str) -> None:
        """Save a message on purpose (as a shortcut or a menu does), with a kind and tags."""
        words = rest.split()
        if not words:
            self._print("Usage: /save <id> [howto|resource|story|update] [#tags]")
            return
        message = self._known(words[0])
        if message is None:
            return
        kinds = {k.value: k for k in KnowhowKind}
        kind = next((kinds[w.lower()] for w in words[1:] if w.lower() in kinds), KnowhowKind.HOWTO)
        tags = tuple(w.lstrip("#") for w in words[1:] if w.startswith("#"))
        request = SaveRequest(
            self._where_of(message.channel),
            self.me,
            message.message_id,
            message.text,
            self.places.author(message.author),
            message.created_at,
            tags=tags,
            kind=kind,
            permalink=permalink(message.message_id),
            thread_id=message.thread_id,
            event_id=self._event_id(),
        )
        await self._deliver(await self.core.handle(request))

    async def _accept(self, rest: str) -> None:
        """ "This solved it" on an answer: the same act as the accept reaction."""
        message = self._known(rest.split(" ")[0] if rest else "")
        if message is None:
            return
        mark = AcceptMark(
            self._where_of(message.channel),
            message.message_id,
            self.me,
            event_id=self._event_id(),
            at=datetime.now(UTC),
        )
        await self._deliver(await self.core.handle(mark))

    async def _share(self, rest: str) -> None:
        """Show a result to the channel; the core checks it may be shown here."""
        ref = rest.split(" ")[0].lstrip("#") if rest else ""
        if not ref.isdigit():
            self._print("Usage: /share <entry number>, e.g. /share 12 (numbers show in results)")
            return
        request = ShareRequest(self.here, self.me, int(ref), event_id=self._event_id())
        await self._deliver(await self.core.handle(request))

    def _history(self, limit: int) -> None:
        for message in self.transcript.recent(self.here.channel, limit):
            replies = len(self.transcript.thread(message.message_id)) - 1
            more = f"  ({replies} repl{'y' if replies == 1 else 'ies'})" if replies > 0 else ""
            name = self.places.name(message.author)
            self._print(f"{tag(message.message_id)} {name}: {message.text}{more}")

    def _thread(self, rest: str) -> None:
        message = self._known(rest.split(" ")[0] if rest else "")
        if message is None:
            return
        for item in self.transcript.thread(message.thread_id or message.message_id):
            self._print(
                f"{tag(item.message_id)} {self.places.name(item.author)}: {item.text}",
                indent=item.thread_id is not None,
            )

    # ------------------------------------------------------------------ output

    async def _deliver(self, outbound: list[Outbound]) -> None:
        await self.delivery.deliver(outbound, None, actor=self.me)

    async def _handle(self, event: InboundEvent) -> None:
        await self._deliver(await self.core.handle(event))

    async def catch_up(self) -> CatchUpReport:
        """What was said in the transcript while copbot was not running, read once."""
        return await self.catchup.run(await self.catchup.begin())

    async def post(self, post: Post) -> str | None:
        """The outbox for scheduled posts (digests): print them as they come."""
        return await self.ops.send_post(post)

    def _print(self, text: str, indent: bool = False) -> None:
        self.printer.print(text, indent)


async def stdin_lines(prompt: str | None, chat: ConsoleChat | None = None) -> AsyncIterator[str]:
    """Lines from standard input: prompted when it is a terminal, plain when piped."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        # A stray byte that is not UTF-8 becomes a replacement character, not the end of the chat.
        sys.stdin.reconfigure(errors="replace")
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            shown = chat.prompt if chat is not None else (prompt or "> ")
            try:
                line = await asyncio.to_thread(input, shown)
            except EOFError:
                return
        else:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
        yield line
