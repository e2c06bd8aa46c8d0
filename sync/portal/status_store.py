"""`PortalStore`'s status methods: statuses and their decisions, appeals, the staff who
decide them, and the open data counted from them.

A mixin of `sync.portal.store.PortalStore` (kept apart so the store stays small, as
`sync.portal.participation_store` is): each method is one transaction over the store's
database. Every decision goes through `sync.portal.status_log.record_decision`;
refusals are `sync.portal.staff.DecisionRefused` with a registered reason code.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING

from kiosk import tracking
from kiosk.crashpoints import crash_point
from kiosk.wire import now_iso
from sync.portal import appeals, decisions, open_data, staff
from sync.portal import status_history as histories
from sync.portal.db import Conn, Database
from sync.portal.status_log import record_decision
from sync.portal.storage import StatusHistory, StatusUpdate
from sync.transport import StatusChange, StatusLookup, StatusPage


class StatusMixin:
    """Statuses, decisions and appeals; staff accounts; open data (docs/staff.md,
    docs/appeals.md, docs/open-data.md)."""

    db: Database
    clock: Callable[[], datetime]

    if TYPE_CHECKING:  # PortalStore's

        def transaction(self) -> AbstractContextManager[Conn]:
            raise NotImplementedError

    # --- status ----------------------------------------------------------------

    def set_status(
        self,
        tracking_code: str,
        status: str,
        note: str | None = None,
        *,
        reason_code: str | None = None,
        actor: str | None = None,
        automated: bool = False,
    ) -> StatusUpdate:
        """Change an application's status: who (``actor``), why (``reason_code``) and
        whether the portal's rules made it (``automated``) go to the status log and the
        staff audit in the same transaction. An appeal's code is refused
        (``appeal.is_appeal``): an ombudsman decides appeals (`decide_appeal`)."""
        staff.check_decision(status, reason_code)
        who = actor or staff.LOCAL_ACTOR
        now = now_iso(self.clock())  # the time the status pull and the citizen are shown
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT tracking_code, device_id, application_number FROM submissions "
                "WHERE UPPER(tracking_code) = ?",
                (tracking_code.strip().upper(),),
            ).fetchone()
            if row is None:
                raise staff.DecisionRefused("status.not_found", tracking_code=tracking_code[:40])
            code = row["tracking_code"]
            if appeals.is_appeal(conn, code):
                raise staff.DecisionRefused("appeal.is_appeal", tracking_code=code)
            record_decision(
                conn,
                row["device_id"],
                code,
                status,
                row["application_number"],
                note,
                now,
                who,
                reason_code,
                automated,
                "status_set",
                {"status": status, "reason_code": reason_code, "automated": automated},
            )
            crash_point("portal.status_set")
        return {
            "tracking_code": code,
            "status": status,
            "application_number": row["application_number"],
            "note": note,
            "reason_code": reason_code,
            "actor": who,
            "updated_at": now,
            "automated": automated,
        }

    # --- appeals (sync/portal/appeals.py, docs/appeals.md) --------------------

    def decide_appeal(
        self,
        appeal_code: str,
        status: str,
        note: str | None = None,
        *,
        actor: str,
        application_status: str = "in_review",
    ) -> appeals.AppealUpdate:
        """An ombudsman sets an appeal's status (in_review, upheld, overturned) with its
        decision reason; an overturn also sets the application's status
        (``application_status``: in_review or approved) with the reason
        ``decision.overturned_on_appeal``, audited, in the same transaction."""
        reason = appeals.DECISIONS.get(status)
        if reason is None:
            raise staff.DecisionRefused(
                "status.unknown", status=status, expected=", ".join(appeals.DECISIONS)
            )
        if status == "overturned":
            staff.check_decision(application_status, appeals.OVERTURN_REASON)
            if application_status not in appeals.AFTER_OVERTURN:
                raise staff.DecisionRefused(
                    "status.reason_mismatch",
                    reason_code=appeals.OVERTURN_REASON,
                    status=application_status,
                )
        now = now_iso(self.clock())
        with self.transaction() as conn:
            found = appeals.linked(conn, appeal_code, lock=True)
            if found is None:
                raise staff.DecisionRefused("appeal.not_found", tracking_code=appeal_code[:40])
            code = found["appeal_code"]
            if found["appeal_status"] in appeals.FINAL:
                raise staff.DecisionRefused("appeal.decided", tracking_code=code)
            record_decision(
                conn,
                found["appeal_device"],
                code,
                status,
                found["appeal_number"],
                note,
                now,
                actor,
                reason,
                False,
                "appeal_decided",
                {"status": status, "reason_code": reason},
            )
            changed = None
            if status == "overturned":
                original = found["application_code"]
                changed = application_status
                record_decision(
                    conn,
                    found["application_device"],
                    original,
                    application_status,
                    found["application_number"],
                    None,
                    now,
                    actor,
                    appeals.OVERTURN_REASON,
                    False,
                    "status_set",
                    {
                        "status": application_status,
                        "reason_code": appeals.OVERTURN_REASON,
                        "appeal": code,
                    },
                )
            crash_point("portal.appeal_decided")
        return {
            "tracking_code": code,
            "status": status,
            "reason_code": reason,
            "note": note,
            "actor": actor,
            "updated_at": now,
            "application_code": found["application_code"],
            "application_status": changed,
        }

    def appeal_queue(self, status: str | None = None, limit: int = 200) -> list[appeals.QueueEntry]:
        if status is not None and status not in appeals.STATUSES:
            raise staff.DecisionRefused(
                "status.unknown", status=status, expected=", ".join(appeals.STATUSES)
            )
        with self.db.read() as conn:
            return appeals.queue(conn, status, limit)

    def status_history(self, tracking_code: str) -> list[staff.HistoryEntry]:
        with self.db.read() as conn:
            found = staff.history(conn, tracking_code)
        if found is None:
            raise staff.DecisionRefused("status.not_found", tracking_code=tracking_code[:40])
        return found

    # --- staff accounts --------------------------------------------------------

    def add_staff(self, name: str, role: str, actor: str | None = None) -> str:
        with self.transaction() as conn:
            return staff.add(conn, name, role, now_iso(self.clock()), actor or staff.LOCAL_ACTOR)

    def disable_staff(self, name: str, actor: str | None = None) -> None:
        with self.transaction() as conn:
            staff.disable(conn, name, now_iso(self.clock()), actor or staff.LOCAL_ACTOR)

    def staff_accounts(self) -> list[staff.StaffRow]:
        with self.db.read() as conn:
            return staff.accounts(conn)

    def staff_for_token(self, token: str) -> staff.StaffMember | None:
        with self.db.read() as conn:
            return staff.by_token(conn, token)

    def staff_audit(self, limit: int = 100) -> list[staff.AuditLine]:
        with self.db.read() as conn:
            return staff.audit_lines(conn, limit)

    # --- open data -------------------------------------------------------------

    def open_data_counts(self, month: str) -> list[open_data.CountRow]:
        with self.db.read() as conn:
            return open_data.counts(conn, month)

    def open_data_axes(self) -> tuple[list[str], list[str]]:
        with self.db.read() as conn:
            return open_data.axes(conn)

    def status_changes(self, device_id: str, since: int, limit: int) -> StatusPage:
        """Changes after cursor ``since`` for this device's submissions, oldest first."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM status_log WHERE device_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (device_id, since, limit + 1),
            ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        changes: list[StatusChange] = [
            {
                "tracking_code": r["tracking_code"],
                "status": r["status"],
                "application_number": r["application_number"],
                "note": r["note"],
                "reason_code": r["reason_code"],
                "updated_at": r["at"],
                "automated": bool(r["automated"]),
            }
            for r in rows
        ]
        cursor = rows[-1]["seq"] if rows else since
        return {"changes": changes, "cursor": cursor, "more": more}

    def lookup_status(self, tracking_code: str, source: str) -> StatusLookup:
        """Any code's status fields (no answers, no note, no device), the look-up counted
        for ``source`` first: past the limit, `LookupLimited` and nothing is looked up.

        The count is bookkeeping, not a durable step: a look-up lost in a crash only
        leaves its source one more try.
        """
        moment = self.clock()
        code = tracking.normalize(tracking_code) or tracking_code.strip().upper()[:40]
        with self.transaction() as conn:
            histories.count_lookup(conn, source, moment)
            row = conn.execute(
                "SELECT tracking_code FROM submissions WHERE UPPER(tracking_code) = ?",
                (code.upper(),),
            ).fetchone()
            found = decisions.current(conn, row["tracking_code"], moment) if row else None
            number = (
                conn.execute(
                    "SELECT application_number FROM submissions WHERE tracking_code = ?",
                    (found["tracking_code"],),
                ).fetchone()
                if found
                else None
            )
        if found is None or number is None:
            return {
                "tracking_code": code,
                "found": False,
                "status": None,
                "application_number": None,
                "updated_at": None,
            }
        return {
            "tracking_code": found["tracking_code"],
            "found": True,
            "status": found["status"],
            "application_number": number["application_number"],
            "updated_at": found["status_at"],
            "reason_code": found["reason_code"],
            "automated": found["automated"],
            "kind": found["kind"],
            "deadline_at": found["deadline_at"],
            "stalled": found["stalled"],
            "appealable": found["appealable"],
        }

    def public_history(self, tracking_code: str, source: str) -> StatusHistory | None:
        """The citizen status page's view of a code, counted as a look-up first (the
        same limit as `lookup_status`): past it, `LookupLimited` and nothing is read."""
        moment = self.clock()
        code = tracking.normalize(tracking_code)
        with self.transaction() as conn:
            histories.count_lookup(conn, source, moment)
            view = histories.history(conn, code) if code else None
            found = decisions.current(conn, view["tracking_code"], moment) if view else None
        if view is not None and found is not None:
            view["reason_code"] = found["reason_code"]
            view["automated"] = found["automated"]
            view["stalled"] = found["stalled"]
            view["deadline_at"] = found["deadline_at"]
        return view
