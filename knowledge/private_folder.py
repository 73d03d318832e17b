"""Folders that only their owner may open: every level copbot makes is ``0o700``.

What copbot keeps on disk outside the database (a digest's chart, which names
private channels; the model cache folder, which the terminal chat's transcript
shares) must not be readable by other users of the machine.
``Path.mkdir(mode=0o700, parents=True)`` gives that mode to the last folder
only: the parents it makes on the way take the default (world-readable under
the usual umask), so the folders are made one level at a time here. Folders
that already exist are left as they are: they may be the operator's own.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path

__all__ = ["PRIVATE_FOLDER_MODE", "make_private_folder"]

#: Read, write and enter for the owner; nothing for anyone else.
PRIVATE_FOLDER_MODE = 0o700


def make_private_folder(folder: Path) -> Path:
    """``folder``, made with every missing level ``0o700``; :class:`OSError` when it cannot be
    (a file in the way, no right to write the parent)."""
    missing: list[Path] = []
    level = folder
    while not level.exists() and level.parent != level:
        missing.append(level)
        level = level.parent
    for path in reversed(missing):
        with suppress(FileExistsError):  # another process made it meanwhile
            path.mkdir(mode=PRIVATE_FOLDER_MODE)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is not a folder")
    return folder
