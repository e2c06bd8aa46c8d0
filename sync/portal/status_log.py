"""The one writer of the portal's ``status_log``: every status change of every
application or appeal, whoever makes it (the ingest's ``received``, staff, an
ombudsman, the portal's automated rules), goes through `append_status`; a decision
(every change after ``received``) through `record_decision`, which also sets the
submission's status and writes the staff audit line."""

from __future__ import annotations

from sync.portal import staff
from sync.portal.db import Conn


def append_status(
    conn: Conn,
    device_id: str,
    tracking_code: str,
    status: str,
    number: str,
    note: str | None,
    at: str,
    actor: str | None = None,
    reason_code: str | None = None,
    automated: bool = False,
) -> None:
    """Append to the status log kiosks page through by ``seq`` (`status_changes`).

    The device's row is locked first, to the end of the transaction: a later ``seq``
    of one device is drawn only after every earlier one of it committed, so a kiosk
    whose cursor passed a ``seq`` never misses a row committed late (PostgreSQL draws
    identity values outside transactions). Every writer of ``status_log`` calls this.
    ``automated``: the portal's rules made the change, not a person (issue 16).
    """
    conn.execute("SELECT id FROM devices WHERE id = ?" + conn.for_update, (device_id,))
    conn.execute(
        "INSERT INTO status_log (device_id, tracking_code, status, application_number, note, "
        "at, actor, reason_code, automated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (device_id, tracking_code, status, number, note, at, actor, reason_code, int(automated)),
    )


def record_decision(
    conn: Conn,
    device_id: str,
    code: str,
    status: str,
    number: str,
    note: str | None,
    at: str,
    actor: str,
    reason_code: str | None,
    automated: bool,
    action: str,
    detail: dict[str, object],
) -> None:
    """A decision as every decider records it, in the caller's transaction: the status
    row, the submission's status and note, and the staff audit line (``action``,
    ``detail``)."""
    append_status(conn, device_id, code, status, number, note, at, actor, reason_code, automated)
    conn.execute(
        "UPDATE submissions SET status = ?, note = ?, status_updated_at = ? "
        "WHERE tracking_code = ?",
        (status, note, at, code),
    )
    staff.audit(conn, at, actor, action, code, detail)
