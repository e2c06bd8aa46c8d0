"""The outbox repository: every SQL statement on the ``outbox`` and ``status`` tables.

The outbox holds each submission from the moment it is queued until the portal
settled it; the retry schedule (attempts, next_attempt_at, last_error) lives in its
rows so a restarted kiosk resumes it, and ``status`` keeps what the portal's status
pull said. `kiosk.store.Store` queues and lists through here; the sync engine reads
batches and writes outcomes through here. How long to wait before a retry is the
caller's policy (``delay(attempts) -> seconds``), so the domain holds no sync rule.
Functions taking ``db`` run inside the caller's transaction; those taking ``store``
open their own, with one audit entry.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NotRequired, Protocol, TypedDict, cast

from kiosk import audit, reasons, tracking
from kiosk.settings import STATUS_CURSOR, STATUS_PULLED_AT, get_setting, put_setting
from kiosk.signing import b64
from kiosk.wire import loads, now_iso

if TYPE_CHECKING:
    from sqlite_utils import Database

STATES: tuple[str, ...] = ("queued", "sent", "rejected")
SEQ_KEY = "tracking_seq"  # settings key: how many tracking codes were handed out

# Seconds to wait before the next attempt, given the attempt count it will be.
Delay = Callable[[int], float]


class Store(Protocol):
    """What the writes need of `kiosk.store.Store` (named so, not imported: no cycle)."""

    def transaction(self) -> AbstractContextManager[Database]: ...


COLUMNS = (
    "rowid, id, tracking_code, form_id, form_version, lang, payload, content_hash, "
    "size_bytes, operator_id, consent, created_at"
)
LISTED = (
    "id, tracking_code, form_id, form_version, lang, content_hash, size_bytes,"
    " operator_id, consent, created_at, state, attempts, next_attempt_at,"
    " last_error, outcome, reason, application_number, sent_at,"
    " reason_code, reason_params, resubmits, settled, settled_note, settled_at, settled_by"
)
STATUS_KEYS = (
    "tracking_code form_id form_version created_at state outcome reason application_number sent_at"
).split()


class SubmissionItem(TypedDict):
    """One submission as protocol v2 carries it (docs/sync-protocol.md), batch or bundle.

    The answers travel sealed (`kiosk.sealing`); the portal hashes the blob itself.
    """

    id: str
    tracking_code: str
    form_id: str
    form_version: str
    lang: str
    sealed: str  # base64 of the sealed blob
    created_at: str
    consent: bool
    operator_id: int | None


class Claim(TypedDict):
    """A queued pre-enrolment item as claimed at enrolment (docs/sync-protocol.md)."""

    id: str
    tracking_code: str
    content_hash: str


class QueueRow(TypedDict):
    """An outbox row as `listing` gives it: the LISTED columns, the payload if asked for."""

    id: str
    tracking_code: str
    form_id: str
    form_version: str
    lang: str
    # The sealed blob (bytes); only with include_payload; '' once sent. Clear-text
    # JSON (str) only in a row an older kiosk queued before a sealing key was known.
    payload: NotRequired[bytes | str]
    content_hash: str
    size_bytes: int
    operator_id: int | None
    consent: int  # 0 or 1
    created_at: str
    state: str
    attempts: int
    next_attempt_at: str
    last_error: str | None
    outcome: str | None
    reason: str | None
    application_number: str | None
    sent_at: str | None
    reason_code: str | None  # the portal's reason code (kiosk/reasons.py), if it gave one
    reason_params: str | None  # its params, JSON
    resubmits: str | None  # the rejected item's tracking code this one replaces
    settled: str | None  # a rejected item an operator settled: resubmitted | discarded
    settled_note: str | None  # the new tracking code, or the operator's reason to discard
    settled_at: str | None
    settled_by: int | None  # the operator's id


class CodeStatus(TypedDict):
    """What `status` knows of a tracking code: the outbox's columns (None when the code
    is only known from the status pull), then what the portal's status pull said."""

    tracking_code: str
    form_id: str | None
    form_version: str | None
    created_at: str | None
    state: str | None
    outcome: str | None
    reason: str | None
    application_number: str | None
    sent_at: str | None
    portal_status: str | None
    note: str | None
    status_updated_at: str | None
    reason_code: str | None  # the pulled status's decision reason (kiosk.reasons)
    # Whether the portal's rules set it (None: not said); the live look-up adds the
    # decision's other fields (sync/lookup.py): stalled, deadline_at, appealable, kind.
    automated: NotRequired[bool | None]


