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
    appealed: bool  # the ID-checked appeal of this decision was received
    open_to_appeal: bool  # rejected or stalled, an application
    appealable: bool  # open to appeal, and its ID-checked appeal not made yet


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
OVERTURNED = "decision.overturned_on_appeal"  # appeals.OVERTURN_REASON: restarts the deadline


def decision_ref(
    status: str, seq: int | None, stalled: bool, status_at: str, since: int | None = None
) -> str:
    """The name of the decision an application stands at, stable at the portal: the
    status_log row that set it (``status:<seq>``, the FIRST row of the latest run with
    the same status and reason: a reviewer adding a note to a refusal does not make a
    new decision); for one stalled without a decision, ``stalled`` (``stalled:<seq>``
    after an overturn, whose row restarts the deadline), appealed for once. A refusal
    after an overturn is a new decision, appealable again (docs/appeals.md)."""
    if stalled and status != "rejected":
        return STALLED_REF if since is None else f"{STALLED_REF}:{since}"
    return f"status:{seq}" if seq is not None else f"status:{status}@{status_at}"


SELF_SLOT = "/self"  # the appeal made alone with the PINFL (no operator's ID check)


def appeal_slot(ref: str, checked: bool) -> str:
    """Where an appeal of decision ``ref`` goes: ``ref`` itself after an operator's ID
    check, ``ref/self`` for one made alone with the applicant's PINFL."""
    return ref if checked else ref + SELF_SLOT


def _run_start(conn: Conn, code: str, status: str, reason: str | None) -> int | None:
    """The first status_log row of the latest run of rows with this status and reason."""
    row = conn.execute(
        "SELECT MIN(seq) AS seq FROM status_log WHERE tracking_code = ? AND seq > COALESCE(("
        "SELECT MAX(seq) FROM status_log WHERE tracking_code = ? AND NOT (status = ? "
        "AND COALESCE(reason_code, '') = ?)), 0)",
        (code, code, status, reason or ""),
    ).fetchone()
    return int(row["seq"]) if row is not None and row["seq"] is not None else None


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
    # An overturn sends the application back to be decided: its deadline starts again.
    overturn = conn.execute(
        "SELECT seq, at FROM status_log WHERE tracking_code = ? AND reason_code = ? "
        "ORDER BY seq DESC LIMIT 1",
        (code, OVERTURNED),
    ).fetchone()
    days = deadline_days(row["spec"])
    since = overturn["at"] if overturn is not None else row["received_at"]
    deadline = (
        now_iso(datetime.fromisoformat(since) + timedelta(days=days)) if days is not None else None
    )
    kind = form_kind(row["spec"])
    stalled = kind == APPLICATION and is_stalled(row["status"], deadline, now)
    status_at = last["at"] if last is not None else row["status_updated_at"]
    seq = _run_start(conn, code, row["status"], last["reason_code"]) if last is not None else None
    ref = decision_ref(
        row["status"],
        seq,
        stalled,
        status_at,
        int(overturn["seq"]) if overturn is not None else None,
    )
    slots = conn.execute(
        "SELECT decision_ref FROM appeals WHERE application_code = ? AND decision_ref IN (?, ?)",
        (code, ref, appeal_slot(ref, False)),
    ).fetchall()
    taken = {r["decision_ref"] for r in slots}
    open_to_appeal = kind == APPLICATION and (row["status"] == "rejected" or stalled)
    appealed = ref in taken  # the ID-checked place: the self-service one leaves it open
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
        "appealed": appealed,
        "open_to_appeal": open_to_appeal,
        "appealable": open_to_appeal and not appealed,
    }
