"""Open-budget votes (Ochiq budjet) at the portal: one per PINFL per season, secret.

Plain functions over a `sync.portal.db.Conn` inside the store's batch transaction
(`sync.portal.kinds` dispatches ``vote`` items here). The rules, and why the tables
keep the ballot secret, are docs/participation.md's:

- who voted is ``vote_voters`` (season, keyed PINFL tag, the DAY): verified voters
  only. What was voted waits sealed in the ballot box (`sync.portal.ballot_box`) and
  reaches ``vote_tally`` (counts) in batches, by a transaction that writes no voter;
- one vote per PINFL per season is ``vote_voters``' primary key: the insert of a second
  vote does nothing (``ON CONFLICT DO NOTHING``), whichever kiosk or process sends it,
  and the item is refused with ``vote.already``;
- a vote counts only when verified (operator ID check, or a one-time code). An
  unverified one waits in ``vote_pending_items`` under the ITEM that made it (device,
  item id): typing a PINFL proves nothing, so a pending vote never blocks another one
  of the same PINFL made elsewhere, and a code confirms the one item it was sent for
  (`confirm_item`). An unverified vote is answered ``pending`` whatever the PINFL (in
  the registry or not, voted or not): only the holder of the phone on record learns,
  at confirmation, that the PINFL had voted. The first vote of the PINFL to be verified
  counts; the same device's other pending votes of the tag go, other devices' expire. Pending votes expire after
  `PENDING_DAYS`, and a device keeps at most `MAX_PENDING` per PINFL and season.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TypedDict

from sync.portal import ballot_box
from sync.portal.db import Conn
from sync.transport import Tally

VERIFIED = "verified"
PENDING = "pending"
PENDING_DAYS = 7  # a week to come back and confirm with a code
MAX_PENDING = 3  # per device, PINFL and season (a kiosk's retries, not a stranger's)
DEVICE_PENDING_DAILY = 2000  # unconfirmed items one device may leave in a day


class VoteOutcome(TypedDict):
    """What `cast` did: ``state`` the vote's state after it (verified or pending), or
    ``refused`` a reason code with its params."""

    state: str
    refused: str | None
    params: dict[str, str]


def _refused(code: str, **params: str) -> VoteOutcome:
    return {"state": "", "refused": code, "params": params}


def expired_on_or_before(day: str) -> str:
    """Pending items made on or before this day have expired on ``day`` (YYYY-MM-DD):
    one made on D is live through D + `PENDING_DAYS` - 1."""
    return (date.fromisoformat(day) - timedelta(days=PENDING_DAYS)).isoformat()


def season_open(conn: Conn, season_id: str, day: str) -> VoteOutcome | None:
    """None when ``season_id`` takes votes on ``day`` (YYYY-MM-DD), else the refusal."""
    row = conn.execute(
        "SELECT opens_on, closes_on FROM vote_seasons WHERE season_id = ?", (season_id,)
    ).fetchone()
    if row is None:
        return _refused("vote.season_unknown", season=season_id[:64])
    if not row["opens_on"] <= day <= row["closes_on"]:
        return _refused("vote.season_closed", season=season_id)
    return None


def _count(
    conn: Conn, key: bytes, season_id: str, tag: str, initiative_id: str, day: str, device_id: str
) -> bool:
    """Record ``tag`` as having voted and box its ballot: False when it had voted. The
    counting device's other pending votes of the tag go; other devices' stay until they
    expire (confirming one tells only the phone's holder `otp.already_counted`): had
    they gone too, a stranger who left one could watch for the moment it vanished and
    learn when the citizen voted (second review)."""
    inserted = conn.execute(
        "INSERT INTO vote_voters (season_id, pinfl_tag, state, voted_on) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (season_id, pinfl_tag) DO NOTHING",
        (season_id, tag, VERIFIED, day),
    )
    conn.execute(
        "DELETE FROM vote_pending_items WHERE season_id = ? AND pinfl_tag = ? AND device_id = ?",
        (season_id, tag, device_id),
    )
    if inserted.rowcount != 1:
        return False
    ballot_box.put(conn, key, season_id, initiative_id)
    return True


def pending_room(
    conn: Conn, table: str, scope: str, scope_id: str, tag: str, device_id: str, day: str
) -> bool:
    """Whether ``device_id`` may leave one more pending item under ``tag`` in ``scope``
    (a season or a petition) of ``table`` today: its own items only count, so what other
    devices typed under the PINFL never fills the citizen's room. Purges expired ones."""
    conn.execute(f"DELETE FROM {table} WHERE made_on <= ?", (expired_on_or_before(day),))
    mine = conn.execute(
        f"SELECT COUNT(*) AS n FROM {table} WHERE {scope} = ? AND pinfl_tag = ? AND device_id = ?",
        (scope_id, tag, device_id),
    ).fetchone()
    today = conn.execute(
        f"SELECT COUNT(*) AS n FROM {table} WHERE device_id = ? AND made_on = ?",
        (device_id, day),
    ).fetchone()
    return (int(mine["n"]) if mine else 0) < MAX_PENDING and (
        int(today["n"]) if today else 0
    ) < DEVICE_PENDING_DAILY


def cast(
    conn: Conn,
    key: bytes,
    season_id: str,
    initiative_id: str,
    tag: str,
    verified: bool,
    day: str,
    item: tuple[str, str],
) -> VoteOutcome:
    """Record the vote of ``tag`` for ``initiative_id`` made by ``item`` (device id,
    item id): counted (boxed) now when ``verified`` (a second one refused
    ``vote.already``), else kept pending under the item, without saying whether the
    tag had voted. ``key`` is the ballot box's (`sync.portal.ballot_box.key_from`)."""
    problem = season_open(conn, season_id, day)
    if problem is not None:
        return problem
    known = conn.execute(
        "SELECT 1 FROM vote_initiatives WHERE season_id = ? AND initiative_id = ?",
        (season_id, initiative_id),
    ).fetchone()
    if known is None:
        return _refused("vote.initiative_unknown", initiative=initiative_id, season=season_id)
    if verified:
        if not _count(conn, key, season_id, tag, initiative_id, day, item[0]):
            return _refused("vote.already", season=season_id, state=VERIFIED)
        return {"state": VERIFIED, "refused": None, "params": {}}
    if not pending_room(conn, "vote_pending_items", "season_id", season_id, tag, item[0], day):
        return _refused("participation.too_many_pending", most=str(MAX_PENDING))
    conn.execute(
        "INSERT INTO vote_pending_items (device_id, item_id, season_id, pinfl_tag, "
        "initiative_id, made_on) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (device_id, item_id) DO NOTHING",
        (item[0], item[1], season_id, tag, initiative_id, day),
    )
    return {"state": PENDING, "refused": None, "params": {}}


def pending_item(conn: Conn, item: tuple[str, str], tag: str, day: str) -> str | None:
    """The season of the live pending vote ``item`` made under ``tag``, or None."""
    row = conn.execute(
        "SELECT season_id FROM vote_pending_items WHERE device_id = ? AND item_id = ? "
        "AND pinfl_tag = ? AND made_on > ?",
        (item[0], item[1], tag, expired_on_or_before(day)),
    ).fetchone()
    return str(row["season_id"]) if row is not None else None


class Confirmation(TypedDict):
    """What a right code did to the pending vote of ``season``: counted when ``refused``
    is None, else why not."""

    season: str
    refused: str | None


def confirm_item(
    conn: Conn, key: bytes, item: tuple[str, str], tag: str, day: str
) -> Confirmation | None:
    """Count the pending vote ``item`` (its one-time code was right); None when there is
    no such live item. Refused ``otp.season_closed`` after the season's last day (the
    results are final), ``otp.already_counted`` when the tag had voted; either way the
    item goes."""
    row = conn.execute(
        "SELECT season_id, initiative_id FROM vote_pending_items WHERE device_id = ? "
        "AND item_id = ? AND pinfl_tag = ? AND made_on > ?" + conn.for_update,
        (item[0], item[1], tag, expired_on_or_before(day)),
    ).fetchone()
    if row is None:
        return None
    season_id = str(row["season_id"])
    closed = season_open(conn, season_id, day)
    if closed is not None:
        conn.execute("DELETE FROM vote_pending_items WHERE device_id = ? AND item_id = ?", item)
        return {"season": season_id, "refused": "otp.season_closed"}
    if not _count(conn, key, season_id, tag, row["initiative_id"], day, item[0]):
        conn.execute("DELETE FROM vote_pending_items WHERE device_id = ? AND item_id = ?", item)
        return {"season": season_id, "refused": "otp.already_counted"}
    return {"season": season_id, "refused": None}


def drop_pending(conn: Conn, season_id: str) -> None:
    """A closed season's pending votes can never count: gone."""
    conn.execute("DELETE FROM vote_pending_items WHERE season_id = ?", (season_id,))


def tally(conn: Conn, season_id: str, day: str) -> Tally:
    """The season's counts: votes by initiative and ``voters``, both the COUNTED ballots
    (how many wait in the ballot box is not told: docs/participation.md), and the live
    pending votes."""
    rows = conn.execute(
        "SELECT initiative_id, votes FROM vote_tally WHERE season_id = ? ORDER BY initiative_id",
        (season_id,),
    ).fetchall()
    pending = conn.execute(
        "SELECT COUNT(*) AS n FROM vote_pending_items WHERE season_id = ? AND made_on > ?",
        (season_id, expired_on_or_before(day)),
    ).fetchone()
    votes = {r["initiative_id"]: int(r["votes"]) for r in rows}
    return {
        "season_id": season_id,
        "votes": votes,
        "pending": int(pending["n"]) if pending else 0,
        "voters": sum(votes.values()),
    }