class BatchSummary(TypedDict):
    """What `apply_results` did with one batch's outcomes."""

    accepted: int
    duplicate: int
    rejected: list[tuple[str, str, str]]  # (tracking_code, reason, outcome)
    unanswered: int


class NotSealed(Exception):
    """A queued row still in clear text: it waits for a sealing key (`kiosk.seal_store`)."""


@dataclass(frozen=True)
class Row:
    """A queued row as the sync engine reads it (payload still text)."""

    rowid: int
    id: str
    tracking_code: str
    size_bytes: int
    fields: tuple[Any, ...]

    def item(self) -> SubmissionItem:
        """The protocol item, its answers sealed; `NotSealed` for a clear-text row (an
        older kiosk's, no key yet), ValueError for a damaged one."""
        _, id_, code, form_id, version, lang, payload, _, _, operator, consent, created = (
            self.fields
        )
        if isinstance(payload, str):
            if payload:
                loads(payload)  # damaged: ValueError, quarantined as before
            raise NotSealed(code)
        if not isinstance(payload, bytes) or not payload:
            raise ValueError("no sealed answers")
        return {
            "id": id_,
            "tracking_code": code,
            "form_id": form_id,
            "form_version": version,
            "lang": lang,
            "sealed": b64(payload),
            "created_at": created,
            "consent": bool(consent),
            "operator_id": operator,
        }


@dataclass(frozen=True)
class NewRow:
    """What `add` queues: the sealed payload and its hash, already made."""

    id: str
    form_id: str
    form_version: str
    lang: str
    payload: bytes
    content_hash: str
    operator_id: int | None
    consent: bool
    created_at: str


# --- the kiosk side: queueing and listing -----------------------------------------


def new_code(db: Database, prefix: str) -> str:
    """A fresh random tracking code with ``prefix`` for the row about to be added (it is
    sealed into the row's answers first, `kiosk.sealing.item_aad`).

    A code already in the outbox (rows are kept, and ``tracking_code`` is UNIQUE) is
    drawn again, so a device never hands out one code twice.
    """
    while True:
        code = tracking.new_code(prefix)
        if not db.execute("SELECT 1 FROM outbox WHERE tracking_code = ?", [code]).fetchone():
            return code


def add(db: Database, row: NewRow, prefix: str, code: str | None = None) -> str:
    """Queue ``row`` under ``code`` (from `new_code`; a fresh one if None); returns it.
    ``SEQ_KEY`` counts the codes handed out (v1 derived its codes from it; it now
    commits with the row)."""
    seq = int(get_setting(db, SEQ_KEY) or 0) + 1
    if code is None:
        code = new_code(db, prefix)
    put_setting(db, SEQ_KEY, str(seq))
    db.execute(
        "INSERT INTO outbox (id, tracking_code, form_id, form_version, lang, payload,"
        " content_hash, size_bytes, operator_id, consent, created_at, state,"
        " attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " 'queued', 0, ?)",
        [
            row.id,
            code,
            row.form_id,
            row.form_version,
            row.lang,
            row.payload,
            row.content_hash,
            len(row.payload),
            row.operator_id,
            1 if row.consent else 0,
            row.created_at,
            row.created_at,
        ],
    )
    return code


