"""The Slack adapter (slack-bolt): capture, ``/cop``, save a message, results that link back.

Only translation and rendering live here; what counts as a question, an
accept or a save is decided by the core (``bot/``).

The adapter is :class:`adapters.slack.adapter.SlackAdapter`. Importing the
package imports nothing else, so a light module here (:mod:`.tokens`) costs no
slack-bolt import.
"""

__all__ = [
    "adapter",
    "app",
    "blocks",
    "catchup",
    "directory",
    "doctor",
    "manifest",
    "outbound",
    "request_check",
    "scopes",
    "socket",
    "tokens",
    "translate",
]
