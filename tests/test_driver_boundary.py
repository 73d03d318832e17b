"""The database drivers stay in their backend packages, as the lint rule says.

``ruff`` runs in ``make test`` and CI, so the rule (TID251 in ``pyproject.toml``
and the ``ruff.toml`` of ``knowledge/`` and its backend packages) is what keeps
``sqlite3``, ``sqlite_utils`` and ``psycopg`` out of shared code. These tests
hold the rule itself: a module placed anywhere is judged by the configuration
ruff would use for that path, so a config edit that lifts the ban fails here.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")

pytestmark = pytest.mark.skipif(RUFF is None, reason="ruff is not installed (make dev)")

SQLITE = "import sqlite3\n\nimport sqlite_utils\n\nprint(sqlite3, sqlite_utils)\n"
SQLITE_SUBMODULE = "from sqlite_utils.migrations import Migrations\n\nprint(Migrations)\n"
POSTGRES = "import psycopg\nimport psycopg_pool\n\nprint(psycopg, psycopg_pool)\n"


def banned(path: str, source: str) -> set[str]:
    """The modules ruff reports as banned imports in ``source``, were it saved at ``path``."""
    assert RUFF is not None
    result = subprocess.run(
        [
            RUFF,
            "check",
            "--no-cache",
            "--output-format",
            "concise",
            "--select",
            "TID251",
            "--stdin-filename",
            path,
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    return set(re.findall(r"TID251 `([\w.]+)` is banned", result.stdout))


@pytest.mark.parametrize(
    "path",
    [
        "knowledge/new_module.py",
        "knowledge/relational/new_module.py",
        "knowledge/storage/new_module.py",
        "bot/new_module.py",
    ],
)
def test_shared_code_may_import_no_driver(path: str) -> None:
    assert banned(path, SQLITE) == {"sqlite3", "sqlite_utils"}
    assert banned(path, SQLITE_SUBMODULE) == {"sqlite_utils"}
    assert banned(path, POSTGRES) == {"psycopg", "psycopg_pool"}


def test_each_backend_imports_its_own_driver_only() -> None:
    assert banned("knowledge/sqlite/new_module.py", SQLITE) == set()
    assert banned("knowledge/sqlite/new_module.py", SQLITE_SUBMODULE) == set()
    assert banned("knowledge/sqlite/new_module.py", POSTGRES) == {"psycopg", "psycopg_pool"}
    assert banned("knowledge/postgres/new_module.py", POSTGRES) == set()
    assert banned("knowledge/postgres/new_module.py", SQLITE) == {"sqlite3", "sqlite_utils"}


def test_the_backends_keep_the_layering_bans() -> None:
    for package in ("sqlite", "postgres"):
        path = f"knowledge/{package}/new_module.py"
        assert banned(path, "import bot\nimport slack_bolt\n\nprint(bot, slack_bolt)\n") == {
            "bot",
            "slack_bolt",
        }


def test_exempt_modules_still_need_their_exemption() -> None:
    """A module listed as not yet moved still imports a driver (the list only shrinks)."""
    config = tomllib.loads((ROOT / "knowledge" / "ruff.toml").read_text(encoding="utf-8"))
    exempt = config["lint"].get("per-file-ignores", {})
    drivers = re.compile(r"^\s*(import|from)\s+(sqlite3|sqlite_utils|psycopg)\b", re.M)
    for name, rules in exempt.items():
        module = ROOT / "knowledge" / name
        assert module.is_file(), f"knowledge/ruff.toml exempts {name}, which does not exist"
        assert "TID251" in rules
        assert drivers.search(module.read_text(encoding="utf-8")), (
            f"knowledge/{name} imports no driver any more: drop it from knowledge/ruff.toml"
        )
