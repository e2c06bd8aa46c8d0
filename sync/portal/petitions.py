"""Petitions (Mening fikrim) at the portal: started, signed once per PINFL, reviewed at
a threshold. Plain functions over a `sync.portal.db.Conn` in the store's transaction.

- A petition is published as soon as it is started (no moderation step in the
  reference portal: docs/participation.md says why and where one would go); its id is
  the starting item's id, so a resent start is the same petition.
- One signature per PINFL per petition is ``petition_signers``' primary key (a keyed
  tag, `sync.portal.pinfl_key`); a second one is refused with ``petition.already``.
- Only verified signatures count (`VERIFIED`, rows of ``petition_signers``). An
  unverified one waits in ``petition_pending`` under the ITEM that made it (device,
  item id), like a pending vote (`sync.portal.votes`): it blocks nobody, a one-time
  code confirms that item only (`confirm_item`), it expires after
  `sync.portal.votes.PENDING_DAYS`, a device keeps at most
  `sync.portal.votes.MAX_PENDING` per PINFL and petition, and it is answered
  ``pending`` whether or not the PINFL had signed (told only at confirmation).
- ``signatures`` is bumped in the database (``signatures = signatures + 1``), and the
  petition moves from ``open`` to ``under_review`` by ONE conditional update (``WHERE
  state = 'open' AND signatures >= threshold``), in the same transaction: whichever
  signature crosses the threshold, from whichever process, the change happens once.
"""

from __future__ import annotations

from sync.portal.db import Conn, Row
from sync.portal.votes import expired_on_or_before, pending_room
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
    conn: Conn, petition_id: str, tag: str, verified: bool, now: str, item: tuple[str, str]
) -> tuple[str | None, str]:
    """Record ``tag``'s signature made by ``item`` (device id, item id): (None, state) or
    (reason code, the state it is refused for). Unverified: pending under the item."""
    found = conn.execute(
        "SELECT state FROM petitions WHERE petition_id = ?", (petition_id,)
    ).fetchone()
    if found is None:
        return "petition.unknown", ""
    if verified:
        if not _signed(conn, petition_id, tag, now, item[0]):
            return "petition.already", VERIFIED
        return None, VERIFIED
    day = now[:10]
    if not pending_room(conn, "petition_pending", "petition_id", petition_id, tag, item[0], day):
        return "participation.too_many_pending", PENDING
    conn.execute(
        "INSERT INTO petition_pending (device_id, item_id, petition_id, pinfl_tag, made_on) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id, item_id) DO NOTHING",
        (item[0], item[1], petition_id, tag, day),
    )
    return None, PENDING


def _signed(conn: Conn, petition_id: str, tag: str, now: str, device_id: str) -> bool:
    """Count ``tag``'s signature (and drop the same device's pending ones of it, as
    `sync.portal.votes` does): False when it had signed."""
    inserted = conn.execute(
        "INSERT INTO petition_signers (petition_id, pinfl_tag, state, signed_on) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (petition_id, pinfl_tag) DO NOTHING",
        (petition_id, tag, VERIFIED, now[:10]),
    )
    conn.execute(
        "DELETE FROM petition_pending WHERE petition_id = ? AND pinfl_tag = ? AND device_id = ?",
        (petition_id, tag, device_id),
    )
    if inserted.rowcount != 1:
        return False
    _count(conn, petition_id, now)
    return True


def pending_item(conn: Conn, item: tuple[str, str], tag: str, day: str) -> str | None:
    """The petition of the live pending signature ``item`` made under ``tag``, or None."""
    row = conn.execute(
        "SELECT petition_id FROM petition_pending WHERE device_id = ? AND item_id = ? "
        "AND pinfl_tag = ? AND made_on > ?",
        (item[0], item[1], tag, expired_on_or_before(day)),
    ).fetchone()
    return str(row["petition_id"]) if row is not None else None


def confirm_item(
    conn: Conn, item: tuple[str, str], tag: str, now: str
) -> tuple[str | None, str | None]:
    """Count the pending signature ``item`` (its code was right): (None, petition), or
    (``otp.already_counted``, None) when the tag had signed, or (None, None) when there
    is no such live item."""
    petition_id = pending_item(conn, item, tag, now[:10])
    if petition_id is None:
        return None, None
    if not _signed(conn, petition_id, tag, now, item[0]):
        conn.execute("DELETE FROM petition_pending WHERE device_id = ? AND item_id = ?", item)
        return "otp.already_counted", None
    return None, petition_id


_PENDING_COUNT = (
    "(SELECT COUNT(*) FROM petition_pending p WHERE p.petition_id = petitions.petition_id "
    "AND p.made_on > ?) AS pending_now"
)


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
        "pending": int(get("pending_now")),
        "state": get("state"),
        "started_on": get("started_on"),
        "review_at": get("review_at"),
    }


def listed(conn: Conn, district: str | None, day: str, limit: int = 100) -> list[Petition]:
    """Petitions of ``district`` (or all), most signed first; pending signatures live on
    ``day`` counted."""
    sql = f"SELECT petitions.*, {_PENDING_COUNT} FROM petitions"
    params: list[object] = [expired_on_or_before(day)]
    if district:
        sql += " WHERE district = ?"
        params.append(district)
    sql += " ORDER BY signatures DESC, petition_id LIMIT ?"
    params.append(limit)
    return [_row(r) for r in conn.execute(sql, params).fetchall()]


def one(conn: Conn, petition_id: str, day: str) -> Petition | None:
    r = conn.execute(
        f"SELECT petitions.*, {_PENDING_COUNT} FROM petitions WHERE petition_id = ?",
        (expired_on_or_before(day), petition_id),
    ).fetchone()
    return _row(r) if r is not None else None
