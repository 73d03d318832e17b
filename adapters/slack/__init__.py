"""The Slack adapter (slack-bolt): capture, ``/cop``, save a message, results that link back.

Only translation and rendering live here; what counts as a question, an
accept or a save is decided by the core (``bot/``).
"""

from adapters.slack.adapter import SlackAdapter, SlackSetupError

__all__ = ["SlackAdapter", "SlackSetupError"]
