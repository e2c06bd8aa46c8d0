"""What the sync engine needs from a portal, whatever carries it.

`Transport` is the protocol v2 conversation (docs/sync-protocol.md) as calls:
`sync.client.PortalClient` speaks it over HTTP, `sync.portal.local.LocalTransport`
in-process against the portal's storage. Every failure is one of three errors so the
engine decides without knowing the carrier: `AuthError` (enrol again),
`RetryableError` (back off, honouring ``retry_after``) and `RequestRejected` (this
request will never succeed as it is; ``http_status`` says why, in HTTP's terms).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NotRequired, Protocol, TypedDict

from kiosk import reasons
from kiosk.audit import AnchorEntry
from kiosk.errors import TranslatableError
from kiosk.i18n import N_
from kiosk.outbox import Claim as Claim  # re-exported: what a claim carries
from kiosk.outbox import SubmissionItem
from kiosk.sealing import SealingKey
from kiosk.signing import KeyStatement, PublicKey

# The answers of protocol v1 (docs/sync-protocol.md), as the portal makes them. What a
# kiosk receives is checked only as far as its shape (an object, a list where one is
# due): the outbox and the engine check each value before they rely on it.


class ItemResult(TypedDict):
    """One item's outcome in a batch or bundle answer."""

    id: str | None  # None when the item had no usable id
    outcome: str  # accepted | duplicate | rejected | conflict
    reason: NotRequired[str]  # rejected, conflict: in English, for logs
    code: NotRequired[str]  # rejected, conflict: the reason code (kiosk.reasons)
    params: NotRequired[dict[str, str]]  # the values the reason's message names
    application_number: NotRequired[str]  # accepted, duplicate
    index: NotRequired[int]  # the item's place in the request


class StatusChange(TypedDict):
    """One application's new status, as the status pull lists it."""

    tracking_code: str
    status: str
    application_number: str
    note: str | None
    reason_code: str | None  # why (a decision.* code of kiosk.reasons); older portals: absent
    updated_at: str
    # The portal's rules made the change, not a person (issue 16); older portals: absent.
    automated: NotRequired[bool]


class StatusPage(TypedDict):
    """The status changes after a cursor: ``more`` when another page follows."""

    changes: list[StatusChange]
    cursor: int
    more: bool


class StatusLookup(TypedDict):
    """One tracking code's status as the live look-up answers it: status fields only
    (no answers, no note, no device): ``found`` False for a code the portal does not know."""

    tracking_code: str
    found: bool
    status: str | None
    application_number: str | None
    updated_at: str | None
    # The decision and what may follow (issue 16, docs/appeals.md); older portals: absent.
    reason_code: NotRequired[str | None]  # the current status's decision reason
    automated: NotRequired[bool]  # set by the portal's rules, not a person
    kind: NotRequired[str]  # application, appeal, ... (the form's kind setting)
    deadline_at: NotRequired[str | None]  # received + the form's deadline_days
    stalled: NotRequired[bool]  # no decision past the deadline (the portal's clock)
    appealable: NotRequired[bool]  # rejected or stalled, and not appealed yet


class CatalogForm(TypedDict):
    """One form version of the catalog, its pyxform JSON in ``spec``."""

    form_id: str
    version: str
    category: str
    spec: dict[str, object]
    key_id: NotRequired[str | None]  # the portal key that signed it (docs/keys.md)
    signature: NotRequired[str | None]  # base64 Ed25519 over `kiosk.signing.form_message`


class CatalogPage(TypedDict):
    """The whole catalog and its etag."""

    etag: str
    forms: list[CatalogForm]
    keys: NotRequired[list[KeyStatement]]  # the signing keys' chain, oldest first
    sealing_key: NotRequired[SealingKey]  # the current one, signed (docs/keys.md)


class BundleResult(TypedDict):
    """The answer to a bundle: whose bundle it was and each item's outcome."""

    device_id: str
    results: list[ItemResult]


# Participation (issue 16, docs/participation.md): what the portal publishes and the
# kiosk shows, one shape on both sides.


class Initiative(TypedDict):
    id: str
    titles: dict[str, str]
    descriptions: dict[str, str]


