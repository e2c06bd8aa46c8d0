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
  of the same PINFL, and a code confirms the one item it was sent for
  (`confirm_item`). The first vote of the PINFL to be verified counts; its other
  pending votes of the season are dropped. Pending votes expire after `PENDING_DAYS`
  and at most `MAX_PENDING` wait per PINFL and season.
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
MAX_PENDING = 3  # per PINFL and season: a typed PINFL cannot fill the table


class VoteOutcome(TypedDict):
    """What `cast` did: ``state`` the vote's state after it (verified or pending), or
    ``refused`` a reason code with its params."""

    state: str
    refused: str | None
    params: dict[str, str]


def _refused(code: str, **params: str) -> VoteOutcome:
    return {"state": "", "refused": code, "params": params}


def expired_before(day: str) -> str:
    """Pending items made before this day (YYYY-MM-DD) have expired."""
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


def _count(conn: Conn, key: bytes, season_id: str, tag: str, initiative_id: str, day: str) -> bool:
    """Record ``tag`` as having voted and box its ballot: False when it had voted."""
    inserted = conn.execute(
        "INSERT INTO vote_voters (season_id, pinfl_tag, state, voted_on) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (season_id, pinfl_tag) DO NOTHING",
        (season_id, tag, VERIFIED, day),
    )
    conn.execute(
        "DELETE FROM vote_pending_items WHERE season_id = ? AND pinfl_tag = ?", (season_id, tag)
    )
    if inserted.rowcount != 1:
        return False
    ballot_box.put(conn, key, season_id, initiative_id)
    return True


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
    item id): counted (boxed) now when ``verified``, else kept pending under the item. A
    second vote of the tag this season is refused ``vote.already``; ``key`` is the
    ballot box's (`sync.portal.ballot_box.key_from`)."""
    problem = season_open(conn, season_id, day)
    if problem is not None:
        return problem
    known = conn.execute(
        "SELECT 1 FROM vote_initiatives WHERE season_id = ? AND initiative_id = ?",
        (season_id, initiative_id),
    ).fetchone()
    if known is None:
        return _refused("vote.initiative_unknown", initiative=initiative_id, season=season_id)
    voted = conn.execute(
        "SELECT 1 FROM vote_voters WHERE season_id = ? AND pinfl_tag = ?", (season_id, tag)
    ).fetchone()
    if voted is not None:
        return _refused("vote.already", season=season_id, state=VERIFIED)
    if verified:
        if not _count(conn, key, season_id, tag, initiative_id, day):
            return _refused("vote.already", season=season_id, state=VERIFIED)
        return {"state": VERIFIED, "refused": None, "params": {}}
    conn.execute("DELETE FROM vote_pending_items WHERE made_on < ?", (expired_before(day),))
    waiting = conn.execute(
        "SELECT COUNT(*) AS n FROM vote_pending_items WHERE season_id = ? AND pinfl_tag = ?",
        (season_id, tag),
    ).fetchone()
    if waiting is not None and int(waiting["n"]) >= MAX_PENDING:
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
        "AND pinfl_tag = ? AND made_on >= ?",
        (item[0], item[1], tag, expired_before(day)),
    ).fetchone()
    return str(row["season_id"]) if row is not None else None


def confirm_item(conn: Conn, key: bytes, item: tuple[str, str], tag: str, day: str) -> str | None:
    """Count the pending vote ``item`` (its one-time code was right): its season, or None
    when there is none to count (expired, or the tag voted meanwhile)."""
    row = conn.execute(
        "SELECT season_id, initiative_id FROM vote_pending_items WHERE device_id = ? "
        "AND item_id = ? AND pinfl_tag = ? AND made_on >= ?" + conn.for_update,
        (item[0], item[1], tag, expired_before(day)),
    ).fetchone()
    if row is None:
        return None
    season_id = str(row["season_id"])
    if not _count(conn, key, season_id, tag, row["initiative_id"], day):
        return None
    return season_id


def tally(conn: Conn, season_id: str, day: str) -> Tally:
    """The season's counts: mixed votes by initiative, verified voters (counted or
    waiting in the box), live pending votes."""
    rows = conn.execute(
        "SELECT initiative_id, votes FROM vote_tally WHERE season_id = ? ORDER BY initiative_id",
        (season_id,),
    ).fetchall()
    pending = conn.execute(
        "SELECT COUNT(*) AS n FROM vote_pending_items WHERE season_id = ? AND made_on >= ?",
        (season_id, expired_before(day)),
    ).fetchone()
    voters = conn.execute(
        "SELECT COUNT(*) AS n FROM vote_voters WHERE season_id = ?", (season_id,)
    ).fetchone()
    return {
        "season_id": season_id,
        "votes": {r["initiative_id"]: int(r["votes"]) for r in rows},
        "pending": int(pending["n"]) if pending else 0,
        "voters": int(voters["n"]) if voters else 0,
    }
