"""One small PNG for a digest: questions and answers per day.

matplotlib is optional (``pip install copbot[charts]``): a digest without it
simply has no picture. The Agg backend draws to a file without a display, so
it works on a server and in tests.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from knowledge.private_folder import make_private_folder

log = logging.getLogger(__name__)

#: Inches at :data:`DPI`: a 600 x 240 pixel picture, a few tens of kilobytes.
SIZE = (6.0, 2.4)
DPI = 100


def charts_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def render_activity_chart(days: list[tuple[date, int, int]], path: Path, title: str) -> Path | None:
    """Draw questions and answers per day to ``path``; ``None`` without matplotlib or days."""
    if not days:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib.figure import Figure
    except ImportError:
        log.info("no chart: install copbot[charts] (matplotlib) to attach one to digests")
        return None
    figure = Figure(figsize=SIZE, dpi=DPI)
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    width = 0.4
    axes.bar([p - width / 2 for p in positions], [d[1] for d in days], width, label="questions")
    axes.bar([p + width / 2 for p in positions], [d[2] for d in days], width, label="answers")
    step = max(1, -(-len(days) // 8))  # at most eight date labels
    axes.set_xticks(positions[::step], [f"{d[0]:%d %b}" for d in days][::step], fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=7, frameon=False)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout()
    make_private_folder(path.parent)  # charts name private channels: every folder made is 0o700
    figure.savefig(path, format="png")
    return path
