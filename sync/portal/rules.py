"""Protocol v2 rules the HTTP app and the in-process transport share.

What a request must look like and what the portal answers, apart from HTTP itself:
`sync.portal.app` turns a `Refusal` into an HTTP error, `sync.portal.local` into the
transport error the HTTP client would have raised for that answer.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence

from kiosk import reasons
from kiosk.wire import loads
from sync import bundle as bundle_mod
from sync import wire
from sync.bodies import CHUNK, Shape, Unbounded, inflate
from sync.portal.anchors import AnchorAnswer, parse_entries
from sync.portal.holds import hold_point
from sync.portal.storage import (
    Device,
    EnrolmentRefused,
    LookupLimited,
    PortalStorage,
    Validator,
    enrol_source,
)
from sync.transport import BundleResult, CatalogPage, Enrolled, StatusLookup


class Refusal(Exception):
    """The portal refuses the request with a registered reason (`kiosk.reasons`).

    ``status`` is HTTP's number for it and ``body`` the error body: ``{code, params,
    detail}``; ``retry_after`` (seconds) goes out as Retry-After with a 429.
    """

    retry_after: int | None = None

    def __init__(self, code: str, **params: object) -> None:
        self.body = reasons.refusal(code, **params)
        super().__init__(self.body["detail"])
        self.code = code
        self.status = reasons.get(code).status
        self.detail = self.body["detail"]


def enroll_device(
    store: PortalStorage,
    code: str,
    name: str,
    device_id: str | None,
    pre_prefix: str | None,
    client_host: str | None,
    claims: Sequence[Mapping[str, object]] = (),
) -> Enrolled:
    """Spend an enrolment code for a request from ``client_host``; `Refusal` if refused.

    A wrong pre-enrolment prefix is judged before the code is looked at, so a kiosk told
    it is wrong can enrol again with the same code. The answer carries the catalog's
    signing keys, which the kiosk pins (docs/keys.md).
    """
    try:
        result = store.enroll(
            code, name, device_id, pre_prefix, source=enrol_source(client_host), claims=claims
        )
    except EnrolmentRefused as exc:
        refusal = Refusal(exc.body["code"], **exc.body["params"])
        refusal.retry_after = exc.retry_after
        raise refusal from exc
    return {
        "device_id": result["device_id"],
        "token": result["token"],
        "device_prefix": result["device_prefix"],
        "name": result["name"],
        "signing_keys": store.signing_keys(),
        "sealing_key": store.sealing_key(),
        "refused_claims": result.get("refused_claims", []),
    }


def lookup_status(
    store: PortalStorage, tracking_code: str, client_host: str | None
) -> StatusLookup:
    """A live status look-up from ``client_host`` (counted under `enrol_source`, the
    enrolment limit's notion of a source); `Refusal` ``status.rate_limited`` (429 with
    Retry-After) past the limit."""
    try:
        return store.lookup_status(tracking_code, enrol_source(client_host))
    except LookupLimited as exc:
        refusal = Refusal("status.rate_limited", minutes=math.ceil(exc.retry_after / 60))
        refusal.retry_after = exc.retry_after
        raise refusal from exc


def bearer_device(store: PortalStorage, authorization: str | None) -> Device | None:
    """The device an ``Authorization: Bearer TOKEN`` value names; None if none does."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return store.device_for_token(token.strip())


def etag_matches(etag: str, if_none_match: str | None) -> bool:
    """Whether an If-None-Match value names the catalog's current ``etag``."""
    if not if_none_match:
        return False
    offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return f'"{etag}"' in offered or "*" in offered


BATCH_MAX_DEPTH = 32
# A kiosk's batch holds at most 256 KiB of answers: far fewer values than this.
BATCH_MAX_VALUES = 250_000
_BATCH_SHAPE_CODES = {
    "depth": "body.too_deep",
    "values": "body.too_many_values",
    "string": "body.string_too_long",
}


def read_batch(body: bytes, encoding: str) -> list[object]:
    """The items of a batch body as received (``encoding`` gzip or identity).

    Decompressed in chunks and its shape scanned as it comes (`sync.bodies`), so a bomb
    or a deeply nested body is refused before anything is parsed; call it off the
    event loop.
    """
    hold_point("portal.batch_received")
    shape = Shape(
        max_depth=BATCH_MAX_DEPTH,
        max_values=BATCH_MAX_VALUES,
        max_string=wire.MAX_ITEM_PAYLOAD_BYTES,
        codes=_BATCH_SHAPE_CODES,
    )
    return parse_batch(_scanned(body, encoding, shape, wire.MAX_DECOMPRESSED_BYTES))


