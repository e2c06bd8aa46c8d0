"""Appeals at the portal (issue 16, docs/appeals.md): linking an appeal to the
application it appeals, the ombudsman's queue, and the appeal's own decisions.

An appeal travels as an ordinary sealed submission of the bundled form
``decision_appeal`` (settings ``kind: appeal``); at ingest `sync.portal.store`
dispatches it here (`on_appeal`) before it is stored. The handler links it to the
application by tracking code, or refuses it with a registered reason: no such
application (``appeal.unknown_code``); not the applicant (``appeal.not_applicant``:
a tracking code is printed on the receipt and used by relatives to follow it, so it
proves nothing; the appellant's PINFL must be the one the application gave, compared
as keyed tags, `sync.portal.pinfl_key`); an application that gave no PINFL appealed
without an operator's ID check (``appeal.id_check_needed``); this decision appealed
already (``appeal.already_appealed``: one appeal per DECISION, the ``appeals``
table's UNIQUE (application_code, decision_ref), so it holds across portal processes,
and an application refused again after an overturn may be appealed again); not
appealable: neither rejected nor stalled (``appeal.not_appealable``). The decision
appealed is kept as it stood (status, reason, automated, when): the ombudsman judges
that, whatever happens to the application meanwhile.

The appeal's own status lives where every status does (``submissions``, ``status_log``
through `append_status`): received -> in_review -> upheld | overturned, so the kiosk
that sent it pulls it like any other. Only an ombudsman sets it (`sync.portal.staff`).
The queue shows each appeal with the original application's service, decision,
reason, explanation, automated flag and dates, how the appellant was identified, and
the grounds the citizen wrote: never the application's answers, never a PINFL. Plain
functions over the connection, portable SQL.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TypedDict

from kiosk import decisions as explained
from kiosk import tracking
from kiosk.textnorm import normalize_text
from kiosk.wire import now_iso
from sync.portal import decisions, pinfl_key
from sync.portal.db import Conn
from sync.portal.storage import Device, refused
from sync.transport import ItemResult

# What an ombudsman sets, and the decision reason each carries (kiosk/reasons.py).
DECISIONS: dict[str, str] = {
    "in_review": "decision.under_review",
    "upheld": "decision.appeal_upheld",
    "overturned": "decision.appeal_overturned",
}
STATUSES = ("received", *DECISIONS)
FINAL = ("upheld", "overturned")
# The original application's status after an overturn (default: looked at again).
AFTER_OVERTURN = ("in_review", "approved")
OVERTURN_REASON = decisions.OVERTURNED
MAX_GROUNDS = 4000
# How the appellant was identified (``appeals.identified_by``): their PINFL matched the
# application's, or (an application that gave none) an operator checked their ID.
BY_PINFL = "pinfl"
BY_OPERATOR = "operator_id_check"
MAX_OPERATOR_ID = 64


class AppealedDecision(TypedDict):
    """The original application as the ombudsman sees it: no answers."""

    tracking_code: str
    service: str  # the form id
    titles: dict[str, str]  # the service's name by language
    status_appealed: str  # the status the citizen appealed (as it stood)
    reason_code: str | None
    explanation: dict[str, str]  # the reason's plain-language explanation by language
    automated: bool
    decided_at: str | None  # when the appealed status was set
    stalled: bool  # appealed for having no decision past its deadline
    submitted_at: str
    received_at: str
    status_now: str


class QueueEntry(TypedDict):
    """One appeal in the ombudsman's queue."""

    tracking_code: str  # the appeal's own
    status: str
    received_at: str
    grounds: str
    identified_by: str | None  # BY_PINFL, BY_OPERATOR; None: appealed before the check
    operator_id: str | None  # the operator who checked the appellant's ID, if one did
    application: AppealedDecision


class AppealUpdate(TypedDict):
    """An appeal's status as an ombudsman left it (and the application's, if changed)."""

    tracking_code: str
    status: str
    reason_code: str
    note: str | None
    actor: str
    updated_at: str
    application_code: str
    application_status: str | None  # the application's new status after an overturn


def _text(answers: Mapping[str, object], name: str) -> str:
    """A text answer as the kiosk normalised it (`kiosk.textnorm.normalize_text`), again:
    control characters (NUL, terminal escapes) gone, since PostgreSQL refuses NUL and an
    ombudsman's terminal must not obey what a hostile device sent."""
    value = answers.get(name)
    return normalize_text(value, MAX_GROUNDS, multiline=True) if isinstance(value, str) else ""


