"""``make mutate`` sets apart, as equivalent by rule, only mutants that cannot change behaviour:
a letter-case change of SQL text outside its quoted literals (SQLite ignores that case)."""

from __future__ import annotations

import pytest

from tools.mutate import sql_case_only


def _diff(before: str, after: str) -> str:
    return f"--- a\n+++ b\n@@ -1 +1 @@\n-{before}\n+{after}\n"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('    "WHERE platform = ? AND user_id = ?",', '    "where platform = ? and user_id = ?",'),
        (
            '    "SELECT id FROM digest_log WHERE a = ?",',
            '    "SELECT ID FROM DIGEST_LOG WHERE A = ?",',
        ),
        (
            '    rows = list_entries(w, p, "e.created_at DESC", 5)',
            '    rows = list_entries(w, p, "E.CREATED_AT DESC", 5)',
        ),
        (
            "    \"claimed_at) VALUES (?, ?, 'claimed', ?)\",",
            "    \"claimed_at) values (?, ?, 'claimed', ?)\",",
        ),
        (
            '    period, params = _between("e", start, end)',
            '    period, params = _between("E", start, end)',
        ),
        (
            '    "SET present = excluded.present, n = 1 "',
            '    "set present = excluded.present, n = 1 "',
        ),
        (
            '    "AND r.channel = a.channel AND r.x = a.y "',
            '    "AND R.CHANNEL = A.CHANNEL AND R.X = A.Y "',
        ),
    ],
)
def test_sql_case_changes_are_equivalent(before: str, after: str) -> None:
    assert sql_case_only(_diff(before, after))


@pytest.mark.parametrize(
    ("before", "after"),
    [
        # A quoted value's case matters: 'knowhow' is not 'KNOWHOW'.
        (
            "    where = \"e.kind = 'knowhow' AND e.x = ?\"",
            "    where = \"E.KIND = 'KNOWHOW' AND E.X = ?\"",
        ),
        # Words a member reads are not SQL.
        (
            '    raise UserError("No member called that.")',
            '    raise UserError("NO MEMBER CALLED THAT.")',
        ),
        # Not a case change at all.
        ('    "WHERE a = ?",', '    "XXWHERE a = ?XX",'),
        # A one-letter string that is no table alias.
        ('    sep = "a"', '    sep = "A"'),
    ],
)
def test_everything_else_still_counts(before: str, after: str) -> None:
    assert not sql_case_only(_diff(before, after))


def test_a_change_over_several_lines_still_counts() -> None:
    diff = '-    "WHERE a = ?"\n-    "AND b = ?"\n+    "where a = ?"\n+    "and b = ?"\n'
    assert not sql_case_only(diff)
