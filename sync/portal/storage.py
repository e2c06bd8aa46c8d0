"""The portal's storage interface: what the API layer and the admin commands use.

`PortalStorage` is the contract; `sync.portal.store.PortalStore` implements it once
over either database of `sync.portal.db` (SQLite, the embedded default, or
PostgreSQL for production and several processes), without `sync.portal.app`,
`sync.portal.commands` or `sync.portal.local` knowing which. The rules every
backend must apply the same way (what makes an item acceptable) live here too, so
they have one implementation; tests/test_portal_storage.py is the contract's test.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NotRequired, Protocol, TypedDict

from kiosk import languages, reasons, tracking
from kiosk.sealing import SealingKey
from kiosk.signing import KeyStatement, PublicKey
from kiosk.wire import UUID_RE, json_problem
from sync.portal.anchors import AnchorAnswer, AnchorEntry, DeviceRow
from sync.portal.registry_log import AccessRow, Consultation
from sync.transport import (
    CatalogForm,
    Enrolled,
    ItemResult,
    Petition,
    RegistryAnswer,
    RegistryRequest,
    Season,
    StatusLookup,
    StatusPage,
    Tally,
)

if TYPE_CHECKING:
    from sync.portal.appeals import AppealUpdate, QueueEntry
    from sync.portal.id_checks import Attestation
    from sync.portal.open_data import CountRow
    from sync.portal.participation_store import Confirmed, OtpSent
    from sync.portal.staff import AuditLine, HistoryEntry, StaffMember, StaffRow

STATUSES = ("received", "in_review", "needs_info", "approved", "rejected", "completed")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
CODE_RE = re.compile(r"^[0-9A-Za-z-]{1,32}$")


# ``validator(spec_json, item) -> AnswersProblem | None``: re-checks answers against the form.
# The item passed `check_item_fields` and was opened: its ``payload`` is a JSON object.
class AnswersProblem(TypedDict):
    """Why a validator refused an item's answers: ``detail`` in English, for the portal's
    logs; ``fields``, the refused fields' refs (comma-separated), which a kiosk names in
    its own language (it never shows ``detail``)."""

    detail: str
    fields: str


Validator = Callable[[str, Mapping[str, object]], AnswersProblem | None]

# Enrolment codes and the guessing limit, judged on the portal's clock only.
CODE_TTL = timedelta(hours=24)
MAX_CODE_TTL = timedelta(days=30)
ENROL_WINDOW = timedelta(minutes=10)
ENROL_SOURCE_LIMIT = 5  # wrong codes from one source address in the window
# Across all sources: bounds the total guessing rate (and so an attacker with many
# addresses), at the price that such an attacker can pause enrolment for a window.
ENROL_GLOBAL_LIMIT = 100
MAX_NAME = 200
# Live status look-ups (any tracking code): per source address in a window. A kiosk
# looks up one code per citizen asking; the limit bounds how fast anyone with a device
# token can try codes (docs/sync-protocol.md, "Status look-up").
LOOKUP_WINDOW = timedelta(minutes=10)
LOOKUP_SOURCE_LIMIT = 60


class PortalStoreError(Exception):
    """An admin action that cannot be done (unknown code, bad status); message is clear."""


class StatusUpdate(TypedDict):
    """An application's status as `PortalStorage.set_status` left it."""

    tracking_code: str
    status: str
    application_number: str
    note: str | None
    reason_code: str | None  # the decision reason (kiosk.reasons, section "Decision reasons")
    actor: str  # the staff name that made the change
    updated_at: str
    automated: bool  # made by the portal's rules, not a person (issue 16)


class HistoryStep(TypedDict):
    """One step of an application's status history: the status and when it was set."""

    status: str
    at: str


class StatusHistory(TypedDict):
    """What the citizen status page may show of an application (docs/status-page.md):
    the form's titles by language, when it was submitted, each status and its time.
    Nothing of the answers, the device, the application number or the notes."""

    tracking_code: str
    form_id: str
    titles: dict[str, str]
    submitted_at: str
    steps: list[HistoryStep]
    # When and by which office the state registry was consulted for it (once-only
    # prefill, docs/once-only.md): never a value.
    registry_checks: NotRequired[list[Consultation]]
    # The current decision (issue 16, docs/appeals.md): its reason, whether the
    # portal's rules made it, and a deadline passed without one.
    reason_code: NotRequired[str | None]
    automated: NotRequired[bool]
    stalled: NotRequired[bool]
    deadline_at: NotRequired[str | None]


