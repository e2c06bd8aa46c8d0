"""Offline bundles: every unsent submission in one integrity-protected file.

A bundle is gzip-compressed JSON::

    {"format": "mahalla-kiosk-bundle", "version": 1, "device_id", "device_prefix",
     "created_at", "count", "items": [...], "sha256": ..., "hmac": ...}

``sha256`` covers the canonical JSON of every field but itself and ``hmac``, so a
damaged file is refused at once by any kiosk. ``hmac`` is HMAC-SHA256 of the same
bytes under a key derived from the exporting device's token; only the portal, which
keeps that derived key, can check it, so a hand-edited bundle whose sha256 was
recomputed is still refused. (HMAC rather than ed25519: the ``cryptography`` package
is not installed, and the portal already shares a secret with each device.)
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from kiosk.errors import TranslatableError
from kiosk.i18n import N_
from kiosk.wire import canonical_json, loads
from sync import wire

SIGNED_FIELDS = ("format", "version", "device_id", "device_prefix", "created_at", "count", "items")


class BundleError(TranslatableError):
    """A bundle that cannot be used. ``msgid`` is an English message for ``tr``."""


class BundleTooLarge(BundleError):
    """Decompressed beyond the bound (a huge export, or a gzip bomb)."""


MAX_DECOMPRESSED = 128 * 1024 * 1024


@dataclass(frozen=True)
class Bundle:
    device_id: str
    created_at: str
    items: list[dict[str, object]]
    raw: dict[str, object]


def _body_bytes(doc: Mapping[str, object]) -> bytes:
    return canonical_json({k: doc[k] for k in SIGNED_FIELDS}).encode("utf-8")


def write(
    out: BinaryIO,
    items: Iterable[Mapping[str, object]],
    count: int,
    *,
    device_id: str,
    device_prefix: str,
    token: str,
    created_at: str,
) -> None:
    """Stream a bundle (gzip) to ``out`` without holding the items in memory.

    The signed bytes are the canonical JSON of the signed fields, produced piece by
    piece in sorted key order (count, created_at, device_id, device_prefix, format,
    items, version); ``hmac`` and ``sha256`` are appended to the same object at the end.
    """
    head = {
        "count": count,
        "created_at": created_at,
        "device_id": device_id,
        "device_prefix": device_prefix,
        "format": wire.BUNDLE_FORMAT,
    }
    digest = hashlib.sha256()
    mac = hmac.new(wire.bundle_key(token), digestmod=hashlib.sha256)
    # mtime=0: the same queue exports to the same bytes.
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:

        def emit(text: str, *, write: bool = True) -> None:
            data = text.encode("utf-8")
            digest.update(data)
            mac.update(data)
            if write:
                gz.write(data)

        emit(canonical_json(head)[:-1] + ',"items":[')
        written = 0
        for item in items:
            emit(("," if written else "") + canonical_json(item))
            written += 1
        if written != count:
            raise ValueError(f"bundle promised {count} items but got {written}")
        emit(f'],"version":{wire.BUNDLE_VERSION}')
        emit("}", write=False)  # the signed body ends here; the file's object goes on
        gz.write(f',"hmac":"{mac.hexdigest()}","sha256":"{digest.hexdigest()}"}}'.encode())


def build(
    items: Sequence[Mapping[str, object]],
    *,
    device_id: str,
    device_prefix: str,
    token: str,
    created_at: str,
) -> bytes:
    """The bundle file's bytes for ``items`` (in memory; `write` streams)."""
    buffer = io.BytesIO()
    write(
        buffer,
        items,
        len(items),
        device_id=device_id,
        device_prefix=device_prefix,
        token=token,
        created_at=created_at,
    )
    return buffer.getvalue()


def decode(data: bytes, max_decompressed: int = MAX_DECOMPRESSED) -> dict[str, object]:
    """Gzip or plain JSON to a dict; bounded so a bomb cannot fill memory."""
    if data[:2] == b"\x1f\x8b":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            text = inflater.decompress(data, max_decompressed + 1)
        except zlib.error as exc:
            raise BundleError(N_("The bundle file is damaged (it does not decompress).")) from exc
        if len(text) > max_decompressed or inflater.unconsumed_tail:
            raise BundleTooLarge(N_("The bundle file is too large."))
        if not inflater.eof:
            raise BundleError(N_("The bundle file is damaged (it is cut short)."))
    else:
        text = data
    try:
        doc = loads(text)  # NaN/Infinity refused: they could not be hashed
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BundleError(N_("The file is not a kiosk bundle.")) from exc
    if not isinstance(doc, dict) or doc.get("format") != wire.BUNDLE_FORMAT:
        raise BundleError(N_("The file is not a kiosk bundle."))
    return doc


def parse(data: bytes) -> Bundle:
    """Check the structure and the sha256; raises BundleError. Does not check the hmac."""
    doc = decode(data)
    if doc.get("version") != wire.BUNDLE_VERSION:
        raise BundleError(N_("The bundle was made by an unsupported version of the kiosk."))
    missing = [k for k in (*SIGNED_FIELDS, "sha256", "hmac") if k not in doc]
    if missing:
        raise BundleError(N_("The bundle file is damaged (fields are missing)."))
    items = doc["items"]
    if (
        not isinstance(items, list)
        or doc["count"] != len(items)
        or not isinstance(doc["device_id"], str)
        or not isinstance(doc["sha256"], str)
        or not isinstance(doc["hmac"], str)
    ):
        raise BundleError(N_("The bundle file is damaged (its contents do not add up)."))
    if not hmac.compare_digest(hashlib.sha256(_body_bytes(doc)).hexdigest(), doc["sha256"]):
        raise BundleError(N_("The bundle file was damaged or edited: its checksum does not match."))
    return Bundle(doc["device_id"], str(doc["created_at"]), items, doc)


def verify_signature(bundle: Bundle, key: bytes) -> bool:
    """True when the bundle's hmac was made with ``key`` (the portal's check)."""
    expected = hmac.new(key, _body_bytes(bundle.raw), hashlib.sha256).hexdigest()
    given = bundle.raw["hmac"]  # a str: `parse` checked it
    return isinstance(given, str) and hmac.compare_digest(expected, given)


def read(path: Path) -> tuple[Bundle, bytes]:
    """Parse a bundle file; returns it with the file's bytes (sent as they are)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BundleError(N_("Cannot read the file: {error}"), error=exc.strerror) from exc
    return parse(data), data
