"""The enrolment side of the portal: one-time codes, the guessing limit, devices.

Plain functions over a `sync.portal.db.Conn` inside the caller's transaction, as
`sync.portal.anchors` is: `sync.portal.store.PortalStore` opens the transaction and
reads its clock, these do the reads and writes. The policy they apply (code
validity, limits per source and in total) is `sync.portal.storage`'s, shared by
every backend; here is how the database keeps it: codes stored as hashes and bound
to a name (and maybe a device), wrong codes counted in ``enrolment_failures`` so
every portal process sharing the database applies one limit (`Conn.serialize` makes
the check and the count one step on PostgreSQL; SQLite's write lock does on SQLite),
and a code is spent by a conditional UPDATE, so two processes never both spend it.
"""

from __future__ import annotations

import math
import secrets
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from kiosk import enrolment_code, reasons
from kiosk.wire import ALPHABET, PREFIX_LEN, UUID_RE, now_iso
from sync import wire
from sync.portal import claims as claims_mod
from sync.portal.db import Conn, Row
from sync.portal.storage import (
    ENROL_GLOBAL_LIMIT,
    ENROL_SOURCE_LIMIT,
    ENROL_WINDOW,
    MAX_CODE_TTL,
    Device,
    EnrolmentRefused,
    PortalStoreError,
    clean_name,
    clean_region,
)
from sync.transport import Enrolled


def checked_region(region: str | None) -> str | None:
    """The cleaned region of a new code (None: none given); PortalStoreError for one that
    is not 1-64 printable characters or starts with = + - @ *."""
    if region is None:
        return None
    clean = clean_region(region)
    if clean is None:
        raise PortalStoreError(
            "a region is 1-64 printable characters, not starting with = + - @ or *"
        )
    return clean


def checked_name(name: str, device_id: str | None, ttl: timedelta) -> str:
    """The cleaned device name a new code is for; PortalStoreError for an empty name, a
    device id that is not a UUID, or a ``ttl`` outside 1 minute .. 30 days."""
    clean = clean_name(name)
    if clean is None:
        raise PortalStoreError("a device name of 1-200 printable characters is needed")
    if device_id is not None and not UUID_RE.match(device_id):
        raise PortalStoreError(f"{device_id!r} is not a device id (a lowercase UUID)")
    if not timedelta(minutes=1) <= ttl <= MAX_CODE_TTL:
        raise PortalStoreError("a code is valid between 1 minute and 30 days")
    return clean


def add_code(
    conn: Conn,
    raw: str,
    name: str,
    device_id: str | None,
    now: datetime,
    ttl: timedelta,
    region: str | None = None,
) -> None:
    """Store code ``raw`` (its hash only) for ``name``, valid from ``now`` for ``ttl``;
    the device it enrols gets ``region`` (open data)."""
    conn.execute(
        "INSERT INTO enrolment_codes (code_hash, created_at, expires_at, name, device_id, "
        "region) VALUES (?, ?, ?, ?, ?, ?)",
        (
            enrolment_code.code_hash(raw),
            now_iso(now),
            now_iso(now + ttl),
            name,
            device_id,
            region,
        ),
    )


