"""``GET /readyz`` in HTTP mode: is this process serving, and which roles does it hold?

Behind a load balancer several ``copbot run --http`` processes answer Slack;
any of them may take any request. ``/healthz`` says the process is alive;
``/readyz`` says it is ready for traffic (200, or 503 while it starts) and,
in JSON, which of the roles only one process holds are this one's now::

    {"ready": true, "roles": ["scheduler"], "seeking": ["scheduler", "discord-gateway"],
     "pid": 4242}

``roles`` is what an operator asks "who sends the digests?" with; ``pid``
tells the processes behind one address apart.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from aiohttp import web

from bot.roles import Roles

__all__ = ["READY_PATH", "readiness_routes"]

READY_PATH = "/readyz"


def readiness_routes(
    roles: Roles, serving: Callable[[], bool]
) -> Callable[[web.Application], None]:
    """Routes to add to an aiohttp application; ``serving()`` says start-up is done."""

    async def ready(_request: web.Request) -> web.Response:
        is_ready = serving()
        body = {
            "ready": is_ready,
            "roles": roles.held(),
            "seeking": roles.sought(),
            "pid": os.getpid(),
        }
        return web.json_response(body, status=200 if is_ready else 503)

    def add(app: web.Application) -> None:
        app.router.add_get(READY_PATH, ready)

    return add
