"""Opening sealed items at the portal: the one place a submission's answers appear again.

Protocol v2 items carry ``sealed`` (base64 of a `kiosk.sealing` blob) instead of the
answers. The batch endpoint, the bundle import and the in-process transport all reach
`sync.portal.store.PortalStore.ingest`, which opens each item here, so the three open
alike. An item that cannot be opened (sealed to a key this portal never held, damaged,
moved to another item) is refused on its own with ``sealed.unopenable``; the rest of its
batch goes on. The item's content hash is SHA-256 of the blob (`kiosk.sealing.blob_hash`),
computed here: the kiosk need not send it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from kiosk import seal_dict
from kiosk.sealing import SealError, blob_hash, open_payload, recipient_prefix
from kiosk.signing import unb64
from kiosk.wire import canonical_and_hash, loads
from sync import wire
from sync.portal.sealing_keys import SealingKeys

# Base64 of the largest blob an item may hold (the payload bound, compressed or not).
MAX_SEALED_TEXT = 2 * wire.MAX_ITEM_PAYLOAD_BYTES


@dataclass(frozen=True)
class Blob:
    """An item's sealed bytes and their hash, before opening."""

    data: bytes
    digest: str


@dataclass(frozen=True)
class Opened:
    """An opened item: its answers, as canonical JSON and parsed."""

    payload: dict[str, object]
    payload_json: str
    plain_hash: str  # sha256 of the canonical JSON (what a pre-sealing portal stored)


def blob_of(item: Mapping[str, object]) -> Blob | tuple[str, dict[str, object]]:
    """The item's blob, or the refusal (code, params) when it carries none usable."""
    if "payload" in item:
        return "sealed.plaintext", {}
    text = item.get("sealed")
    data = unb64(text) if isinstance(text, str) and len(text) <= MAX_SEALED_TEXT else None
    if data is None:
        return "item.field", {"field": "sealed"}
    digest = blob_hash(data)
    given = item.get("content_hash")
    if given is not None and given != digest:
        return "item.hash", {}
    return Blob(data, digest)


def open_blob(
    keys: SealingKeys, blob: Blob, item: Mapping[str, str], spec_text: str | None
) -> Opened | tuple[str, dict[str, object]]:
    """The answers sealed in ``blob`` for ``item`` (its id, tracking code, form and
    version: a blob sent under another device's item does not open), or the
    refusal. ``spec_text`` is the form's spec as stored, for the compression dictionary."""
    prefix = recipient_prefix(blob.data)
    candidates = keys.for_prefix(prefix) if prefix else []
    if not candidates:
        return "sealed.unopenable", {"detail": "sealed to a key this portal does not hold"}
    zdicts = (seal_dict.for_spec_text(spec_text), seal_dict.COMMON_DICTIONARY)
    text: str | None = None
    error = "damaged"
    for private in candidates:
        try:
            text = open_payload(
                private,
                blob.data,
                item["id"],
                item["form_id"],
                item["form_version"],
                zdicts,
                code=item["tracking_code"],
            )
            break
        except SealError as exc:
            error = str(exc.kwargs.get("reason", "damaged"))
    if text is None:
        return "sealed.unopenable", {"detail": error}
    try:
        payload = loads(text)
    except (ValueError, RecursionError):
        return "item.value", {}
    if not isinstance(payload, dict):
        return "item.field", {"field": "sealed"}
    payload_json, plain_hash = canonical_and_hash(payload)
    if len(payload_json.encode()) > wire.MAX_ITEM_PAYLOAD_BYTES:
        return "item.too_large", {"limit": wire.MAX_ITEM_PAYLOAD_BYTES}
    return Opened(payload, payload_json, plain_hash)
