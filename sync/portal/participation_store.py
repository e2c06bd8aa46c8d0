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
from sync.portal import otp, pinfl_key, registry, seasons, votes
from sync.portal import petitions as petitions_mod
from sync.portal.db import Conn, Database
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
    """What a right code counted: seasons whose vote and petitions whose signature."""

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
        """The season's live counts; `ParticipationRefused` for an unknown season."""
        with self.db.read() as conn:
            known = conn.execute(
                "SELECT 1 FROM vote_seasons WHERE season_id = ?", (season_id,)
            ).fetchone()
            if known is None:
                raise ParticipationRefused("vote.season_unknown", season=season_id[:64])
            return votes.tally(conn, season_id)

    # --- petitions -------------------------------------------------------------

    def petitions(self, district: str | None = None) -> list[Petition]:
        with self.db.read() as conn:
            return petitions_mod.listed(conn, district)

    def petition(self, petition_id: str) -> Petition:
        with self.db.read() as conn:
            found = petitions_mod.one(conn, petition_id)
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

    def send_code(self, pinfl: str, lang: str) -> OtpSent:
        """Send a one-time code to the phone on record for ``pinfl``, if it has
        something pending (`ParticipationRefused`: ``participation.nothing_pending``,
        ``otp.no_phone``, ``otp.rate_limited`` with ``retry_after``)."""
        tag = self._tag(pinfl)
        clean = pinfl_key.clean_pinfl(pinfl) or ""
        moment = self.now()
        with self.transaction() as conn:
            if not votes.pending_seasons(conn, tag) and not petitions_mod.pending_for(conn, tag):
                raise ParticipationRefused("participation.nothing_pending")
            person = registry.find(conn, clean)
            phone = person.phone if person is not None else ""
            if not phone:
                raise ParticipationRefused("otp.no_phone")
            wait = otp.may_send(conn, tag, moment)
            code = otp.issue(conn, self.pinfl_key, tag, moment) if wait is None else ""
        if wait is not None:
            raise ParticipationRefused("otp.rate_limited", retry_after=wait, seconds=wait)
        otp.FakeSmsGateway(self.data_dir).send(phone, otp.sms_text(lang, code), now_iso(moment))
        return {
            "sent": True,
            "phone_hint": otp.phone_hint(phone),
            "expires_in": int(otp.CODE_TTL.total_seconds()),
        }

    def confirm_code(self, pinfl: str, code: str) -> Confirmed:
        """Check ``code`` for ``pinfl``; right: count everything it has pending (one
        transaction). Wrong or expired: `ParticipationRefused` after the try is counted."""
        tag = self._tag(pinfl)
        moment = self.now()
        now = now_iso(moment)
        with self.transaction() as conn:
            verdict, left = otp.check(conn, self.pinfl_key, tag, code, moment)
            done: Confirmed = {"votes": [], "signatures": []}
            if verdict == "ok":
                for season in votes.pending_seasons(conn, tag):
                    if votes.confirm(conn, season, tag):
                        done["votes"].append(season)
                for petition_id in petitions_mod.pending_for(conn, tag):
                    if petitions_mod.confirm(conn, petition_id, tag, now):
                        done["signatures"].append(petition_id)
                crash_point("portal.code_confirmed")
        if verdict == "otp.wrong":
            raise ParticipationRefused("otp.wrong", left=left)
        if verdict != "ok":
            raise ParticipationRefused("otp.expired")
        return done
