"""Staff accounts, their roles, and the decisions they record (issue 15, docs/staff.md).

Staff are the people who decide on applications. Each holds a role and a bearer token
made once by an administrator (`kiosk portal staff add`); the portal keeps the token's
hash only, by the one rule device tokens follow (`sync.wire.token_hash`). Staff and
device tokens live in separate tables and are looked up only where each belongs, so a
device token never opens the staff API and a staff token never syncs a kiosk.

What each role may do is `ROLE_STATUSES` (the matrix in docs/staff.md); which decision
reason goes with which status is the reason registry's (`kiosk.reasons.DECISION_STATUSES`).
The SQL is plain functions over a connection inside the caller's transaction, as in
`sync.portal.enrolments`, written portably (the PostgreSQL backend runs it too).
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import TypedDict

from kiosk import reasons
from sync import wire
from sync.portal.db import Conn
from sync.portal.storage import STATUSES, PortalStoreError

ROLES = ("reviewer", "ombudsman", "admin")
# The statuses staff set while reviewing an application ("received" is the portal's own).
REVIEW_STATUSES = ("in_review", "needs_info", "approved", "rejected", "completed")
# Which statuses each role may set. An ombudsman handles appeals and an admin manages
# accounts: neither decides on applications. Every role reads histories.
ROLE_STATUSES: dict[str, tuple[str, ...]] = {
    "reviewer": REVIEW_STATUSES,
    "ombudsman": (),
    "admin": (),
}
# The statuses an ombudsman sets on an appeal (sync/portal/appeals.py): only the
# ombudsman reads the appeals queue and decides appeals; a reviewer, who may have made
# the decision appealed, never does, nor an admin.
APPEAL_DECISIONS = ("in_review", "upheld", "overturned")
ROLE_APPEALS: dict[str, tuple[str, ...]] = {
    "reviewer": (),
    "ombudsman": APPEAL_DECISIONS,
    "admin": (),
}
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_NOTE = 1000
LOCAL_ACTOR = "portal-admin"  # who a change made in-process (no staff token) is recorded as


@dataclass(frozen=True)
class StaffMember:
    """An enabled staff account, as its token names it."""

    name: str
    role: str


class StaffRow(TypedDict):
    """One account as `kiosk portal staff list` shows it (never the token)."""

    name: str
    role: str
    created_at: str
    disabled_at: str | None


class HistoryEntry(TypedDict):
    """One status change of an application: what, why, who and when."""

    status: str
    reason_code: str | None
    note: str | None
    actor: str | None
    at: str


class AuditLine(TypedDict):
    """One line of the staff audit (`kiosk portal staff audit`)."""

    at: str
    actor: str
    action: str  # staff_added, staff_disabled, status_set
    subject: str  # a staff name or a tracking code
    detail: str | None  # JSON


class DecisionRefused(PortalStoreError):
    """A status change or look-up the portal refuses; ``body`` is the registered
    refusal (`kiosk.reasons`), ``str()`` its English detail."""

    def __init__(self, code: str, **params: object) -> None:
        self.body = reasons.refusal(code, **params)
        super().__init__(self.body["detail"])


def may_set(role: str, status: str) -> bool:
    """Whether staff with ``role`` may set ``status`` (docs/staff.md, the role matrix)."""
    return status in ROLE_STATUSES.get(role, ())


def handles_appeals(role: str) -> bool:
    """Whether staff with ``role`` read the appeals queue and decide appeals."""
    return bool(ROLE_APPEALS.get(role))


def check_decision(status: str, reason_code: str | None) -> None:
    """`DecisionRefused` unless ``status`` is known and ``reason_code`` (if any) is a
    registered decision reason that goes with it; a rejection or a request for more
    information always needs one (the citizen is told why)."""
    if status not in STATUSES:
        raise DecisionRefused("status.unknown", status=status, expected=", ".join(STATUSES))
    if reason_code is None:
        if status in reasons.STATUSES_NEEDING_REASON:
            raise DecisionRefused("status.reason_needed", status=status)
        return
    fits = reasons.DECISION_STATUSES.get(reason_code)
    if fits is None:
        raise DecisionRefused("status.reason_unknown", reason_code=reason_code)
    if status not in fits:
        raise DecisionRefused("status.reason_mismatch", reason_code=reason_code, status=status)


def check_account(name: str, role: str) -> None:
    """PortalStoreError for a name that is not 1-64 letters, digits, ``.``, ``_``, ``-``
    (starting with a letter or digit) or a role not in `ROLES`."""
    if not NAME_RE.match(name):
        raise PortalStoreError(
            "a staff name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if role not in ROLES:
        raise PortalStoreError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")


def audit(conn: Conn, at: str, actor: str, action: str, subject: str, detail: object) -> None:
    """One line of the staff audit: account changes and decisions, by whom, when."""
    conn.execute(
        "INSERT INTO staff_audit (id, at, actor, action, subject, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (str(uuid.uuid4()), at, actor, action, subject, json.dumps(detail, sort_keys=True)),
    )


def audit_lines(conn: Conn, limit: int) -> list[AuditLine]:
    """The newest ``limit`` lines of the staff audit, oldest first."""
    rows = conn.execute(
        "SELECT at, actor, action, subject, detail FROM staff_audit ORDER BY at DESC, id LIMIT ?",
        (limit,),
    ).fetchall()
    return [
        {
            "at": r["at"],
            "actor": r["actor"],
            "action": r["action"],
            "subject": r["subject"],
            "detail": r["detail"],
        }
        for r in reversed(rows)
    ]


def add(conn: Conn, name: str, role: str, now: str, actor: str) -> str:
    """A new account; returns its token (shown once; only its hash is kept).
    PortalStoreError for a bad name or role, or a name already taken."""
    check_account(name, role)
    token = secrets.token_urlsafe(32)
    cur = conn.execute(
        "INSERT INTO staff (name, role, token_hash, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (name) DO NOTHING",
        (name, role, wire.token_hash(token), now),
    )
    if cur.rowcount != 1:
        raise PortalStoreError(f"a staff account named {name} already exists")
    audit(conn, now, actor, "staff_added", name, {"role": role})
    return token


def disable(conn: Conn, name: str, now: str, actor: str) -> None:
    """Refuse the account's token from now on; PortalStoreError if there is none."""
    cur = conn.execute(
        "UPDATE staff SET disabled_at = ? WHERE name = ? AND disabled_at IS NULL", (now, name)
    )
    if cur.rowcount != 1:
        raise PortalStoreError(f"no enabled staff account named {name}")
    audit(conn, now, actor, "staff_disabled", name, None)


