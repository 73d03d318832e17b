"""The scale benchmark's harness at a tiny size: every figure is measured and reported.

Nothing here is timed: the figures' values depend on the machine. What can break is
the harness itself (a phase that stops running, a backend or a reference left out of
the table, a target that loses its row), so a 1k run on both backends must print
every target's row for both, and the raw FTS5 reference beside SQLite's. (The
semantic stage is left out: loading its model alone takes longer than the rest.)
"""

from __future__ import annotations

from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from bench.postgres_scale import conninfo_url
from bench.report import TARGETS
from bench.scale_run import main
from tests.postgres_cluster import PostgresServer


def test_a_tiny_run_reports_every_target_on_both_backends(
    tmp_path: Path, postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server = conninfo_url(postgres_server.admin_dsn)
    results = main(
        [
            "--sizes", "1k", "--data", str(tmp_path), "--db", server, "--refs", "fts5",
            "--replay-up-to", "0", "--live", "40", "--queries", "20", "--semantic-docs", "0",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    (result,) = results
    assert result["import"]["messages"] > 1_000
    assert result["postgres"]["import"]["messages"] == result["import"]["messages"]
    assert result["refs"]["fts5"]["live"]["messages"] == 40
    summary = out[out.index("## Targets at 1K") :]
    for target in TARGETS:
        rows = [line for line in summary.splitlines() if line.startswith(f"| {target.name} |")]
        assert [row.split(" | ")[1] for row in rows] == ["SQLite", "PostgreSQL"], target.name
        for row in rows:
            status = row.split(" | ")[3]
            assert status.startswith(("met", "missed")), row
        assert "raw FTS5: " in rows[0] and "SQLite: " in rows[1]


@pytest.mark.parametrize(
    "conninfo",
    [
        "host=/tmp/copbot-pg-x/socket user=postgres dbname=postgres",
        "host=db.example port=5433 user=bot dbname=copbot sslmode=require",
    ],
)
def test_a_conninfo_becomes_a_url_to_the_same_server(conninfo: str) -> None:
    assert conninfo_to_dict(conninfo_url(conninfo)) == conninfo_to_dict(conninfo)
