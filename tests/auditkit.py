"""Rewriting a kiosk's audit log the way an attacker with the files would: whole, with a
recomputed valid chain, so `kiosk.audit.verify` passes and only the portal can tell."""

from __future__ import annotations

from sqlite_utils import Database

from kiosk import audit
from kiosk.settings import put_setting


def rewrite_chain(db: Database, *, drop_from: int | None = None, edit_seq: int = 1) -> None:
    """Edit entry ``edit_seq`` (and drop entries from ``drop_from``), then rebuild the chain."""
    rows = db.execute(
        "SELECT seq, ts, actor, action, subject, details FROM audit ORDER BY seq"
    ).fetchall()
    if drop_from is not None:
        rows = [r for r in rows if r[0] < drop_from]
    with db.conn:
        db.execute("DELETE FROM audit")
        prev = audit.GENESIS
        for seq, ts, actor, action, subject, details in rows:
            if seq == edit_seq:
                subject = f"{subject} (edited)"
            digest = audit.row_hash(seq, ts, actor, action, subject, details, prev)
            db.execute(
                "INSERT INTO audit (seq, ts, actor, action, subject, details, prev_hash, hash)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [seq, ts, actor, action, subject, details, prev, digest],
            )
            prev = digest
        put_setting(db, audit.HEAD_KEY, prev)
        put_setting(db, audit.COUNT_KEY, str(len(rows)))
    assert audit.verify(db).ok  # the rewrite is invisible locally
