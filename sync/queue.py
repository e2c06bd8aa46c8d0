"""Outbox queries and updates for the sync engine (kiosk side).

The schedule (attempts, next_attempt_at, last_error) lives in the outbox rows so a
restarted kiosk resumes it. Each batch's outcomes are written in one transaction
together with one audit entry.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk import audit
from kiosk.settings import STATUS_CURSOR, put_setting
from kiosk.wire import loads, now_iso

BASE_DELAY = 2.0  # seconds before the first retry
MAX_DELAY = 15 * 60.0  # backoff cap
MAX_RETRY_AFTER = 6 * 3600.0  # a Retry-After beyond this is treated as this

COLUMNS = (
    "rowid, id, tracking_code, form_id, form_version, lang, payload, content_hash, "
    "size_bytes, operator_id, consent, created_at"
)


@dataclass(frozen=True)
class Row:
    rowid: int
    id: str
    tracking_code: str
    size_bytes: int
    fields: tuple[Any, ...]

    def item(self) -> dict[str, Any]:
        """The protocol item (payload parsed only now, for rows actually sent)."""
        _, id_, code, form_id, version, lang, payload, digest, _, operator, consent, created = (
            self.fields
        )
        return {
            "id": id_,
            "tracking_code": code,
            "form_id": form_id,
            "form_version": version,
            "lang": lang,
            "payload": loads(payload),
            "content_hash": digest,
            "created_at": created,
            "consent": bool(consent),
            "operator_id": operator,
        }


def backoff_delay(attempts: int, base: float = BASE_DELAY, cap: float = MAX_DELAY) -> float:
    """Exponential with 'equal jitter': half fixed, half random, so kiosks desynchronise."""
    # The exponent is bounded so a row retried for weeks cannot overflow a float.
    delay = min(cap, base * 2 ** min(max(0, attempts - 1), 40))
    return delay / 2 + random.uniform(0, delay / 2)


def _row(r: tuple[Any, ...]) -> Row:
    return Row(int(r[0]), r[1], r[2], int(r[8]), tuple(r))


def pending_totals(db: Any, due_before: str | None) -> tuple[int, int]:
    """(items, payload bytes) queued, only those due by ``due_before`` unless None."""
    sql = "SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM outbox WHERE state = 'queued'"
    params: list[Any] = []
    if due_before is not None:
        sql += " AND next_attempt_at <= ?"
        params.append(due_before)
    n, size = db.execute(sql, params).fetchone()
    return int(n), int(size)


def waiting_count(db: Any) -> int:
    return int(db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'queued'").fetchone()[0])


def next_due_at(db: Any) -> str | None:
    row = db.execute("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'queued'").fetchone()
    return row[0] if row else None


def iter_batches(
    db: Any, due_before: str | None, max_items: int, max_bytes: int
) -> Iterator[list[Row]]:
    """Queued rows in rowid order, cut into batches bounded by count and payload bytes.

    Keyset pagination on rowid keeps memory flat however long the queue is. Each
    batch is read after the previous one was settled, so outcomes are always seen.
    A single row larger than ``max_bytes`` goes alone.
    """
    last = 0
    while True:
        sql = f"SELECT {COLUMNS} FROM outbox WHERE state = 'queued' AND rowid > ?"
        params: list[Any] = [last]
        if due_before is not None:
            sql += " AND next_attempt_at <= ?"
            params.append(due_before)
        sql += " ORDER BY rowid LIMIT ?"
        params.append(max_items)
        rows = db.execute(sql, params).fetchall()
        if not rows:
            return
        batch: list[Row] = []
        size = 0
        for raw in rows:
            row = _row(raw)
            if batch and size + row.size_bytes > max_bytes:
                break
            batch.append(row)
            size += row.size_bytes
        last = batch[-1].rowid
        yield batch


def apply_results(
    store: Any, batch: list[Row], results: list[dict[str, Any]], bytes_sent: int
) -> dict[str, Any]:
    """Write the portal's per-item outcomes in one transaction; returns a summary.

    accepted/duplicate -> sent (with the application number); rejected/conflict ->
    rejected with the portal's reason. An item the portal did not answer for stays
    queued with a retry scheduled, so nothing is ever dropped.
    """
    by_id = {r.get("id"): r for r in results if isinstance(r.get("id"), str)}
    now = datetime.now(UTC)
    stamp = now_iso(now)
    summary: dict[str, Any] = {"accepted": 0, "duplicate": 0, "rejected": [], "unanswered": 0}
    with store.transaction() as db:
        for row in batch:
            result = by_id.get(row.id)
            outcome = result.get("outcome") if result else None
            if outcome in ("accepted", "duplicate"):
                number = result.get("application_number")
                db.execute(
                    "UPDATE outbox SET state = 'sent', outcome = ?, application_number = ?, "
                    "sent_at = ?, attempts = attempts + 1, last_error = NULL, reason = NULL "
                    "WHERE id = ? AND state = 'queued'",
                    [outcome, number if isinstance(number, str) else None, stamp, row.id],
                )
                summary[outcome] += 1
            elif outcome in ("rejected", "conflict"):
                reason = str(result.get("reason") or outcome)[:1000]
                db.execute(
                    "UPDATE outbox SET state = 'rejected', outcome = ?, reason = ?, "
                    "attempts = attempts + 1, last_error = NULL WHERE id = ? AND state = 'queued'",
                    [outcome, reason, row.id],
                )
                summary["rejected"].append((row.tracking_code, reason, outcome))
            else:
                _schedule(db, [row.id], "no outcome from the portal for this item", None, now)
                summary["unanswered"] += 1
        audit.append(
            db,
            "sync",
            "sync_batch",
            f"{len(batch)} items",
            {
                "accepted": summary["accepted"],
                "duplicate": summary["duplicate"],
                "rejected": [[code, outcome] for code, _, outcome in summary["rejected"]],
                "unanswered": summary["unanswered"],
                "bytes_sent": bytes_sent,
            },
        )
    return summary


def _schedule(
    db: Any,
    ids: list[str],
    error: str,
    retry_after: float | None,
    now: datetime,
    base: float = BASE_DELAY,
    cap: float = MAX_DELAY,
) -> None:
    for item_id in ids:
        row = db.execute("SELECT attempts FROM outbox WHERE id = ?", [item_id]).fetchone()
        attempts = int(row[0]) + 1 if row else 1
        if retry_after is not None:
            delay = min(max(retry_after, 0.0), MAX_RETRY_AFTER)
        else:
            delay = backoff_delay(attempts, base, cap)
        db.execute(
            "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? "
            "WHERE id = ? AND state = 'queued'",
            [attempts, now_iso(now + timedelta(seconds=delay)), error[:1000], item_id],
        )


def schedule_retry(
    store: Any,
    batch: list[Row],
    error: str,
    retry_after: float | None,
    base: float = BASE_DELAY,
    cap: float = MAX_DELAY,
) -> None:
    """A batch that failed as a whole: bump each row's attempts and next_attempt_at."""
    with store.transaction() as db:
        _schedule(db, [r.id for r in batch], error, retry_after, datetime.now(UTC), base, cap)
        audit.append(db, "sync", "sync_retry", f"{len(batch)} items", {"error": error[:200]})


