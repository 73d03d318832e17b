"""The plain values that cross the boundary between adapters and the core.

Adapters translate platform payloads (Slack events, Discord gateway messages,
console lines) into these frozen dataclasses and render the outbound ones.
Nothing here imports a platform library: the core must stay testable without
Slack or Discord, and one community may span both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Visibility(StrEnum):
    """Who may see what was said in a channel.

    The visibility rule: a result shown in channel C contains public entries
    and entries that came from C itself, nothing else.
    """

    PUBLIC = "public"
    PRIVATE = "private"
    DM = "dm"


class KnowhowKind(StrEnum):
    """The shapes know-how takes in a practice."""

    HOWTO = "howto"
    RESOURCE = "resource"
    STORY = "story"
    UPDATE = "update"


@dataclass(frozen=True, slots=True)
class Actor:
    """A person on one platform. ``user_id`` is the platform's own id."""

    platform: str
    user_id: str
    display_name: str = ""
    workspace: str = ""
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Where:
    """A place in chat: platform, workspace or guild, channel, and its visibility.

    A place whose visibility nobody stated is private: unknown means private.
    """

    platform: str
    workspace: str
    channel: str
    visibility: Visibility = Visibility.PRIVATE
    channel_name: str = ""

    @property
    def ref(self) -> str:
        """The ``platform:channel`` form used in the config file."""
        return f"{self.platform}:{self.channel}"


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A message said in chat, top-level or in a thread.

    ``thread_id`` is the id of the thread's root message (Slack ``thread_ts``,
    Discord thread or forum post id); it is ``None`` or equal to
    ``message_id`` for a top-level message.
    """

    where: Where
    author: Actor
    message_id: str
    text: str
    created_at: datetime
    thread_id: str | None = None
    permalink: str = ""
    event_id: str = ""
    tags: tuple[str, ...] = ()
    title: str = ""
    is_forum_post: bool = False
    #: The message this one explicitly replies to without a thread (Discord ``reference``).
    reply_to: str | None = None
    #: Platform user ids mentioned in the text (used to link unthreaded answers).
    mentions: tuple[str, ...] = ()

    @property
    def is_top_level(self) -> bool:
        return self.thread_id is None or self.thread_id == self.message_id


@dataclass(frozen=True, slots=True)
class MessageEdited:
    """A message's text changed; the entry made from it follows."""

    where: Where
    message_id: str
    text: str
    edited_at: datetime
    event_id: str = ""
    editor: Actor | None = None


@dataclass(frozen=True, slots=True)
class MessageDeleted:
    """A message was deleted in chat; its entry and index row must go too."""

    where: Where
    message_id: str
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class ReactionChange:
    """A reaction added to (``added=True``) or removed from a message.

    ``emoji`` is the platform's form (Slack name like ``white_check_mark`` or
    the unicode character); the core normalises it.
    """

    where: Where
    message_id: str
    actor: Actor
    emoji: str
    added: bool = True
    event_id: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CommandInvocation:
    """``/cop <text>`` typed by ``actor`` in ``where``.

    ``thread_id`` is set when the command was typed inside a thread.
    """

    where: Where
    actor: Actor
    text: str
    at: datetime
    thread_id: str | None = None
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class SaveRequest:
    """A member saves a message on purpose as know-how (shortcut, context menu, reaction).

    Saving is flat: any member may save any message they can see. A DM is only
    ever captured this way, and keeps DM visibility.
    """

    where: Where
    saver: Actor
    message_id: str
    text: str
    author: Actor
    created_at: datetime
    title: str = ""
    tags: tuple[str, ...] = ()
    kind: KnowhowKind = KnowhowKind.HOWTO
    permalink: str = ""
    thread_id: str | None = None
    event_id: str = ""
    valid_until: date | None = None  # an `update` is shown as possibly outdated after this day


@dataclass(frozen=True, slots=True)
class AcceptMark:
    """A member says this answer solved it ("This solved it" button or shortcut).

    The same act as the accept reaction: the core counts it as that member's mark.
    """

    where: Where
    message_id: str
    actor: Actor
    event_id: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class MemberLeftChannel:
    """The bot itself was removed from a channel: capture there stops."""

    where: Where
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class BotJoinedChannel:
    """The bot was added (back) to a channel: capture there resumes."""

    where: Where
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class ChannelVisibilityChanged:
    """The platform says a channel is now ``where.visibility`` (made private, or public).

    Slack's ``channel_convert_to_private`` / ``_public`` notices, a Discord
    permission change. Everything said in the channel follows at once.
    """

    where: Where
    at: datetime
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class ForumPostChanged:
    """A forum post's state changed on the platform (Discord forums).

    ``solved`` is ``True`` when a "solved" tag was applied, ``False`` when it
    was removed, ``None`` when it did not change. ``tags`` (the post's other
    tags) and ``title`` are set when they changed. The rules live in
    :mod:`bot.forum`.
    """

    where: Where
    thread_id: str
    solved: bool | None = None
    tags: tuple[str, ...] | None = None
    title: str = ""
    event_id: str = ""


