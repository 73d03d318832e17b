"""``bot/`` and ``adapters/`` reach the repertoire through the storage interface, never a backend.

The core holds its repertoire as :class:`~knowledge.storage.Storage` (or
:class:`~knowledge.relational.repertoire.RelationalRepertoire`, which declares
it, where a feature module needs the shared SQL), so either backend can sit
behind it. Which backend, and opening it, is :mod:`knowledge.backends`' job;
no module of ``bot/`` or ``adapters/`` imports ``knowledge.sqlite`` or
``knowledge.postgres``: not at the top, not inside a function, not for type
checking only. Read from the source with :mod:`ast` (nothing is imported).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path

from tests.test_structure import ROOT, module_files

#: The backend packages: only knowledge/ (its opener, knowledge/backends.py, and
#: the modules whose SQL is one backend's) may import them.
BACKEND_PACKAGES = ("knowledge.sqlite", "knowledge.postgres")
#: The layers that talk to the storage interface only.
INTERFACE_ONLY = ("bot", "adapters")



def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement names (``from a import b``: ``a.b`` and ``a``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, node.module] if node.module else parts)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def _is_backend(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in BACKEND_PACKAGES)


def backend_imports(modules: Mapping[str, Path]) -> dict[str, list[str]]:
    """Each module's imports of a backend package, as ``line: name``."""
    found: dict[str, list[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                hits = [t for t in _targets(node, name, is_package) if _is_backend(t)]
                if hits:
                    found.setdefault(name, []).append(f"{node.lineno}: {hits[-1]}")
    return found


def test_bot_and_adapters_import_no_backend_package() -> None:
    found = backend_imports(module_files(ROOT, INTERFACE_ONLY))
    assert not found, (
        "bot/ and adapters/ import a backend package (type with knowledge.storage.Storage "
        f"or RelationalRepertoire; open with knowledge.backends): {found}"
    )


def test_the_checker_finds_every_way_of_importing_a_backend(tmp_path: Path) -> None:
    files = {
        "bot/__init__.py": "",
        "bot/top.py": "from knowledge.sqlite.repertoire import Repertoire\n",
        "bot/lazy.py": "def f():\n    from knowledge.postgres.url import is_postgres_url\n",
        "bot/typing_only.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import knowledge.sqlite.database\n"
        ),
        "bot/package.py": "from knowledge import postgres\n",
        "bot/clean.py": (
            "from knowledge.backends import open_storage\n"
            "from knowledge.storage import Storage\n"
            "from knowledge.sqlite_notes import x\n"  # a name that only starts the same way
        ),
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    assert backend_imports(module_files(tmp_path, ["bot"])) == {
        "bot.top": ["1: knowledge.sqlite.repertoire.Repertoire"],
        "bot.lazy": ["2: knowledge.postgres.url.is_postgres_url"],
        "bot.typing_only": ["3: knowledge.sqlite.database"],
        "bot.package": ["1: knowledge.postgres"],
    }
