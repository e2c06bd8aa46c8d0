"""`kiosk sync` killed by SIGKILL at each moment of sending a batch, then restarted.

What the kill leaves is checked exactly (how many items the kiosk marked sent, how many
the portal holds), then a clean sync must deliver the rest with the portal's copies
answered as duplicates: exactly once, never lost (`crashkit.check_recovered`).
"""

from __future__ import annotations

import pytest

from tests.integration.crashkit import (
    SYNC,
    check_kiosk,
    check_recovered,
    kiosk_crashing,
    sent_count,
)
from tests.integration.synckit import Kiosk, queue_submissions

ITEMS = 12  # three batches of 5, 5 and 2
SLOW = pytest.mark.slow
# Every crash test of this file runs against a plain-http portal and a TLS one (test
# CA, pinned): exactly once holds over TLS too.
pytestmark = pytest.mark.parametrize("portal", ["http", "tls"], indirect=True)


# point -> (items the kiosk has marked sent, items at the portal) after a kill at batch n
SEND_POINTS = {
    "sync.batch_built": lambda n: (5 * (n - 1), 5 * (n - 1)),
    "sync.request_sent": lambda n: (5 * (n - 1), min(5 * n, ITEMS)),
    "sync.answer_read": lambda n: (5 * (n - 1), min(5 * n, ITEMS)),
    "sync.outcomes_committed": lambda n: (min(5 * n, ITEMS), min(5 * n, ITEMS)),
}


@pytest.mark.parametrize("nth", [1, pytest.param(2, marks=SLOW), pytest.param(3, marks=SLOW)])
@pytest.mark.parametrize("point", sorted(SEND_POINTS))
def test_sync_killed_while_sending(kiosk: Kiosk, point: str, nth: int) -> None:
    with kiosk.store() as store:
        queue_submissions(store, ITEMS)
    kiosk_crashing(kiosk, f"{point}:{nth}", *SYNC)
    kiosk_sent, portal_has = SEND_POINTS[point](nth)
    assert sent_count(kiosk) == kiosk_sent
    assert kiosk.portal_stats()["submissions"] == portal_has
    check_kiosk(kiosk)
    stats = check_recovered(kiosk)
    # The items the portal stored but the kiosk never heard of come back as duplicates.
    assert stats["duplicates"] == portal_has - kiosk_sent
