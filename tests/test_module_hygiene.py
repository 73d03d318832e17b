"""Modules say what they offer, and nobody reaches for what another keeps to itself.

Every module of ``knowledge/`` declares its public names in ``__all__`` (ruff
checks that each listed name exists), and no module of the project imports a
``_private`` name from another one: a name that others need is public, under a
name that says what it is. Read from the source with :mod:`ast`; nothing is
imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("adapters", "bot", "knowledge", "tests")

#: Modules that others are reshaping right now, to get ``__all__`` once they land.
#: This list only shrinks: a module on it that declares ``__all__`` fails the test
#: until it is taken off, and nothing may be added to it.
ALL_STILL_TO_DECLARE = frozenset(
    {
        "knowledge/postgres/connection.py",
        "knowledge/postgres/filters.py",
        "knowledge/postgres/ranking.py",
        "knowledge/postgres/termstats.py",
        "knowledge/search.py",
        "knowledge/similar.py",
    }
)


def declares_all(source: str) -> bool:
    """Whether the module's top level assigns ``__all__``."""
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            return True
    return False


def private_imports(source: str) -> list[str]:
    """``from project.module import _name`` and ``module._name`` on an imported project module."""
    tree = ast.parse(source)
    found: list[str] = []
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in PROJECT:
                continue
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in PROJECT and alias.asname:
                    modules.add(alias.asname)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.value.id[:1].islower()
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_the_checks_find_what_they_look_for() -> None:
    assert declares_all('__all__ = ["a"]\n')
    assert declares_all("__all__: list[str] = []\n")
    assert not declares_all('def f() -> None:\n    __all__ = ["a"]\n')
    assert private_imports("from knowledge.search import _boost_sql\n")
    assert private_imports("from knowledge import expertise\nexpertise._topic_roots(r, q, v)\n")
    assert not private_imports("from collections import _chain\n")  # not the project's
    assert not private_imports("from knowledge.search import boost_sql\n")
    assert not private_imports("from knowledge import models\nmodels.__name__\n")


def test_every_knowledge_module_declares_all() -> None:
    missing = {
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "knowledge").rglob("*.py"))
        if not declares_all(path.read_text(encoding="utf-8"))
    }
    assert sorted(missing - ALL_STILL_TO_DECLARE) == [], "add __all__ (the public names) to these"
    done = sorted(ALL_STILL_TO_DECLARE - missing)
    assert done == [], "these declare __all__ now: take them off ALL_STILL_TO_DECLARE"


#: Modules whose private import another branch removes (bot/ by concern); only shrinks.
PRIVATE_IMPORTS_BEING_REMOVED = frozenset({"tests/test_import_export.py"})


def test_no_private_name_is_imported_across_modules() -> None:
    offenders = {}
    for package in PROJECT:
        for path in sorted((ROOT / package).rglob("*.py")):
            found = private_imports(path.read_text(encoding="utf-8"))
            if found:
                offenders[str(path.relative_to(ROOT))] = found
    assert sorted(set(offenders) - PRIVATE_IMPORTS_BEING_REMOVED) == [], offenders
    done = sorted(PRIVATE_IMPORTS_BEING_REMOVED - set(offenders))
    assert done == [], "these import no private name now: take them off the list"