def _scanned(body: bytes, encoding: str, shape: Shape, limit: int) -> bytes:
    """``body`` gunzipped (at most ``limit`` bytes) if ``encoding`` says so, its shape
    scanned by ``shape`` piece by piece; a `Refusal` at the first bound passed."""
    try:
        if encoding == "gzip":
            chunks = []
            for chunk in inflate(
                body,
                limit,
                too_large="body.inflated_too_large",
                damaged="body.not_gzip",
                truncated="body.truncated",
            ):
                shape.feed(chunk)
                chunks.append(chunk)
            return b"".join(chunks)
        for start in range(0, len(body), CHUNK):
            shape.feed(body[start : start + CHUNK])
        return body
    except Unbounded as exc:
        raise Refusal(exc.code, **exc.params) from exc


# A small request (enrolment, audit anchor): its JSON is as flat as its model, and no
# text in it is long. The value count is the caller's (its longest legal list).
SMALL_MAX_DEPTH = 8
SMALL_MAX_STRING = 4096


def read_json(body: bytes, encoding: str, *, limit: int, max_values: int) -> object:
    """A small request's JSON body, shape-bounded before it is parsed (`sync.bodies`);
    422 body.invalid when it is not JSON or holds a value JSON cannot carry (NaN,
    1e999999, a lone surrogate). Call it off the event loop."""
    shape = Shape(
        max_depth=SMALL_MAX_DEPTH,
        max_values=max_values,
        max_string=SMALL_MAX_STRING,
        codes=_BATCH_SHAPE_CODES,
    )
    data = _scanned(body, encoding, shape, limit)
    # Not JSON is 422 body.invalid, as the endpoints' validation answered before.
    try:
        return loads(data.decode("utf-8"))
    except RecursionError as exc:
        raise Refusal("body.invalid", detail="not JSON") from exc
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        if isinstance(exc, (UnicodeDecodeError, json.JSONDecodeError)):
            raise Refusal("body.invalid", detail="not JSON") from exc
        raise Refusal("body.invalid", detail=str(exc)) from exc


def parse_batch(data: bytes) -> list[object]:
    """The items of a batch body (already gunzipped and its shape bounded); 400/413
    when it is not one."""
    try:
        # Values no item may hold (1e999999, "\\ud800") are each item's own refusal
        # (item.value, in check_item_fields), never the whole batch's.
        doc = loads(data, check=False)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise Refusal("body.not_json") from exc
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise Refusal("body.no_items")
    if len(items) > wire.MAX_BATCH_ITEMS:
        raise Refusal("batch.too_many_items", limit=wire.MAX_BATCH_ITEMS)
    return items


def ingest_bundle(store: PortalStorage, data: bytes, validator: Validator | None) -> BundleResult:
    """Check a bundle file and apply its items; call it off the event loop.

    Returns {device_id, results}. Any device may deliver a bundle: the signature, not
    the caller, says whose submissions these are, and a revoked signer's are refused.
    In order, each before anything costlier: the file's size and header
    (`bundle.open_bundle`), the origin device, the sha256 and hmac over the raw lines
    (`bundle.verify`, nothing parsed), the signer's standing, and only then the items,
    one bounded line at a time, streamed into one transaction.
    """
    hold_point("portal.bundle_received")
    try:
        parsed = bundle_mod.open_bundle(data)
        origin = store.device(parsed.device_id)
        if origin is None:
            raise Refusal("bundle.signature")
        bundle_mod.verify(parsed, origin.bundle_key)
        if origin.revoked:  # whoever delivers it: revocation covers the device's bundles too
            raise Refusal("bundle.revoked", device_id=origin.id)
        results = store.ingest(origin.id, bundle_mod.items(parsed), "bundle", validator)
    except bundle_mod.BundleError as exc:
        raise Refusal(exc.code, **exc.params) from exc
    return {"device_id": origin.id, "results": results}


def anchor_audit(
    store: PortalStorage, device_id: str, head_seq: object, entries: object
) -> AnchorAnswer:
    """Check and keep a device's audit hashes (docs/sync-protocol.md, audit anchoring)."""
    if isinstance(entries, list) and len(entries) > wire.MAX_ANCHOR_ENTRIES:
        raise Refusal("body.invalid", detail=f"at most {wire.MAX_ANCHOR_ENTRIES} entries")
    parsed = parse_entries(head_seq, entries)
    if isinstance(parsed, str):
        raise Refusal("body.invalid", detail=parsed)
    return store.anchor_audit(device_id, parsed[0], parsed[1])


def catalog_answer(store: PortalStorage, etag: str) -> CatalogPage:
    """The catalog body: every signed form version, the signing keys' chain and the
    current sealing key (a rotated one reaches kiosks at their next sync)."""
    return {
        "etag": etag,
        "forms": store.forms(),
        "keys": store.key_chain(),
        "sealing_key": store.sealing_key(),
    }
