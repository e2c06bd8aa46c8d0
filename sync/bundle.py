"""Offline bundles: every unsent submission in one integrity-protected file.

Format 3 (docs/sync-protocol.md, "Bundles") is gzip of newline-separated canonical JSON,
each item's answers sealed to the portal's key (``sealed``, `kiosk.sealing`)::

    {"count", "created_at", "device_id", "device_prefix", "format", "version": 3}
    item 1
    ...
    item count
    {"hmac": hex, "sha256": hex}

``sha256`` and ``hmac`` (HMAC-SHA256 under `wire.bundle_key` of the exporting device's
token) cover the raw bytes of every line before the last, newlines included. So a
reader checks them in one streaming pass that parses nothing but the small header
(`open_bundle`, `verify`), and only then parses the items, one bounded line at a time
(`items`): a hostile file is refused before its items reach the JSON parser, and no
pass holds more than one line. Any kiosk checks the sha256 (a damaged file is refused
before any network use); only the portal, which keeps the derived key, checks the hmac,
so a hand-edited bundle whose sha256 was recomputed is still refused.

Format 1 (one JSON object holding every item) cannot be checked without parsing it
whole, which is the attack; format 2 carried the answers in clear text. Both are refused
with their own reason (the exporting kiosk still has the submissions queued: update it
and export again).

Errors are `BundleError` with a reason code of `kiosk.reasons`: the kiosk says it in
the operator's language, the portal sends it as its refusal.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import io
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from kiosk import reasons
from kiosk.errors import TranslatableError, os_error
from kiosk.i18n import N_
from kiosk.wire import canonical_json, loads
from sync import wire
from sync.bodies import Shape, Unbounded, inflate

MAX_FILE = 64 * 1024 * 1024  # compressed, as uploaded
MAX_DECOMPRESSED = 128 * 1024 * 1024
MAX_HEADER = 4096  # the first line, and the last
MAX_LINE = 2 * wire.MAX_ITEM_PAYLOAD_BYTES  # one item, canonical JSON
MAX_DEPTH = 32  # a payload's repeat groups nest a few levels; 32 is far beyond any form
# Elements and members in one item: each costs the parser a Python object, far more
# than its bytes. A form's answers are at most a few thousand.
MAX_ITEM_VALUES = 50_000
# Every item carries a random UUID that gzip cannot shrink below 16 bytes, so a file
# of N bytes cannot honestly hold more than N / 16 items (the per-item answers cost
# memory whatever the items are).
MIN_BYTES_PER_ITEM = 16

_GZIP = b"\x1f\x8b"
_V1_MARK = b'"format":"' + wire.BUNDLE_FORMAT.encode() + b'","items":['
_SHAPE_CODES = {
    "depth": "bundle.too_deep",
    "values": "bundle.too_many_values",
    "string": "bundle.line_too_long",
}


class BundleError(TranslatableError):
    """A bundle that cannot be used: ``code`` and ``params`` are a reason of `kiosk.reasons`."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(reasons.get(code).msgid, **params)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Bundle:
    """A bundle file whose header has been read; its items are parsed only by `items`."""

    device_id: str
    device_prefix: str
    created_at: str
    count: int
    data: bytes = field(repr=False)  # the file as it is (uploaded as it is)


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
    """Stream a bundle (gzip) to ``out`` without holding the items in memory."""
    header = {
        "count": count,
        "created_at": created_at,
        "device_id": device_id,
        "device_prefix": device_prefix,
        "format": wire.BUNDLE_FORMAT,
        "version": wire.BUNDLE_VERSION,
    }
    digest = hashlib.sha256()
    mac = hmac.new(wire.bundle_key(token), digestmod=hashlib.sha256)
    # mtime=0: the same queue exports to the same bytes.
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:

        def emit(value: object) -> None:
            data = canonical_json(value).encode("utf-8") + b"\n"
            digest.update(data)
            mac.update(data)
            gz.write(data)

        emit(header)
        written = 0
        for item in items:
            emit(item)
            written += 1
        if written != count:
            raise ValueError(f"bundle promised {count} items but got {written}")
        trailer = {"hmac": mac.hexdigest(), "sha256": digest.hexdigest()}
        gz.write(canonical_json(trailer).encode("utf-8") + b"\n")


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


def _lines(data: bytes) -> Iterator[bytes]:
    """Each line of the decompressed file with its newline; bounded in length and total."""
    if len(data) > MAX_FILE:
        raise BundleError("bundle.too_large", limit=MAX_FILE)
    if data[:2] != _GZIP:
        raise BundleError("bundle.not_bundle")
    pending = b""
    try:
        for chunk in inflate(
            data, MAX_DECOMPRESSED, too_large="bundle.too_large", damaged="bundle.truncated"
        ):
            pending += chunk
            start = 0
            while (end := pending.find(b"\n", start)) >= 0:
                yield pending[start : end + 1]
                start = end + 1
            pending = pending[start:]
            if len(pending) > MAX_LINE:
                raise BundleError("bundle.line_too_long", limit=MAX_LINE)
    except Unbounded as exc:
        raise BundleError(exc.code, **exc.params) from exc
    if pending:
        raise BundleError("bundle.truncated")


