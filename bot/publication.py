"""What the public web view publishes, decided in one place.

The viewer "the public web" comes from the config's ``[web] channels`` (none
until chosen) and the members' opt-outs, read again for every page so that a
channel turning private or a ``/cop web off`` takes effect at once. The digest
archive is organised by ISO week on the community's wall clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

from bot.channel_spec import ChannelSpec
from bot.config import Settings
from knowledge.models import Viewer
from knowledge.published import public_web
from knowledge.relational.repertoire import RelationalRepertoire


def channel_specs(settings: Settings) -> list[tuple[str, str, str, str]]:
    """``[web] channels`` as ``(platform, workspace, channel id, name)``; empty parts match any."""
    specs: list[tuple[str, str, str, str]] = []
    for text in settings.web.channels:
        spec = ChannelSpec.parse(text)
        specs.append((spec.platform, spec.workspace, spec.channel, spec.name))
    return specs


def web_viewer(repertoire: RelationalRepertoire, settings: Settings) -> Viewer:
    """The public web as a viewer, as of now."""
    return public_web(repertoire, channel_specs(settings))


def week_of(moment: datetime, tz: tzinfo) -> tuple[int, int]:
    """The ISO ``(year, week)`` of ``moment`` on the community's wall clock."""
    year, week, _day = moment.astimezone(tz).isocalendar()
    return year, week


def week_bounds(year: int, week: int, tz: tzinfo) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of an ISO week: Monday 00:00 to the next Monday, wall clock.

    Raises ``ValueError`` for a week that does not exist (week 53 of most years).
    """
    monday = date.fromisocalendar(year, week, 1)
    nxt = monday + timedelta(days=7)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
    end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def weeks_between(first: datetime, last: datetime, tz: tzinfo) -> list[tuple[int, int]]:
    """Every ISO week from ``first``'s to ``last``'s, newest first."""
    weeks: list[tuple[int, int]] = []
    year, week = week_of(first, tz)
    end = week_of(last, tz)
    while (year, week) <= end:
        weeks.append((year, week))
        monday = date.fromisocalendar(year, week, 1) + timedelta(days=7)
        year, week, _ = monday.isocalendar()
    weeks.reverse()
    return weeks


__all__ = ["channel_specs", "web_viewer", "week_bounds", "week_of", "weeks_between"]
