"""The byte forms kiosk and portal must agree on: canonical JSON, hashes, timestamps.

A submission's content hash is the SHA-256 of its canonical JSON; the portal
recomputes it from the payload it receives to tell a resend (``duplicate``) from a
different submission under the same id (``conflict``), and the audit chain hashes its
rows the same way. So there is exactly one canonical form, here in the domain, where
the store and the audit log use it without importing ``sync/``.

NaN and Infinity are not JSON: writing them raises ValueError, and `loads` refuses
them too, so nothing that cannot round-trip is ever hashed.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

# Tracking-code symbols (device prefixes, enrolment codes): no 0/O, 1/I/L confusables.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX_LEN = 3  # symbols of the device prefix the portal assigns at enrolment


def _json_default(value: object) -> str:
    """Dates (a draft may hold one) as ISO text; anything else is not JSON."""
    if isinstance(value, date):  # datetime is a date
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(obj: object) -> str:
    """Sorted keys, no spaces, UTF-8 kept, dates as ISO text; NaN/Infinity refused."""
    return json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


def text_hash(text: str) -> str:
    """SHA-256 hex of the text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_and_hash(payload: object) -> tuple[str, str]:
    """The payload's canonical JSON and its content hash, serialising once."""
    body = canonical_json(payload)
    return body, text_hash(body)


def content_hash(payload: object) -> str:
    """SHA-256 hex of the payload's canonical JSON: what tells a duplicate from a conflict."""
    return canonical_and_hash(payload)[1]


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def loads(text: str | bytes) -> object:
    """`json.loads`, but NaN and Infinity (which Python accepts) are a ValueError."""
    return json.loads(text, parse_constant=_refuse_constant)


def now_iso(moment: datetime | None = None) -> str:
    """UTC timestamp as stored everywhere (sortable text; compare strings from here only)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="microseconds")