@dataclass(frozen=True, slots=True)
class SuggestionFeedback:
    """A member clicked "solved it" or "not related" on a similar-questions reply.

    ``suggestion_id`` is the reply's :attr:`Reply.suggestion_id`; ``entry_id``
    the item's :attr:`ResultItem.entry_id` (``None``: every item of the reply).
    ``verdict`` is one of the reply's ``actions``: ``solved_it`` or ``not_related``.
    """

    where: Where
    actor: Actor
    suggestion_id: int
    verdict: str
    entry_id: int | None = None
    event_id: str = ""
    at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ShareRequest:
    """A member asks to post a result they were shown for everyone in ``where``.

    The core checks again, at click time, that the entry may be shown there
    (``bot.share``): it may have been deleted or turned private since.
    """

    where: Where
    actor: Actor
    entry_id: int
    event_id: str = ""


InboundEvent = (
    IncomingMessage
    | MessageEdited
    | MessageDeleted
    | ReactionChange
    | CommandInvocation
    | SaveRequest
    | AcceptMark
    | MemberLeftChannel
    | BotJoinedChannel
    | ChannelVisibilityChanged
    | ForumPostChanged
    | SuggestionFeedback
    | ShareRequest
)


# --------------------------------------------------------------------------- outbound


@dataclass(frozen=True, slots=True)
class ResultItem:
    """One repertoire entry as shown to a member; adapters render it.

    ``snippet`` and ``answer_snippet`` mark matched words between
    :data:`MARK_START` and :data:`MARK_END`; adapters turn those into bold.
    """

    entry_id: int
    kind: str
    title: str
    snippet: str
    author: str
    created_at: datetime
    channel_name: str
    permalink: str
    platform: str
    tags: tuple[str, ...] = ()
    answered: bool = False
    answer_snippet: str = ""
    #: The answer shown is the accepted one (not merely the first reply).
    accepted: bool = False
    answer_author: str = ""
    answer_permalink: str = ""
    knowhow_kind: str = ""
    score: float = 0.0
    outdated: bool = False  # flagged by a member, or past its "still true until" date


MARK_START = "\x02"
MARK_END = "\x03"


@dataclass(frozen=True, slots=True)
class Reply:
    """What the core says back.

    ``ephemeral`` replies are shown only to the member who asked. A reply with
    ``thread_id`` goes into that thread. ``anchor_entry_id`` asks the adapter to
    tell the core (``Core.link_posted_message``) which message id the posted
    reply got, so that thread replies to it become answers (``/cop ask``).

    A reply with ``suggestion_id`` lists similar past answers: the adapter
    tells the core the message id it got (``Core.reply_posted``) so reactions
    on it count as feedback, and its buttons (``actions``: ``solved_it``,
    ``not_related``) send :class:`SuggestionFeedback`.
    """

    where: Where
    text: str
    items: tuple[ResultItem, ...] = ()
    ephemeral: bool = True
    thread_id: str | None = None
    anchor_entry_id: int | None = None
    actions: tuple[str, ...] = ()
    recipient: Actor | None = None
    suggestion_id: int | None = None
    #: A quiet offer ("possibly related", to the asker alone): shown only where the
    #: platform can show it to the recipient alone in place (Slack's ephemeral
    #: messages); never turned into a DM, so it costs nobody's attention.
    quiet: bool = False


@dataclass(frozen=True, slots=True)
class PostSection:
    """One titled part of a digest: a line of text per item, cut with 'and N more'."""

    title: str
    lines: tuple[str, ...]
    more: int = 0
    #: What to type to see the rest ("/cop is:unanswered"); shown after "and N more".
    more_command: str = ""


@dataclass(frozen=True, slots=True)
class Post:
    """A message nobody asked for in the moment, such as a scheduled digest."""

    where: Where
    title: str
    sections: tuple[PostSection, ...] = ()
    text: str = ""
    image_path: str = ""
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class FetchMessage:
    """The core needs a message's text it never stored (e.g. a save reaction).

    The adapter fetches the message and hands it back as a :class:`SaveRequest`.
    """

    where: Where
    message_id: str
    saver: Actor
    kind: KnowhowKind = KnowhowKind.HOWTO

    def saved(
        self,
        *,
        text: str,
        author: Actor,
        created_at: datetime,
        permalink: str = "",
        thread_id: str | None = None,
        where: Where | None = None,
    ) -> SaveRequest:
        """The save this fetch asked for, once the message is read back (by an adapter, or
        by an import from the export's own messages: ``where`` as the message says it)."""
        return SaveRequest(
            where=where or self.where,
            saver=self.saver,
            message_id=self.message_id,
            text=text,
            author=author,
            created_at=created_at,
            kind=self.kind,
            permalink=permalink,
            thread_id=thread_id,
        )


Outbound = Reply | Post | FetchMessage
