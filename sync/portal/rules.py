"""Protocol v1 rules the HTTP app and the in-process transport share.

What a request must look like and what the portal answers, apart from HTTP itself:
`sync.portal.app` turns a `Refusal` into an HTTP error, `sync.portal.local` into the
transport error the HTTP client would have raised for that answer.
"""

from __future__ import annotations

from typing import Any

from kiosk import reasons
from kiosk.wire import loads
from sync import bundle as bundle_mod
from sync import wire
from sync.portal.anchors import AnchorAnswer, parse_entries
from sync.portal.storage import Device, PortalStorage, Validator


class Refusal(Exception):
    """The portal refuses the request with a registered reason (`kiosk.reasons`).

    ``status`` is HTTP's number for it and ``body`` the error body: ``{code, params,
    detail}``.
    """

    def __init__(self, code: str, **params: object) -> None:
        self.body = reasons.refusal(code, **params)
        super().__init__(self.body["detail"])
        self.code = code
        self.status = reasons.get(code).status
        self.detail = self.body["detail"]


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


def parse_batch(data: bytes) -> list[Any]:
    """The items of a batch body (already gunzipped); 400/413 when it is not one."""
    try:
        doc = loads(data)  # NaN/Infinity refused: a payload with them has no content hash
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise Refusal("body.not_json") from exc
    items = doc.get("items") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise Refusal("body.no_items")
    if len(items) > wire.MAX_BATCH_ITEMS:
        raise Refusal("batch.too_many_items", limit=wire.MAX_BATCH_ITEMS)
    return items


def ingest_bundle(store: PortalStorage, data: bytes, validator: Validator | None) -> dict[str, Any]:
    """Check a bundle file (size, signature of its device) and apply its items.

    Returns {device_id, results}. Any device may deliver a bundle: the signature, not
    the caller, says whose submissions these are.
    """
    try:
        parsed = bundle_mod.parse(data)
    except bundle_mod.BundleTooLarge as exc:
        raise Refusal("bundle.too_large", limit=bundle_mod.MAX_DECOMPRESSED) from exc
    except bundle_mod.BundleError as exc:
        raise Refusal("bundle.damaged", detail=str(exc)) from exc
    origin = store.device(parsed.device_id)
    if origin is None or not bundle_mod.verify_signature(parsed, origin.bundle_key):
        raise Refusal("bundle.signature")
    if len(parsed.items) > wire.MAX_BUNDLE_ITEMS:
        raise Refusal("bundle.too_many_items", limit=wire.MAX_BUNDLE_ITEMS)
    results = store.ingest(origin.id, parsed.items, "bundle", validator)
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


def catalog_answer(store: PortalStorage, etag: str) -> dict[str, Any]:
    """The catalog body: every signed form version and the signing keys' chain."""
    return {"etag": etag, "forms": store.forms(), "keys": store.key_chain()}