def _applicant_tag(conn: Conn, code: str) -> str | None:
    """The keyed tag of the PINFL the application gave (its ``pinfl`` answer, the
    question every bundled form names the applicant's PINFL by), or None when it gave
    none. Read from its stored answers, never kept beyond this call."""
    row = conn.execute(
        "SELECT payload FROM submissions WHERE tracking_code = ?", (code,)
    ).fetchone()
    try:
        answers = json.loads(row["payload"]) if row is not None else None
    except ValueError:
        return None
    if not isinstance(answers, dict):
        return None
    pinfl = pinfl_key.clean_pinfl(answers.get("pinfl"))
    return pinfl_key.pinfl_tag(pinfl) if pinfl else None


def _operator(
    conn: Conn, device: Device, fields: Mapping[str, object], now: datetime
) -> str | None:
    """The operator who checked the appellant's ID document (the item's
    ``verified_by``/``operator_id``): the one rule of `sync.portal.kinds.checked_by`,
    so the claim is counted and capped like a vote's (`sync.portal.id_checks`)."""
    from sync.portal.kinds import checked_by  # kinds imports this module

    operator = checked_by(conn, device, fields, now.date().isoformat())
    return operator[:MAX_OPERATOR_ID] if operator is not None else None


def on_appeal(
    conn: Conn, device: Device, item: Mapping[str, object], answers: object, now: datetime
) -> ItemResult | None:
    """The `sync.portal.store` kind handler for ``appeal`` items: link the appeal to
    its application (a row of ``appeals``) and return None, so the item is stored as
    usual; or refuse it with a registered reason (the item is not stored). Runs with
    the portal's PINFL key bound (`sync.portal.pinfl_key.bound`)."""
    item_id = item.get("id")  # any kiosk may carry a citizen's appeal of any application
    own = str(item.get("tracking_code"))
    fields = answers if isinstance(answers, Mapping) else {}
    raw = _text(fields, "application_code")
    code = tracking.normalize(raw) or raw.upper()[:40]
    if conn.execute("SELECT 1 FROM appeals WHERE tracking_code = ?", (own,)).fetchone():
        return None  # this very appeal, linked by a batch committed meanwhile: a resend
    found = decisions.current(conn, code, now) if code else None
    item_ref = item_id if isinstance(item_id, str) else None
    if found is None or found["kind"] != decisions.APPLICATION:
        return refused(item_ref, "rejected", "appeal.unknown_code", tracking_code=code or "-")
    # Whether the decision may be appealed at all, first: the status look-up tells
    # anyone as much, and a stranger must not learn from the answer whether a PINFL is
    # the applicant's where no appeal is possible (second review).
    if not found["open_to_appeal"]:
        return refused(item_ref, "rejected", "appeal.not_appealable", tracking_code=code)
    appellant = pinfl_key.clean_pinfl(fields.get("pinfl"))
    theirs = pinfl_key.pinfl_tag(appellant) if appellant else None
    applicant = _applicant_tag(conn, code)
    if applicant is not None and (theirs is None or not hmac.compare_digest(theirs, applicant)):
        return refused(item_ref, "rejected", "appeal.not_applicant", tracking_code=code)
    operator = _operator(conn, device, fields, now) if theirs is not None else None
    if applicant is None and operator is None:
        return refused(item_ref, "rejected", "appeal.id_check_needed", tracking_code=code)
    # Two places per decision: one appeal after an operator's ID check, one made alone
    # with the PINFL (which anyone who knows the code and the PINFL could make): an
    # appeal by a relative never takes the applicant's ID-checked one (second review).
    identified_by = BY_OPERATOR if operator is not None else BY_PINFL
    slot = decisions.appeal_slot(found["decision_ref"], identified_by == BY_OPERATOR)
    taken = conn.execute(
        "SELECT 1 FROM appeals WHERE application_code = ? AND decision_ref = ?", (code, slot)
    ).fetchone()
    if taken is not None:
        return refused(item_ref, "rejected", "appeal.already_appealed", tracking_code=code)
    decided = found["status"] in decisions.DECIDED
    inserted = conn.execute(
        "INSERT INTO appeals (tracking_code, application_code, decision_ref, grounds, "
        "status_appealed, reason_code, automated, decided_at, stalled, received_at, "
        "appellant_tag, identified_by, operator_id) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            own,
            code,
            slot,
            _text(fields, "grounds"),
            found["status"],
            found["reason_code"],
            1 if found["automated"] else 0,
            found["status_at"] if decided else None,
            1 if found["stalled"] else 0,
            now_iso(now),
            theirs,
            identified_by,
            operator,
        ),
    )
    if inserted.rowcount != 1:  # another appeal of this decision committed meanwhile
        return refused(item_ref, "rejected", "appeal.already_appealed", tracking_code=code)
    return None


