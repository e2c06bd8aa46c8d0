"""Protocol v1 constants and encodings shared by the client and the reference portal.

Both sides must agree byte for byte on the canonical JSON of a payload, because the
content hash of that JSON is what tells a duplicate from a conflict.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

API = "/api/v1"
PROTOCOL_VERSION = 1

# Tracking-code prefixes and enrolment codes: no 0/O, 1/I/L confusables.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX_LEN = 3

# Limits the portal enforces (and the client stays under). Decompressed size is
# bounded separately so a small gzip bomb cannot exhaust memory.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024
MAX_BATCH_ITEMS = 1000
MAX_ITEM_PAYLOAD_BYTES = 256 * 1024
MAX_BUNDLE_ITEMS = 100_000

BUNDLE_FORMAT = "mahalla-kiosk-bundle"
BUNDLE_KEY_INFO = b"mahalla-kiosk bundle v1"


def canonical_json(obj: Any) -> str:
    """Sorted keys, no spaces, UTF-8 kept: the form whose SHA-256 is the content hash."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def bundle_key(token: str) -> bytes:
    """The key a device signs bundles with, derived from its token.

    The portal keeps this derived key (not the token) to check bundles that reach it
    through another kiosk.
    """
    return hmac.new(token.encode("utf-8"), BUNDLE_KEY_INFO, hashlib.sha256).digest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
