"""Append-only audit log as a hash chain.

Each row's ``hash`` is the SHA-256 of the canonical JSON of its seq, ts, actor,
action, subject, details and prev_hash; the first row's prev_hash is 64 zeros. The
head (last hash and row count) is kept in ``settings`` and updated in the same
transaction as the row, so removing the last rows is caught as well as editing,
deleting or inserting rows in the middle.

The chain proves the log was not changed by accident or by a casual edit; someone
able to rewrite the whole database file could rebuild it, which only a copy held
elsewhere (the portal) can reveal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypedDict

from sqlite_utils import Database

from kiosk.i18n import tr
from kiosk.settings import get_setting, put_setting
from kiosk.wire import canonical_json, content_hash, now_iso

GENESIS = "0" * 64
HEAD_KEY = "audit_head"
COUNT_KEY = "audit_count"


def row_hash(
    seq: int, ts: str, actor: str, action: str, subject: str, details: str, prev_hash: str
) -> str:
    return content_hash(
        {
            "seq": seq,
            "ts": ts,
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details,
            "prev_hash": prev_hash,
        }
    )


class AuditEntry(TypedDict):
    """One row of the audit table, as `append` wrote it (details as canonical JSON)."""

    seq: int
    ts: str
    actor: str
    action: str
    subject: str
    details: str
    prev_hash: str
    hash: str


def append(
    db: Database,
    actor: str,
    action: str,
    subject: str = "",
    details: Mapping[str, object] | None = None,
) -> AuditEntry:
    """Add one entry; joins the caller's transaction (or makes its own). Returns the row.

    The previous hash and sequence come from the stored head, not from the last row,
    so an entry appended after the tail was removed still shows the break.
    """
    with db.atomic():
        prev_hash = get_setting(db, HEAD_KEY) or GENESIS
        seq = int(get_setting(db, COUNT_KEY) or 0) + 1
        ts = now_iso()
        details_text = canonical_json(details or {})
        digest = row_hash(seq, ts, actor, action, subject, details_text, prev_hash)
        row: AuditEntry = {
            "seq": seq,
            "ts": ts,
            "actor": actor,
            "action": action,
            "subject": subject,
            "details": details_text,
            "prev_hash": prev_hash,
            "hash": digest,
        }
        db.execute(
            "INSERT INTO audit (seq, ts, actor, action, subject, details, prev_hash, hash) "
            "VALUES (:seq, :ts, :actor, :action, :subject, :details, :prev_hash, :hash)",
            dict(row),  # sqlite-utils takes a plain dict, not a TypedDict
        )
        put_setting(db, HEAD_KEY, digest)
        put_setting(db, COUNT_KEY, str(seq))
    return row


class AnchorEntry(TypedDict):
    """What audit anchoring sends the portal of one row: its place and its links."""

    seq: int
    hash: str
    prev_hash: str


def head_seq(db: Database) -> int:
    """The seq of the last entry written (the stored head's count)."""
    return int(get_setting(db, COUNT_KEY) or 0)


def anchor_entries(db: Database, from_seq: int, limit: int) -> list[AnchorEntry]:
    """Rows with seq >= ``from_seq``, oldest first, at most ``limit``, as anchor entries."""
    rows = db.execute(
        "SELECT seq, hash, prev_hash FROM audit WHERE seq >= ? ORDER BY seq LIMIT ?",
        [from_seq, limit],
    ).fetchall()
    return [{"seq": r[0], "hash": r[1], "prev_hash": r[2]} for r in rows]


@dataclass(frozen=True)
class AuditReport:
    """Outcome of `verify`. `problem` is a short code; `describe(lang)` says it in words."""

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str | None = None  # edited | missing | broken_link | tail_missing | extra

    def describe(self, lang: str) -> str:
        if self.ok:
            return tr(lang, "Audit log intact: {n} entries checked.", n=self.checked)
        seq = self.first_bad_seq
        if self.problem == "edited":
            return tr(lang, "Audit entry {seq} was changed after it was written.", seq=seq)
        if self.problem == "missing":
            return tr(lang, "Audit entry {seq} is missing (deleted).", seq=seq)
        if self.problem == "broken_link":
            return tr(
                lang,
                "Audit entry {seq} does not follow the entry before it "
                "(an entry was removed or inserted).",
                seq=seq,
            )
        if self.problem == "tail_missing":
            return tr(lang, "Audit entries from {seq} on are missing (deleted).", seq=seq)
        return tr(lang, "Audit entry {seq} was added outside the audit log.", seq=seq)


def verify(db: Database) -> AuditReport:
    """Walk the chain from the first entry; report the first entry that is wrong.

    Runs in one read transaction so an entry appended meanwhile is not mistaken for
    a mismatch between the rows and the stored head.
    """
    with db.atomic():
        return _verify(db)


def _verify(db: Database) -> AuditReport:
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    cursor = db.execute(
        "SELECT seq, ts, actor, action, subject, details, prev_hash, hash FROM audit ORDER BY seq"
    )
    for seq, ts, actor, action, subject, details, stored_prev, stored_hash in cursor:
        if seq != expected_seq:
            return AuditReport(False, checked, expected_seq, "missing")
        if stored_prev != prev_hash:
            return AuditReport(False, checked, seq, "broken_link")
        if row_hash(seq, ts, actor, action, subject, details, stored_prev) != stored_hash:
            return AuditReport(False, checked, seq, "edited")
        checked += 1
        prev_hash = stored_hash
        expected_seq += 1
    count = int(get_setting(db, COUNT_KEY) or 0)
    head = get_setting(db, HEAD_KEY) or GENESIS
    if checked < count:
        return AuditReport(False, checked, checked + 1, "tail_missing")
    if checked > count:
        return AuditReport(False, checked, count + 1, "extra")
    if head != prev_hash:
        # Same count, different last hash: the last entry was rewritten with a fresh hash.
        return AuditReport(False, checked, checked, "edited")
    return AuditReport(True, checked)