def pre_enrolment_claims(db: Database, pre_prefix: str) -> list[Claim]:
    """The queued items whose codes this kiosk made before enrolment, oldest first.

    Those under ``pre_prefix`` (the prefix derived from the device id) with the length
    of a code made there (`tracking.PRE_ENROLMENT_RESTS`: a v2 code or a v1 sequential
    one). The portal grants these codes to the device only through claims made at
    enrolment. Only queued items: a sent one is the portal's already, and a rejected
    one is never sent again.
    """
    lengths = sorted(len(pre_prefix) + rest for rest in tracking.PRE_ENROLMENT_RESTS)
    rows = db.execute(
        "SELECT id, tracking_code, content_hash FROM outbox WHERE state = 'queued'"
        " AND substr(tracking_code, 1, ?) = ? AND length(tracking_code) IN (?, ?)"
        " ORDER BY rowid",
        [len(pre_prefix), pre_prefix, *lengths],
    ).fetchall()
    return [{"id": r[0], "tracking_code": r[1], "content_hash": r[2]} for r in rows]


def listing(
    db: Database, state: str | None, limit: int | None, include_payload: bool
) -> list[QueueRow]:
    """Rows oldest first (payload left out unless asked for)."""
    sql = f"SELECT {'*' if include_payload else LISTED} FROM outbox"
    params: list[object] = []
    if state is not None:
        sql += " WHERE state = ?"
        params.append(state)
    sql += " ORDER BY created_at, rowid"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    # `*` is LISTED plus the payload: the outbox has no other column.
    return cast("list[QueueRow]", list(db.query(sql, params)))


def counts(db: Database) -> dict[str, int]:
    """Rows per state; every state present (0 when none)."""
    result = dict.fromkeys(STATES, 0)
    # Kept by triggers (migration 2): no scan of the outbox.
    for state, n in db.execute("SELECT state, n FROM outbox_counts"):
        result[state] = n
    return result


def oldest_unsent_at(db: Database) -> str | None:
    """created_at of the oldest queued submission, or None when all are sent."""
    row = db.execute("SELECT MIN(created_at) FROM outbox WHERE state = 'queued'").fetchone()
    return row[0] if row else None


def status(db: Database, code: str) -> CodeStatus | None:
    """What the outbox and the pulled status say about a (normalised) code; None if nothing.

    Keys: STATUS_KEYS from the outbox, then portal_status, note, status_updated_at.
    """
    sent = db.execute(
        f"SELECT {', '.join(STATUS_KEYS)} FROM outbox WHERE tracking_code = ?", [code]
    ).fetchone()
    pulled = db.execute(
        "SELECT status, application_number, note, updated_at, reason_code, automated FROM status "
        "WHERE tracking_code = ?",
        [code],
    ).fetchone()
    if sent is None and pulled is None:
        return None
    outbox_row: tuple[Any, ...] = (
        sent if sent is not None else (code, *[None] * (len(STATUS_KEYS) - 1))
    )
    tracking_code, form_id, version, created_at, state, outcome, reason, number, sent_at = (
        outbox_row
    )
    result: CodeStatus = {
        "tracking_code": tracking_code,
        "form_id": form_id,
        "form_version": version,
        "created_at": created_at,
        "state": state,
        "outcome": outcome,
        "reason": reason,
        "application_number": number,
        "sent_at": sent_at,
        "portal_status": None,
        "note": None,
        "status_updated_at": None,
        "reason_code": None,
    }
    if pulled is not None:
        portal_status, pulled_number, note, updated, reason_code, automated = pulled
        result["automated"] = None if automated is None else bool(automated)
        result["portal_status"] = portal_status
        result["note"] = note
        result["reason_code"] = reason_code
        result["status_updated_at"] = updated
        result["application_number"] = pulled_number or result["application_number"]
    return result


# --- the sync side: batches, outcomes, the retry schedule -------------------------


