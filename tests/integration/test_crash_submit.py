"""The kiosk killed by SIGKILL while saving drafts and submitting, then restarted.

Each test arms one point (`KIOSK_CRASH_AT=point:nth`), proves the process died there,
checks the exact state the kill must leave, then restarts and checks the four things:
every acknowledged submission reaches the portal exactly once, `integrity_check`,
`kiosk audit verify`, and a consistent outbox (`crashkit.check_recovered`).
"""

from __future__ import annotations

import pytest

from tests.integration.crashkit import (
    check_kiosk,
    check_recovered,
    drafts,
    submit_cleanly,
    submit_until_killed,
)
from tests.integration.synckit import Kiosk


@pytest.mark.parametrize("nth", [1, 2, 5])
def test_killed_before_submit_commits(kiosk: Kiosk, nth: int) -> None:
    acked = submit_until_killed(kiosk, f"submit.before_commit:{nth}", 8)
    assert len(acked) == nth - 1
    rows = check_kiosk(kiosk, acked)
    assert len(rows) == nth - 1  # the nth submit left nothing behind...
    (left,) = drafts(kiosk)  # ...but its draft, with the answers, for a retry
    assert left["answers"] == {"full_name": f"Aliyev Vali {nth - 1}", "n": nth - 1}
    acked += submit_cleanly(kiosk, 2)  # the kiosk goes on: codes continue, none reused
    check_recovered(kiosk, acked)


@pytest.mark.parametrize("nth", [1, 2, 5])
def test_killed_after_submit_commits(kiosk: Kiosk, nth: int) -> None:
    acked = submit_until_killed(kiosk, f"submit.after_commit:{nth}", 8)
    assert len(acked) == nth - 1
    rows = check_kiosk(kiosk, acked)
    assert len(rows) == nth  # committed though never acknowledged: it is sent like the rest
    assert drafts(kiosk) == []  # its draft went in the same transaction
    acked += submit_cleanly(kiosk, 2)
    check_recovered(kiosk, acked)


@pytest.mark.parametrize("nth", [1, 3])
def test_killed_before_a_draft_commits(kiosk: Kiosk, nth: int) -> None:
    acked = submit_until_killed(kiosk, f"draft.before_commit:{nth}", 8)
    assert len(acked) == nth - 1
    assert len(check_kiosk(kiosk, acked)) == nth - 1
    assert drafts(kiosk) == []
    check_recovered(kiosk, acked)


@pytest.mark.parametrize("nth", [1, 3])
def test_killed_after_a_draft_commits(kiosk: Kiosk, nth: int) -> None:
    acked = submit_until_killed(kiosk, f"draft.after_commit:{nth}", 8)
    assert len(acked) == nth - 1
    assert len(check_kiosk(kiosk, acked)) == nth - 1
    (left,) = drafts(kiosk)  # saved: a power cut here resumes with the answers
    assert left["answers"] == {"full_name": f"Aliyev Vali {nth - 1}", "n": nth - 1}
    check_recovered(kiosk, acked)
