"""`PortalStore`'s participation methods: seasons, tallies, petitions, one-time codes.

A mixin of `sync.portal.store.PortalStore` (kept apart so the store stays small): each
method is one transaction over the store's database, calling the plain functions of
`sync.portal.seasons`, `sync.portal.votes`, `sync.portal.petitions` and
`sync.portal.otp`. Refusals are `ParticipationRefused` with a registered reason code
(`kiosk.reasons`), raised AFTER the transaction commits where something was recorded
(a wrong code's try, a send counted), as enrolment does.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from kiosk import reasons
from kiosk.crashpoints import crash_point
from kiosk.wire import now_iso
from sync.portal import ballot_box, id_checks, kinds, otp, pinfl_key, registry, seasons, votes
from sync.portal import petitions as petitions_mod
from sync.portal.db import Conn, Database
from sync.portal.id_checks import Attestation
from sync.portal.storage import PortalStoreError
from sync.transport import Petition, Season, Tally


class ParticipationRefused(PortalStoreError):
    """A participation request refused: ``body`` the registered refusal, ``retry_after``
    seconds for the send limit."""

    def __init__(self, code: str, retry_after: int | None = None, **params: object) -> None:
        self.body = reasons.refusal(code, **params)
        super().__init__(self.body["detail"])
        self.code = code
        self.retry_after = retry_after


class OtpSent(TypedDict):
    """A code went to the phone on record: only its last digits are shown."""

    sent: bool
    phone_hint: str
    expires_in: int


class Confirmed(TypedDict):
    """What a right code counted: the season whose vote or the petition whose signature
    (the one item the code was sent for)."""

    votes: list[str]
    signatures: list[str]


class ParticipationMixin:
    """Seasons, tallies, petitions and one-time codes (docs/participation.md)."""

    data_dir: Path
    db: Database

    if TYPE_CHECKING:  # PortalStore's

        @property
        def pinfl_key(self) -> bytes:
            raise NotImplementedError

        def transaction(self) -> AbstractContextManager[Conn]:
            raise NotImplementedError

        def now(self) -> datetime:
            raise NotImplementedError

    def _tag(self, pinfl: str) -> str:
        clean = pinfl_key.clean_pinfl(pinfl)
        if clean is None:
            raise ParticipationRefused("participation.pinfl")
        return pinfl_key.tag_with(self.pinfl_key, clean)

    # --- seasons and tallies ---------------------------------------------------

    def publish_season(self, season: Season) -> int:
        """Publish (or update) a checked season; the number of its initiatives."""
        with self.transaction() as conn:
            count = seasons.publish(conn, season, now_iso(self.now()))
            crash_point("portal.season_published")
        return count

    def open_seasons(self, district: str | None = None) -> list[Season]:
        """Seasons open today (the portal's UTC day), of ``district`` or all."""
        with self.db.read() as conn:
            return seasons.current(conn, now_iso(self.now())[:10], district)

    def vote_tally(self, season_id: str) -> Tally:
        """The season's live counts; `ParticipationRefused` for an unknown season. Once
        the season has closed, its last ballots are counted and its pending votes, which
        can never count now, are dropped."""
        day = now_iso(self.now())[:10]
        with self.db.read() as conn:
            found = conn.execute(
                "SELECT closes_on FROM vote_seasons WHERE season_id = ?", (season_id,)
            ).fetchone()
        if found is None:
            raise ParticipationRefused("vote.season_unknown", season=season_id[:64])
        self.mix_ballots(season_id)
        if found["closes_on"] < day:
            with self.transaction() as conn:
                votes.drop_pending(conn, season_id)
        with self.db.read() as conn:
            return votes.tally(conn, season_id, day)

    def ballots_waiting(self, season_id: str) -> int:
        """Ballots waiting in the box for their batch (admin; never published)."""
        with self.db.read() as conn:
            return ballot_box.waiting(conn).get(season_id, 0)

    def mix_ballots(self, season_id: str | None = None) -> int:
        """Move full batches of boxed ballots into the tallies (all seasons, or one), each
        season in a transaction of its own that writes no voter; a closed season's box is
        emptied whatever its size (`sync.portal.ballot_box`). The ballots moved. With an
        empty box (most ingest batches) this is one read."""
        day = now_iso(self.now())[:10]
        with self.db.read() as conn:
            seasons_waiting = [
                season
                for season in sorted(ballot_box.waiting(conn))
                if season_id is None or season == season_id
            ]
            rows = (
                conn.execute("SELECT season_id, closes_on FROM vote_seasons").fetchall()
                if seasons_waiting
                else []
            )
        closes = {r["season_id"]: r["closes_on"] for r in rows}
        moved = 0
        key = ballot_box.key_from(self.pinfl_key)
        for season in seasons_waiting:
            with self.transaction() as conn:
                moved += ballot_box.mix(conn, key, season, flush=closes.get(season, "") < day)
                crash_point("portal.ballots_mixed")
        return moved

    def id_checks(self, since: str) -> list[Attestation]:
        """The ID checks operators attested from ``since`` (a day), most first."""
        with self.db.read() as conn:
            return id_checks.attestations(conn, since)

    def set_ballot_batch(self, size: int) -> None:
        """How many ballots wait in the box before a batch is counted (admin, all
        processes: a portal setting)."""
        with self.transaction() as conn:
            ballot_box.set_batch_size(conn, size)

    # --- petitions -------------------------------------------------------------

    def petitions(self, district: str | None = None) -> list[Petition]:
        with self.db.read() as conn:
            return petitions_mod.listed(conn, district, now_iso(self.now())[:10])

    def petition(self, petition_id: str) -> Petition:
        with self.db.read() as conn:
            found = petitions_mod.one(conn, petition_id, now_iso(self.now())[:10])
        if found is None:
            raise ParticipationRefused("petition.unknown", petition=petition_id[:40])
        return found

    def set_petition_threshold(self, petition_id: str, threshold: int) -> Petition:
        """Set the signatures a petition needs for review (admin); reaching it at once
        moves it to review (the same conditional update as a signature's)."""
        if not 1 <= threshold <= 10_000_000:
            raise PortalStoreError("a threshold is 1-10000000 signatures")
        with self.transaction() as conn:
            changed = conn.execute(
                "UPDATE petitions SET threshold = ? WHERE petition_id = ?",
                (threshold, petition_id),
            )
            if changed.rowcount != 1:
                raise ParticipationRefused("petition.unknown", petition=petition_id[:40])
            petitions_mod.to_review(conn, petition_id, now_iso(self.now()))
        return self.petition(petition_id)

    # --- one-time codes --------------------------------------------------------

    def send_code(self, pinfl: str, lang: str, device_id: str, item_id: str) -> OtpSent:
        """Send a one-time code for the pending vote or signature ``item_id`` that device
        ``device_id`` made under ``pinfl`` to the phone on record (`ParticipationRefused`:
        ``participation.nothing_pending``, ``otp.no_phone``, ``otp.rate_limited`` with
        ``retry_after``). The code confirms that item only."""
        tag = self._tag(pinfl)
        clean = pinfl_key.clean_pinfl(pinfl) or ""
        moment = self.now()
        item = (device_id, item_id)
        day = now_iso(moment)[:10]
        with self.transaction() as conn:
            season = votes.pending_item(conn, item, tag, day)
            if season is None and petitions_mod.pending_item(conn, item, tag, day) is None:
                raise ParticipationRefused("participation.nothing_pending")
            if season is not None and votes.season_open(conn, season, day) is not None:
                raise ParticipationRefused("otp.season_closed", season=season)
            person = registry.find(conn, clean)
            phone = person.phone if person is not None else ""
            if not phone:
                raise ParticipationRefused("otp.no_phone")
            subject = otp.subject_of(device_id, item_id)
            wait = otp.may_send(conn, tag, subject, device_id, moment)
            code = otp.issue(conn, self.pinfl_key, tag, subject, moment) if wait is None else ""
        if wait is not None:
            raise ParticipationRefused("otp.rate_limited", retry_after=wait, seconds=wait)
        otp.FakeSmsGateway(self.data_dir).send(phone, otp.sms_text(lang, code), now_iso(moment))
        return {
            "sent": True,
            "phone_hint": otp.phone_hint(phone),
            "expires_in": int(otp.CODE_TTL.total_seconds()),
        }

    def confirm_code(self, pinfl: str, code: str, device_id: str, item_id: str) -> Confirmed:
        """Check ``code`` for the pending item ``item_id`` of ``device_id`` made under
        ``pinfl``; right: count that item, and only it (one transaction). Wrong or
        expired: `ParticipationRefused` after the try is counted; but an item already
        counted answers as counted (empty lists), so a kiosk whose answer was lost can
        mark it confirmed."""
        tag = self._tag(pinfl)
        moment = self.now()
        now = now_iso(moment)
        item = (device_id, item_id)
        done: Confirmed = {"votes": [], "signatures": []}
        with self.transaction() as conn:
            subject = otp.subject_of(device_id, item_id)
            verdict, left = otp.check(conn, self.pinfl_key, tag, subject, code, moment)
            refusal: tuple[str, dict[str, str]] | None = None
            if verdict == "ok":
                key = ballot_box.key_from(self.pinfl_key)
                voted = votes.confirm_item(conn, key, item, tag, now[:10])
                if voted is not None and voted["refused"] is None:
                    done["votes"].append(voted["season"])
                elif voted is not None and voted["refused"]:
                    refusal = (voted["refused"], {"season": voted["season"]})
                why, petition_id = petitions_mod.confirm_item(conn, item, tag, now)
                if petition_id is not None:
                    done["signatures"].append(petition_id)
                elif why is not None:
                    refusal = (why, {})
                if done["votes"] or done["signatures"]:
                    # The item's receipt says it counts: a confirmation retried after a
                    # lost answer is told so (the code itself is spent).
                    kinds.set_receipt_state(conn, device_id, item_id, votes.VERIFIED)
                crash_point("portal.code_confirmed")
            elif (
                verdict == "otp.expired"
                and kinds.receipt_state(conn, device_id, item_id) == votes.VERIFIED
            ):
                return done  # counted already: the answer to an earlier try was lost
        if verdict == "otp.wrong":
            raise ParticipationRefused("otp.wrong", left=left)
        if verdict != "ok":
            raise ParticipationRefused("otp.expired")
        if refusal is not None:  # the code was right; the item could not count
            code, params = refusal
            raise ParticipationRefused(code, None, **params)
        if not done["votes"] and not done["signatures"]:
            raise ParticipationRefused("participation.nothing_pending")
        for season in done["votes"]:
            self.mix_ballots(season)
        return done