def queue(conn: Conn, status: str | None, limit: int) -> list[QueueEntry]:
    """The ombudsman's queue, oldest first: appeals in ``status`` (None: those not
    decided yet), each with the original decision and the citizen's grounds."""
    where, args = (
        ("WHERE s.status = ?", [status])
        if status is not None
        else ("WHERE s.status NOT IN (?, ?)", list(FINAL))
    )
    rows = conn.execute(
        "SELECT a.tracking_code, a.application_code, a.grounds, a.status_appealed, "
        "a.reason_code, a.automated, a.decided_at, a.stalled, a.received_at, "
        "a.identified_by, a.operator_id, s.status AS appeal_status, o.form_id, o.created_at, o.received_at AS app_received, "
        "o.status AS status_now, f.spec "
        "FROM appeals a JOIN submissions s ON s.tracking_code = a.tracking_code "
        "JOIN submissions o ON o.tracking_code = a.application_code "
        "LEFT JOIN forms f ON f.form_id = o.form_id AND f.version = o.form_version "
        f"{where} ORDER BY a.received_at, a.tracking_code LIMIT ?",
        (*args, limit),
    ).fetchall()
    return [
        {
            "tracking_code": r["tracking_code"],
            "status": r["appeal_status"],
            "received_at": r["received_at"],
            "grounds": r["grounds"],
            "identified_by": r["identified_by"],
            "operator_id": r["operator_id"],
            "application": {
                "tracking_code": r["application_code"],
                "service": r["form_id"],
                "titles": _titles(r["spec"]),
                "status_appealed": r["status_appealed"],
                "reason_code": r["reason_code"],
                "explanation": explained.explanations(r["reason_code"] or ""),
                "automated": bool(r["automated"]),
                "decided_at": r["decided_at"],
                "stalled": bool(r["stalled"]),
                "submitted_at": r["created_at"],
                "received_at": r["app_received"],
                "status_now": r["status_now"],
            },
        }
        for r in rows
    ]


def _titles(spec: str | None) -> dict[str, str]:
    from kiosk.form import texts_by_lang

    try:
        doc = json.loads(spec) if spec else None
    except ValueError:
        return {}
    return texts_by_lang(doc.get("title")) if isinstance(doc, dict) else {}


class Linked(TypedDict):
    """An appeal and its application, as a decision on it needs them."""

    appeal_code: str
    appeal_status: str
    appeal_device: str
    appeal_number: str
    application_code: str
    application_device: str
    application_number: str


def linked(conn: Conn, appeal_code: str, lock: bool = False) -> Linked | None:
    """The appeal with tracking code ``appeal_code`` (any case) and its application."""
    row = conn.execute(
        "SELECT a.tracking_code, a.application_code, s.status, s.device_id, "
        "s.application_number, o.device_id AS app_device, "
        "o.application_number AS app_number FROM appeals a "
        "JOIN submissions s ON s.tracking_code = a.tracking_code "
        "JOIN submissions o ON o.tracking_code = a.application_code "
        "WHERE a.tracking_code = ?" + (conn.for_update if lock else ""),
        (tracking.normalize(appeal_code) or appeal_code.strip().upper()[:40],),
    ).fetchone()
    if row is None:
        return None
    return {
        "appeal_code": row["tracking_code"],
        "appeal_status": row["status"],
        "appeal_device": row["device_id"],
        "appeal_number": row["application_number"],
        "application_code": row["application_code"],
        "application_device": row["app_device"],
        "application_number": row["app_number"],
    }


def is_appeal(conn: Conn, code: str) -> bool:
    """Whether ``code`` (canonical) is an appeal's own tracking code."""
    return (
        conn.execute("SELECT 1 FROM appeals WHERE tracking_code = ?", (code,)).fetchone()
        is not None
    )
