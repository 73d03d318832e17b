"""The files of an export, from a ZIP or an unpacked folder, read within hard limits.

A ZIP member is never inflated past what it declares (Python's reader stops
at the declared size), so the declared sizes are checked before reading:

* a member that expands more than :data:`MAX_RATIO` times (and to more than
  :data:`RATIO_FLOOR` bytes) is refused as a possible ZIP bomb: real chat
  JSON deflates 5 to 20 times;
* a file read whole (a Slack day file, parsed with ``json``) is refused above
  :data:`MAX_WHOLE_FILE_BYTES`; Slack's day files are a few MB at most;
* files read as a stream (``users.json`` and the other indexes) only need the
  ratio check: their memory does not grow with their size.

Refusals are :class:`FileRefused`, whose message says which limit and why;
the importer reports it as a problem with the file's name and goes on.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path
from typing import IO

#: A ZIP member expanding more than this many times its compressed size is refused.
MAX_RATIO = 200
#: ... unless it is this small once inflated (tiny files have odd ratios, and cost nothing).
RATIO_FLOOR = 1024 * 1024
#: The most a file read whole may hold once inflated (32 MiB: ~190 MB of Python objects).
MAX_WHOLE_FILE_BYTES = 32 * 1024 * 1024
#: Errors reading a member of a damaged or unusual archive (besides ``FileRefused``).
READ_ERRORS = (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, zlib.error)

_MIB = 1024 * 1024


class FileRefused(ValueError):
    """A file breaks a hard limit; it is not read."""


def _mib(size: int) -> str:
    return f"{size / _MIB:,.1f} MiB"


def _hidden(name: str) -> bool:
    """Archive clutter that is no conversation (macOS resource forks, dot folders)."""
    return name.startswith((".", "__MACOSX"))


class ExportFiles:
    """An export's files by their relative POSIX path, from a ZIP or a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._prefix = ""
        if path.is_file():
            self._zip = zipfile.ZipFile(path)
            names = self._zip.namelist()
            if "channels.json" not in names and "users.json" not in names:
                roots = [n for n in names if n.endswith("/channels.json")]
                if len(roots) == 1:
                    self._prefix = roots[0][: -len("channels.json")]

    def _info(self, name: str) -> zipfile.ZipInfo | None:
        assert self._zip is not None
        try:
            return self._zip.getinfo(self._prefix + name)
        except KeyError:
            return None

    def exists(self, name: str) -> bool:
        if self._zip is not None:
            return self._info(name) is not None
        return (self.path / name).is_file()

    def _checked(self, name: str, limit: int | None) -> zipfile.ZipInfo | None:
        """The member's info after the size and ratio checks (``None`` for a folder)."""
        if self._zip is None:
            if limit is not None:
                size = (self.path / name).stat().st_size
                if size > limit:
                    raise FileRefused(
                        f"{_mib(size)}, more than the {_mib(limit)} a file may hold; not read"
                    )
            return None
        info = self._info(name)
        if info is None:
            raise FileNotFoundError(f"no {name} in {self.path.name}")
        size, packed = info.file_size, max(1, info.compress_size)
        if size > RATIO_FLOOR and size > MAX_RATIO * packed:
            raise FileRefused(
                f"expands {size // packed:,} times ({_mib(packed)} to {_mib(size)}; at most "
                f"{MAX_RATIO} times): refused as a possible ZIP bomb, not inflated"
            )
        if limit is not None and size > limit:
            raise FileRefused(
                f"{_mib(size)} once inflated, more than the {_mib(limit)} a file may hold; "
                "not inflated"
            )
        return info

    def read(self, name: str, limit: int = MAX_WHOLE_FILE_BYTES) -> bytes:
        """The whole file, if it is at most ``limit`` bytes (raises :class:`FileRefused`)."""
        info = self._checked(name, limit)
        if info is None:
            return (self.path / name).read_bytes()
        assert self._zip is not None
        with self._zip.open(info) as member:  # stops at the declared size, checked above
            return member.read()

    def open(self, name: str) -> IO[bytes]:
        """The file as a stream, for files parsed item by item (ratio-checked in a ZIP)."""
        info = self._checked(name, None)
        if info is None:
            return (self.path / name).open("rb")
        assert self._zip is not None
        return self._zip.open(info)

    def folders(self) -> list[str]:
        if self._zip is not None:
            found = set()
            for name in self._zip.namelist():
                rel = name[len(self._prefix) :] if name.startswith(self._prefix) else None
                if rel and "/" in rel:
                    found.add(rel.split("/", 1)[0])
            return sorted(f for f in found if not _hidden(f))
        return sorted(p.name for p in self.path.iterdir() if p.is_dir() and not _hidden(p.name))

    def day_files(self, folder: str) -> list[tuple[str, int]]:
        """``(relative path, size)`` of a conversation's day files, in date order."""
        if self._zip is not None:
            start = f"{self._prefix}{folder}/"
            out = [
                (info.filename[len(self._prefix) :], info.file_size)
                for info in self._zip.infolist()
                if info.filename.startswith(start)
                and info.filename.endswith(".json")
                and "/" not in info.filename[len(start) :]
            ]
            return sorted(out)
        base = self.path / folder
        if not base.is_dir():
            return []
        return sorted(
            (f"{folder}/{p.name}", p.stat().st_size) for p in base.iterdir() if p.suffix == ".json"
        )

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


__all__ = [
    "MAX_RATIO",
    "MAX_WHOLE_FILE_BYTES",
    "RATIO_FLOOR",
    "READ_ERRORS",
    "ExportFiles",
    "FileRefused",
]
