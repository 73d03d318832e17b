"""``SlackAdapter``: the Bolt app connected by Socket Mode or over HTTP, in the shared loop.

Socket Mode (the default) needs ``SLACK_BOT_TOKEN`` and ``SLACK_APP_TOKEN`` and
no public URL. HTTP mode (``copbot run --http --port N`` or ``mode = "http"``)
needs ``SLACK_BOT_TOKEN`` and ``SLACK_SIGNING_SECRET`` and serves
``POST /slack/events`` (events, commands, interactivity) plus ``GET /healthz``
for a load balancer. Both run inside the caller's asyncio loop, next to
Discord and the scheduler. Tokens are read from the environment only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.app import SlackBridge, build_app
from adapters.slack.catchup import CatchUpReport, catch_up
from adapters.slack.request_check import refusal, shape_problem, unreadable
from bot.config import ConfigError, Settings
from bot.events import Post
from bot.runtime import AsyncCore

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


MAX_REQUEST_BYTES = 8 * 1024 * 1024


class SlackSetupError(ConfigError):
    """A token or secret the chosen mode needs is not in the environment."""


def make_client(token: str | None, base_url: str | None = None) -> AsyncWebClient:
    """The Web API client: 429s (after Retry-After), 500/503s and dropped connections are
    retried by slack_sdk's own handlers, not by hand."""
    return AsyncWebClient(
        token=token,
        base_url=base_url or AsyncWebClient.BASE_URL,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            # Slack's 500/503 mean the call was not carried out: safe to send again.
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


def _require(names: tuple[str, ...], mode: str) -> dict[str, str]:
    values = {name: os.environ.get(name, "") for name in names}
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise SlackSetupError(
            f"Slack {mode} mode needs the environment variable(s) {', '.join(missing)}. "
            "See README, 'Connect to Slack'; `copbot doctor` checks them."
        )
    return values


class SlackAdapter:
    """One Slack workspace, served by Bolt's async app."""

    platform = "slack"

    def __init__(
        self,
        core: AsyncCore,
        settings: Settings,
        *,
        http: bool,
        port: int | None,
        client_base_url: str | None = None,
        process_before_response: bool = False,
    ) -> None:
        """Read tokens from the environment and build the Bolt app (nothing connects yet).

        ``process_before_response`` makes Bolt answer an HTTP request only after
        its listener finished: for tests, which must know when the work is done.
        Leave it off in production, where the answer must come within 3 seconds.
        """
        self.core = core
        self.settings = settings
        self.http = http or settings.slack.mode == "http"
        self.port = port or settings.slack.http_port
        if self.http:
            env = _require(("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"), "HTTP")
            self._app_token = ""
        else:
            env = _require(("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"), "Socket")
            self._app_token = env["SLACK_APP_TOKEN"]
        self.client = make_client(env["SLACK_BOT_TOKEN"], client_base_url)
        self._signing_secret = env.get("SLACK_SIGNING_SECRET", "")
        self.app: AsyncApp
        self.bridge: SlackBridge
        self.app, self.bridge = build_app(
            core,
            settings,
            self.client,
            signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
            # Socket Mode requests are not signed: the app token's WebSocket is the proof.
            request_verification_enabled=self.http,
            process_before_response=process_before_response,
        )
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._stopped = asyncio.Event()
        self.started = asyncio.Event()

    def web_app(self) -> web.Application:
        """The aiohttp application of HTTP mode (tests serve it on port 0).

        Every request is checked before Bolt sees it (``request_check.py``): not
        signed by Slack, 401; signed but not shaped as Slack sends it, 400. Each
        refusal is one short log line, never the body and never a traceback.
        """
        # Slack caps messages at 40,000 characters; a few MB leaves room for odd payloads.
        web_app = web.Application(client_max_size=MAX_REQUEST_BYTES)

        async def events(request: web.Request) -> web.Response:
            body = await request.read()
            why = refusal(self._signing_secret, body, request.headers, time.time())
            if why is not None:
                log.warning("refused a request to %s: %s (%d bytes)", EVENTS_PATH, why, len(body))
                return web.Response(status=401, text="invalid request")
            try:
                bolt_request = await to_bolt_request(request)
            except Exception as exc:  # signed, but Bolt cannot read it (a list, a bad payload)
                why = unreadable(exc)
            else:
                why = shape_problem(bolt_request.body)
            if why is not None:
                log.warning("refused a signed request to %s: %s", EVENTS_PATH, why)
                return web.Response(status=400, text="unreadable request")
            return await to_aiohttp_response(await self.app.async_dispatch(bolt_request))

        async def health(_request: web.Request) -> web.Response:
            return web.Response(text="ok")

        web_app.add_routes([web.post(EVENTS_PATH, events), web.get("/healthz", health)])
        return web_app

    async def start(self) -> None:
        if self.http:
            self._runner = web.AppRunner(self.web_app())
            await self._runner.setup()
            await web.TCPSite(self._runner, port=self.port).start()
            log.info("Slack over HTTP: listening on port %s at %s", self.port, EVENTS_PATH)
        else:
            handler = self.socket_handler()
            self._socket = handler
            await handler.connect_async()  # type: ignore[no-untyped-call]
            log.info("Slack over Socket Mode: connected")
        self.started.set()
        # Live events flow from here on; read what was said while we were away.
        await self.catch_up()
        await self._stopped.wait()

    async def catch_up(self) -> CatchUpReport:
        """Read the channels from where copbot last read them (see ``catchup.py``)."""
        try:
            return await catch_up(self.core, self.bridge)
        except Exception:  # a failed catch-up must not stop live capture
            log.exception("catching up on missed Slack messages failed")
            return CatchUpReport(failures=1)

    def socket_handler(self) -> AsyncSocketModeHandler:
        """Bolt's Socket Mode handler for this app (it connects when asked to)."""
        return AsyncSocketModeHandler(self.app, self._app_token, web_client=self.client)

    async def post(self, post: Post) -> str | None:
        return await self.bridge.outbox.post(post)

    async def close(self) -> None:
        self._stopped.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