def accounts(conn: Conn) -> list[StaffRow]:
    """Every account, by name."""
    rows = conn.execute(
        "SELECT name, role, created_at, disabled_at FROM staff ORDER BY name"
    ).fetchall()
    return [
        {
            "name": r["name"],
            "role": r["role"],
            "created_at": r["created_at"],
            "disabled_at": r["disabled_at"],
        }
        for r in rows
    ]


def by_token(conn: Conn, token: str) -> StaffMember | None:
    """The enabled account holding ``token``; None for any other token (a device's too)."""
    row = conn.execute(
        "SELECT name, role FROM staff WHERE token_hash = ? AND disabled_at IS NULL",
        (wire.token_hash(token),),
    ).fetchone()
    return StaffMember(row["name"], row["role"]) if row is not None else None


def history(conn: Conn, tracking_code: str) -> list[HistoryEntry] | None:
    """An application's status changes, oldest first; None when no application has
    the code (compared case-insensitively, as `set_status` does)."""
    found = conn.execute(
        "SELECT tracking_code FROM submissions WHERE UPPER(tracking_code) = UPPER(?)",
        (tracking_code.strip(),),
    ).fetchone()
    if found is None:
        return None
    rows = conn.execute(
        "SELECT status, reason_code, note, actor, at FROM status_log "
        "WHERE tracking_code = ? ORDER BY seq",
        (found["tracking_code"],),
    ).fetchall()
    return [
        {
            "status": r["status"],
            "reason_code": r["reason_code"],
            "note": r["note"],
            "actor": r["actor"],
            "at": r["at"],
        }
        for r in rows
    ]