def quarantine(store: Any, row: Row, reason: str) -> None:
    """Refuse one item locally after the portal refused the request carrying only it."""
    with store.transaction() as db:
        db.execute(
            "UPDATE outbox SET state = 'rejected', outcome = 'rejected', reason = ?, "
            "attempts = attempts + 1 WHERE id = ? AND state = 'queued'",
            [reason[:1000], row.id],
        )
        audit.append(db, "sync", "sync_quarantine", row.tracking_code, {"reason": reason[:200]})


def apply_status_changes(store: Any, changes: list[dict[str, Any]], cursor: int) -> int:
    """Upsert pulled statuses and advance the cursor in one transaction."""
    applied = 0
    with store.transaction() as db:
        for change in changes:
            code = change.get("tracking_code")
            status = change.get("status")
            if not isinstance(code, str) or not isinstance(status, str):
                continue
            db.execute(
                "INSERT INTO status (tracking_code, status, application_number, note, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tracking_code) DO UPDATE SET "
                "status = excluded.status, application_number = excluded.application_number, "
                "note = excluded.note, updated_at = excluded.updated_at",
                [
                    code,
                    status,
                    change.get("application_number"),
                    change.get("note"),
                    str(change.get("updated_at") or now_iso()),
                ],
            )
            applied += 1
        put_setting(db, STATUS_CURSOR, str(cursor))
    return applied
