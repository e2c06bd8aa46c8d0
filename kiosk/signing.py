"""Ed25519 signatures of the portal's catalog, checked by the kiosk (docs/keys.md).

The portal signs every form version it adds; the kiosk pins the portal's public
signing key at enrolment and activates a form from the portal only when its
signature verifies under a pinned key. A new key (rotation) is accepted when a
statement naming it is signed by a key the kiosk already pins; the kiosk then pins
it too. What is signed is fixed here, in the domain, so both ends make the same
bytes: a purpose line, then the canonical JSON of kiosk/wire.py.

Library: ``cryptography`` (maintained, wheels for Debian, and the privacy work needs
it for X25519/HKDF anyway), not PyNaCl.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import TypedDict

from kiosk.wire import canonical_json

FORM_PURPOSE = b"mahalla-kiosk form v1\n"
KEY_PURPOSE = b"mahalla-kiosk signing key v1\n"
KEY_ID_BYTES = 8  # the key id: first 8 bytes (16 hex) of SHA-256 of the raw public key


class PublicKey(TypedDict):
    """A signing key as the enrolment answer carries it."""

    key_id: str
    public_key: str  # the raw 32 bytes, base64


class KeyStatement(TypedDict):
    """One link of the key chain: ``key_id`` is trusted, says ``signed_by`` (None: the first)."""

    key_id: str
    public_key: str
    signed_by: str | None
    signature: str | None


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object) -> bytes | None:
    """Strict base64 -> bytes; None for anything else."""
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


def key_id(raw_public: bytes) -> str:
    return hashlib.sha256(raw_public).hexdigest()[: 2 * KEY_ID_BYTES]


def form_message(form_id: str, version: str, category: str, spec: object) -> bytes:
    """The bytes the portal signs for one form version."""
    body = {"form_id": form_id, "version": version, "category": category, "spec": spec}
    return FORM_PURPOSE + canonical_json(body).encode("utf-8")


def key_message(new_key_id: str, public_key: str) -> bytes:
    """The bytes of the statement "this new key is trusted", signed by the current key."""
    return KEY_PURPOSE + canonical_json({"key_id": new_key_id, "public_key": public_key}).encode()


def verify(public_key: str, message: bytes, signature: object) -> bool:
    """Whether ``signature`` (base64) is the Ed25519 signature of ``message`` under ``public_key``."""
    # Imported here: the transport imports this module's types on the kiosk's start path.
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    raw, sig = unb64(public_key), unb64(signature)
    if raw is None or sig is None or len(raw) != 32 or len(sig) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(sig, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def valid_public_key(entry: object) -> PublicKey | None:
    """A ``{key_id, public_key}`` whose id matches its key; None for anything else."""
    if not isinstance(entry, Mapping):
        return None
    kid, pub = entry.get("key_id"), entry.get("public_key")
    raw = unb64(pub)
    if not isinstance(kid, str) or not isinstance(pub, str) or raw is None or len(raw) != 32:
        return None
    if key_id(raw) != kid:
        return None
    return {"key_id": kid, "public_key": pub}


def extend_pins(pins: Mapping[str, str], chain: object) -> dict[str, str]:
    """The pinned keys plus every key of ``chain`` vouched for by one already pinned.

    ``pins`` maps key id -> base64 public key. A statement is taken only when it is
    signed by a key pinned (or accepted earlier in this walk), so a chain rooted in a
    key the kiosk never pinned adds nothing.
    """
    result = dict(pins)
    statements = chain if isinstance(chain, list) else []
    changed = True
    while changed:
        changed = False
        for entry in statements:
            key = valid_public_key(entry)
            if key is None or key["key_id"] in result or not isinstance(entry, Mapping):
                continue
            signer = entry.get("signed_by")
            if not isinstance(signer, str) or signer not in result:
                continue
            message = key_message(key["key_id"], key["public_key"])
            if verify(result[signer], message, entry.get("signature")):
                result[key["key_id"]] = key["public_key"]
                changed = True
    return result


def form_signature_problem(entry: Mapping[str, object], pins: Mapping[str, str]) -> str | None:
    """Why a catalog entry must not be activated ("unsigned", "unknown_key", "bad_signature"),
    or None when its signature verifies under a pinned key."""
    kid, signature = entry.get("key_id"), entry.get("signature")
    if not isinstance(kid, str) or not isinstance(signature, str):
        return "unsigned"
    if kid not in pins:
        return "unknown_key"
    form_id, version, category = entry.get("form_id"), entry.get("version"), entry.get("category")
    if not (isinstance(form_id, str) and isinstance(version, str) and isinstance(category, str)):
        return "bad_signature"
    message = form_message(form_id, version, category, entry.get("spec"))
    if not verify(pins[kid], message, signature):
        return "bad_signature"
    return None
