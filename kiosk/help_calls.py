"""A citizen's "call the operator" (issue 14): recorded durably, flagged until cleared.

The citizen's kiosk and the operator's dashboard may be two processes on one data
directory (a citizen-mode kiosk, an operator-mode terminal at the desk), and a call
must survive a restart of either: so a call is an audit entry (``help_called``,
committed like every durable step, crash point ``help.call_before_commit``), and the
operator's "Help given" another (``help_cleared``, naming the operator). The flag is
up while the last ``help_called`` comes after the last ``help_cleared``: no table of
its own, and the audit log already says who called from where and who answered.
Nothing personal is recorded: the screen's name and the language only.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TypedDict

from kiosk import audit
from kiosk.crashpoints import crash_point

if TYPE_CHECKING:
    from sqlite_utils import Database

CALLED = "help_called"
CLEARED = "help_cleared"


class HelpCall(TypedDict):
    """The call waiting for an operator: when, from which screen, in which language,
    and how many calls since the last one was answered."""

    ts: str
    screen: str
    lang: str
    calls: int


def call(db: Database, screen: str, lang: str) -> None:
    """Record a citizen's call (inside the caller's transaction)."""
    audit.append(db, "citizen", CALLED, screen[:40], {"lang": lang[:16]})
    crash_point("help.call_before_commit")


def clear(db: Database, operator_id: int | None) -> bool:
    """The operator has come: the flag goes down (audited). False when none was up."""
    if waiting(db) is None:
        return False
    actor = f"operator:{operator_id}" if operator_id is not None else "operator"
    audit.append(db, actor, CLEARED, "", {})
    return True


def waiting(db: Database) -> HelpCall | None:
    """The call no operator has answered yet (the latest one), or None."""
    cleared = db.execute(
        "SELECT COALESCE(MAX(seq), 0) FROM audit WHERE action = ?", [CLEARED]
    ).fetchone()[0]
    rows = db.execute(
        "SELECT ts, subject, details FROM audit WHERE action = ? AND seq > ? ORDER BY seq",
        [CALLED, cleared],
    ).fetchall()
    if not rows:
        return None
    ts, screen, details = rows[-1]
    try:
        lang = str(json.loads(details).get("lang", ""))
    except (ValueError, AttributeError):
        lang = ""
    return HelpCall(ts=str(ts), screen=str(screen), lang=lang, calls=len(rows))
