"""Configuration: one TOML file, validated once at start-up into typed objects.

Secrets never live here: tokens come from environment variables
(:data:`SECRET_ENV_VARS`). A bad file gives one :class:`ConfigError` that names
the file, the key and what was expected; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.channel_spec import ChannelSpec
from bot.emoji import canonical
from bot.events import Where

#: Environment variables that hold secrets, per platform.
SECRET_ENV_VARS = {
    "slack": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"),
    "discord": ("DISCORD_TOKEN",),
    # A postgresql:// URL with a password (knowledge/postgres/url.py says where it may come from).
    "storage": ("COPBOT_DATABASE_URL",),
}
#: Where the config file is looked for when ``--config`` is not given.
CONFIG_ENV_VAR = "COPBOT_CONFIG"
DEFAULT_CONFIG_NAME = "copbot.toml"

DEFAULT_QUESTION_STARTERS = (
    "how", "why", "what", "when", "where", "which", "who", "can", "could", "should",
    "is", "are", "does", "do", "did", "any", "anyone", "has", "have", "would", "will",
    "help", "is there", "has anyone",
)  # fmt: skip


class ConfigError(Exception):
    """The config file is missing or wrong; the message says where and how to fix it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommunitySettings(_Section):
    id: str = "community"
    name: str = "Our community of practice"
    domain: str = ""
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone '{value}' (use an IANA name like Europe/Paris)"
            ) from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class CaptureSettings(_Section):
    """How chat becomes repertoire (the rules live in ``bot.capture``)."""

    question_starters: tuple[str, ...] = DEFAULT_QUESTION_STARTERS
    question_mark: bool = True
    min_question_chars: Annotated[int, Field(ge=1, le=2000)] = 12
    accept_reaction: str = "white_check_mark"
    asker_accepts: bool = True
    accept_votes: Annotated[int, Field(ge=1, le=100)] = 3
    save_reaction: str = "pushpin"
    #: Link top-level replies to a recent question in channels without threads
    #: (explicit reply, mention of the asker, or time proximity: see bot/unthreaded.py).
    #: Off by default for live capture; history imports turn it on.
    link_unthreaded: bool = False
    link_window_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    # Reactions that save as another kind of know-how (save_reaction saves a howto).
    kind_reactions: dict[str, Literal["howto", "resource", "story", "update"]] = {
        "link": "resource",
        "book": "story",
        "mega": "update",
    }
    # The reaction that thanks a message's author (counted once per member and entry).
    thanks_reaction: str = "pray"

    @field_validator("accept_reaction", "save_reaction", "thanks_reaction")
    @classmethod
    def _named(cls, value: str) -> str:
        if not value.strip().strip(":").strip():
            raise ValueError("give a reaction, by name ('white_check_mark') or as the emoji (✅)")
        return value

    @field_validator("kind_reactions")
    @classmethod
    def _kinds_named(cls, value: dict[str, str]) -> dict[str, str]:
        if any(not name.strip().strip(":").strip() for name in value):
            raise ValueError("a reaction name is empty; write it as 'link' = \"resource\"")
        return value

    @model_validator(mode="after")
    def _one_role_per_reaction(self) -> CaptureSettings:
        """A reaction means one thing: the same emoji cannot accept and save, or thank."""
        roles = [
            ("capture.accept_reaction", self.accept_reaction),
            ("capture.save_reaction", self.save_reaction),
            ("capture.thanks_reaction", self.thanks_reaction),
            *((f"capture.kind_reactions.{name}", name) for name in self.kind_reactions),
        ]
        seen: dict[str, str] = {}
        for key, emoji in roles:
            same = canonical(emoji)
            if same in seen:
                raise ValueError(
                    f"{seen[same]} and {key} are the same reaction ({same}); "
                    "give each role its own emoji"
                )
            seen[same] = key
        return self


class ChannelRule(_Section):
    """Per-channel overrides. ``channel`` is ``platform:id`` or ``platform:#name``."""

    channel: str
    capture: bool = True
    suggest_similar: bool = True
    follow_up_hours: Annotated[float, Field(gt=0)] | None = None
    #: Ping (rather than only name) the members a follow-up suggests.
    follow_up_mention: bool = False
    leaderboard: bool | None = None  # a thanks leaderboard here (default: [practice])

    @field_validator("channel")
    @classmethod
    def _has_platform(cls, value: str) -> str:
        return str(ChannelSpec.parse(value))

    @property
    def spec(self) -> ChannelSpec:
        return ChannelSpec.parse(self.channel)


class ChannelSettings(_Section):
    capture_by_default: bool = True
    rules: tuple[ChannelRule, ...] = ()

    @model_validator(mode="after")
    def _one_rule_per_channel(self) -> ChannelSettings:
        """Two rules for one channel would silently drop one: say so instead."""
        seen: dict[ChannelSpec, int] = {}
        for number, rule in enumerate(self.rules, 1):
            spec = rule.spec
            key = replace(spec, name=spec.name.casefold())  # names are case-insensitive
            if key in seen:
                raise ValueError(
                    f"channels.rules {seen[key]} and {number} are both for {rule.channel}; "
                    "merge them into one [[channels.rules]]"
                )
            seen[key] = number
        return self


