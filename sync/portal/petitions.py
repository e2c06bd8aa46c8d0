"""Petitions (Mening fikrim) at the portal: started, signed once per PINFL, reviewed at
a threshold. Plain functions over a `sync.portal.db.Conn` in the store's transaction.

- A petition is published as soon as it is started (no moderation step in the
  reference portal: docs/participation.md says why and where one would go); its id is
  the starting item's id, so a resent start is the same petition.
- One signature per PINFL per petition is ``petition_signers``' primary key (a keyed
  tag, `sync.portal.pinfl_key`); a second one is refused with ``petition.already``.
- Only verified signatures count (`VERIFIED`); unverified ones wait as ``pending``
  until confirmed with a one-time code (`confirm`).
- ``signatures`` is bumped in the database (``signatures = signatures + 1``), and the
  petition moves from ``open`` to ``under_review`` by ONE conditional update (``WHERE
  state = 'open' AND signatures >= threshold``), in the same transaction: whichever
  signature crosses the threshold, from whichever process, the change happens once.
"""

from __future__ import annotations

from sync.portal.db import Conn, Row
from sync.transport import Petition

VERIFIED = "verified"
PENDING = "pending"
OPEN = "open"
UNDER_REVIEW = "under_review"
DEFAULT_THRESHOLD = 10_000
STATES = (OPEN, UNDER_REVIEW)


def start(
    conn: Conn,
    petition_id: str,
    district: str,
    title: str,
    body: str,
    lang: str,
    threshold: int,
    day: str,
) -> bool:
    """Publish a petition; False when one with this id exists (a resent start)."""
    cur = conn.execute(
        "INSERT INTO petitions (petition_id, district, title, body, lang, threshold, "
        "signatures, pending, state, started_on) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, ?) "
        "ON CONFLICT (petition_id) DO NOTHING",
        (petition_id, district, title, body, lang, threshold, OPEN, day),
    )
    return cur.rowcount == 1


def _count(conn: Conn, petition_id: str, now: str) -> None:
    conn.execute(
        "UPDATE petitions SET signatures = signatures + 1 WHERE petition_id = ?", (petition_id,)
    )
    to_review(conn, petition_id, now)


REVIEWS_COUNTER = "petition_reviews"  # counters: petitions moved to review (a check)


def to_review(conn: Conn, petition_id: str, now: str) -> bool:
    """Move the petition to review if it reached its threshold: True the one time the
    conditional update changes it (whoever races, only one transaction sees ``open``)."""
    moved = conn.execute(
        "UPDATE petitions SET state = ?, review_at = ? WHERE petition_id = ? AND state = ? "
        "AND signatures >= threshold",
        (UNDER_REVIEW, now, petition_id, OPEN),
    )
    if moved.rowcount != 1:
        return False
    conn.execute(
        "INSERT INTO counters (name, value) VALUES (?, 1) "
        "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1",
        (REVIEWS_COUNTER,),
    )
    return True


def sign(
    conn: Conn, petition_id: str, tag: str, verified: bool, now: str
) -> tuple[str | None, str]:
    """Record ``tag``'s signature: (None, state) or (reason code, the first one's state).

    A verified signature replaces the tag's pending one (which then counts)."""
    found = conn.execute(
        "SELECT state FROM petitions WHERE petition_id = ?", (petition_id,)
    ).fetchone()
    if found is None:
        return "petition.unknown", ""
    state = VERIFIED if verified else PENDING
    inserted = conn.execute(
        "INSERT INTO petition_signers (petition_id, pinfl_tag, state, signed_on) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (petition_id, pinfl_tag) DO NOTHING",
        (petition_id, tag, state, now[:10]),
    )
    if inserted.rowcount == 1:
        if verified:
            _count(conn, petition_id, now)
        else:
            conn.execute(
                "UPDATE petitions SET pending = pending + 1 WHERE petition_id = ?", (petition_id,)
            )
        return None, state
    if verified and confirm(conn, petition_id, tag, now):
        return None, VERIFIED
    first = conn.execute(
        "SELECT state FROM petition_signers WHERE petition_id = ? AND pinfl_tag = ?",
        (petition_id, tag),
    ).fetchone()
    return "petition.already", first["state"] if first else VERIFIED


def confirm(conn: Conn, petition_id: str, tag: str, now: str) -> bool:
    """Count ``tag``'s pending signature (confirmed); True if one was pending."""
    changed = conn.execute(
        "UPDATE petition_signers SET state = ? WHERE petition_id = ? AND pinfl_tag = ? "
        "AND state = ?",
        (VERIFIED, petition_id, tag, PENDING),
    )
    if changed.rowcount != 1:
        return False
    conn.execute("UPDATE petitions SET pending = pending - 1 WHERE petition_id = ?", (petition_id,))
    _count(conn, petition_id, now)
    return True


def pending_for(conn: Conn, tag: str) -> list[str]:
    rows = conn.execute(
        "SELECT petition_id FROM petition_signers WHERE pinfl_tag = ? AND state = ? "
        "ORDER BY petition_id",
        (tag, PENDING),
    ).fetchall()
    return [r["petition_id"] for r in rows]


def _row(r: Row) -> Petition:
    get = r.__getitem__
    return {
        "petition_id": get("petition_id"),
        "district": get("district"),
        "title": get("title"),
        "body": get("body"),
        "lang": get("lang"),
        "threshold": int(get("threshold")),
        "signatures": int(get("signatures")),
        "pending": int(get("pending")),
        "state": get("state"),
        "started_on": get("started_on"),
        "review_at": get("review_at"),
    }


def listed(conn: Conn, district: str | None, limit: int = 100) -> list[Petition]:
    """Petitions of ``district`` (or all), most signed first."""
    sql = "SELECT * FROM petitions"
    params: list[object] = []
    if district:
        sql += " WHERE district = ?"
        params.append(district)
    sql += " ORDER BY signatures DESC, petition_id LIMIT ?"
    params.append(limit)
    return [_row(r) for r in conn.execute(sql, params).fetchall()]


def one(conn: Conn, petition_id: str) -> Petition | None:
    r = conn.execute("SELECT * FROM petitions WHERE petition_id = ?", (petition_id,)).fetchone()
    return _row(r) if r is not None else None
