"""Claims on pre-enrolment tracking codes: who owns a code made before its kiosk enrolled.

A kiosk's codes made before enrolment carry a 4-symbol prefix derived from its
self-chosen device id (`kiosk.tracking.prefix_from_id`). 31**4 values can be searched
in seconds, so that prefix proves nothing: anyone can pick a device id with the same
derived prefix. Ownership of those codes therefore rests on CLAIMS instead: at
enrolment the kiosk lists its queued pre-enrolment items ``{id, tracking_code,
content_hash}`` and the portal keeps them in ``code_claims``, first come first served,
in the enrolment's transaction. From then on:

- a claimed code is accepted only from the claiming device, with the claimed item id
  and content hash (`judge`): a replayed item from another device is
  ``item.foreign_code``, an edited one from the claimant ``item.claim_mismatch``;
- an unclaimed code is accepted only when it has the shape of a code the device makes
  after enrolment (`sync.portal.storage.Device.owns_unclaimed`).

Plain functions over a `sync.portal.db.Conn` inside the caller's transaction, as
`sync.portal.enrolments` is. The residual risk (someone who learns a kiosk's
pre-enrolment codes before it enrols can claim them first) is in docs/sync-protocol.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from kiosk import reasons, tracking
from kiosk.wire import UUID_RE
from sync.portal.db import Conn
from sync.portal.storage import HASH_RE, Device, refused
from sync.transport import ItemResult, RefusedClaim


def claimable(device_id: str, tracking_code: str) -> bool:
    """Whether ``tracking_code`` can be one ``device_id``'s kiosk made before enrolment.

    Its derived prefix, a valid check symbol, and the length of a v2 pre-enrolment code
    (4 + 6 random + check = 11) or of a v1 sequential one (4 + 4 + check = 9). Never 10:
    that is the length of every code made after enrolment (assigned 3-symbol prefix + 6
    + check), and a twin device id whose derived prefix is an assigned prefix plus one
    symbol could otherwise claim another kiosk's printed receipt codes. (A v1 sequence
    of 5 symbols, after 31**4 codes from one kiosk, is not claimable for the same reason.)
    """
    prefix = tracking.prefix_from_id(device_id)
    rest = len(tracking_code) - len(prefix)
    return (
        tracking_code.startswith(prefix)
        and rest in tracking.PRE_ENROLMENT_RESTS
        and tracking.normalize(tracking_code) == tracking_code
        and tracking.is_valid(tracking_code)
    )


def _refused(tracking_code: str, body: reasons.Refusal) -> RefusedClaim:
    return {"tracking_code": tracking_code, "code": body["code"], "detail": body["detail"]}


def record(
    conn: Conn,
    device_id: str,
    claims: Sequence[Mapping[str, object]],
    now: str,
) -> list[RefusedClaim]:
    """Store ``device_id``'s claims (first come first served); the refused ones.

    A claim is refused when it is malformed or not a pre-enrolment code of this device
    (``claim.invalid``), or when the code is claimed by another device, or claimed by
    this one for another item, or already received from another device, or under the
    pre-enrolment prefix of a legacy device, which owns those codes without claims
    (``claim.taken``). The same claim sent again by the same device (a re-enrolment
    after a crash) is accepted again and changes nothing.
    """
    refusals: list[RefusedClaim] = []
    for claim in claims:
        code = claim.get("tracking_code")
        item_id = claim.get("id")
        digest = claim.get("content_hash")
        if not isinstance(code, str) or len(code) > 32:
            shown = str(code)[:32]
            refusals.append(_refused(shown, reasons.refusal("claim.invalid", tracking_code=shown)))
            continue
        if (
            not isinstance(item_id, str)
            or not UUID_RE.match(item_id)
            or not isinstance(digest, str)
            or not HASH_RE.match(digest)
            or not claimable(device_id, code)
        ):
            refusals.append(_refused(code, reasons.refusal("claim.invalid", tracking_code=code)))
            continue
        held = conn.execute(
            "SELECT device_id, item_id, content_hash FROM code_claims WHERE tracking_code = ?",
            (code,),
        ).fetchone()
        if held is not None:
            if tuple(held) != (device_id, item_id, digest):
                refusals.append(_refused(code, reasons.refusal("claim.taken", tracking_code=code)))
            continue
        received = conn.execute(
            "SELECT device_id FROM submissions WHERE tracking_code = ?", (code,)
        ).fetchone()
        # A legacy device owns its pre-enrolment codes without claims (it enrolled before
        # claims existed): a twin of its pre-prefix must not claim them (third review).
        legacy = conn.execute(
            "SELECT 1 FROM devices WHERE legacy = 1 AND pre_prefix = ? AND id != ?",
            (code[: tracking.DERIVED_PREFIX_LEN], device_id),
        ).fetchone()
        if legacy is not None or (received is not None and received[0] != device_id):
            refusals.append(_refused(code, reasons.refusal("claim.taken", tracking_code=code)))
            continue
        conn.execute(
            "INSERT INTO code_claims (tracking_code, device_id, item_id, content_hash, "
            "claimed_at) VALUES (?, ?, ?, ?, ?)",
            (code, device_id, item_id, digest, now),
        )
    return refusals


def judge(
    conn: Conn, owner: Device, item_id: str, tracking_code: str, digest: str
) -> ItemResult | None:
    """The rejection if ``owner`` may not send this item under ``tracking_code``, else None.

    Judged before anything else is looked up, and another device's claim answers
    exactly like a code that is nobody's (``item.foreign_code``), so the answer tells
    a device nothing about other devices' codes.
    """
    held = conn.execute(
        "SELECT device_id, item_id, content_hash FROM code_claims WHERE tracking_code = ?",
        (tracking_code,),
    ).fetchone()
    if held is None and owner.owns_unclaimed(tracking_code):
        return None
    if held is None or held["device_id"] != owner.id:
        return refused(item_id, "rejected", "item.foreign_code", tracking_code=tracking_code)
    if (held["item_id"], held["content_hash"]) != (item_id, digest):
        return refused(item_id, "rejected", "item.claim_mismatch", tracking_code=tracking_code)
    return None