class Season(TypedDict):
    season_id: str
    district: str
    opens_on: str
    closes_on: str
    titles: dict[str, str]
    initiatives: list[Initiative]


class Tally(TypedDict):
    season_id: str
    votes: dict[str, int]
    pending: int
    voters: int


class Petition(TypedDict):
    petition_id: str
    district: str
    title: str
    body: str
    lang: str
    threshold: int
    signatures: int
    pending: int
    state: str
    started_on: str
    review_at: str | None


class PortalError(TranslatableError):
    """Base of transport errors; ``msgid`` + ``kwargs`` make the message in any language."""


class AuthError(PortalError):
    """401: the token is unknown or revoked; the kiosk must be enrolled again."""


class RetryableError(PortalError):
    """Try again later; ``retry_after`` is the portal's Retry-After in seconds, if any."""

    def __init__(
        self,
        msgid: str,
        retry_after: float | None = None,
        reason_code: str | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(msgid, **kwargs)
        self.retry_after = retry_after
        self.reason_code = reason_code  # a registered reason (a 429's), when given


class RequestRejected(PortalError):
    """A 4xx other than 401/429: the request as sent will never be accepted."""

    def __init__(
        self, msgid: str, http_status: int, reason_code: str | None = None, **kwargs: object
    ) -> None:
        super().__init__(msgid, **kwargs)
        self.http_status = http_status
        self.reason_code = reason_code  # the registry's code (kiosk.reasons), when given


def not_accepted() -> AuthError:
    """The portal does not know (or revoked) this kiosk's token."""
    return AuthError(
        N_(
            "The portal no longer accepts this kiosk. Enrol it again: "
            "kiosk enroll --portal URL --code CODE"
        )
    )


def answer_error(status: int, body: object, retry_after: float | None) -> PortalError:
    """The transport error for a portal's non-2xx answer, one rule for every transport:
    401 means enrol again, 429, 503 and other 5xx mean wait (``retry_after`` seconds,
    if the portal said), any other 4xx is a refusal with ``body``'s reason."""
    if status == 401:
        return not_accepted()
    fields = body if isinstance(body, dict) else {}
    known = reasons.received(fields.get("code"), fields.get("params"))
    if status == 429 and known is not None:  # a limit with its reason: said as such
        reason, values = known
        return RetryableError(
            reason.msgid, retry_after=retry_after, reason_code=reason.code, status=status, **values
        )
    if status in (429, 503) or status >= 500:
        return RetryableError(
            N_("The portal is busy or failing (HTTP {status})."),
            retry_after=retry_after,
            status=status,
        )
    return refused(status, body)


def refused(status: int, body: object) -> RequestRejected:
    """The portal refused the request with ``status`` (a 4xx); ``body`` is its error body.

    A registered reason code becomes its message in the kiosk's language; any other body
    (an unknown code, an older or foreign server) a message of the kiosk's own.
    """
    fields = body if isinstance(body, dict) else {}
    known = reasons.received(fields.get("code"), fields.get("params"))
    if known is not None:
        reason, values = known
        return RequestRejected(reason.msgid, status, reason.code, **values)
    # An unknown code, or none (an older or foreign server): the kiosk's own words, never
    # the server's English ``detail`` (logged by the caller's traceback, not shown).
    code = reasons.code_shaped(fields.get("code"))
    if code is not None:
        return RequestRejected(
            N_("The portal refused the request (HTTP {status}, reason {code})."),
            status,
            status=status,
            code=code,
        )
    return RequestRejected(
        N_("The portal refused the request (HTTP {status})."), status, status=status
    )


class RefusedClaim(TypedDict):
    """A claim on a pre-enrolment code the portal did not record, and why (a reason code)."""

    tracking_code: str
    code: str  # claim.taken, claim.invalid (kiosk.reasons); claim.limit is the kiosk's own
    detail: str  # English, for logs


class Enrolled(TypedDict):
    """The enrolment answer: the kiosk's identity, its token, the keys to pin."""

    device_id: str
    token: str
    device_prefix: str
    name: NotRequired[str]  # the name the portal registered (the code's)
    signing_keys: NotRequired[list[PublicKey]]  # absent from a portal before signing
    # The key submissions are sealed to, signed by a signing key (kiosk.sealing).
    sealing_key: NotRequired[SealingKey]
    # Claims on pre-enrolment codes the portal refused (sync.portal.claims); absent: none.
    refused_claims: NotRequired[list[RefusedClaim]]


class AnchorAnswer(TypedDict):
    """The portal's answer to audit hashes (docs/sync-protocol.md, audit anchoring)."""

    anchored_seq: int  # the highest seq the portal holds for this device
    flag: str | None  # "rewritten", "forked" or "backwards" once the device is flagged


@dataclass(frozen=True)
class BatchResult:
    """The portal's per-item outcomes, in the items' order, and the request's size."""

    results: list[ItemResult]
    bytes_sent: int


def encode_batch(items: list[SubmissionItem]) -> bytes:
    """A batch request body as sent: compact JSON, gzip (its length is ``bytes_sent``)."""
    raw = json.dumps({"items": items}, ensure_ascii=False, separators=(",", ":")).encode()
    return gzip.compress(raw, compresslevel=6, mtime=0)


class Transport(Protocol):
    """One portal, one device token: the calls of sync protocol v2."""

    def enroll(
        self,
        code: str,
        name: str,
        device_id: str | None = None,
        pre_prefix: str | None = None,
        claims: Sequence[Claim] = (),
    ) -> Enrolled:
        """Spend an enrolment code: {device_id, token, device_prefix, name?, signing_keys?,
        refused_claims?}.

        ``pre_prefix`` registers the prefix of the codes the kiosk made before enrolment;
        ``claims`` (at most `sync.wire.MAX_CLAIMS`) make its queued ones its own.
        """
        ...

    def send_batch(self, items: list[SubmissionItem]) -> BatchResult:
        """Deliver one batch; one result per item ({id, outcome, ...}), in order."""
        ...

    def status(self, since: int, limit: int = 500) -> StatusPage:
        """Status changes after cursor ``since``: {changes, cursor, more}."""
        ...

    def lookup_status(self, tracking_code: str) -> StatusLookup:
        """Any tracking code's status, live (rate-limited per source: `RetryableError`
        with ``retry_after`` and the reason ``status.rate_limited``)."""
        ...

    def catalog(self, etag: str | None = None) -> CatalogPage | None:
        """The catalog {etag, forms}, or None when unchanged since ``etag``."""
        ...

    def upload_bundle(self, data: bytes) -> BundleResult:
        """Deliver a bundle file as it is: {device_id, results}."""
        ...

    def anchor_audit(self, head_seq: int, entries: list[AnchorEntry]) -> AnchorAnswer:
        """Send audit hashes to be held by the portal: {anchored_seq, flag}."""
        ...

    def registry_lookup(self, request: RegistryRequest) -> RegistryAnswer:
        """Once-only prefill: the registry's values of the fields asked for a PINFL,
        with consent and an operator's ID check (docs/once-only.md)."""
        ...

    def close(self) -> None:
        """Release what the transport holds (connections); it is not used afterwards."""
        ...


# --- once-only prefill (issue 16, docs/once-only.md) -----------------------------------


class RegistryConsent(TypedDict):
    """The citizen's consent to the look-up, as the operator recorded it at the kiosk."""

    given: bool
    at: str  # ISO-8601 UTC
    operator_id: str


class RegistryIdCheck(TypedDict):
    """The operator's record that they checked the citizen's ID document."""

    method: str  # kiosk.prefill.ID_CHECK
    document: str  # one of kiosk.prefill.DOCUMENTS
    operator_id: str
    at: str


class RegistryRequest(TypedDict):
    """A registry look-up (``POST /registry/lookup``): only the fields the form names."""

    lookup_id: str  # a UUID the kiosk makes; the submission's prefill section names it
    pinfl: str
    purpose: str  # kiosk.prefill.PURPOSES
    form_id: str
    fields: list[str]  # kiosk.prefill.FIELDS the form's questions name
    consent: RegistryConsent | None
    id_check: RegistryIdCheck | None


class RegistryAnswer(TypedDict):
    """What the registry holds for the fields asked; ``found`` False: nobody has that PINFL."""

    lookup_id: str
    found: bool
    values: dict[str, object]  # field -> text, or a list of family members
