"""Named hold points: pause the portal at an exact moment until a test lets it go.

Crash points (`kiosk.crashpoints`) kill a process at a named moment; a hold point
stops one request there instead, so a test can prove what happens *meanwhile* in the
order of events, not of a timer: the bundle test holds the worker thread inside
bundle processing and asks `/health`, which must answer while the bundle is held.

``KIOSK_HOLD_AT=<point>:<folder>``: the first time the code passes
``hold_point("<point>")`` it creates ``<folder>/<point>.reached`` and waits until
``<folder>/<point>.release`` exists (for at most `MAX_HOLD` seconds, so a test that
forgets cannot leave a portal stuck). Off, one dictionary look-up per call.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

ENV = "KIOSK_HOLD_AT"
MAX_HOLD = 300.0

POINTS: dict[str, str] = {
    "portal.batch_received": "a batch body read, in the worker thread, nothing decompressed",
    "portal.bundle_received": "a bundle file read, in the worker thread, nothing checked",
}

_held: set[str] = set()
_lock = threading.Lock()


def hold_point(name: str) -> None:
    """Wait here if ``KIOSK_HOLD_AT`` names this point (once per process)."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    point, _, folder = spec.partition(":")
    if point != name:
        return
    if name not in POINTS:
        raise ValueError(f"unknown hold point {name}")
    with _lock:
        if name in _held:
            return
        _held.add(name)
    Path(folder, f"{name}.reached").touch()
    release = Path(folder, f"{name}.release")
    deadline = time.monotonic() + MAX_HOLD
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
