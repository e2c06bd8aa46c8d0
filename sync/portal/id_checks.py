"""ID checks attested by kiosk operators: counted per device, operator and day, capped.

A vote or signature made in operator mode counts at once because the kiosk says its
operator checked the citizen's ID document (`sync.portal.kinds`). The portal cannot see
the document, so it keeps the claim accountable: each one is counted here (device,
operator id, day, whatever then happens to the item: a device probing the registry or
the voters with claimed checks is capped and seen; no PINFL, no choice, so the counts
say nothing of who voted for what),
a ministry can list them (`attestations`, `kiosk portal season checks`) to spot a kiosk
that attests far more than its office serves, and beyond `DEVICE_DAILY` per device or
`OPERATOR_DAILY` per operator in a day a claim no longer verifies: the vote or signature
is kept pending and the citizen confirms it with a one-time code (docs/participation.md).
"""

from __future__ import annotations

from typing import TypedDict

from sync.portal.db import Conn

DEVICE_DAILY = 400  # a busy centre's day, several operators
OPERATOR_DAILY = 250  # one operator's day of ID checks


class Attestation(TypedDict):
    device_id: str
    device_name: str
    operator_id: str
    day: str
    checks: int


def room(conn: Conn, device_id: str, operator_id: str, day: str) -> bool:
    """Whether the device and operator may still attest an ID check on ``day``. One step
    per device across processes (`Conn.serialize`, to the end of the transaction)."""
    conn.serialize(f"id-checks:{device_id}")
    rows = conn.execute(
        "SELECT operator_id, checks FROM id_checks WHERE device_id = ? AND day = ?",
        (device_id, day),
    ).fetchall()
    total = sum(int(r["checks"]) for r in rows)
    mine = sum(int(r["checks"]) for r in rows if r["operator_id"] == operator_id)
    return total < DEVICE_DAILY and mine < OPERATOR_DAILY


def record(conn: Conn, device_id: str, operator_id: str, day: str) -> None:
    """Count one attested check (within `room`)."""
    conn.execute(
        "INSERT INTO id_checks (device_id, operator_id, day, checks) VALUES (?, ?, ?, 1) "
        "ON CONFLICT (device_id, operator_id, day) DO UPDATE SET checks = id_checks.checks + 1",
        (device_id, operator_id, day),
    )


def attestations(conn: Conn, since: str, limit: int = 500) -> list[Attestation]:
    """Attested ID checks from ``since`` (a day) on, most first."""
    rows = conn.execute(
        "SELECT c.device_id, d.name AS device_name, c.operator_id, c.day, c.checks "
        "FROM id_checks c LEFT JOIN devices d ON d.id = c.device_id WHERE c.day >= ? "
        "ORDER BY c.checks DESC, c.day, c.device_id, c.operator_id LIMIT ?",
        (since, limit),
    ).fetchall()
    return [
        {
            "device_id": r["device_id"],
            "device_name": r["device_name"] or "",
            "operator_id": r["operator_id"],
            "day": r["day"],
            "checks": int(r["checks"]),
        }
        for r in rows
    ]