def _small_json(line: bytes) -> dict[str, object] | None:
    if len(line) > MAX_HEADER:
        return None
    try:
        doc = loads(line)
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


def _header(first: bytes) -> Bundle:
    doc = _small_json(first)
    if doc is None or doc.get("format") != wire.BUNDLE_FORMAT:
        if _V1_MARK in first[:MAX_HEADER]:
            raise BundleError("bundle.old_version")
        raise BundleError("bundle.not_bundle")
    if doc.get("version") == 2:  # answers in clear text: made before sealing
        raise BundleError("bundle.old_version")
    if doc.get("version") != wire.BUNDLE_VERSION:
        raise BundleError("bundle.version")
    count, device_id, prefix, created_at = (
        doc.get("count"),
        doc.get("device_id"),
        doc.get("device_prefix"),
        doc.get("created_at"),
    )
    if not (
        isinstance(count, int)
        and not isinstance(count, bool)
        and count >= 0
        and isinstance(device_id, str)
        and isinstance(prefix, str)
        and isinstance(created_at, str)
    ):
        raise BundleError("bundle.damaged", detail="header fields")
    return Bundle(device_id, prefix, created_at, count, b"")


def _prefix(data: bytes) -> bytes:
    """The first `MAX_HEADER` decompressed bytes, or less ("" when not gzip)."""
    try:
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, MAX_HEADER)
    except zlib.error:
        return b""


def open_bundle(data: bytes) -> Bundle:
    """Read the header (the first line, at most `MAX_HEADER` bytes) and nothing else.

    Refuses at once a file too large, not a bundle, of another version, or promising
    more items than its size can hold.
    """
    try:
        first = next(_lines(data), b"")
    except BundleError as exc:
        # Format 1 is one line: too long, or (a small file) without a newline.
        if exc.code in ("bundle.line_too_long", "bundle.truncated") and _V1_MARK in _prefix(data):
            raise BundleError("bundle.old_version") from exc
        raise
    head = _header(first)
    limit = min(wire.MAX_BUNDLE_ITEMS, len(data) // MIN_BYTES_PER_ITEM)
    if head.count > limit:
        raise BundleError("bundle.too_many_items", limit=limit)
    return Bundle(head.device_id, head.device_prefix, head.created_at, head.count, data)


def verify(bundle: Bundle, key: bytes | None = None) -> None:
    """One streaming pass over every line, parsing none but the last: the line count,
    each line's length, the sha256 and (with ``key``) the hmac. Raises `BundleError`."""
    digest = hashlib.sha256()
    mac = hmac.new(key, digestmod=hashlib.sha256) if key is not None else None
    lines = 0
    last = b""
    for line in _lines(bundle.data):
        if lines > bundle.count + 1:
            raise BundleError("bundle.damaged", detail=f"more than {bundle.count} items")
        if lines:
            digest.update(last)
            if mac is not None:
                mac.update(last)
        last = line
        lines += 1
    if lines != bundle.count + 2:
        raise BundleError("bundle.damaged", detail=f"{max(lines - 2, 0)} of {bundle.count} items")
    trailer = _small_json(last)
    sums = (trailer or {}).get("sha256"), (trailer or {}).get("hmac")
    if not all(isinstance(s, str) for s in sums):
        raise BundleError("bundle.damaged", detail="no checksum")
    sha, given = str(sums[0]), str(sums[1])
    if not hmac.compare_digest(digest.hexdigest(), sha):
        raise BundleError("bundle.checksum")
    if mac is not None and not hmac.compare_digest(mac.hexdigest(), given):
        raise BundleError("bundle.signature")


def items(bundle: Bundle) -> Iterator[object]:
    """The items, parsed one line at a time after each line's shape is checked.

    Call after `verify`: that pass has counted the lines and bounded their length.
    """
    lines = _lines(bundle.data)
    next(lines, None)  # the header
    for _ in range(bundle.count):
        line = next(lines, b"")
        shape = Shape(
            max_depth=MAX_DEPTH, max_values=MAX_ITEM_VALUES, max_string=MAX_LINE, codes=_SHAPE_CODES
        )
        try:
            shape.feed(line)
        except Unbounded as exc:
            raise BundleError(exc.code, **exc.params) from exc
        try:
            yield loads(line, check=False)  # a bad value is the item's refusal (item.value)
        except (ValueError, RecursionError) as exc:
            raise BundleError("bundle.damaged", detail="an item is not JSON") from exc


def read(path: Path) -> Bundle:
    """Open a bundle file and check its sha256 (the kiosk's check before uploading)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TranslatableError(N_("Cannot read the file: {error}"), error=os_error(exc)) from exc
    bundle = open_bundle(data)
    verify(bundle)
    return bundle
