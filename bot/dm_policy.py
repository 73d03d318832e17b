"""What copbot does in a direct message, decided once.

A DM is a private conversation: copbot never keeps what is said there on its
own, and nothing there is shown anywhere else. Each question below is asked
by the feature it concerns; none of them restates the rule.

* nothing said in a DM is captured, unless a member saves it on purpose
  (a save shortcut, menu or reaction): then it is kept with DM visibility, so
  it is only ever shown in that same DM (:func:`captures_ambient`,
  :func:`keeps_conversation`);
* copbot does not read a DM's history after a restart (:func:`catches_up`);
* it makes no suggestion there and posts no digest for it (:func:`suggests`,
  :func:`has_digest`).
"""

from __future__ import annotations

from bot.events import InboundEvent, SaveRequest, Visibility, Where


def is_dm(where: Where) -> bool:
    return where.visibility == Visibility.DM


def captures_ambient(where: Where) -> bool:
    """Whether messages said here may become entries without anyone asking."""
    return not is_dm(where)


def keeps_conversation(event: InboundEvent) -> bool:
    """Whether the conversation an event comes from is recorded (a DM only when saved into)."""
    return not is_dm(event.where) or isinstance(event, SaveRequest)


def catches_up(where: Where) -> bool:
    """Whether copbot keeps a read mark here, to read what it missed after a restart."""
    return not is_dm(where)


def suggests(where: Where) -> bool:
    """Whether a question asked here may get similar past answers."""
    return not is_dm(where)


def has_digest(where: Where) -> bool:
    """Whether this conversation has a digest (a channel's, never a DM's)."""
    return not is_dm(where)