class DigestSchedule(_Section):
    """One channel's digest: when (cron-like, community time zone) and what it shows."""

    channel: str
    days: str = "mon"
    time: str = "09:00"
    period_days: Annotated[int, Field(ge=1, le=366)] = 7
    sections: tuple[Literal["knowhow", "answered", "unanswered", "helpers", "activity"], ...] = (
        "knowhow",
        "answered",
        "unanswered",
        "helpers",
        "activity",
    )
    mention_experts: bool = False
    empty: Literal["skip", "note"] = "skip"
    chart: bool = False
    #: Fire every N minutes instead of at ``days``/``time`` (demos, busy channels).
    every_minutes: Annotated[int, Field(ge=1, le=1440)] | None = None
    #: A digest missed while the bot was down is posted once if it is back within this time.
    catch_up_hours: Annotated[float, Field(ge=0, le=168)] = 12

    @model_validator(mode="after")
    def _one_way_to_fire(self) -> DigestSchedule:
        given = sorted({"days", "time"} & self.model_fields_set)
        if self.every_minutes is not None and given:
            raise ValueError(
                f"every_minutes fires every N minutes, so {' and '.join(given)} would be "
                "ignored: keep every_minutes, or days and time"
            )
        return self

    @field_validator("days")
    @classmethod
    def _cron_days(cls, value: str) -> str:
        from apscheduler.triggers.cron.fields import DayOfWeekField

        try:
            if any(ch.isdigit() for ch in value):
                # APScheduler counts mon=0 where cron counts sun=0: names avoid the mix-up.
                raise ValueError(value)
            DayOfWeekField("day_of_week", value.strip().lower() or "*")
        except ValueError:
            raise ValueError(
                "write the days as 'mon', 'mon,thu', 'mon-fri' or '*' for daily"
            ) from None
        return value.strip().lower() or "*"

    @field_validator("channel")
    @classmethod
    def _digest_channel(cls, value: str) -> str:
        return str(ChannelSpec.parse(value))

    @property
    def spec(self) -> ChannelSpec:
        return ChannelSpec.parse(self.channel)

    @field_validator("time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        parts = value.split(":")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise ValueError("write the time as HH:MM, e.g. '09:30'")
        hour, minute = int(parts[0]), int(parts[1])
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError("hour must be 0-23 and minute 0-59")
        return value


class PracticeSettings(_Section):
    """Thanks, session hosts and know-how expiry."""

    # No public thanks leaderboard unless turned on (here, or per channel).
    leaderboard: bool = False
    # An `update` without a "still true until" date shows as possibly outdated after this.
    update_stale_days: Annotated[int, Field(ge=1)] | None = None
    # `/cop hosts` without a topic: topics asked at least this often in this many days.
    hosts_min_questions: Annotated[int, Field(ge=1)] = 3
    hosts_period_days: Annotated[int, Field(ge=1, le=3660)] = 180


class SearchSettings(_Section):
    results: Annotated[int, Field(ge=1, le=20)] = 5


class SimilarSettings(_Section):
    """Similar questions at ask time; channels opt out with ``suggest_similar``."""

    enabled: bool = True
    #: Confidence (0-1) from which the bot replies; unset: the evaluated default.
    min_confidence: Annotated[float, Field(ge=0, le=1)] | None = None
    max_suggestions: Annotated[int, Field(ge=1, le=5)] = 3
    #: The optional semantic stage: "off", "minilm-int8[@tokens]" (fast), "minilm" (both need
    #: `pip install copbot[semantic]`) or "static:/path/to/model2vec-folder" (words without).
    semantic: str = "off"

    @field_validator("semantic")
    @classmethod
    def _semantic_choice(cls, value: str) -> str:
        from knowledge.semantic.choice import check_choice

        return check_choice(value)


class StorageSettings(_Section):
    """Where the repertoire is when it is not the ``database`` file: a PostgreSQL server.

    The URL names the server, never its password: a password belongs in
    ``COPBOT_DATABASE_URL`` (or libpq's ``PGPASSWORD`` or ``~/.pgpass``), because a
    config file ends up in backups and repositories.
    """

    #: ``postgresql://user@host/dbname``; empty: the SQLite ``database`` file.
    url: str = ""

    @field_validator("url")
    @classmethod
    def _postgres_url(cls, value: str) -> str:
        from knowledge.backends import DATABASE_URL_ENV, has_password, is_postgres_url

        value = value.strip()
        if value and not is_postgres_url(value):
            raise ValueError(
                "use a postgresql://user@host/dbname URL (a SQLite file is the top-level "
                "'database' key)"
            )
        if has_password(value):
            raise ValueError(
                "secrets do not belong in the config file: leave the password out and set "
                f"{DATABASE_URL_ENV} (the whole URL), PGPASSWORD or ~/.pgpass instead"
            )
        return value


class SlackSettings(_Section):
    enabled: bool = False
    mode: Literal["socket", "http"] = "socket"
    command: str = "/cop"
    http_port: Annotated[int, Field(ge=1, le=65535)] = 3000
    workspace_url: str = ""
    #: The Web API's base URL (GovSlack: https://slack-gov.com/api/).
    api_url: str = "https://slack.com/api/"


class DiscordSettings(_Section):
    enabled: bool = False
    solved_tags: tuple[str, ...] = ("solved", "answered")
    guild_ids: tuple[int, ...] = ()
    #: Roles (ids, or names) that count as "everyone" in servers that gate their
    #: channels behind a member role: a channel such a role may view is public.
    everyone_roles: tuple[int | str, ...] = ()


class WebSettings(_Section):
    """The read-only public web view: ``copbot web``, or ``copbot run`` when ``enabled``."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    #: The channels published on the web ('platform:ID', 'platform:#name' or
    #: 'platform:workspace:ID'). None until chosen: a channel that is public inside
    #: a workspace was written for its members, not for the internet.
    channels: tuple[str, ...] = ()
    #: The site's public address (https://answers.example.org, or with a path behind
    #: a reverse proxy): canonical links, the sitemap and OpenGraph use it. Unset:
    #: the address each request came to.
    base_url: str = ""
    #: The site's name (default: the community's name).
    title: str = ""
    #: How long browsers and proxies may keep a page (Cache-Control max-age).
    cache_seconds: Annotated[int, Field(ge=0, le=86_400)] = 60
    #: Send a Server-Timing header (CPU ms to read and to render each page): for
    #: benchmarks and profiling; off by default.
    server_timing: bool = False

    @field_validator("channels")
    @classmethod
    def _channel_specs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(str(ChannelSpec.parse(spec)) for spec in value)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(
                "write the address as https://host[/path], e.g. https://answers.example.org"
            )
        return value.rstrip("/")


class WorkersSettings(_Section):
    #: How often each of several processes asks for a role only one holds (README, workers).
    poll_seconds: Annotated[float, Field(ge=0.2, le=20)] = 5.0


class Settings(_Section):
    """The whole configuration; every field has a default so no file is needed for the demo."""

    database: str = "copbot.db"
    storage: StorageSettings = StorageSettings()
    community: CommunitySettings = CommunitySettings()
    capture: CaptureSettings = CaptureSettings()
    channels: ChannelSettings = ChannelSettings()
    search: SearchSettings = SearchSettings()
    practice: PracticeSettings = PracticeSettings()
    similar: SimilarSettings = SimilarSettings()
    digests: tuple[DigestSchedule, ...] = ()
    slack: SlackSettings = SlackSettings()
    discord: DiscordSettings = DiscordSettings()
    web: WebSettings = WebSettings()
    workers: WorkersSettings = WorkersSettings()

    def rule_for(self, where: Where) -> ChannelRule:
        """The rule that applies to a channel: one naming its id first, then its ``#name``."""
        matching = [rule for rule in self.channels.rules if rule.spec.matches(where)]
        by_id = [rule for rule in matching if not rule.spec.by_name]
        if by_id or matching:
            return (by_id or matching)[0]
        return ChannelRule(
            channel=f"{where.platform}:{where.channel}", capture=self.channels.capture_by_default
        )


def _describe(error: dict[str, Any]) -> str:
    location = ".".join(str(part) for part in error["loc"]) or "(top level)"
    message = str(error["msg"])
    if error["type"] == "extra_forbidden":
        key = str(error["loc"][-1]).lower()
        if any(word in key for word in ("token", "secret", "password")):
            return (
                f"{location}: secrets do not belong in the config file; set the environment "
                f"variable instead ({', '.join(v for vs in SECRET_ENV_VARS.values() for v in vs)})"
            )
        return f"{location}: unknown key (see config.example.toml for every option)"
    return f"{location}: {message.removeprefix('Value error, ')}"


def parse_settings(data: dict[str, Any], source: str = "<config>") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        problems = "\n  ".join(_describe(dict(e)) for e in exc.errors())
        raise ConfigError(f"{source} has {exc.error_count()} problem(s):\n  {problems}") from None


def find_config(explicit: str | Path | None) -> Path | None:
    """The config file to use: ``--config``, then ``$COPBOT_CONFIG``, then ``./copbot.toml``."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env)
    default = Path(DEFAULT_CONFIG_NAME)
    return default if default.exists() else None


def load_settings(path: str | Path | None) -> Settings:
    """Read and validate the config file; ``None`` gives the defaults."""
    if path is None:
        return Settings()
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            f"config file {path} not found. Copy config.example.toml to {path} "
            f"(or pass --config FILE, or set {CONFIG_ENV_VAR})."
        )
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    return parse_settings(data, str(path))
