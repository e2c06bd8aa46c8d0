"""Protocol v2 constants shared by the client and the reference portal.

v2 (docs/sync-protocol.md, "What changed from v1"): submissions belong to the device
that authenticated (ids scoped per device, tracking codes must carry the device's
prefix), codes have a random part, enrolment registers the pre-enrolment prefix. Every
``LEGACY_API`` path answers ``protocol.upgrade`` so a v1 kiosk is told to upgrade.

The byte forms both ends must agree on (canonical JSON, the content hash, timestamps,
the tracking-code alphabet) are the domain's: `kiosk.wire`.
"""

from __future__ import annotations

import hashlib
import hmac

from kiosk.wire import text_hash

API = "/api/v2"
PROTOCOL_VERSION = 2
LEGACY_API = "/api/v1"  # every path under it answers 426 protocol.upgrade

# Limits the portal enforces (and the client stays under). Decompressed size is
# bounded separately so a small gzip bomb cannot exhaust memory.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024
MAX_BATCH_ITEMS = 1000
MAX_ITEM_PAYLOAD_BYTES = 256 * 1024
MAX_BUNDLE_ITEMS = 100_000
MAX_ANCHOR_ENTRIES = 1000  # audit hashes in one POST /audit/anchor
# Claims on pre-enrolment codes in one enrolment (docs/sync-protocol.md): about 150 bytes
# each, so at most ~3 MB of JSON; months of a busy kiosk's work before it enrols.
MAX_CLAIMS = 20_000
ANCHOR_BATCH = 500  # what the kiosk sends per request

BUNDLE_FORMAT = "mahalla-kiosk-bundle"
# The bundle FILE format, apart from the protocol's version: 2 is header, item lines and
# a checksum trailer, checked before any item is parsed (sync/bundle.py); 3 is the same
# with every item's answers sealed (kiosk/sealing.py), so the file is no longer readable
# with zcat. Format 1 and 2 files are refused with `bundle.old_version` (their items are
# still queued on their kiosk: update it and export again).
BUNDLE_VERSION = 3
BUNDLE_KEY_INFO = b"mahalla-kiosk bundle v1"


def bundle_key(token: str) -> bytes:
    """The key a device signs bundles with, derived from its token.

    The portal keeps this derived key (not the token) to check bundles that reach it
    through another kiosk.
    """
    return hmac.new(token.encode("utf-8"), BUNDLE_KEY_INFO, hashlib.sha256).digest()


def token_hash(token: str) -> str:
    """What the portal stores instead of a device token."""
    return text_hash(token)