class LookupReused(PortalStoreError):
    """A registry look-up id this device already used for another PINFL: refused
    (``registry.lookup_reused``), so that one logged look-up cannot read many people."""


class RegistryUnavailable(PortalStoreError):
    """The state registry could not be asked (a real one behind a network); the look-up
    is logged as ``unavailable`` and the kiosk asks the questions as usual."""


class LookupLimited(PortalStoreError):
    """Too many status look-ups from one source: wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many status look-ups; retry after {retry_after} s")
        self.retry_after = retry_after


class EnrolmentRefused(PortalStoreError):
    """An enrolment the portal refuses: ``body`` is the registered refusal (`kiosk.reasons`).

    ``retry_after`` (seconds) is set when the refusal is the guessing limit (429).
    """

    def __init__(self, body: reasons.Refusal, retry_after: int | None = None) -> None:
        super().__init__(body["detail"])
        self.body = body
        self.retry_after = retry_after


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    prefix: str
    bundle_key: bytes
    # The prefix its codes carried before enrolment (registered at enrolment; it is
    # always `kiosk.tracking.prefix_from_id` of ``id``). None if it never registered one.
    pre_prefix: str | None = None
    revoked: bool = False
    # Enrolled before code claims existed (protocol v1, or v2 before claims): keeps the
    # prefix rule it enrolled under for its unclaimed codes (see `owns_unclaimed`).
    legacy: bool = False

    def owns_unclaimed(self, tracking_code: str) -> bool:
        """Whether an UNCLAIMED code may be this device's (claimed ones: `sync.portal.claims`).

        A code made after enrolment: the assigned prefix, then exactly RANDOM_LEN random
        symbols and the check, so neither a longer code that merely starts with the prefix
        (another kiosk's pre-enrolment code, one symbol longer) nor a short one counts.
        A registered pre-enrolment prefix alone grants nothing: it can be brute-forced
        from a chosen device id; those codes are owned through claims made at enrolment.

        A ``legacy`` device keeps the rule it enrolled under: its assigned prefix followed
        by a v1 sequential part of 4 or 5 symbols or a v2 random part, and the check; or
        its registered pre-enrolment prefix followed by what a kiosk makes before
        enrolment (`tracking.PRE_ENROLMENT_RESTS`). Codes are
        compared as sent (the kiosk sends them canonical, upper case).
        """
        rest = len(tracking_code) - len(self.prefix)
        if tracking_code.startswith(self.prefix) and rest == tracking.RANDOM_LEN + 1:
            return True
        if not self.legacy:
            return False
        own = range(tracking.SEQ_MIN_WIDTH + 1, tracking.RANDOM_LEN + 2)
        if tracking_code.startswith(self.prefix) and rest in own:
            return True
        # Under the pre-enrolment prefix only what a kiosk makes before enrolment (9 or
        # 11 symbols): never 10, the length of another device's post-enrolment code whose
        # assigned prefix is this pre-prefix's first three symbols (third review).
        pre = self.pre_prefix
        if not pre:
            return False
        rest = len(tracking_code) - len(pre)
        return tracking_code.startswith(pre) and rest in tracking.PRE_ENROLMENT_RESTS


def derived_prefix_for(device_id: str | None, pre_prefix: str) -> bool:
    """Whether ``pre_prefix`` is the one a kiosk with ``device_id`` derives before enrolment.

    Only a uuid the portal adopts as the device's id counts: a kiosk cannot register
    the prefix of an id it will not hold.
    """
    return bool(device_id and UUID_RE.match(device_id)) and (
        pre_prefix == tracking.prefix_from_id(str(device_id))
    )


def enrol_source(host: str | None) -> str:
    """The address wrong codes are counted under: IPv4 as is, IPv6 by its /64.

    One IPv6 subscriber holds a whole /64, so counting single addresses would let one
    attacker rotate through them.
    """
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return (host or "unknown")[:100]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


MAX_REGION = 64
UNKNOWN_REGION = "unknown"  # open data's region for devices enrolled without one


def clean_region(region: object) -> str | None:
    """A region as registered: stripped, 1..MAX_REGION printable characters; else None."""
    text = clean_name(region)
    if text is None or len(text) > MAX_REGION or text[0] in "=+-@*":  # a CSV cell, safely
        return None
    return text


def clean_name(name: object) -> str | None:
    """A device name as registered: stripped, 1..MAX_NAME printable characters; else None."""
    if not isinstance(name, str):
        return None
    text = " ".join(name.split())
    if not 1 <= len(text) <= MAX_NAME or not text.isprintable():
        return None
    return text


class PortalStorage(Protocol):
    """Devices, enrolment codes, the form catalog, submissions and their statuses.

    Each method is one transaction: a batch is applied whole or not at all.
    """

    def close(self) -> None: ...

    def create_enrolment_code(
        self,
        name: str,
        device_id: str | None = None,
        ttl: timedelta = CODE_TTL,
        region: str | None = None,
    ) -> str:
        """A one-time code (`kiosk.enrolment_code`, grouped), valid ``ttl`` on this clock.

        The device it enrols is registered as ``name``; with ``device_id`` it enrols
        that device only (the only way to re-enrol a known device). Only its hash is kept.
        ``region`` (`clean_region`) is the device's region for open data (a re-enrolment
        without one keeps the old).
        """
        ...

    def enroll(
        self,
        code: str,
        name: str,
        device_id: str | None = None,
        pre_prefix: str | None = None,
        *,
        source: str = "local",
        claims: Sequence[Mapping[str, object]] = (),
    ) -> Enrolled:
        """Spend ``code``: {device_id, token, device_prefix, name, refused_claims};
        `EnrolmentRefused` if not.

        ``name`` is what the kiosk calls itself (informational: the code's bound name is
        registered). A known ``device_id`` is re-enrolled (new token, same prefix) only
        with a code made for it. Wrong codes are counted per ``source`` (`enrol_source`)
        and in total, in the database, so the limit holds across portal processes.
        ``pre_prefix`` (the prefix of the kiosk's codes before enrolment) is registered
        for the device; refused unless `derived_prefix_for` ``device_id``. ``claims``
        ({id, tracking_code, content_hash} of the kiosk's queued pre-enrolment items, at
        most `sync.wire.MAX_CLAIMS`) are recorded in the same transaction, first come
        first served (`sync.portal.claims.record`); the refused ones are listed in
        ``refused_claims``. Sending the same claims again (re-enrolment) is harmless.
        """
        ...

    def device_for_token(self, token: str) -> Device | None:
        """The device holding this (unrevoked) token."""
        ...

    def device(self, device_id: str) -> Device | None: ...

    def revoke_device(self, device_id: str) -> None:
        """Refuse the device's token and bundles from now on, and void unspent codes
        made for it; PortalStoreError if unknown."""
        ...

    def add_form(
        self, form_id: str, version: str, category: str, spec: Mapping[str, object], source: str
    ) -> bool:
        """Store one form version; False when that version was already there."""
        ...

    def forms(self) -> list[CatalogForm]:
        """Every form version {form_id, version, category, spec, key_id, signature}, by id
        then version (signed by the portal's key when added: docs/keys.md)."""
        ...

    def key_chain(self) -> list[KeyStatement]:
        """The signing keys' chain, oldest first, each vouched for by the one before."""
        ...

    def sealing_key(self) -> SealingKey:
        """The public key kiosks seal submissions to, signed by the current signing key."""
        ...

    def signing_keys(self) -> list[PublicKey]:
        """The public signing keys a kiosk pins at enrolment."""
        ...

    def anchor_audit(
        self, device_id: str, head_seq: int, entries: list[AnchorEntry]
    ) -> AnchorAnswer:
        """Check a device's audit hashes against what is held, keep them, flag a rewrite."""
        ...

    def devices(self) -> list[DeviceRow]:
        """Every device with its audit anchor and flag (`kiosk portal devices`)."""
        ...

    def catalog_etag(self) -> str:
        """Changes exactly when a form version is added."""
        ...

    def ingest(
        self, device_id: str, items: Iterable[object], via: str, validator: Validator | None = None
    ) -> list[ItemResult]:
        """Apply a batch in one transaction; one {index, id, outcome, ...} per item.

        ``items`` are as received: anything that is not a well-formed item is rejected.
        ``items`` may be a generator (a bundle's, parsed line by line): one that raises
        leaves nothing behind.
        The items are ``device_id``'s: ids are looked up among its submissions only. A
        claimed code is accepted only from its claimant with the claimed id and hash
        (`sync.portal.claims.judge`), an unclaimed one only under `Device.owns_unclaimed`;
        else the item is rejected (``item.foreign_code``, ``item.claim_mismatch``).
        """
        ...

    def set_status(
        self,
        tracking_code: str,
        status: str,
        note: str | None = None,
        *,
        reason_code: str | None = None,
        actor: str | None = None,
        automated: bool = False,
    ) -> StatusUpdate:
        """Change an application's status (logged for its device's status pull, with
        who: ``actor``, a staff name, else `sync.portal.staff.LOCAL_ACTOR`; and why:
        ``reason_code``, checked by `sync.portal.staff.check_decision`). Refusals are
        `sync.portal.staff.DecisionRefused` (a PortalStoreError); an appeal's code is
        refused (``appeal.is_appeal``). ``automated``: made by the portal's rules."""
        ...

    def decide_appeal(
        self,
        appeal_code: str,
        status: str,
        note: str | None = None,
        *,
        actor: str,
        application_status: str = "in_review",
    ) -> AppealUpdate:
        """An ombudsman's decision on an appeal (in_review, upheld, overturned); an
        overturn sets the application's status too (in_review or approved, reason
        ``decision.overturned_on_appeal``), audited. `DecisionRefused`:
        ``appeal.not_found``, ``appeal.decided``, ``status.unknown``,
        ``status.reason_mismatch`` (docs/appeals.md)."""
        ...

    def appeal_queue(self, status: str | None = None, limit: int = 200) -> list[QueueEntry]:
        """The ombudsman's queue, oldest first: appeals in ``status`` (None: undecided)
        with the original decision, its reason and explanation, and the grounds."""
        ...

    def status_history(self, tracking_code: str) -> list[HistoryEntry]:
        """An application's status changes, oldest first (`DecisionRefused`
        ``status.not_found`` for an unknown code)."""
        ...

    def add_staff(self, name: str, role: str, actor: str | None = None) -> str:
        """A new staff account; its bearer token, returned once (only its hash is kept)."""
        ...

    def disable_staff(self, name: str, actor: str | None = None) -> None:
        """Refuse the account's token from now on; PortalStoreError if unknown."""
        ...

    def staff_accounts(self) -> list[StaffRow]:
        """Every staff account (never a token)."""
        ...

    def staff_for_token(self, token: str) -> StaffMember | None:
        """The enabled staff account holding this token (never a device's)."""
        ...

    def staff_audit(self, limit: int = 100) -> list[AuditLine]:
        """The newest ``limit`` lines of the staff audit (accounts and decisions)."""
        ...

    def open_data_counts(self, month: str) -> list[CountRow]:
        """Applications received in ``month`` (YYYY-MM, the portal's UTC clock) by
        service, region and current status, unsuppressed (`sync.portal.open_data`
        suppresses before publishing)."""
        ...

    def open_data_axes(self) -> tuple[list[str], list[str]]:
        """Every service (form id) and every region ("unknown" for devices without one)
        the portal knows, so a table lists them all whatever a month holds."""
        ...

    def now(self) -> datetime:
        """The portal's clock, UTC (an injected one in tests)."""
        ...

    def status_changes(self, device_id: str, since: int, limit: int) -> StatusPage:
        """{changes, cursor, more}: this device's status changes after ``since``."""
        ...

    def lookup_status(self, tracking_code: str, source: str) -> StatusLookup:
        """Any tracking code's status fields, for a look-up from ``source`` (counted;
        `LookupLimited` past `LOOKUP_SOURCE_LIMIT` in `LOOKUP_WINDOW`)."""
        ...

    def public_history(self, tracking_code: str, source: str) -> StatusHistory | None:
        """The citizen status page's view of a code (None: no such application), the
        look-up counted for ``source`` with the live look-ups (`lookup_status`'s limit,
        `LookupLimited`)."""
        ...

    def stats(self, device_id: str | None = None) -> dict[str, int]:
        """Counts of submissions and outcomes; for one device if given."""
        ...

    def consult_registry(
        self, device_id: str, request: RegistryRequest, refused: str | None = None
    ) -> RegistryAnswer:
        """Once-only prefill (docs/once-only.md): log the look-up in the access log (who,
        why, when, which fields; never the PINFL or a value) and answer the fields asked
        from the registry. ``refused``: the reason code the request was refused with:
        logged as such, the registry not asked (``found`` False). `RegistryUnavailable`
        when the registry cannot be asked (logged too). A look-up id this device already
        used is asked again but logged once."""
        ...

    def registry_access_log(self, limit: int = 100) -> list[AccessRow]:
        """The latest registry look-ups, newest first (no values)."""
        ...

    # Participation (issue 16, docs/participation.md): `sync.portal.participation_store`.
    # Refusals are its `ParticipationRefused` (a PortalStoreError with a reason code).

    def publish_season(self, season: Season) -> int:
        """Publish or update an open-budget season (checked by `sync.portal.seasons`)."""
        ...

    def open_seasons(self, district: str | None = None) -> list[Season]:
        """The seasons open today (of ``district``, or all), with their initiatives."""
        ...

    def vote_tally(self, season_id: str) -> Tally:
        """A season's live tally: counted votes per initiative, verified voters (counted
        or waiting in the ballot box), and the pending count."""
        ...

    def petitions(self, district: str | None = None) -> list[Petition]:
        """Petitions of ``district`` (or all), most signed first."""
        ...

    def petition(self, petition_id: str) -> Petition:
        """One petition with its progress (``petition.unknown`` if none)."""
        ...

    def set_petition_threshold(self, petition_id: str, threshold: int) -> Petition:
        """Set the signatures a petition needs for review; reaching it moves it."""
        ...

    def send_code(self, pinfl: str, lang: str, device_id: str, item_id: str) -> OtpSent:
        """A one-time code to the phone on record, for one pending item of the device."""
        ...

    def confirm_code(self, pinfl: str, code: str, device_id: str, item_id: str) -> Confirmed:
        """Check a one-time code; right: that pending item counts."""
        ...

    def mix_ballots(self, season_id: str | None = None) -> int:
        """Count full batches of boxed ballots (`sync.portal.ballot_box`)."""
        ...

    def set_ballot_batch(self, size: int) -> None:
        """The ballots a batch needs before it is counted (a portal setting)."""
        ...

    def ballots_waiting(self, season_id: str) -> int:
        """Ballots waiting in the box for their batch (admin only, never published)."""
        ...

    def id_checks(self, since: str) -> list[Attestation]:
        """Operators' attested ID checks from ``since`` (a day), most first."""
        ...


def refused(item_id: str | None, outcome: str, code: str, **params: object) -> ItemResult:
    """An item's outcome that refuses it ("rejected" or "conflict") with a registered reason."""
    body = reasons.refusal(code, **params)
    return {
        "id": item_id,
        "outcome": outcome,
        "reason": body["detail"],
        "code": code,
        "params": body["params"],
    }


def check_item_fields(item: Mapping[str, object]) -> tuple[str, dict[str, str]] | None:
    """The first structural problem of an item (a JSON object as received), as
    (reason code, params), or None."""
    if json_problem(item):  # 1e999999 or "\\ud800": could be neither hashed nor stored
        return "item.value", {}
    text: dict[str, str] = {}
    for key in ("tracking_code", "form_id", "form_version", "lang", "created_at"):
        value = item.get(key)
        if not isinstance(value, str) or not value or len(value) > 200:
            return "item.field", {"field": key}
        text[key] = value
    if not CODE_RE.match(text["tracking_code"]):
        return "item.field", {"field": "tracking_code"}
    # Optional: the portal hashes the sealed blob itself (sync.portal.sealed).
    given = item.get("content_hash")
    if given is not None and not (isinstance(given, str) and HASH_RE.match(given)):
        return "item.field", {"field": "content_hash"}
    if text["lang"] not in languages.codes():  # one of the kiosk's languages
        return "item.lang", {"lang": text["lang"], "accepted": ", ".join(languages.codes())}
    return None
