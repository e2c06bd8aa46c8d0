"""An application's decision as the portal states it: its status, the decision reason,
whether the portal's rules made it (``automated``), its deadline and whether it is
stalled past it, and whether it may be appealed (issue 16, docs/appeals.md).

Form settings read here come from the stored form's spec (pyxform keeps unknown
settings columns as top-level keys): ``kind`` (`form_kind`: ``application`` unless a
bundled form says ``vote``, ``petition_sign``, ``petition_start`` or ``appeal``) and
``deadline_days`` (`deadline_days`: a whole number of days, default none). "Stalled" is
judged on the portal's clock only (the caller's ``now``), so a test injects a clock or
a deadline of 0 days, never waits. Plain functions over the connection, portable SQL.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TypedDict

from kiosk.wire import now_iso
from sync.portal.db import Conn

APPLICATION = "application"
KINDS = (APPLICATION, "vote", "petition_sign", "petition_start", "appeal")
# Statuses that decide an application: past them nothing is stalled.
DECIDED = ("approved", "rejected", "completed")
MAX_DEADLINE_DAYS = 3650


class Decision(TypedDict):
    """Where an application stands: what the status look-up, the status page and the
    appeals handler read (no answers, no note, no device)."""

    tracking_code: str
    form_id: str
    kind: str
    status: str
    reason_code: str | None  # the current status's decision reason
    automated: bool  # the current status was set by the portal's rules, not a person
    status_at: str  # when the current status was set
    received_at: str
    submitted_at: str
    deadline_at: str | None  # received_at + deadline_days; None: the form sets none
    stalled: bool  # no decision and past the deadline, on the portal's clock
    decision_ref: str  # which decision this is, for "one appeal per decision" (`decision_ref`)
    appealed: bool  # an appeal of this decision was received
    appealable: bool  # rejected or stalled, an application, this decision not appealed yet


def _spec(spec_json: str | None) -> dict[str, object]:
    if not spec_json:
        return {}
    try:
        doc = json.loads(spec_json)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def form_kind(spec_json: str | None) -> str:
    """The stored form's ``kind`` setting; ``application`` when absent or unknown."""
    kind = _spec(spec_json).get("kind")
    return kind if isinstance(kind, str) and kind in KINDS else APPLICATION


def deadline_days(spec_json: str | None) -> int | None:
    """The form's ``deadline_days`` setting: 0..MAX_DEADLINE_DAYS whole days, else None
    (no deadline: never stalled)."""
    value = _spec(spec_json).get("deadline_days")
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and 0 <= value <= MAX_DEADLINE_DAYS:
        return value
    return None


def is_stalled(status: str, deadline_at: str | None, now: datetime) -> bool:
    """No decision yet and the deadline reached, on the portal's clock ``now``."""
    return deadline_at is not None and status not in DECIDED and now_iso(now) >= deadline_at


STALLED_REF = "stalled"


def decision_ref(status: str, seq: int | None, stalled: bool, status_at: str) -> str:
    """The name of the decision an application stands at, stable at the portal: the
    status_log row that set it (``status:<seq>``); for one stalled without a decision,
    ``stalled`` (its deadline is fixed, so it is appealed for that once, however often
    staff touch it after). A refusal is always its own row, so an application refused
    again after an overturn is a new decision, appealable again (docs/appeals.md)."""
    if stalled and status != "rejected":
        return STALLED_REF
    return f"status:{seq}" if seq is not None else f"status:{status}@{status_at}"


def current(conn: Conn, code: str, now: datetime) -> Decision | None:
    """The decision of the submission with tracking code ``code`` (canonical, as
    stored), judged at ``now``; None when there is none."""
    row = conn.execute(
        "SELECT s.tracking_code, s.form_id, s.status, s.received_at, s.created_at, "
        "s.status_updated_at, f.spec FROM submissions s LEFT JOIN forms f "
        "ON f.form_id = s.form_id AND f.version = s.form_version WHERE s.tracking_code = ?",
        (code,),
    ).fetchone()
    if row is None:
        return None
    last = conn.execute(
        "SELECT seq, reason_code, automated, at FROM status_log WHERE tracking_code = ? "
        "ORDER BY seq DESC LIMIT 1",
        (code,),
    ).fetchone()
    days = deadline_days(row["spec"])
    deadline = (
        now_iso(datetime.fromisoformat(row["received_at"]) + timedelta(days=days))
        if days is not None
        else None
    )
    kind = form_kind(row["spec"])
    stalled = kind == APPLICATION and is_stalled(row["status"], deadline, now)
    status_at = last["at"] if last is not None else row["status_updated_at"]
    ref = decision_ref(
        row["status"], int(last["seq"]) if last is not None else None, stalled, status_at
    )
    appealed = conn.execute(
        "SELECT 1 FROM appeals WHERE application_code = ? AND decision_ref = ?", (code, ref)
    ).fetchone()
    return {
        "tracking_code": row["tracking_code"],
        "form_id": row["form_id"],
        "kind": kind,
        "status": row["status"],
        "reason_code": last["reason_code"] if last is not None else None,
        "automated": bool(last["automated"]) if last is not None else False,
        "status_at": status_at,
        "received_at": row["received_at"],
        "submitted_at": row["created_at"],
        "deadline_at": deadline,
        "stalled": stalled,
        "decision_ref": ref,
        "appealed": appealed is not None,
        "appealable": kind == APPLICATION
        and appealed is None
        and (row["status"] == "rejected" or stalled),
    }
