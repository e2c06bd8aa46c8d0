"""The one writer of the portal's ``status_log``: every status change of every
application or appeal, whoever makes it (the ingest's ``received``, staff, an
ombudsman, the portal's automated rules), goes through `append_status`."""

from __future__ import annotations

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
