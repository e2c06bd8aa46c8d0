"""The ballot box: counted votes wait here, sealed, until a batch of them is mixed into
the tally by a transaction of its own (docs/participation.md, "Ballot secrecy").

Why: the voter's row (`vote_voters`) is written in the ingest transaction. Had the same
transaction added one to `vote_tally`, PostgreSQL's hidden ``xmin`` (the writing
transaction's id, readable by any SQL reader) would join that voter to that initiative,
and a tally read right after each vote would do the same on any backend. So:

- the ingest transaction only puts the ballot in `vote_box`, padded to one size and
  sealed with AES-GCM under a key derived from the portal's PINFL key file (never in the
  database): a reader of the database may tie a box row to its voter (same
  transaction), but sees that a ballot exists, never what it says, not even its length;
- `mix` (its own transaction, `sync.portal.participation_store`) opens the season's
  ballots, adds them to `vote_tally` and deletes them, only when at least
  `batch_size` wait (default `DEFAULT_BATCH`, a portal setting) or the season has
  closed: each change of the tally is the sum of many voters' ballots, and its
  transaction wrote no voter row.

Votes wait uncounted until their batch fills. How many wait is not published (the
public tally's ``voters`` are the counted ones): knowing it, a kiosk could add its own
ballots until one other ballot is left in a batch and read that one off the change.
"""

from __future__ import annotations

import base64
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sync.portal import pinfl_key
from sync.portal.db import Conn

PURPOSE = "ballot-box-v1"
DEFAULT_BATCH = 10
BATCH_SETTING = "ballot_batch"
MAX_BATCH = 10_000
NONCE_BYTES = 12
SEALED_SIZE = 80  # every choice is padded to this many bytes before sealing
MIN_SAFE_BATCH = 5  # the command refuses smaller batches (tests set 1 directly)


def key_from(portal_key: bytes) -> bytes:
    return pinfl_key.derive(portal_key, PURPOSE)


def seal(key: bytes, season_id: str, initiative_id: str) -> str:
    """The initiative id sealed for ``season_id`` (bound to it: a ballot moved to another
    season does not open)."""
    raw = initiative_id.encode()
    if len(raw) >= SEALED_SIZE or b"\0" in raw:
        raise ValueError("an initiative id is shorter than the sealed size")
    # Padded to one size: the ciphertext's length must not tell the initiative.
    padded = raw + b"\0" * (SEALED_SIZE - len(raw))
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, padded, season_id.encode())
    return base64.b64encode(nonce + sealed).decode("ascii")


def open_sealed(key: bytes, season_id: str, text: str) -> str | None:
    """The initiative id of a sealed ballot, or None when it does not open."""
    try:
        raw = base64.b64decode(text, validate=True)
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], season_id.encode())
        return plain.rstrip(b"\0").decode()
    except (ValueError, InvalidTag, UnicodeDecodeError):
        return None


def put(conn: Conn, key: bytes, season_id: str, initiative_id: str) -> None:
    """Drop one counted ballot in the box (in the voter's transaction). Its id is random:
    nothing orders the box by arrival that a reader could line up with the voters."""
    conn.execute(
        "INSERT INTO vote_box (ballot_id, season_id, sealed) VALUES (?, ?, ?)",
        (secrets.token_hex(16), season_id, seal(key, season_id, initiative_id)),
    )


def batch_size(conn: Conn) -> int:
    row = conn.execute(
        "SELECT value FROM portal_settings WHERE name = ?", (BATCH_SETTING,)
    ).fetchone()
    try:
        value = int(row["value"]) if row is not None else DEFAULT_BATCH
    except ValueError:
        value = DEFAULT_BATCH
    return min(max(value, 1), MAX_BATCH)


def set_batch_size(conn: Conn, size: int) -> None:
    if not 1 <= size <= MAX_BATCH:
        raise ValueError(f"a ballot batch is 1-{MAX_BATCH} ballots")
    conn.execute(
        "INSERT INTO portal_settings (name, value) VALUES (?, ?) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        (BATCH_SETTING, str(size)),
    )


def waiting(conn: Conn) -> dict[str, int]:
    """Ballots waiting in the box, by season."""
    rows = conn.execute(
        "SELECT season_id, COUNT(*) AS n FROM vote_box GROUP BY season_id"
    ).fetchall()
    return {r["season_id"]: int(r["n"]) for r in rows}


def mix(conn: Conn, key: bytes, season_id: str, flush: bool) -> int:
    """Move the season's boxed ballots into the tally when a batch is full (or ``flush``,
    the season has closed): the number moved. Runs in a transaction of its own, one per
    season at a time (`Conn.serialize`); the rows are locked, so two processes never move
    one ballot twice. A ballot that does not open (a changed key file) stays in the box."""
    conn.serialize(f"ballot-box:{season_id}")
    rows = conn.execute(
        "SELECT ballot_id, sealed FROM vote_box WHERE season_id = ?" + conn.for_update,
        (season_id,),
    ).fetchall()
    opened = [(r["ballot_id"], open_sealed(key, season_id, r["sealed"])) for r in rows]
    ballots = [(ballot_id, choice) for ballot_id, choice in opened if choice is not None]
    # Only ballots that open make a batch: rows that do not (a changed key file, or rows
    # written into the table by hand) must not let one real ballot be counted alone.
    if not ballots or (len(ballots) < batch_size(conn) and not flush):
        return 0
    counts: dict[str, int] = {}
    for ballot_id, choice in ballots:
        counts[choice] = counts.get(choice, 0) + 1
        conn.execute("DELETE FROM vote_box WHERE ballot_id = ?", (ballot_id,))
    for initiative, count in sorted(counts.items()):
        conn.execute(
            "UPDATE vote_tally SET votes = votes + ? WHERE season_id = ? AND initiative_id = ?",
            (count, season_id, initiative),
        )
    return len(ballots)
