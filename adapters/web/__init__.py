"""The read-only public web view: the repertoire's public channels as web pages.

Its viewer is "the public web" (:meth:`knowledge.models.Viewer.public_web`):
public entries of the channels the config publishes (``[web] channels``), by
members who did not opt out. It reads a SQLite file or a PostgreSQL server
alike. ``copbot web`` serves it alone; ``copbot run`` serves it beside the chat
platforms when ``[web] enabled = true``.
"""

from adapters.web.app import SECURITY_HEADERS, WebView, build_web_app
from adapters.web.reader import WebReader
from adapters.web.server import WebServer, serve

__all__ = ["SECURITY_HEADERS", "WebReader", "WebServer", "WebView", "build_web_app", "serve"]
