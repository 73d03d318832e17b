"""The repertoire: entries, members and tags, their storage and search.

This package knows nothing of chat platforms; ``bot`` drives it.
"""

__all__: list[str] = []
