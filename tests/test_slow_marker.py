"""The suite's own settings: long variants are skipped unless ``--runslow``, no deadlines.

The hooks under test are the suite's own (imported from ``tests/conftest.py``
into the inner run), not a copy.
"""

from __future__ import annotations

import pytest

pytest_plugins = ("pytester",)

_CONFTEST = """
from tests.conftest import pytest_addoption, pytest_collection_modifyitems
"""

_TESTS = """
import pytest

def test_quick():
    pass

@pytest.mark.slow
def test_long():
    pass

@pytest.mark.parametrize("size", [1, pytest.param(1000, marks=pytest.mark.slow)])
def test_sized(size):
    pass
"""


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makeconftest(_CONFTEST)
    pytester.makepyfile(test_long_variants=_TESTS)
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "markers =\n    slow: long variants\n"
    )
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-rs", *args)


def test_long_variants_are_skipped_by_default_and_say_how_to_run_them(
    pytester: pytest.Pytester,
) -> None:
    result = _run(pytester)
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(["*a long variant: run with --runslow*"])


def test_runslow_runs_them(pytester: pytest.Pytester) -> None:
    _run(pytester, "--runslow").assert_outcomes(passed=4)


def test_property_tests_have_no_deadline() -> None:
    # Hypothesis's default deadline (200 ms of wall time per example) failed examples that
    # a loaded machine preempted, as "Flaky" when their re-run was quick: the suite's
    # profiles (tests/conftest.py) turn it off, and speed is bench/'s business.
    from hypothesis import settings

    profile = settings.default
    assert profile is not None and profile.deadline is None
