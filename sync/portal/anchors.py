"""Audit anchoring at the portal: each device's audit chain, held so it cannot be rewritten.

A kiosk's audit log (kiosk/audit.py) is a hash chain, but anyone holding its files can
rebuild the whole chain. So every sync sends the hashes of the rows added since the
last anchor (and the row at the anchor, as overlap), with the kiosk's current head
sequence. The portal keeps every (seq, hash, prev_hash) per device and checks that
what arrives links onto what it holds:

- ``rewritten``: a seq it holds now comes with another hash (or another prev_hash);
- ``forked``: the next row does not follow the held head (its prev_hash differs);
- ``backwards``: the kiosk's head is below the seq the portal holds (rows gone).

The first problem flags the device (kept until an administrator looks; the portal
never unflags by itself) and is shown by `kiosk portal devices` and `stats`. A resend
of rows the portal already holds with the same hashes is harmless, so a kiosk killed
after the portal committed simply sends them again. Rows that skip past the held
head (the portal lost its copy, or the kiosk's anchor setting jumped) are not stored:
the answer's ``anchored_seq`` tells the kiosk where to resume.

Plain functions over a `sync.portal.db.Conn` inside the caller's transaction, to keep
`sync.portal.store` small. The device's head row is locked (``FOR UPDATE``) before it
is read, so two portal processes anchoring one device take turns.
"""

from __future__ import annotations

import re
from typing import TypedDict

from kiosk.audit import GENESIS, AnchorEntry
from sync.portal.db import Conn
from sync.transport import AnchorAnswer

HASH_RE = re.compile(r"^[0-9a-f]{64}$")
FLAGS = ("rewritten", "forked", "backwards")
__all__ = ["FLAGS", "AnchorAnswer", "AnchorEntry", "DeviceRow", "apply", "parse_entries"]


def parse_entries(head_seq: object, entries: object) -> tuple[int, list[AnchorEntry]] | str:
    """The request's (head_seq, entries), or what is wrong with it (English, for detail)."""
    if not isinstance(head_seq, int) or isinstance(head_seq, bool) or head_seq < 0:
        return "head_seq must be a whole number >= 0"
    if not isinstance(entries, list):
        return "entries must be a list"
    parsed: list[AnchorEntry] = []
    for entry in entries:
        if not isinstance(entry, dict):
            return "each entry must be an object"
        seq, digest, prev = entry.get("seq"), entry.get("hash"), entry.get("prev_hash")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            return "seq must be a whole number >= 1"
        if not isinstance(digest, str) or not HASH_RE.match(digest):
            return "hash must be 64 lowercase hex digits"
        if not isinstance(prev, str) or not HASH_RE.match(prev):
            return "prev_hash must be 64 lowercase hex digits"
        if parsed and seq != parsed[-1]["seq"] + 1:
            return "entries must be consecutive, oldest first"
        parsed.append({"seq": seq, "hash": digest, "prev_hash": prev})
    if parsed and parsed[-1]["seq"] > head_seq:
        return "an entry is past head_seq"
    return head_seq, parsed


def _flag(conn: Conn, device_id: str, flag: str, seq: int, now: str) -> AnchorAnswer:
    conn.execute(
        "UPDATE audit_heads SET flag = ?, flag_seq = ?, flagged_at = ? "
        "WHERE device_id = ? AND flag IS NULL",
        (flag, seq, now, device_id),
    )
    row = conn.execute(
        "SELECT last_seq, flag FROM audit_heads WHERE device_id = ?", (device_id,)
    ).fetchone()
    assert row is not None  # inserted by `apply` in this transaction
    return {"anchored_seq": row[0], "flag": row[1]}


def apply(
    conn: Conn,
    device_id: str,
    head_seq: int,
    entries: list[AnchorEntry],
    now: str,
) -> AnchorAnswer:
    """Check ``entries`` against the device's held chain and store the new ones."""
    conn.execute(
        "INSERT INTO audit_heads (device_id, last_seq, last_hash, anchored_at) "
        "VALUES (?, 0, ?, ?) ON CONFLICT (device_id) DO NOTHING",
        (device_id, GENESIS, now),
    )
    head = conn.execute(
        "SELECT last_seq, last_hash, flag FROM audit_heads WHERE device_id = ?" + conn.for_update,
        (device_id,),
    ).fetchone()
    assert head is not None
    last_seq, last_hash, flag = head["last_seq"], head["last_hash"], head["flag"]
    if flag is not None:
        return {"anchored_seq": last_seq, "flag": flag}
    for entry in entries:
        seq = entry["seq"]
        if seq <= last_seq:
            held = conn.execute(
                "SELECT hash, prev_hash FROM audit_anchors WHERE device_id = ? AND seq = ?",
                (device_id, seq),
            ).fetchone()
            if held is not None and (held[0], held[1]) != (entry["hash"], entry["prev_hash"]):
                return _flag(conn, device_id, "rewritten", seq, now)
            continue
        if seq > last_seq + 1:
            break  # a gap: not stored; the answer says where to resume
        if entry["prev_hash"] != last_hash:
            return _flag(conn, device_id, "forked", seq, now)
        conn.execute(
            "INSERT INTO audit_anchors (device_id, seq, hash, prev_hash, received_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (device_id, seq, entry["hash"], entry["prev_hash"], now),
        )
        last_seq, last_hash = seq, entry["hash"]
    if head_seq < last_seq:
        return _flag(conn, device_id, "backwards", head_seq + 1, now)
    conn.execute(
        "UPDATE audit_heads SET last_seq = ?, last_hash = ?, anchored_at = ? WHERE device_id = ?",
        (last_seq, last_hash, now, device_id),
    )
    return {"anchored_seq": last_seq, "flag": None}


class DeviceRow(TypedDict):
    """One device as `kiosk portal devices` lists it."""

    device_id: str
    name: str
    prefix: str
    enrolled_at: str
    revoked: bool
    anchored_seq: int
    anchored_at: str | None
    audit_flag: str | None
    flag_seq: int | None
    flagged_at: str | None


def devices(conn: Conn) -> list[DeviceRow]:
    rows = conn.execute(
        "SELECT d.id, d.name, d.prefix, d.enrolled_at, d.revoked, h.last_seq, h.anchored_at, "
        "h.flag, h.flag_seq, h.flagged_at FROM devices d "
        "LEFT JOIN audit_heads h ON h.device_id = d.id ORDER BY d.enrolled_at, d.id"
    ).fetchall()
    return [
        {
            "device_id": r[0],
            "name": r[1],
            "prefix": r[2],
            "enrolled_at": r[3],
            "revoked": bool(r[4]),
            "anchored_seq": r[5] or 0,
            "anchored_at": r[6],
            "audit_flag": r[7],
            "flag_seq": r[8],
            "flagged_at": r[9],
        }
        for r in rows
    ]


def flagged_count(conn: Conn, device_id: str | None = None) -> int:
    if device_id:
        row = conn.execute(
            "SELECT COUNT(*) FROM audit_heads WHERE flag IS NOT NULL AND device_id = ?",
            (device_id,),
        ).fetchone()
    else:
        row = conn.execute("SELECT COUNT(*) FROM audit_heads WHERE flag IS NOT NULL").fetchone()
    return int(row[0]) if row is not None else 0
