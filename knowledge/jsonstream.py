"""Streaming JSON with hard limits, so that a small hostile file stays small.

Big exports (DiscordChatExporter files, copbot's own JSON export) are read as a
stream with ``ijson``. Its prefix-tracking parser keeps the path of every open
container (``messages.item.item.item…``), so a 200 KB file nested 100,000
arrays deep needs tens of gigabytes for the paths alone. Here the plain event
stream (``ijson.basic_parse``, no paths) is read instead, its depth counted
and cut at :data:`MAX_DEPTH`, and items are built from it one at a time, each
cut at :data:`MAX_ITEM_EVENTS` parser events. Real exports nest fewer than ten
levels.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any, Protocol

import ijson
from ijson.common import ObjectBuilder

#: Deepest nesting accepted (a DiscordChatExporter message is about 7 levels deep).
MAX_DEPTH = 64
#: Parser events in one item (one message with its reactions, one entry...).
MAX_ITEM_EVENTS = 1_000_000

_OPEN = frozenset({"start_map", "start_array"})
_CLOSE = frozenset({"end_map", "end_array"})
_TYPE_NAMES = {
    "start_map": "an object",
    "start_array": "an array",
    "string": "a string",
    "number": "a number",
    "integer": "a number",
    "double": "a number",
    "boolean": "true or false",
    "null": "null",
}


class Source(Protocol):
    """A binary file, or anything that reads bytes like one."""

    def read(self, size: int = -1, /) -> bytes: ...


class JsonLimitError(ValueError):
    """The file breaks a hard limit (nesting, item size); it is refused, not read further."""


class JsonShapeError(ValueError):
    """The JSON is well formed but not shaped as the format says (an object, an array...)."""


class NotAnArray(JsonShapeError):
    """A top-level key holds something else than the array it should."""

    def __init__(self, key: str, found: str) -> None:
        super().__init__(
            f"no '{key}' array" if found == "missing" else f"'{key}' is {found}, not an array"
        )
        self.key = key
        self.found = found


def type_name(event: str) -> str:
    """What a JSON value that starts with parser event ``event`` is, in words."""
    return _TYPE_NAMES.get(event, event)


def basic_events(
    source: Source, *, max_depth: int = MAX_DEPTH, **config: Any
) -> Iterator[tuple[str, Any]]:
    """``ijson.basic_parse`` events, refused past ``max_depth`` levels of nesting."""
    depth = 0
    for event, value in ijson.basic_parse(source, **config):
        if event in _OPEN:
            depth += 1
            if depth > max_depth:
                raise JsonLimitError(f"nested deeper than {max_depth} levels; refused")
        elif event in _CLOSE:
            depth -= 1
        yield event, value


def _build(first: tuple[str, Any], events: Iterator[tuple[str, Any]], limit: int) -> Any:
    """The value that starts with event ``first``, built from the events that follow."""
    event, value = first
    if event not in _OPEN:
        return value
    builder = ObjectBuilder()
    builder.event(event, value)
    depth, count = 1, 1
    for event, value in events:
        count += 1
        if count > limit:
            raise JsonLimitError(f"one item holds more than {limit:,} values; refused")
        builder.event(event, value)
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
            if depth == 0:
                break
    return builder.value


def _skip(first: str, events: Iterator[tuple[str, Any]]) -> None:
    if first not in _OPEN:
        return
    depth = 1
    for event, _value in events:
        if event in _OPEN:
            depth += 1
        elif event in _CLOSE:
            depth -= 1
            if depth == 0:
                return


def top_level(
    source: Source,
    *,
    arrays: Collection[str] = (),
    values: Collection[str] = (),
    required: Collection[str] = (),
    item_limit: int = MAX_ITEM_EVENTS,
    **config: Any,
) -> Iterator[tuple[str, int | None, Any]]:
    """Walk a top-level JSON object once, in file order.

    Yields ``(key, position, item)`` for each item of the arrays named in
    ``arrays``, and ``(key, None, value)`` for the keys named in ``values``
    (built whole; headers such as ``guild`` or ``format``). A key of ``arrays``
    that holds something else raises :class:`NotAnArray`, and so does a key of
    ``required`` the object does not have; other keys are skipped unbuilt.
    """
    events = basic_events(source, **config)
    first = next(events, None)
    if first is None:
        return
    if first[0] != "start_map":
        raise JsonShapeError(f"the file holds {type_name(first[0])}, not a JSON object")
    missing = set(required)
    for event, key in events:
        if event == "end_map":
            break
        name = str(key)
        missing.discard(name)
        start = next(events, None)
        if start is None:
            raise JsonShapeError(f"'{name}' has no value")
        if name in arrays:
            if start[0] != "start_array":
                if start[0] == "null":
                    continue
                raise NotAnArray(name, type_name(start[0]))
            for position, item in enumerate(events):
                if item[0] == "end_array":
                    break
                yield name, position, _build(item, events, item_limit)
        elif name in values:
            yield name, None, _build(start, events, item_limit)
        else:
            _skip(start[0], events)
    if missing:
        raise NotAnArray(min(missing), "missing")


def array_items(
    source: Source, *, item_limit: int = MAX_ITEM_EVENTS, **config: Any
) -> Iterator[Any]:
    """The items of a file that is one JSON array (Slack's ``users.json``...), one at a time."""
    events = basic_events(source, **config)
    first = next(events, None)
    if first is None:
        return
    if first[0] != "start_array":
        raise JsonShapeError(f"the file holds {type_name(first[0])}, not a JSON array")
    for item in events:
        if item[0] == "end_array":
            return
        yield _build(item, events, item_limit)


def value_of(source: Source, key: str, **config: Any) -> Any:
    """The value of top-level ``key`` (``None`` when absent); reading stops there."""
    for _name, _position, value in top_level(source, values=(key,), **config):
        return value
    return None


__all__ = [
    "MAX_DEPTH",
    "MAX_ITEM_EVENTS",
    "JsonLimitError",
    "JsonShapeError",
    "NotAnArray",
    "array_items",
    "basic_events",
    "top_level",
    "type_name",
    "value_of",
]