def pending_totals(db: Database, due_before: str | None) -> tuple[int, int]:
    """(items, payload bytes) queued, only those due by ``due_before`` unless None."""
    sql = "SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM outbox WHERE state = 'queued'"
    params: list[object] = []
    if due_before is not None:
        sql += " AND next_attempt_at <= ?"
        params.append(due_before)
    n, size = db.execute(sql, params).fetchone()
    return int(n), int(size)


def waiting_count(db: Database) -> int:
    return int(db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'queued'").fetchone()[0])


def next_due_at(db: Database) -> str | None:
    row = db.execute("SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'queued'").fetchone()
    return row[0] if row else None


def iter_batches(
    db: Database, due_before: str | None, max_items: int, max_bytes: int
) -> Iterator[list[Row]]:
    """Queued rows in rowid order, cut into batches bounded by count and payload bytes.

    Keyset pagination on rowid keeps memory flat however long the queue is. Each
    batch is read after the previous one was settled, so outcomes are always seen.
    A single row larger than ``max_bytes`` goes alone.
    """
    last = 0
    while True:
        sql = f"SELECT {COLUMNS} FROM outbox WHERE state = 'queued' AND rowid > ?"
        params: list[object] = [last]
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
            row = Row(int(raw[0]), raw[1], raw[2], int(raw[8]), tuple(raw))
            if batch and size + row.size_bytes > max_bytes:
                break
            batch.append(row)
            size += row.size_bytes
        last = batch[-1].rowid
        yield batch


def apply_results(
    store: Store,
    batch: list[Row],
    results: Sequence[Mapping[str, object]],
    bytes_sent: int,
    delay: Delay,
    lang: str = "uz_Latn",
) -> BatchSummary:
    """Write the portal's per-item outcomes in one transaction; returns a summary.

    accepted/duplicate -> sent (with the application number; the payload is deleted,
    ``''`` in its place: the portal holds it, and a resend is never made of a sent
    row); rejected/conflict ->
    rejected with the portal's reason, said in ``lang``. An item the portal did not
    answer for stays queued with a retry after ``delay``, so nothing is ever dropped.
    ``results`` are the portal's answer as received: each value is checked here before
    it is used.
    """
    by_id = {r.get("id"): r for r in results if isinstance(r.get("id"), str)}
    now = datetime.now(UTC)
    stamp = now_iso(now)
    summary: BatchSummary = {"accepted": 0, "duplicate": 0, "rejected": [], "unanswered": 0}
    with store.transaction() as db:
        for row in batch:
            result = by_id.get(row.id)
            outcome = result.get("outcome") if result else None
            if result is not None and (outcome == "accepted" or outcome == "duplicate"):
                number = result.get("application_number")
                db.execute(
                    # Delivered: the answers are the portal's now, so the kiosk keeps
                    # only the receipt's columns ('' marks a deleted payload; the
                    # column is NOT NULL; its size goes too, as it tells the answers'
                    # length). Same transaction: no new durable step.
                    "UPDATE outbox SET state = 'sent', outcome = ?, application_number = ?, "
                    "sent_at = ?, attempts = attempts + 1, last_error = NULL, reason = NULL, "
                    "payload = '', size_bytes = 0 WHERE id = ? AND state = 'queued'",
                    [outcome, number if isinstance(number, str) else None, stamp, row.id],
                )
                summary[outcome] += 1  # narrowed to the literal keys above
            elif result is not None and (outcome == "rejected" or outcome == "conflict"):
                reason = reasons.say(
                    lang, result.get("code"), result.get("params"), result.get("reason")
                )[:1000]
                # The code and params too, so the operator reads it in their language later.
                code, params = _reason_code(result.get("code"), result.get("params"))
                db.execute(
                    "UPDATE outbox SET state = 'rejected', outcome = ?, reason = ?, "
                    "reason_code = ?, reason_params = ?, "
                    "attempts = attempts + 1, last_error = NULL WHERE id = ? AND state = 'queued'",
                    [outcome, reason, code, params, row.id],
                )
                summary["rejected"].append((row.tracking_code, reason, outcome))
            else:
                _reschedule(db, [row.id], "no outcome from the portal for this item", delay, now)
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


def _reason_code(code: object, params: object) -> tuple[str | None, str | None]:
    """A portal's reason code and its params (JSON) as stored beside the said reason:
    bounded text, or None for what is not one."""
    if not isinstance(code, str) or not code:
        return None, None
    kept = (
        {str(k)[:60]: reasons.safe_text(v, 300) for k, v in list(params.items())[:20]}
        if isinstance(params, Mapping)
        else {}
    )
    return code[:100], json.dumps(kept, ensure_ascii=False, sort_keys=True)


def _reschedule(db: Database, ids: list[str], error: str, delay: Delay, now: datetime) -> None:
    for item_id in ids:
        row = db.execute("SELECT attempts FROM outbox WHERE id = ?", [item_id]).fetchone()
        attempts = int(row[0]) + 1 if row else 1
        db.execute(
            "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? "
            "WHERE id = ? AND state = 'queued'",
            [attempts, now_iso(now + timedelta(seconds=delay(attempts))), error[:1000], item_id],
        )


def schedule_retry(store: Store, batch: list[Row], error: str, delay: Delay) -> None:
    """A batch that failed as a whole: bump each row's attempts and next_attempt_at."""
    with store.transaction() as db:
        _reschedule(db, [r.id for r in batch], error, delay, datetime.now(UTC))
        audit.append(db, "sync", "sync_retry", f"{len(batch)} items", {"error": error[:200]})


def quarantine(store: Store, row: Row, reason: str) -> None:
    """Refuse one item locally after the portal refused the request carrying only it."""
    with store.transaction() as db:
        db.execute(
            # Never sent again: a damaged clear-text payload (an older kiosk's) is
            # dropped; a sealed one is kept (it reveals nothing).
            "UPDATE outbox SET state = 'rejected', outcome = 'rejected', reason = ?, "
            "attempts = attempts + 1, payload = CASE WHEN typeof(payload) = 'text' "
            "THEN '' ELSE payload END WHERE id = ? AND state = 'queued'",
            [reason[:1000], row.id],
        )
        audit.append(db, "sync", "sync_quarantine", row.tracking_code, {"reason": reason[:200]})


def apply_status_changes(store: Store, changes: Sequence[Mapping[str, object]], cursor: int) -> int:
    """Upsert pulled statuses and advance the cursor in one transaction.

    ``changes`` are the portal's answer as received: a change without a text
    tracking_code and status is skipped.
    """
    applied = 0
    with store.transaction() as db:
        for change in changes:
            code = change.get("tracking_code")
            state = change.get("status")
            if not isinstance(code, str) or not isinstance(state, str):
                continue
            db.execute(
                "INSERT INTO status (tracking_code, status, application_number, note, updated_at, "
                "reason_code, automated) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (tracking_code) DO UPDATE SET "
                "status = excluded.status, application_number = excluded.application_number, "
                "note = excluded.note, updated_at = excluded.updated_at, "
                "reason_code = excluded.reason_code, automated = excluded.automated",
                [
                    code,
                    state,
                    change.get("application_number"),
                    change.get("note"),
                    str(change.get("updated_at") or now_iso()),
                    reasons.code_shaped(change.get("reason_code")),
                    _flag(change.get("automated")),
                ],
            )
            applied += 1
        put_setting(db, STATUS_CURSOR, str(cursor))
        put_setting(db, STATUS_PULLED_AT, now_iso())  # the local copy's age (status look-up)
    return applied


def _flag(value: object) -> int | None:
    """A pulled boolean as stored: 1, 0, or NULL when the portal did not send one."""
    return int(value) if isinstance(value, bool) else None


def status_pulled_at(db: Database) -> str | None:
    """When statuses were last pulled from the portal (ISO UTC); None if never."""
    return get_setting(db, STATUS_PULLED_AT)
