"""``copbot doctor``: are the Slack tokens in the environment right, and what is missing?

It calls ``auth.test`` with the bot token (and reads the granted scopes from
the ``x-oauth-scopes`` response header), ``apps.connections.open`` with the
app token in Socket Mode, and says in plain words what to fix. It never
prints a token, not even part of one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.directory import slack_error
from adapters.slack.scopes import BOT_SCOPES

FIX_SCOPES = (
    "add them under OAuth & Permissions -> Bot Token Scopes (or re-create the app from "
    "adapters/slack/manifest.yaml), then reinstall the app to the workspace"
)


#: What a call raises when Slack cannot be reached at all (no network, DNS, proxy, timeout).
UNREACHABLE = (aiohttp.ClientError, OSError, asyncio.TimeoutError)


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str
    #: Slack could not be reached: the other checks cannot say more.
    offline: bool = False

    def line(self) -> str:
        return f"{'✓' if self.ok else '✗'} {self.text}"


def _client(token: str, base_url: str | None) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=base_url or AsyncWebClient.BASE_URL, timeout=15)


def unreachable(base_url: str | None, exc: BaseException) -> Check:
    """One line for "no network": where copbot tried, and why it could not get there."""
    host = urlsplit(base_url or AsyncWebClient.BASE_URL).netloc
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return Check(
        False,
        f"could not reach Slack at {host} ({reason}): check the network connection or proxy, "
        "then run `copbot doctor` again",
        offline=True,
    )


def _granted(headers: Mapping[str, object]) -> set[str]:
    for key, value in headers.items():
        if key.lower() == "x-oauth-scopes":
            raw = value[0] if isinstance(value, list | tuple) else value
            return {s.strip() for s in str(raw).split(",") if s.strip()}
    return set()


async def check_bot_token(env: Mapping[str, str], base_url: str | None = None) -> list[Check]:
    token = env.get("SLACK_BOT_TOKEN", "")
    if not token:
        return [
            Check(
                False,
                "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from "
                "your app's OAuth & Permissions page into that environment variable",
            )
        ]
    if not token.startswith("xoxb-"):
        return [
            Check(False, "SLACK_BOT_TOKEN does not look like a bot token (it starts with xoxb-)")
        ]
    try:
        response = await _client(token, base_url).auth_test()
    except SlackApiError as exc:
        return [Check(False, f"SLACK_BOT_TOKEN was refused by Slack ({slack_error(exc)})")]
    except UNREACHABLE as exc:
        return [unreachable(base_url, exc)]
    checks = [
        Check(
            True,
            f"SLACK_BOT_TOKEN works: bot @{response.get('user')} in workspace "
            f"{response.get('team')} ({response.get('team_id')})",
        )
    ]
    granted = _granted(response.headers)
    missing = [scope for scope in BOT_SCOPES if scope not in granted]
    if missing:
        lines = "\n".join(f"    {scope}: {BOT_SCOPES[scope]}" for scope in missing)
        checks.append(Check(False, f"missing bot scopes ({FIX_SCOPES}):\n{lines}"))
    else:
        checks.append(Check(True, f"all {len(BOT_SCOPES)} bot scopes granted"))
    return checks


async def check_app_token(env: Mapping[str, str], base_url: str | None = None) -> list[Check]:
    token = env.get("SLACK_APP_TOKEN", "")
    if not token:
        return [
            Check(
                False,
                "SLACK_APP_TOKEN is not set (Socket Mode): under Basic Information -> App-Level "
                "Tokens, generate one with the connections:write scope (it starts with xapp-)",
            )
        ]
    if not token.startswith("xapp-"):
        return [Check(False, "SLACK_APP_TOKEN does not look like an app-level token (xapp-...)")]
    try:
        await _client(token, base_url).apps_connections_open(app_token=token)
    except UNREACHABLE as exc:
        return [unreachable(base_url, exc)]
    except SlackApiError as exc:
        return [
            Check(
                False,
                f"SLACK_APP_TOKEN was refused ({slack_error(exc)}): is Socket Mode enabled and "
                "does the token have connections:write?",
            )
        ]
    return [Check(True, "SLACK_APP_TOKEN works: Socket Mode is enabled")]


def check_signing_secret(env: Mapping[str, str]) -> list[Check]:
    if not env.get("SLACK_SIGNING_SECRET"):
        return [
            Check(
                False,
                "SLACK_SIGNING_SECRET is not set (HTTP mode): copy the Signing Secret from "
                "Basic Information -> App Credentials",
            )
        ]
    return [
        Check(True, "SLACK_SIGNING_SECRET is set (Slack's signatures are checked on each request)")
    ]


async def run_checks(
    env: Mapping[str, str], *, http: bool, base_url: str | None = None
) -> list[Check]:
    """Every check for the chosen mode, in the order a new admin would fix them."""
    checks = await check_bot_token(env, base_url)
    if any(check.offline for check in checks):
        return checks  # one clear line; every other check would say the same
    if http:
        checks += check_signing_secret(env)
    else:
        checks += await check_app_token(env, base_url)
    return checks
