"""Open-budget votes (Ochiq budjet) at the portal: one per PINFL per season, secret.

Plain functions over a `sync.portal.db.Conn` inside the store's batch transaction
(`sync.portal.kinds` dispatches ``vote`` items here). The rules, and why the tables
keep the ballot secret, are docs/participation.md's:

- who voted is ``vote_voters`` (season, keyed PINFL tag, state, the DAY), and what was
  voted is ``vote_tally`` (season, initiative, a count): no ballot row, no shared id,
  no time finer than a day, no sequence, so no row of one can be joined to the other;
- one vote per PINFL per season is ``vote_voters``' primary key: the insert of a second
  vote does nothing (``ON CONFLICT DO NOTHING``), whichever kiosk or process sends it,
  and the item is refused with ``vote.already``;
- a vote counts only when verified (operator ID check, or a one-time code): an
  unverified one is recorded as ``pending`` in ``vote_voters`` and its choice waits in
  ``vote_pending`` (the one place a tag meets a choice) until `confirm` moves it to the
  tally and deletes it. A verified vote for a tag whose vote is pending replaces it
  (a PINFL is printed on the card: typing one proves nothing, the ID check does).
"""

from __future__ import annotations

from typing import TypedDict

from sync.portal.db import Conn
from sync.transport import Tally

VERIFIED = "verified"
PENDING = "pending"


class VoteOutcome(TypedDict):
    """What `cast` did: ``state`` the vote's state after it (verified or pending), or
    ``refused`` a reason code with its params."""

    state: str
    refused: str | None
    params: dict[str, str]


def _refused(code: str, **params: str) -> VoteOutcome:
    return {"state": "", "refused": code, "params": params}


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


def _add_to_tally(conn: Conn, season_id: str, initiative_id: str) -> None:
    conn.execute(
        "UPDATE vote_tally SET votes = votes + 1 WHERE season_id = ? AND initiative_id = ?",
        (season_id, initiative_id),
    )


def cast(
    conn: Conn, season_id: str, initiative_id: str, tag: str, verified: bool, day: str
) -> VoteOutcome:
    """Record one vote of ``tag`` for ``initiative_id``: counted now when ``verified``,
    else kept pending. A second vote of the tag this season is refused (``vote.already``,
    with ``state`` the first one's), unless the first is pending and this one verified."""
    problem = season_open(conn, season_id, day)
    if problem is not None:
        return problem
    known = conn.execute(
        "SELECT 1 FROM vote_initiatives WHERE season_id = ? AND initiative_id = ?",
        (season_id, initiative_id),
    ).fetchone()
    if known is None:
        return _refused("vote.initiative_unknown", initiative=initiative_id, season=season_id)
    state = VERIFIED if verified else PENDING
    inserted = conn.execute(
        "INSERT INTO vote_voters (season_id, pinfl_tag, state, voted_on) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (season_id, pinfl_tag) DO NOTHING",
        (season_id, tag, state, day),
    )
    if inserted.rowcount != 1:
        if verified:
            # A pending vote under this tag (anyone may type a PINFL) gives way to a
            # verified one: the conditional update succeeds once, whoever races.
            upgraded = conn.execute(
                "UPDATE vote_voters SET state = ? WHERE season_id = ? AND pinfl_tag = ? "
                "AND state = ?",
                (VERIFIED, season_id, tag, PENDING),
            )
            if upgraded.rowcount == 1:
                conn.execute(
                    "DELETE FROM vote_pending WHERE season_id = ? AND pinfl_tag = ?",
                    (season_id, tag),
                )
                _add_to_tally(conn, season_id, initiative_id)
                return {"state": VERIFIED, "refused": None, "params": {}}
        first = conn.execute(
            "SELECT state FROM vote_voters WHERE season_id = ? AND pinfl_tag = ?",
            (season_id, tag),
        ).fetchone()
        return _refused(
            "vote.already", season=season_id, state=first["state"] if first else VERIFIED
        )
    if verified:
        _add_to_tally(conn, season_id, initiative_id)
    else:
        conn.execute(
            "INSERT INTO vote_pending (season_id, pinfl_tag, initiative_id) VALUES (?, ?, ?)",
            (season_id, tag, initiative_id),
        )
    return {"state": state, "refused": None, "params": {}}


def confirm(conn: Conn, season_id: str, tag: str) -> bool:
    """Count ``tag``'s pending vote of the season (its one-time code was right): True if
    one was pending. The state change is conditional, so it counts once."""
    pending = conn.execute(
        "SELECT initiative_id FROM vote_pending WHERE season_id = ? AND pinfl_tag = ?",
        (season_id, tag),
    ).fetchone()
    if pending is None:
        return False
    changed = conn.execute(
        "UPDATE vote_voters SET state = ? WHERE season_id = ? AND pinfl_tag = ? AND state = ?",
        (VERIFIED, season_id, tag, PENDING),
    )
    conn.execute("DELETE FROM vote_pending WHERE season_id = ? AND pinfl_tag = ?", (season_id, tag))
    if changed.rowcount != 1:
        return False
    _add_to_tally(conn, season_id, pending["initiative_id"])
    return True


def pending_seasons(conn: Conn, tag: str) -> list[str]:
    """The seasons where ``tag`` has a vote waiting for confirmation."""
    rows = conn.execute(
        "SELECT season_id FROM vote_pending WHERE pinfl_tag = ? ORDER BY season_id", (tag,)
    ).fetchall()
    return [r["season_id"] for r in rows]


def tally(conn: Conn, season_id: str) -> Tally:
    rows = conn.execute(
        "SELECT initiative_id, votes FROM vote_tally WHERE season_id = ? ORDER BY initiative_id",
        (season_id,),
    ).fetchall()
    pending = conn.execute(
        "SELECT COUNT(*) AS n FROM vote_pending WHERE season_id = ?", (season_id,)
    ).fetchone()
    voters = conn.execute(
        "SELECT COUNT(*) AS n FROM vote_voters WHERE season_id = ? AND state = ?",
        (season_id, VERIFIED),
    ).fetchone()
    return {
        "season_id": season_id,
        "votes": {r["initiative_id"]: int(r["votes"]) for r in rows},
        "pending": int(pending["n"]) if pending else 0,
        "voters": int(voters["n"]) if voters else 0,
    }
