"""Mutation testing of the community's rules, one module at a time (``make mutate``).

mutmut changes one thing in the code (``<`` into ``<=``, a string, a number, a
dropped argument...) and runs the tests: a mutant the tests do not notice
("survived") is a rule no test guards. mutmut reads its settings from one
file and maps each function to the tests that call it, so to give every
module its own small test selection (``mutation.toml``) each module runs in
its own copy of the project under ``.mutants/<module>/``.

Survivors that no test can kill (the mutant behaves exactly like the code)
are listed in ``tests/MUTANTS.md`` with the reason, and reported apart.

Usage: ``python tools/mutate.py [MODULE ...] [--survivors] [--report] [--jobs N]``
(``--survivors`` re-runs only the last run's survivors, after adding tests;
``--report`` prints the last results without running anything).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "mutation.toml"
EQUIVALENT_LIST = ROOT / "tests" / "MUTANTS.md"
WORK = ROOT / ".mutants"
#: What a copy of the project needs for the tests to run.
COPIED = ("bot", "knowledge", "adapters", "tests", "pyproject.toml")
SOURCE_PACKAGES = ("bot", "knowledge", "adapters")
SURVIVING = {"survived", "no tests"}
#: Words that make a string SQL text (checked on its case-folded form).
SQL_MARKERS = re.compile(
    r"\b(select|insert|update|delete|where|from|join|order by|group by|pragma|count\(|lower\(|"
    r"ifnull\(|coalesce\(|exists)\b|= \?|\?\)|^\s*[a-z_]+\.[a-z_]+( (asc|desc))?\s*$|"
    r"excluded\.|\bset \w+ = |\b[a-z]\.\w+ (=|in|is|!=|<|>) "
)


#: Calls whose one-letter string argument is a SQL table alias.
SQL_ALIAS_CALL = re.compile(r"\b(visibility_clause|_between)\(")


def sql_case_only(diff: str) -> bool:
    """Whether a mutant only changes the letter case of SQL text outside its quoted literals.

    SQLite's keywords, identifiers and function names ignore case, so such a
    mutant cannot change behaviour; a change inside a 'quoted literal' can, and
    is not covered by this rule.
    """
    removed = [
        line[1:]
        for line in diff.splitlines()
        if line.startswith("-") and not line.startswith("---")
    ]
    added = [
        line[1:]
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    if len(removed) != 1 or len(added) != 1 or removed[0] == added[0]:
        return False
    before, after = removed[0], added[0]
    if before.casefold() != after.casefold():
        return False
    for literal in (r"'[^']*'", r"\{[^}]*\}"):  # quoted values and f-string fields keep case
        if re.findall(literal, before) != re.findall(literal, after):
            return False
    strings = re.findall(r'"([^"]*)"', before)
    changed = [s for s, t in zip(strings, re.findall(r'"([^"]*)"', after), strict=False) if s != t]
    # A one-letter table alias handed to a helper that writes SQL with it.
    alias = SQL_ALIAS_CALL.search(before) is not None
    return bool(changed) and all(
        SQL_MARKERS.search(s.casefold()) or (alias and re.fullmatch(r"[a-z]", s)) for s in changed
    )


@dataclass
class Outcome:
    module: str
    statuses: dict[str, str] = field(default_factory=dict)
    equivalent: set[str] = field(default_factory=set)
    #: Survivors that only change the case of SQL text (equivalent by rule, see tests/MUTANTS.md).
    sql_case: set[str] = field(default_factory=set)

    @property
    def ignored(self) -> set[str]:
        return self.equivalent | self.sql_case

    @property
    def survivors(self) -> list[str]:
        return sorted(
            name
            for name, status in self.statuses.items()
            if status in SURVIVING and name not in self.ignored
        )

    @property
    def counted(self) -> int:
        """Mutants that count: all of them but the equivalent ones."""
        return len([n for n in self.statuses if n not in self.ignored])

    @property
    def rate(self) -> float:
        return len(self.survivors) / self.counted if self.counted else 0.0

    def count(self, status: str) -> int:
        return sum(1 for s in self.statuses.values() if s == status)


def load_modules() -> list[tuple[str, list[str]]]:
    data = tomllib.loads(CONFIG.read_text("utf-8"))
    return [(m["path"], list(m["tests"])) for m in data["module"]]


def recorded_equivalents() -> set[str]:
    """Mutant names in backticks at the start of a table row of tests/MUTANTS.md."""
    if not EQUIVALENT_LIST.exists():
        return set()
    text = EQUIVALENT_LIST.read_text("utf-8")
    return set(re.findall(r"^\|\s*`([\w.]+__mutmut_\d+)`", text, flags=re.M))


def workdir_for(module: str) -> Path:
    return WORK / module.replace("/", "_").removesuffix(".py")


def prepare(module: str, tests: list[str], keep_results: bool) -> Path:
    """A fresh copy of the project with a mutmut config for ``module`` alone."""
    work = workdir_for(module)
    if not keep_results and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        source, target = ROOT / name, work / name
        if target.is_dir():
            shutil.rmtree(target)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    lines = ["[mutmut]", "source_paths ="]
    lines += [f"    {p}" for p in SOURCE_PACKAGES]
    lines += ["only_mutate =", f"    {module}", "pytest_add_cli_args_test_selection ="]
    lines += [f"    {t}" for t in tests]
    lines += ["pytest_add_cli_args =", "    -p", "    no:cacheprovider"]
    # mutmut's limit is CPU time, so a shared, busy machine does not make it fire early; a
    # mutant stuck in a loop is stopped after 4x its tests' CPU time (mutmut's default: 15x).
    lines += ["timeout_multiplier = 4.0"]
    (work / "setup.cfg").write_text("\n".join(lines) + "\n", "utf-8")
    return work


def mutmut(work: Path, *args: str, quiet: bool = False) -> str:
    exe = Path(sys.executable).with_name("mutmut")
    # tests/conftest.py's "mutation" hypothesis profile: a fixed seed (a kill is a kill every
    # run) and no shrinking (a kill needs no minimal counterexample).
    env = {**os.environ, "COPBOT_MUTATION": "1"}
    result = subprocess.run(
        [str(exe), *args],
        cwd=work,
        env=env,
        capture_output=quiet,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        if quiet:
            print(result.stdout[-4000:], result.stderr[-4000:], sep="\n")
        raise SystemExit(f"mutmut {' '.join(args)} failed in {work} (exit {result.returncode})")
    return result.stdout if quiet else ""


def statuses(work: Path) -> dict[str, str]:
    out = mutmut(work, "results", "--all", "true", quiet=True)
    found: dict[str, str] = {}
    for line in out.splitlines():
        name, sep, status = line.strip().partition(": ")
        if sep and "__mutmut_" in name:
            found[name] = status
    return found


def run_module(module: str, tests: list[str], args: argparse.Namespace) -> Outcome:
    print(f"\n=== {module}  (tests: {' '.join(tests)})", flush=True)
    equivalent = recorded_equivalents()
    if args.report:  # the last run's results, as they are
        work = workdir_for(module)
        if not (work / "mutants").exists():
            print("not run yet")
            return Outcome(module)
        return classify(work, Outcome(module, statuses(work), equivalent))
    work = prepare(module, tests, keep_results=args.survivors)
    names: list[str] = []
    if args.survivors:
        before = statuses(work) if (work / "mutants").exists() else {}
        names = [n for n, s in before.items() if s in SURVIVING and n not in equivalent]
        # SQL case changes cannot be killed: no need to run them again.
        names = [n for n, diff in diffs(work, names).items() if not sql_case_only(diff)]
        if not names:
            print("no survivors to re-run")
            return Outcome(module, before, equivalent)
    log = mutmut(work, "run", "--max-children", str(args.jobs), *names, quiet=True)
    # mutmut draws a spinner; keep its closing figures only.
    progress = re.findall(r"\d+/\d+ [^\u2800-\u28ff\n]*", log)
    speed = [line for line in log.splitlines() if "mutations/second" in line]
    print(*(progress[-1:] + speed[-1:]), sep="\n")
    return classify(work, Outcome(module, statuses(work), equivalent))


#: Every survivor's diff from one process (``mutmut show`` starts one per mutant, which takes
#: minutes for a module with many); the same function ``mutmut show`` calls (mutmut 3.8).
_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import get_diff_for_mutant
print(json.dumps({n: get_diff_for_mutant(n) for n in json.load(sys.stdin)}))
"""


