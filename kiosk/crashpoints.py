"""Named crash points: kill this process at an exact, named moment (crash tests).

``KIOSK_CRASH_AT=<point>[:<nth>]`` makes the ``nth`` time (default 1) the code passes
``crash_point("<point>")`` kill the process with SIGKILL, as a power cut would. The
crash tests go through every point instead of killing at a random moment, so every
moment that matters is hit on every run and no test depends on the machine's speed
(the idea of SQLite's crash tests and FoundationDB's fault injection).

Off by default and close to free when off: one global compare per call. A point name
that is not in `POINTS` is refused at start (`check_env`, called by the entry point),
so a misspelt point can never silently fail to fire. Every durable step gets a point
here and a test that kills there (`tests/test_crashpoints.py` holds the two lists
to each other).
"""

from __future__ import annotations

import os
import signal
import sys

ENV = "KIOSK_CRASH_AT"

# name -> the moment it marks. Keep in step with docs/ARCHITECTURE.md ("Crash points").
POINTS: dict[str, str] = {
    "draft.before_commit": "a draft row written, its transaction not yet committed",
    "draft.after_commit": "a draft committed, save_draft not yet returned",
    "draft.try_counted": "a resume code's try counted and committed, the code not yet checked",
    "submit.before_commit": "outbox row, audit entry and draft removal written, not committed",
    "submit.after_commit": "a submission committed, submit not yet returned (no receipt)",
    "help.call_before_commit": "a citizen's call for the operator audited, not yet committed",
    "rejected.discard_before_commit": "a rejected item marked discarded and audited, not committed",
    "seal.legacy_before_commit": "queued clear-text rows sealed, not yet committed",
    "seal.key_before_commit": "a sealing key installed (and old rows sealed), not committed",
    "sync.batch_built": "a batch read from the outbox, not yet sent",
    "sync.request_sent": "a batch sent and answered, the answer not yet read",
    "sync.answer_read": "a batch's answer read, its outcomes not yet committed",
    "sync.outcomes_committed": "a batch's outcomes committed, before the next batch or pull",
    "sync.status_fetched": "a page of status changes fetched, not yet stored",
    "sync.status_applied": "a page of status changes and its cursor committed",
    "sync.catalog_fetched": "the portal's catalog fetched, no form stored yet",
    "sync.catalog_form_saved": "one new form from the portal stored, the ETag not yet",
    "sync.anchor_answered": "the portal answered a batch of audit hashes, the anchor not recorded",
    "bundle.export_written": "a bundle written and fsynced to its temporary file, not renamed",
    "bundle.export_renamed": "a bundle renamed into place, its audit entry not yet written",
    "bundle.import_answered": "the portal answered a bundle upload, the audit entry not yet written",
    "portal.batch_parsed": "the portal parsed and applied a batch, its transaction not committed",
    "portal.item_stored": "the portal stored one item of a batch (nth: the nth item), not committed",
    "portal.batch_committed": "the portal committed a batch, the answer not yet sent",
    "portal.bundle_committed": "the portal committed a bundle's items, the answer not yet sent",
    "portal.anchor_committed": "the portal committed a device's audit hashes, the answer not sent",
    "portal.registry_logged": "the portal committed a registry look-up to its log, no answer sent",
    "portal.status_set": "the portal wrote a staff status change, its transaction not committed",
    "portal.appeal_decided": (
        "the portal wrote an ombudsman's decision on an appeal (and an overturn's change to "
        "the application), its transaction not committed"
    ),
    "portal.season_published": "the portal wrote a season's initiatives, not committed",
    "portal.code_confirmed": "a one-time code was right and its pending item counted, "
    "not committed",
    "participation.confirmed_before_commit": "the kiosk marked a queued vote or signature "
    "counted after its one-time code and audited it, not committed",
    "portal.ballots_mixed": "a batch of boxed ballots opened and added to the tally, not committed",
}


class CrashPointError(ValueError):
    """``KIOSK_CRASH_AT`` names no known point, or its count is not a positive integer."""


def parse(spec: str) -> tuple[str, int]:
    """``"point[:nth]"`` -> (point, nth); raises CrashPointError for a bad spec."""
    name, sep, count = spec.strip().partition(":")
    if name not in POINTS:
        raise CrashPointError(
            f"{ENV}={spec!r}: unknown crash point {name!r}; known: {', '.join(sorted(POINTS))}"
        )
    if not sep:
        return name, 1
    if not count.isdigit() or int(count) < 1:
        raise CrashPointError(f"{ENV}={spec!r}: the count after ':' must be a whole number >= 1")
    return name, int(count)


_target: str | None = None  # the armed point; None (the usual case) costs one compare
_nth = 0
_hits = 0
_error: CrashPointError | None = None  # a bad variable seen at import, raised on first use


def arm(spec: str | None) -> None:
    """Arm the point ``spec`` names (None or "" disarms); raises CrashPointError."""
    global _target, _nth, _hits, _error
    _error = None
    if not spec:
        _target, _nth, _hits = None, 0, 0
        return
    _target, _nth = parse(spec)
    _hits = 0


def check_env() -> None:
    """Arm from the environment; the entry point calls this first, so a bad name stops
    the process before it does anything (CrashPointError)."""
    arm(os.environ.get(ENV))


def crash_point(name: str) -> None:
    """Die here by SIGKILL when ``name`` is the armed point and this is its nth pass."""
    global _hits
    if _target is None:
        return
    if _error is not None:
        raise _error
    if name != _target:
        return
    _hits += 1
    if _hits < _nth:
        return
    # Said on stderr first so a test can tell this kill from any other SIGKILL.
    sys.stderr.write(f"crash point {name}:{_nth} reached: killing the process\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


# Arm at import, so a process that never reaches the entry point (a test's child, a
# portal worker) obeys the variable too; a bad value waits for check_env to report it.
try:
    check_env()
except CrashPointError as exc:
    _target, _error = "", exc
