"""Slack's Socket Mode connection, one that gives up when Slack refuses the app token.

slack_sdk reconnects by itself after a dropped connection, which is what we
want, but it also retries forever, logging "Failed to connect" every 10
seconds, when the app token was revoked. :class:`RefusingSocketClient` stops
instead and tells the adapter, which stops Slack alone with one error naming
``SLACK_APP_TOKEN``.
"""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.directory import slack_error

#: Slack's errors for a token it will not take (revoked, wrong, app uninstalled...).
REFUSED_TOKEN = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
    }
)


class RefusingSocketClient(SocketModeClient):
    """A Socket Mode client that stops (``closed``) when Slack refuses its app token."""

    on_refused: Callable[[str], None] = staticmethod(lambda error: None)

    async def issue_new_wss_url(self) -> str:
        try:
            return await super().issue_new_wss_url()
        except SlackApiError as exc:
            error = slack_error(exc)
            if error in REFUSED_TOKEN:
                # Its connect loop ends quietly once closed, instead of retrying forever.
                self.closed = True
                self.auto_reconnect_enabled = False
                self.on_refused(error)
            raise


class SocketHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler on a :class:`RefusingSocketClient`."""

    def __init__(
        self,
        app: AsyncApp,
        app_token: str,
        web_client: AsyncWebClient,
        *,
        on_refused: Callable[[str], None],
    ) -> None:
        # Bolt's own __init__ with our client (it would build a client of its own).
        self.app = app
        self.app_token = app_token
        client = RefusingSocketClient(app_token=app_token, logger=app.logger, web_client=web_client)
        client.on_refused = on_refused
        client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]
        self.client = client