def spend_code(
    conn: Conn,
    code: str,
    device_id: str | None,
    source: str,
    token: str,
    pre_prefix: str | None,
    moment: datetime,
    claims: Sequence[Mapping[str, object]] = (),
) -> Enrolled | EnrolmentRefused:
    """The guessing limit, then ``code`` spent on a new or re-enrolled device under
    ``token``: {device_id, token, device_prefix, name, refused_claims}, or the refusal
    (returned, not raised, so the caller commits a recorded wrong code before raising
    it). ``claims`` are recorded for the device (`sync.portal.claims.record`)."""
    now = now_iso(moment)
    cutoff = now_iso(moment - ENROL_WINDOW)
    # One enrolment at a time across processes: the limit's count-then-record, the
    # random prefix and a device's re-enrolment are each one step (never an error).
    conn.serialize("portal.enrol")
    conn.execute("DELETE FROM enrolment_failures WHERE at <= ?", (cutoff,))
    for where, params, limit in (
        ("source = ?", (source,), ENROL_SOURCE_LIMIT),
        ("1 = 1", (), ENROL_GLOBAL_LIMIT),
    ):
        times = [
            r[0]
            for r in conn.execute(
                f"SELECT at FROM enrolment_failures WHERE {where} ORDER BY at DESC LIMIT ?",
                (*params, limit),
            )
        ]
        if len(times) >= limit:  # free again when the limit-th newest leaves the window
            freed = datetime.fromisoformat(times[-1]) + ENROL_WINDOW
            wait = max(1, math.ceil((freed - moment).total_seconds()))
            body = reasons.refusal("enrol.rate_limited", minutes=math.ceil(wait / 60))
            return EnrolmentRefused(body, retry_after=wait)
    canon = enrolment_code.normalize(code)
    row = None
    if canon is not None:
        row = conn.execute(
            "SELECT * FROM enrolment_codes WHERE code_hash = ?",
            (enrolment_code.code_hash(canon),),
        ).fetchone()
    if row is None or row["used_at"] is not None or row["expires_at"] <= now or not row["name"]:
        conn.execute("INSERT INTO enrolment_failures (source, at) VALUES (?, ?)", (source, now))
        return EnrolmentRefused(reasons.refusal("enrol.code"))
    # A right code offered for the wrong device: refused, not spent, not a guess.
    bound = row["device_id"]
    if bound is not None and device_id != bound:
        return EnrolmentRefused(reasons.refusal("enrol.other_device"))
    existing = None
    if device_id:
        existing = conn.execute(
            "SELECT id, prefix FROM devices WHERE id = ?", (device_id,)
        ).fetchone()
    if existing is not None and bound is None:
        return EnrolmentRefused(reasons.refusal("enrol.device_bound", device_id=device_id))
    spent = conn.execute(
        "UPDATE enrolment_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL",
        (now, row["code_hash"]),
    )
    if spent.rowcount != 1:  # spent meanwhile by another process: a used code
        return EnrolmentRefused(reasons.refusal("enrol.code"))
    key = wire.bundle_key(token).hex()
    if existing is not None:
        conn.execute(
            "UPDATE devices SET token_hash = ?, bundle_key = ?, revoked = 0, name = ?, "
            "pre_prefix = COALESCE(?, pre_prefix), region = COALESCE(?, region) WHERE id = ?",
            (wire.token_hash(token), key, row["name"], pre_prefix, row["region"], existing["id"]),
        )
        return {
            "device_id": existing["id"],
            "token": token,
            "device_prefix": existing["prefix"],
            "name": row["name"],
            "refused_claims": claims_mod.record(conn, existing["id"], claims, now),
        }
    prefix = free_prefix(conn)
    # A kiosk keeps its own uuid for life; the portal adopts it when it is one.
    new_id = device_id if device_id and UUID_RE.match(device_id) else str(uuid.uuid4())
    conn.execute(
        "INSERT INTO devices (id, name, prefix, token_hash, bundle_key, enrolled_at, "
        "pre_prefix, region) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (new_id, row["name"], prefix, wire.token_hash(token), key, now, pre_prefix, row["region"]),
    )
    return {
        "device_id": new_id,
        "token": token,
        "device_prefix": prefix,
        "name": row["name"],
        "refused_claims": claims_mod.record(conn, new_id, claims, now),
    }


def free_prefix(conn: Conn) -> str:
    """A tracking-code prefix no device has yet, drawn at random."""
    used = {r[0] for r in conn.execute("SELECT prefix FROM devices")}
    space = len(ALPHABET) ** PREFIX_LEN
    if len(used) >= space:
        raise PortalStoreError("no tracking-code prefixes left")
    while True:
        prefix = "".join(secrets.choice(ALPHABET) for _ in range(PREFIX_LEN))
        if prefix not in used:
            return prefix


def device_from_row(row: Row | None) -> Device | None:
    """A ``devices`` row as the `Device` the rules judge by (None for no row)."""
    if row is None:
        return None
    return Device(
        row["id"],
        row["name"],
        row["prefix"],
        bytes.fromhex(row["bundle_key"]),
        row["pre_prefix"],
        bool(row["revoked"]),
        bool(row["legacy"]),
    )


def find_device(conn: Conn, device_id: str, *, lock: bool = False) -> Device | None:
    """The device with this id, revoked or not; with ``lock``, its row locked to the end
    of the transaction (other processes' batches of this device wait)."""
    suffix = conn.for_update if lock else ""
    row = conn.execute("SELECT * FROM devices WHERE id = ?" + suffix, (device_id,)).fetchone()
    return device_from_row(row)


def find_device_by_token(conn: Conn, token: str) -> Device | None:
    """The device this bearer token belongs to, unless it is revoked."""
    row = conn.execute(
        "SELECT * FROM devices WHERE token_hash = ? AND revoked = 0",
        (wire.token_hash(token),),
    ).fetchone()
    return device_from_row(row)


def revoke(conn: Conn, device_id: str, now: datetime) -> None:
    """Mark the device revoked and void its unspent codes; PortalStoreError if unknown."""
    cur = conn.execute("UPDATE devices SET revoked = 1 WHERE id = ?", (device_id,))
    if cur.rowcount == 0:
        raise PortalStoreError(f"unknown device {device_id}")
    conn.execute(
        "UPDATE enrolment_codes SET used_at = ? WHERE device_id = ? AND used_at IS NULL",
        (now_iso(now), device_id),
    )
