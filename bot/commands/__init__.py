"""The ``/cop`` commands, one module per feature; :func:`bot.app.command_registry` lists them.

=================  ==========================================================
``search``         ``search``, ``who``, ``stats``: finding what is known
``contribute``     ``ask``, ``share``: adding to the repertoire on purpose
``suggestions``    ``similar``, ``solved``, ``unrelated``: similar questions
``digest``         ``digest``: this channel's digest, now
``profile``        ``profile``: what a member knows and has given
``thanks``         ``thanks``: thanking a member, and the leaderboard
``hosts``          ``hosts``: who could lead a session on a topic
``identity``       ``link``, ``unlink``: one member on several platforms
``curation``       ``retag``, ``retitle``, ``outdated``, ``history``, ``undo``
``web``            ``web``: whether a member appears on the public web view
``help``           ``help``
``arguments``      what several commands take: members, entries, the actor
=================  ==========================================================
"""

__all__ = [
    "arguments",
    "contribute",
    "curation",
    "digest",
    "help",
    "hosts",
    "identity",
    "profile",
    "search",
    "suggestions",
    "thanks",
    "web",
]
