"""Rejected items an operator settles (issue 14): read, say why, discard or resubmit.

An item the portal refused (outbox state ``rejected``) stays on the kiosk until an
operator settles it, in one of two audited ways:

- **discard** with a reason (`discard`): the row is marked ``settled = 'discarded'``
  with the operator's words, and its sealed blob is emptied;
- **fix and resubmit** (option (a) of issue 14): the kiosk holds only the sealed blob,
  which it cannot open, so the operator enters the answers again in a new visit of the
  same form; `kiosk.store.Store.submit(..., resubmits=CODE)` queues the new submission
  with ``resubmits`` naming the old code and marks the old row ``'resubmitted'`` (its
  ``settled_note`` names the new code; audit entry ``rejected_resubmitted``) in
  submit's own transaction (`settle_resubmitted`).

The reason is said in the reader's language from the portal's reason code and params
(`kiosk.reasons`), falling back to the text stored at sync time for an old row or a
code this kiosk does not know.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kiosk import audit, reasons
from kiosk.crashpoints import crash_point
from kiosk.errors import TranslatableError
from kiosk.i18n import N_
from kiosk.outbox import QueueRow, Store
from kiosk.wire import now_iso

if TYPE_CHECKING:
    from sqlite_utils import Database

MAX_NOTE = 500  # characters of an operator's reason to discard
OPEN = "state = 'rejected' AND settled IS NULL"


class NotOpen(TranslatableError):
    """The item is not a rejected item waiting for an operator (settled meanwhile)."""


def open_items(db: Database, limit: int = 500) -> list[QueueRow]:
    """Rejected items no operator has settled, oldest first."""
    from kiosk.outbox import LISTED

    sql = f"SELECT {LISTED} FROM outbox WHERE {OPEN} ORDER BY created_at, rowid LIMIT ?"
    return list(db.query(sql, [int(limit)]))  # type: ignore[arg-type]  # rows are QueueRow's columns


def open_count(db: Database) -> int:
    """How many rejected items wait for an operator (the status bar's warning)."""
    return int(db.execute(f"SELECT COUNT(*) FROM outbox WHERE {OPEN}").fetchone()[0])


def reason_text(row: QueueRow, lang: str) -> str:
    """Why the portal refused ``row``, in ``lang``: from its reason code when it has one."""
    code = row.get("reason_code")
    stored = row.get("reason") or row.get("outcome") or ""
    if not code:
        return stored
    try:
        params = json.loads(row.get("reason_params") or "{}")
    except ValueError:
        params = {}
    return reasons.say(lang, code, params, stored)


def _open_row(db: Database, code: str) -> tuple[str, str]:
    """(id, tracking code) of the open rejected item ``code``; `NotOpen` otherwise."""
    row = db.execute(
        f"SELECT id, tracking_code FROM outbox WHERE tracking_code = ? AND {OPEN}", [code]
    ).fetchone()
    if row is None:
        raise NotOpen(N_("{code} is not a rejected item waiting for an operator."), code=code)
    return str(row[0]), str(row[1])


def discard(store: Store, code: str, note: str, operator_id: int | None) -> None:
    """Settle the rejected item ``code`` as discarded, for the operator's ``note``.

    One transaction: the row marked, its sealed blob emptied (nothing of the answers is
    kept), an audit entry ``rejected_discarded`` naming the operator and the note.
    """
    note = " ".join(note.split())[:MAX_NOTE]
    if not note:
        raise ValueError("a discard needs the operator's reason")
    with store.transaction() as db:
        item_id, code = _open_row(db, code)
        _settle(db, item_id, "discarded", note, operator_id)
        audit.append(
            db, _actor(operator_id), "rejected_discarded", code, {"id": item_id, "note": note}
        )
        crash_point("rejected.discard_before_commit")


def settle_resubmitted(db: Database, old_code: str, new_code: str, operator_id: int | None) -> None:
    """Inside submit's transaction: the old rejected item is replaced by ``new_code``."""
    item_id, old_code = _open_row(db, old_code)
    _settle(db, item_id, "resubmitted", new_code, operator_id)
    audit.append(
        db, _actor(operator_id), "rejected_resubmitted", old_code, {"id": item_id, "new": new_code}
    )


def _settle(db: Database, item_id: str, how: str, note: str, operator_id: int | None) -> None:
    """Mark a rejected row settled (``how``, with ``note``) and empty its sealed blob:
    nothing of the answers is kept once an operator has dealt with it."""
    db.execute(
        "UPDATE outbox SET settled = ?, settled_note = ?, settled_at = ?, settled_by = ?,"
        " payload = '' WHERE id = ?",
        [how, note, now_iso(), operator_id, item_id],
    )


def _actor(operator_id: int | None) -> str:
    return f"operator:{operator_id}" if operator_id is not None else "operator"
