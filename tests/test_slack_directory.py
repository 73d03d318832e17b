# ruff: noqa: F811  (pytest fixtures are imported from the harness by name)
"""Names and channels Slack tells us, cached with an expiry, failures cached too."""

from __future__ import annotations

import pytest

from adapters.slack.adapter import make_client
from adapters.slack.directory import NAME_SECONDS, RETRY_FAILED_LOOKUP_SECONDS, SlackDirectory
from tests.slack_harness import USERS, FakeSlackApi, fake_slack  # noqa: F401


def directory(fake: FakeSlackApi, now: list[float]) -> SlackDirectory:
    return SlackDirectory(make_client("xoxb-test", f"{fake.url}/api/"), clock=lambda: now[0])


async def test_display_names_are_asked_once_then_again_after_they_expire(
    fake_slack: FakeSlackApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [0.0]
    names = directory(fake_slack, now)
    assert await names.display_name("U0ASK") == "Ada Asker"
    assert await names.display_name("U0ASK") == "Ada Asker"
    assert fake_slack.attempts("users.info") == 1
    monkeypatch.setitem(USERS, "U0ASK", "Ada Lovelace")  # renamed meanwhile
    assert await names.display_name("U0ASK") == "Ada Asker"  # still trusted ...
    now[0] += NAME_SECONDS + 1
    assert await names.display_name("U0ASK") == "Ada Lovelace"  # ... until it expires
    assert fake_slack.attempts("users.info") == 2


async def test_a_failed_lookup_is_remembered_for_a_while(fake_slack: FakeSlackApi) -> None:
    now = [0.0]
    names = directory(fake_slack, now)
    fake_slack.errors["users.info"] = "missing_scope"
    for _ in range(5):
        assert await names.display_name("U0ASK") == ""
        assert names.known_handles(["U0ASK"]) == {}
    assert fake_slack.attempts("users.info") == 1  # not one call per message
    del fake_slack.errors["users.info"]  # the scope was granted
    now[0] += RETRY_FAILED_LOOKUP_SECONDS + 1
    assert await names.display_name("U0ASK") == "Ada Asker"
    assert fake_slack.attempts("users.info") == 2
