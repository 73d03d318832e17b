"""The code's shape holds: no import cycles, and no module too long to read as one concern.

The import graph is read from the source with :mod:`ast` (nothing is imported),
imports under ``if TYPE_CHECKING:`` included: a cycle that only type hints
close is still two modules that cannot be understood apart. Only modules of
``adapters``, ``bot`` and ``knowledge`` count; a package's ``__init__`` is a
module of its own (``from knowledge.storage import Viewer`` depends on
``knowledge/storage/__init__.py``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("adapters", "bot", "knowledge")

#: A module longer than this usually holds two concerns (the design notes say ~400).
MAX_LINES = 450

#: Modules still over :data:`MAX_LINES` while they are being split by concern.
#: This list only shrinks: a module on it that fits now fails the test until it
#: is taken off, and nothing may be added to it.
STILL_TOO_LONG_BEING_SPLIT = frozenset({"knowledge/similar.py"})

#: Private names still imported from another module while knowledge/ is being split
#: (``importer: module.name``). This list only shrinks, as the one above.
STILL_IMPORTING_PRIVATE_NAMES: frozenset[str] = frozenset()

#: Packages without ``__all__`` while knowledge/ is being split (this list only shrinks).
STILL_WITHOUT_ALL = frozenset({"knowledge"})

#: A ticket reference: modules are cut by concern and say why, not which issue asked.
TICKET = re.compile(r"\b(?:issue|ticket)\s*#?\d+", re.IGNORECASE)


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of ``packages`` under ``root``, by dotted name."""
    modules: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement may resolve to (longest candidates first)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    # `from pkg import name` depends on pkg.name when that is a module, else on pkg.
    return [f"{target}.{alias.name}" for alias in node.names] + [target]


def import_graph(modules: Mapping[str, Path]) -> dict[str, set[str]]:
    """Which of ``modules`` each one imports, at run time or for type checking."""
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            candidates = _imported_names(node, name, is_package)
            if isinstance(node, ast.ImportFrom):
                found = [c for c in candidates[:-1] if c in modules]
                targets = found or [_owning_module(candidates[-1], modules)]
            else:
                targets = [_owning_module(c, modules) for c in candidates]
            graph[name].update(t for t in targets if t and t != name)
    return graph


def _owning_module(dotted: str, modules: Mapping[str, Path]) -> str:
    """The longest prefix of ``dotted`` that is one of ``modules`` ('' when none)."""
    while dotted and dotted not in modules:
        dotted = dotted.rpartition(".")[0]
    return dotted


def import_cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def _describe(cycle: list[str], graph: Mapping[str, set[str]]) -> str:
    edges = [f"{a} -> {b}" for a in cycle for b in sorted(graph[a]) if b in cycle]
    return "; ".join(edges)


def test_no_import_cycles() -> None:
    graph = import_graph(module_files(ROOT, PACKAGES))
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(c, graph) for c in cycles)


def _line_counts() -> dict[str, int]:
    return {
        path.relative_to(ROOT).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in module_files(ROOT, PACKAGES).values()
    }


def test_no_module_is_longer_than_one_concern() -> None:
    too_long = {
        name: lines
        for name, lines in _line_counts().items()
        if lines > MAX_LINES and name not in STILL_TOO_LONG_BEING_SPLIT
    }
    assert not too_long, f"modules over {MAX_LINES} lines (split them by concern): {too_long}"


def test_the_list_of_modules_being_split_only_shrinks() -> None:
    counts = _line_counts()
    done = sorted(n for n in STILL_TOO_LONG_BEING_SPLIT if counts.get(n, 0) <= MAX_LINES)
    assert not done, f"take these off STILL_TOO_LONG_BEING_SPLIT, they fit now: {done}"


def private_imports(modules: Mapping[str, Path]) -> set[str]:
    """``importer: module.name`` for each ``_name`` imported from another module."""
    found: set[str] = set()
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.add(f"{name}: {node.module}.{alias.name}")
    return found


def test_no_private_name_is_imported_from_another_module() -> None:
    found = private_imports(module_files(ROOT, PACKAGES))
    new = sorted(found - STILL_IMPORTING_PRIVATE_NAMES)
    assert not new, f"private names imported across modules (make them public or move): {new}"
    gone = sorted(STILL_IMPORTING_PRIVATE_NAMES - found)
    assert not gone, f"take these off STILL_IMPORTING_PRIVATE_NAMES, they are gone: {gone}"


def _declared_all(path: Path) -> list[str] | None:
    """The names a module's ``__all__`` lists, or ``None`` when it has none."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets: list[ast.expr]
        if isinstance(node, ast.AnnAssign):
            targets, value = [node.target], node.value
        elif isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        else:
            continue
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            assert isinstance(value, ast.List | ast.Tuple), f"{path}: __all__ is not a literal"
            return [str(ast.literal_eval(e)) for e in value.elts]
    return None


def test_every_package_says_what_it_exports() -> None:
    modules = module_files(ROOT, PACKAGES)
    packages = {name: path for name, path in modules.items() if path.name == "__init__.py"}
    missing = sorted(n for n, p in packages.items() if _declared_all(p) is None)
    assert missing == sorted(STILL_WITHOUT_ALL), f"packages without __all__: {missing}"
    for name, path in packages.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        defined = {
            target.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        } | {
            (alias.asname or alias.name).split(".")[0]
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        }
        for exported in _declared_all(path) or []:
            assert exported in defined or f"{name}.{exported}" in modules, (
                f"{name}.__all__ names {exported}, which is neither defined there nor a module"
            )


def test_no_ticket_numbers_in_code() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in module_files(ROOT, PACKAGES).values()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if TICKET.search(line)
    ]
    assert not found, "ticket numbers in code (say why instead):\n" + "\n".join(found)


# ------------------------------------------------------------ the checker finds what it should


def _write(root: Path, files: Mapping[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_finds_cycles_through_relative_type_only_and_package_imports(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "app/__init__.py": "from app.core import Core\n",
            "app/core.py": "from .hooks import Hook\n",
            "app/hooks.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from app.core import Core\n"
            ),
            "app/sub/__init__.py": "",
            "app/sub/a.py": "import app.sub.b\n",
            "app/sub/b.py": "from app.sub import a\n",
            "app/leaf.py": "from app import sub\nimport json\n",
            "app/user.py": "from app import Core\nfrom app.hooks import _private, __version__\n",
        },
    )
    graph = import_graph(module_files(tmp_path, ["app"]))
    assert graph["app.leaf"] == {"app.sub"}
    assert graph["app.user"] == {"app", "app.hooks"}
    assert import_cycles(graph) == [["app.core", "app.hooks"], ["app.sub.a", "app.sub.b"]]
    assert private_imports(module_files(tmp_path, ["app"])) == {"app.user: app.hooks._private"}


def test_the_checker_sees_no_cycle_in_a_one_way_chain(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "from app.b import x\n",
            "app/b.py": "from app.c import y\n",
            "app/c.py": "import os\n",
        },
    )
    graph = import_graph(module_files(tmp_path, ["app"]))
    assert graph["app.a"] == {"app.b"} and graph["app.b"] == {"app.c"}
    assert import_cycles(graph) == []
