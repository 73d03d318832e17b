"""The scale benchmark's tables: every figure per size, then the targets at the largest size.

Each figure is given in wall-clock time and in CPU time: the machine is shared,
so wall figures swing with the load while CPU figures say what the code costs.
A target is "met" when both meet it, "met in CPU time" when only the CPU
figure does (the wall one lost to the load), else "missed". Ratios to the
reference engines are ratios of *time* (a rate's ratio is the engine's rate
over copbot's): above 1 copbot is slower.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["TARGETS", "Target", "print_report", "summary_rows"]

Pair = tuple[float, float]  # (wall, CPU)


@dataclass(frozen=True)
class Target:
    """One of the scale targets: a figure, its bound, and which way is better."""

    key: str
    name: str
    bound: float
    higher_is_better: bool
    unit: str

    def meets(self, value: float) -> bool:
        return value >= self.bound if self.higher_is_better else value <= self.bound

    def status(self, figure: Pair) -> str:
        wall, cpu = figure
        if self.meets(wall) and self.meets(cpu):
            return "met"
        if self.meets(cpu):
            return "met in CPU time (wall missed)"
        return "missed"

    def time_ratio(self, ours: Pair, reference: Pair) -> Pair:
        """copbot's time over the reference's, wall and CPU (above 1: copbot is slower)."""

        def one(a: float, b: float) -> float:
            if not a or not b:
                return float("nan")
            return b / a if self.higher_is_better else a / b

        return one(ours[0], reference[0]), one(ours[1], reference[1])


TARGETS = (
    Target("import", "import (set-wise), msg/s", 50_000, True, "msg/s"),
    Target("live", "live capture, hooks on, group commit, msg/s", 5_000, True, "msg/s"),
    Target("keyword", "keyword search p99, ms", 10, False, "ms"),
    Target("similar", "similar question p99 (find_similar), ms", 25, False, "ms"),
    Target("rss", "search process peak RSS, MB", 200, False, "MB"),
)
SEMANTIC = Target("semantic", "semantic stage, docs/s", 500, True, "docs/s")
#: The issue's aim for copbot against raw FTS5, on import and search (time ratio, CPU).
FTS5_AIM = 1.5


def _p99(search: dict[str, Any], kind: str) -> Pair:
    return search[kind]["p99_ms"], search.get(f"{kind}_cpu", search[kind])["p99_ms"]


def copbot_figure(backend: dict[str, Any], key: str) -> Pair | None:
    """``key``'s (wall, CPU) figure from one backend's results, or ``None`` if not measured."""
    getters: dict[str, Callable[[dict[str, Any]], Pair]] = {
        "import": lambda b: (b["import"]["rate"], b["import"]["cpu_rate"]),
        "live": lambda b: (
            b["live_grouped"]["capture_rate"],
            b["live_grouped"]["capture_cpu_rate"],
        ),
        "keyword": lambda b: _p99(b["search"], "keyword"),
        "similar": lambda b: _p99(b["search"], "similar"),
        "rss": lambda b: (b["search"]["peak_rss_mb"], b["search"]["peak_rss_mb"]),
    }
    try:
        return getters[key](backend)
    except KeyError:
        return None


def fts5_figure(fts5: dict[str, Any], key: str) -> Pair | None:
    """The raw FTS5 reference's (wall, CPU) figure beside copbot's ``key``."""
    getters: dict[str, Callable[[dict[str, Any]], Pair]] = {
        "import": lambda f: (f["index_rate"], f["index_cpu_rate"]),
        "live": lambda f: (
            f["live"]["one_transaction"]["rate"],
            f["live"]["one_transaction"]["cpu_rate"],
        ),
        "keyword": lambda f: (f["keyword_wall"]["p99_ms"], f["keyword"]["p99_ms"]),
        "similar": lambda f: (f["similar_wall"]["p99_ms"], f["similar"]["p99_ms"]),
        "rss": lambda f: (f["peak_rss_mb"], f["peak_rss_mb"]),
    }
    try:
        return getters[key](fts5)
    except KeyError:
        return None


def _num(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "-"
    if unit == "ms":
        return f"{value:.2f}"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _pair(figure: Pair | None, unit: str) -> str:
    if figure is None:
        return "-"
    wall, cpu = figure
    if unit == "MB":
        return _num(wall, unit)
    return f"{_num(wall, unit)} ({_num(cpu, unit)})"


def _ratio(ratio: Pair) -> str:
    def one(r: float) -> str:
        return "-" if r != r else f"{r:.2f}×"

    return f"{one(ratio[0])}, {one(ratio[1])}"


def _backends(result: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = [("SQLite", result)]
    pg = result.get("postgres")
    if isinstance(pg, dict) and "skipped" not in pg:
        out.append(("PostgreSQL", pg))
    return out


def summary_rows(result: dict[str, Any], semantic: dict[str, Any] | None) -> list[list[str]]:
    """The targets at one size: a row per target and backend (the table's cells)."""
    rows: list[list[str]] = []
    fts5 = result.get("refs", {}).get("fts5", {})
    backends = _backends(result)
    for target in TARGETS:
        for name, backend in backends:
            ours = copbot_figure(backend, target.key)
            if ours is None:
                continue
            if name == "SQLite":
                ref, ref_name = fts5_figure(fts5, target.key), "raw FTS5"
            else:
                ref, ref_name = copbot_figure(result, target.key), "SQLite"
            ratio = target.time_ratio(ours, ref) if ref else (float("nan"),) * 2
            status = target.status(ours)
            if name == "PostgreSQL" and target.key in ("keyword", "similar"):
                # Its CPU figure is the client's alone: judged and compared on wall time.
                status = target.status((ours[0], ours[0])) + " (wall; CPU is the client's)"
                ratio = (ratio[0], float("nan"))
            aim = "-"
            if name == "SQLite" and ref and target.key in ("import", "keyword", "similar"):
                aim = "yes" if ratio[1] <= FTS5_AIM else "no"
            rows.append(
                [
                    target.name,
                    name,
                    _pair(ours, target.unit),
                    status,
                    f"{ref_name}: {_pair(ref, target.unit)}" + _live_note(fts5, target, name),
                    _ratio((ratio[0], ratio[1])),
                    aim,
                ]
            )
    if semantic is not None:
        rows.append(semantic_row(semantic))
    return rows


def _live_note(fts5: dict[str, Any], target: Target, backend: str) -> str:
    """Raw FTS5's live rate with a transaction per message, beside its one-transaction floor."""
    if target.key != "live" or backend != "SQLite" or "live" not in fts5:
        return ""
    each = fts5["live"]["one_by_one"]
    each_rate = _pair((each["rate"], each["cpu_rate"]), "msg/s")
    return f" in one transaction, {each_rate} with a transaction each"


def semantic_row(semantic: dict[str, Any]) -> list[str]:
    """The semantic stage's row: its docs/s, the 1M projection, the model alone beside it."""
    if "skipped" in semantic:
        return [SEMANTIC.name, "-", "skipped", semantic["skipped"], "-", "-", "-"]
    # The model runs on every core: its CPU figure is docs per CPU second times the cores
    # (what it does with the machine to itself), when the bench gives it.
    figure = (
        semantic["docs_per_s"],
        semantic.get("docs_per_s_all_cores", semantic["docs_per_cpu_s"]),
    )
    projected = f"1M messages in {semantic.get('projected_1M_messages_hours')} h"
    if "projected_1M_messages_cpu_hours" in semantic:
        projected += f" ({semantic['projected_1M_messages_cpu_hours']} CPU-hours)"
    return [
        SEMANTIC.name,
        "SQLite",
        f"{semantic['model']}: {_pair(figure, SEMANTIC.unit)}"
        + (" (all cores, from CPU time)" if "docs_per_s_all_cores" in semantic else "")
        + f"; {projected}",
        SEMANTIC.status(figure),
        f"model alone: {semantic['reference_docs_per_s']:,.1f}",
        f"{semantic['reference_docs_per_s'] / figure[0]:.2f}× (wall)" if figure[0] else "-",
        "-",
    ]


def _table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _ms(p: dict[str, float]) -> str:
    return f"{p['median_ms']:.2f} / {p['p99_ms']:.2f}"


def _ms_pair(search: dict[str, Any], kind: str) -> str:
    wall = search[kind]
    cpu = search.get(f"{kind}_cpu", wall)
    return f"{_ms(wall)} ({_ms(cpu)})"


def _rate(figures: dict[str, Any] | None, wall: str = "rate", cpu: str = "cpu_rate") -> str:
    if not figures:
        return "-"
    return f"{figures[wall]:,.0f} ({figures[cpu]:,.0f})"


def copbot_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        for name, b in _backends(r):
            s, grouped = b["search"], b.get("live_grouped")
            rows.append(
                [
                    r["size"].upper(),
                    name,
                    f"{b['import']['messages']:,}",
                    _rate(b["import"]),
                    _rate(b.get("import_replay")),
                    f"{b['import']['db_mb']:,.0f}",
                    _ms_pair(s, "keyword"),
                    _ms_pair(s, "similar"),
                    f"{s.get('similar_finds_itself', 0):.1%}",
                    _rate(b.get("live")),
                    _rate(grouped, "capture_rate", "capture_cpu_rate") + "; " + _rate(grouped),
                    f"{s['peak_rss_mb']:.0f}",
                ]
            )
    return rows


def reference_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        ours_import = r["import"]["cpu_rate"]
        ours_kw = r["search"].get("keyword_cpu", r["search"]["keyword"])["p99_ms"]
        ours_sim = r["search"].get("similar_cpu", r["search"]["similar"])["p99_ms"]
        for name, ref in r.get("refs", {}).items():
            if "skipped" in ref:
                rows.append([r["size"].upper(), name, f"skipped: {ref['skipped']}"] + ["-"] * 5)
                continue
            live = ref.get("live")
            rows.append(
                [
                    r["size"].upper(),
                    name,
                    _rate(ref, "index_rate", "index_cpu_rate"),
                    (f"{_ms(ref['keyword_wall'])} " if "keyword_wall" in ref else "")
                    + f"({_ms(ref['keyword'])})",
                    (f"{_ms(ref['similar_wall'])} " if "similar_wall" in ref else "")
                    + f"({_ms(ref['similar'])})",
                    f"{ref['peak_rss_mb']:.0f}" if "peak_rss_mb" in ref else "-",
                    (_rate(live["one_by_one"]) + "; " + _rate(live["one_transaction"]))
                    if live
                    else "-",
                    f"{ref['index_cpu_rate'] / ours_import:.1f}×, "
                    f"{ours_kw / ref['keyword']['p99_ms']:.1f}×, "
                    f"{ours_sim / ref['similar']['p99_ms']:.1f}×",
                ]
            )
    return rows


def print_report(results: list[dict[str, Any]], semantic: dict[str, Any] | None) -> None:
    """Every figure per size and backend, the references, then the targets at the largest size."""
    print("\n## copbot (wall clock, CPU time in parentheses)\n")
    _table(
        [
            "size",
            "backend",
            "messages",
            "import set-wise msg/s",
            "one by one msg/s",
            "DB MB",
            "keyword p50 / p99 ms",
            "similar p50 / p99 ms",
            "finds itself",
            "live one by one msg/s",
            "live group commit msg/s: captured; all answered",
            "search RSS MB",
        ],
        copbot_rows(results),
    )
    for r in results:
        pg = r.get("postgres")
        if isinstance(pg, dict) and "skipped" in pg:
            print(f"\n[{r['size']}] PostgreSQL skipped: {pg['skipped']}")
    if any("refs" in r for r in results):
        print("\n## Reference engines, same documents and queries (CPU time; raw FTS5 wall too)\n")
        _table(
            [
                "size",
                "engine",
                "index msg/s",
                "keyword p50 / p99 ms",
                "similar p50 / p99 ms",
                "search RSS MB",
                "live msg/s: a transaction each; one for all",
                "copbot time ÷ engine's (CPU): import, keyword p99, similar p99",
            ],
            reference_rows(results),
        )
    if semantic is not None and "skipped" in semantic:
        print(f"\nsemantic stage skipped: {semantic['skipped']}")
    if not results:
        return
    largest = results[-1]
    print(
        f"\n## Targets at {largest['size'].upper()} (figure: wall (CPU); PostgreSQL CPU is "
        "client + server for import and live, the client's for search; ratios are time "
        "ratios, wall, CPU)\n"
    )
    _table(
        [
            "target",
            "backend",
            "figure",
            "status",
            "reference",
            "÷ reference (wall, CPU)",
            f"within {FTS5_AIM}× raw FTS5 (CPU)",
        ],
        summary_rows(largest, semantic),
    )
