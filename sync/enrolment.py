"""Enrol a kiosk with a portal: spend a one-time code, keep the token, prefix and trust.

The code is checked here first (`kiosk.enrolment_code`: length and check symbol), so a
mistyped code is said at once and never counts against the portal's guessing limit.
What enrolment stores decides where the token may ever go: the portal's origin
(scheme://host:port) and its key pins (`sync.tls`). `PortalClient.from_store` sends
the token to that origin only, and every connection checks the pins in the handshake.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kiosk import audit, enrolment_code, outbox, reasons, seal_store, tracking
from kiosk.errors import TranslatableError
from kiosk.i18n import N_
from kiosk.settings import (
    AUDIT_ANCHOR_SEQ,
    ENROLMENT_KEYS,
    PORTAL_TOKEN,
    PORTAL_TOKEN_SHA256,
    SIGNING_KEYS,
    pins_json,
    put_setting,
)
from kiosk.wire import UUID_RE, text_hash
from sync import tls, wire
from sync.client import PortalClient
from sync.transport import Claim, Enrolled, RefusedClaim

if TYPE_CHECKING:
    from kiosk.store import Store


class CodeMistyped(TranslatableError):
    """The code cannot be one the portal made (wrong length or check symbol)."""


def enroll(
    store: Store,
    portal_url: str,
    code: str,
    name: str | None = None,
    pins: Sequence[str] = (),
) -> Enrolled:
    """Enrol ``store``'s kiosk; returns {device_id, token, device_prefix, signing_keys, ...}.

    The portal's catalog signing keys are pinned here (docs/keys.md): from now on only
    forms signed by them (or by keys they vouch for) are activated. The audit anchor
    starts again from the first entry, so the portal gets the whole chain (a resend of
    entries it holds is harmless).

    ``pins`` (`sync.tls` form) are required for an https portal and checked on this
    very connection; plain http is accepted for loopback only (`tls.UrlError`, raised
    before any connection). The kiosk offers its own device id, so enrolling again
    (after a revoked token) keeps its identity and tracking-code prefix at the portal;
    the portal asks for a code made for that device (`kiosk portal enrolment-code
    --device ID`). It also registers the prefix its codes carried before enrolment
    (derived from the device id), so the portal accepts those codes, still queued, as
    this device's, and CLAIMS its queued items made before enrolment ({id, tracking_code,
    content_hash}; `kiosk.outbox.pre_enrolment_claims`): only a claim makes such a code
    its own at the portal, since the derived prefix can be brute-forced. Refused claims
    (``refused_claims`` in the answer; beyond `sync.wire.MAX_CLAIMS` they are not sent and
    count as refused with ``claim.limit``) are written to the audit log one by one;
    their items will come back rejected at sync. Enrolling again (after a crash before
    the token was stored) sends the same claims: the portal takes them again. Raises `CodeMistyped` before contacting the portal, else the
    client's `PortalError`s (`RequestRejected` for a wrong, used or expired code,
    `RetryableError` with ``retry_after`` when the portal's guessing limit says wait,
    `PinRefused` when the server's key matches no pin).
    """
    url = portal_url.strip().rstrip("/")
    origin = tls.check_url(url)  # first: a refused URL is never contacted, whatever the code
    canon = enrolment_code.normalize(code)
    if canon is None:
        raise CodeMistyped(
            N_(
                "The enrolment code {code} is mistyped: it has {length} symbols, in groups "
                "like ABCD-EFGH-JKMN-PQ. Check it against the one the portal printed."
            ),
            code=code.strip()[:40],
            length=enrolment_code.CODE_LEN,
        )
    pinned = tls.parse_pins(pins)
    device_id = store.device_id
    pre_prefix = tracking.prefix_from_id(device_id) if UUID_RE.match(device_id) else None
    claims: list[Claim] = []
    if pre_prefix is not None:
        with store.transaction() as db:
            claims = outbox.pre_enrolment_claims(db, pre_prefix)
    # Beyond the bound the portal takes: not sent, reported like a refused claim.
    overflow: list[RefusedClaim] = [
        {
            "tracking_code": c["tracking_code"],
            "code": "claim.limit",
            "detail": reasons.refusal("claim.limit", limit=wire.MAX_CLAIMS)["detail"],
        }
        for c in claims[wire.MAX_CLAIMS :]
    ]
    with PortalClient(url, pins=pinned) as client:
        result = client.enroll(
            canon,
            name or socket.gethostname(),
            device_id,
            pre_prefix,
            claims[: wire.MAX_CLAIMS],
        )
    signing = {k["key_id"]: k["public_key"] for k in result.get("signing_keys", [])}
    sealing = result.get("sealing_key")
    # The sealing key must be vouched for by the signing keys this answer pins: a
    # server that cannot sign as the portal cannot have the kiosk seal to its own key.
    if sealing is not None and not seal_store.vouched(sealing, signing):
        raise seal_store.KeyFileRefused(
            N_(
                "The portal's sealing key is not signed by its catalog signing key: "
                "enrolment refused. Check the portal's address."
            )
        )
    refused_claims = [*result.get("refused_claims", []), *overflow]
    result["refused_claims"] = refused_claims
    values = (
        url,
        result["token"],
        result["device_prefix"],
        result["device_id"],
        origin,
        " ".join(pinned),
    )
    # The token goes to its own 0600 file, never into the database. The file is written
    # first and its hash committed with the rest of the enrolment: killed in between,
    # the file matches no committed hash and is never used (the kiosk enrols again
    # with a code made for its device), so it cannot go to the previous portal.
    store.write_token(result["token"])
    with store.transaction() as db:
        put_setting(db, PORTAL_TOKEN_SHA256, text_hash(result["token"]))
        for key, value in zip(ENROLMENT_KEYS, values, strict=True):
            if key == PORTAL_TOKEN:
                continue
            if value:
                put_setting(db, key, value)
            else:
                db.execute("DELETE FROM settings WHERE key = ?", [key])
        if sealing is not None:
            seal_store.put_key(db, sealing)
        if signing:
            put_setting(db, SIGNING_KEYS, pins_json(signing))
        else:  # a portal that does not sign: no catalog updates (docs/keys.md)
            db.execute("DELETE FROM settings WHERE key = ?", [SIGNING_KEYS])
        put_setting(db, AUDIT_ANCHOR_SEQ, "0")
        audit.append(
            db,
            "admin",
            "enroll",
            url,
            {
                "device_id": result["device_id"],
                "prefix": result["device_prefix"],
                "pins": list(pinned),
                "signing_keys": sorted(signing),
                "sealing_key": sealing["key_id"] if sealing else None,
                "claims": len(claims),
                "refused_claims": len(refused_claims),
            },
        )
        # Each refused claim: its application will be rejected at sync (item.foreign_code).
        for refusal in refused_claims:
            audit.append(
                db,
                "admin",
                "claim_refused",
                refusal["tracking_code"],
                {"code": refusal["code"], "detail": refusal["detail"]},
            )
    store.seal_legacy()  # clear-text rows an older kiosk queued, now that a key is known
    return result