def diffs(work: Path, names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    result = subprocess.run(
        [sys.executable, "-c", _DIFFS],
        cwd=work,
        input=json.dumps(names),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0:
        found: dict[str, str] = json.loads(result.stdout)
        return found
    return {name: mutmut(work, "show", name, quiet=True) for name in names}


def classify(work: Path, outcome: Outcome) -> Outcome:
    """Set the SQL-case survivors apart and print every other survivor's diff."""
    for name, diff in diffs(work, outcome.survivors).items():
        if sql_case_only(diff):
            outcome.sql_case.add(name)
        else:
            print(f"# {name}: {outcome.statuses[name]}\n{diff.rstrip()}")
    return outcome


def report(outcomes: list[Outcome]) -> str:
    rows = [
        f"{'module':<24} {'mutants':>7} {'killed':>6} {'timeout':>7} {'equiv.':>6} "
        f"{'surv.':>5} {'rate':>6}"
    ]
    total = survived = 0
    for o in outcomes:
        killed = o.count("killed") + o.count("caught by type check")
        equivalent = len([n for n in o.statuses if n in o.ignored])
        rows.append(
            f"{o.module:<24} {len(o.statuses):>7} {killed:>6} {o.count('timeout'):>7} "
            f"{equivalent:>6} {len(o.survivors):>5} {o.rate:>6.1%}"
        )
        total += o.counted
        survived += len(o.survivors)
    rate = survived / total if total else 0.0
    rows.append(f"{'all':<24} {'':>7} {'':>6} {'':>7} {'':>6} {survived:>5} {rate:>6.1%}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help="paths from mutation.toml (default: all)")
    parser.add_argument("--survivors", action="store_true", help="re-run last survivors only")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once")
    parser.add_argument("--report", action="store_true", help="only report the last results")
    args = parser.parse_args()
    modules = load_modules()
    if args.modules:
        unknown = set(args.modules) - {m for m, _ in modules}
        if unknown:
            raise SystemExit(f"not in {CONFIG.name}: {', '.join(sorted(unknown))}")
        tests_of = dict(modules)
        modules = [(m, tests_of[m]) for m in dict.fromkeys(args.modules)]  # in the order given
    outcomes = [run_module(module, tests, args) for module, tests in modules]
    summary = report(outcomes)
    print("\nSurvivors (not recorded as equivalent in tests/MUTANTS.md):")
    for o in outcomes:
        for name in o.survivors:
            print(f"  {name}: {o.statuses[name]}")
    print("\n" + summary)
    (WORK / "summary.txt").write_text(summary + "\n", "utf-8")


if __name__ == "__main__":
    main()
