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
from collections.abc import Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.catchup import CatchUpReport
from adapters.slack.app import SlackBridge, build_app
from adapters.slack.directory import slack_error
from adapters.slack.request_check import refusal, shape_problem, unreadable
from adapters.slack.socket import REFUSED_TOKEN, SocketHandler
from adapters.supervisor import CredentialsRejected
from bot.config import ConfigError, Settings
from bot.events import Post
from bot.read_marks import Mark
from bot.runtime import AsyncCore
from knowledge.models import ChannelRef

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
        self.client = make_client(env["SLACK_BOT_TOKEN"], client_base_url or settings.slack.api_url)
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
        #: Other routes served by HTTP mode's server (the web view, when it shares the port).
        self.extra_routes: list[Callable[[web.Application], None]] = []
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self._stopped = asyncio.Event()
        self.started = asyncio.Event()
        self._catching_up = asyncio.Lock()
        self._refused: CredentialsRejected | None = None
        self._said_hello = False
        self._tasks: set[asyncio.Task[CatchUpReport]] = set()
        #: The catch-up the latest Socket Mode reconnection started.
        self.reconnect_catch_up: asyncio.Task[CatchUpReport] | None = None

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
        for add_routes in self.extra_routes:
            add_routes(web_app)
        return web_app

    async def start(self) -> None:
        await self._check_bot_token()
        # Before any live event: they must not move the read marks past the gap.
        marks = await self.bridge.catchup.begin()
        if self.http:
            self._runner = web.AppRunner(self.web_app())
            await self._runner.setup()
            await web.TCPSite(self._runner, port=self.port).start()
            log.info("Slack over HTTP: listening on port %s at %s", self.port, EVENTS_PATH)
        else:
            handler = self.socket_handler()
            self._socket = handler
            await handler.connect_async()  # type: ignore[no-untyped-call]
            if self._refused is None:
                log.info("Slack over Socket Mode: connected")
        if self._refused is None:
            self.started.set()
            # Live events flow from here on; read what was said while we were away.
            await self.catch_up(marks)
            await self._stopped.wait()
        if self._refused is not None:
            raise self._refused

    async def _check_bot_token(self) -> None:
        """Ask Slack who we are: a refused token stops Slack alone, with what to do."""
        try:
            await self.client.auth_test()
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in REFUSED_TOKEN:
                raise CredentialsRejected(
                    "SLACK_BOT_TOKEN",
                    f"Slack refused SLACK_BOT_TOKEN ({error}): reinstall the app to the "
                    "workspace (OAuth & Permissions) and export the new xoxb- token; "
                    "`copbot doctor` checks it.",
                ) from None
            raise

    def _app_token_refused(self, error: str) -> None:
        """Slack refused the app token (revoked?): stop Slack, rather than retry forever."""
        self._refused = CredentialsRejected(
            "SLACK_APP_TOKEN",
            f"Slack refused SLACK_APP_TOKEN ({error}): generate a new app-level token with "
            "connections:write (Basic Information > App-Level Tokens) and export it; "
            "`copbot doctor` checks it.",
        )
        self._stopped.set()

    async def catch_up(self, marks: dict[ChannelRef, Mark] | None = None) -> CatchUpReport:
        """Read the channels from where copbot last read them (``adapters.catchup``)."""
        async with self._catching_up:
            try:
                if marks is None:
                    marks = await self.bridge.catchup.begin()
                return await self.bridge.catchup.run(marks)
            except Exception:  # a failed catch-up must not stop live capture
                log.exception("catching up on missed Slack messages failed")
                return CatchUpReport(failures=1)

    async def _on_socket_message(
        self, _client: object, message: dict[str, Any], _raw: str | None
    ) -> None:
        """Slack says "hello" on every new Socket Mode connection: after a reconnect, catch up."""
        if message.get("type") != "hello":
            return
        if not self._said_hello:
            self._said_hello = True  # the first connection: start() catches up
            return
        log.info("Slack over Socket Mode: reconnected; reading what was said meanwhile")
        task = asyncio.create_task(self.catch_up(), name="copbot-slack-catch-up")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self.reconnect_catch_up = task

    def socket_handler(self) -> AsyncSocketModeHandler:
        """Bolt's Socket Mode handler for this app (it connects when asked to)."""
        handler = SocketHandler(
            self.app, self._app_token, self.client, on_refused=self._app_token_refused
        )
        handler.client.message_listeners.append(self._on_socket_message)
        return handler

    async def post(self, post: Post) -> str | None:
        return await self.bridge.outbox.post(post)

    async def close(self) -> None:
        self._stopped.set()
        for task in list(self._tasks):
            task.cancel()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
