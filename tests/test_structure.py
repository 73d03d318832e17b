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
STILL_TOO_LONG_BEING_SPLIT: frozenset[str] = frozenset()

#: Private names still imported from another module while knowledge/ is being split
#: (``importer: module.name``). This list only shrinks, as the one above.
STILL_IMPORTING_PRIVATE_NAMES: frozenset[str] = frozenset()

#: Packages without ``__all__`` (this list only shrinks).
STILL_WITHOUT_ALL: frozenset[str] = frozenset()

#: Modules of knowledge/ that others are reshaping right now, to declare ``__all__``
#: once they land (every other module of knowledge/ does). This list only shrinks.
KNOWLEDGE_MODULES_WITHOUT_ALL = frozenset(
    {
        "knowledge/postgres/connection.py",
        "knowledge/postgres/filters.py",
        "knowledge/postgres/ranking.py",
        "knowledge/postgres/termstats.py",
    }
)

#: A run of this many code lines written twice is logic to name once.
REPEATED_LINES = 6

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
    """``importer: module.name`` for each ``_name`` taken from another of ``modules``' packages.

    Imported by name (``from knowledge.search import _boost_sql``) or reached
    through an imported module (``expertise._topic_roots(...)``).
    """
    project = {name.split(".")[0] for name in modules}
    found: set[str] = set()
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported_modules: dict[str, str] = {}
        for node in ast.walk(tree):
            if not isinstance(node, ast.ImportFrom) or not node.module or node.level:
                continue
            if node.module.split(".")[0] not in project:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.add(f"{name}: {node.module}.{alias.name}")
                elif alias.name[:1].islower():
                    imported_modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in imported_modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                found.add(f"{name}: {imported_modules[node.value.id]}.{node.attr}")
    return found


def test_no_private_name_is_imported_from_another_module() -> None:
    found = private_imports(module_files(ROOT, (*PACKAGES, "tests")))
    new = sorted(found - STILL_IMPORTING_PRIVATE_NAMES)
    assert not new, f"private names imported across modules (make them public or move): {new}"
    gone = sorted(STILL_IMPORTING_PRIVATE_NAMES - found)
    assert not gone, f"take these off STILL_IMPORTING_PRIVATE_NAMES, they are gone: {gone}"


def test_the_private_name_checker_finds_both_ways_of_reaching_in(tmp_path: Path) -> None:
    (tmp_path / "knowledge").mkdir()
    reach = tmp_path / "knowledge" / "reach.py"
    reach.write_text(
        "from knowledge.search import _boost_sql\n"
        "from knowledge import expertise\n"
        "from collections import _chain\n"  # not the project's
        "expertise._topic_roots(1)\n"
        "expertise.__name__\n"
    )
    assert private_imports({"knowledge.reach": reach}) == {
        "knowledge.reach: knowledge.search._boost_sql",
        "knowledge.reach: knowledge.expertise._topic_roots",
    }


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


def test_every_module_of_knowledge_says_what_it_exports() -> None:
    """The repertoire's modules are used from bot/, adapters/ and each other: each names its API."""
    missing = {
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "knowledge").rglob("*.py"))
        if _declared_all(path) is None
    }
    new = sorted(missing - KNOWLEDGE_MODULES_WITHOUT_ALL)
    assert not new, f"modules without __all__ (list their public names): {new}"
    done = sorted(KNOWLEDGE_MODULES_WITHOUT_ALL - missing)
    assert not done, f"take these off KNOWLEDGE_MODULES_WITHOUT_ALL, they declare it now: {done}"


def test_error_texts_for_members_live_in_one_module() -> None:
    """A ``UserError`` or ``UsageError`` says a text from :mod:`bot.messages`, never a literal."""
    literal: list[str] = []
    for name, path in module_files(ROOT, ["bot"]).items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"UserError", "UsageError"}
                and node.args
                and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
            ):
                literal.append(f"{name}:{node.lineno}")
    assert not literal, f"error texts written in place (put them in bot/messages.py): {literal}"


def _code_lines(path: Path) -> list[tuple[int, str]]:
    """The lines that carry logic: no imports, docstrings, comments, signatures, lone brackets."""
    text = path.read_text(encoding="utf-8")
    skipped: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import | ast.ImportFrom):
            skipped.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # A signature repeats by design: a Protocol and its implementations.
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            skipped.update(range(start, node.body[0].lineno))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                skipped.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if number not in skipped
        and line.strip()
        and not line.strip().startswith("#")
        and line.strip() not in {")", "]", "}", "),", "],", "},", "else:", "try:", "finally:"}
    ]


def repeated_runs(
    root: Path, modules: Mapping[str, Path], size: int
) -> dict[tuple[str, ...], list[str]]:
    """Every run of ``size`` code lines found in more than one place, with where."""
    places: dict[tuple[str, ...], list[str]] = {}
    for path in modules.values():
        lines = _code_lines(path)
        for start in range(len(lines) - size + 1):
            run = tuple(line for _, line in lines[start : start + size])
            places.setdefault(run, []).append(f"{path.relative_to(root)}:{lines[start][0]}")
    return {run: where for run, where in places.items() if len(where) > 1}


def test_no_logic_is_written_twice() -> None:
    repeated = repeated_runs(ROOT, module_files(ROOT, PACKAGES), REPEATED_LINES)
    assert not repeated, f"{REPEATED_LINES} or more lines written twice (name them once): " + (
        "; ".join(", ".join(where) for where in repeated.values())
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


def test_the_repetition_finder_sees_logic_not_signatures(tmp_path: Path) -> None:
    body = "".join(f"    total += {n}\n" for n in range(6))
    signature = "def {name}(\n" + "".join(f"    arg{n}: int,\n" for n in range(8)) + ") -> int:\n"
    _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": signature.format(name="a") + "    total = 0\n" + body + "    return 1\n",
            "app/b.py": signature.format(name="b") + "    total = 1\n" + body + "    return 2\n",
            "app/c.py": signature.format(name="c") + '    """Doc."""\n    return 3\n',
        },
    )
    repeated = repeated_runs(tmp_path, module_files(tmp_path, ["app"]), 6)
    assert list(repeated.values()) == [["app/a.py:12", "app/b.py:12"]]  # the body, once


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
