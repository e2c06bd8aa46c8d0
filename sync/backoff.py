"""The retry policy of the sync engine: how long an item waits before the next attempt.

The schedule itself lives in the outbox rows (`kiosk.outbox`), so a restarted kiosk
resumes it; this module only says how far ahead to put the next attempt.
"""

from __future__ import annotations

import random

from kiosk.outbox import Delay

BASE_DELAY = 2.0  # seconds before the first retry
MAX_DELAY = 15 * 60.0  # backoff cap
MAX_RETRY_AFTER = 6 * 3600.0  # a Retry-After beyond this is treated as this


def backoff_delay(attempts: int, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Exponential with 'equal jitter': half fixed, half random, so kiosks desynchronise."""
    # The exponent is bounded so a row retried for weeks cannot overflow a float.
    delay = min(cap, base * 2.0 ** min(max(0, attempts - 1), 40))
    return delay / 2 + random.uniform(0, delay / 2)


def retry_delay(
    retry_after: float | None = None, base: float = BASE_DELAY, cap: float = MAX_DELAY
) -> Delay:
    """The portal's Retry-After (bounded) when it gave one, else the backoff."""
    if retry_after is not None:
        bounded = min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        return lambda _attempts: bounded
    return lambda attempts: backoff_delay(attempts, base, cap)
