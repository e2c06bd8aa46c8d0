"""Sealed submissions: a payload compressed, then sealed to the portal's X25519 key.

At submit the kiosk keeps no clear text of the answers: the outbox holds only the
sealed blob, which the portal alone can open (docs/keys.md, "Sealing keys"). This is
ODK's encrypted-forms idea with modern primitives, from ``cryptography`` (already
pinned for the catalog's signatures), no new dependency:

    blob = version (1 byte) || recipient key id prefix (4 bytes)
           || ephemeral X25519 public key (32 bytes) || ChaCha20-Poly1305 ciphertext+tag

The AEAD key is HKDF-SHA256 over the X25519 shared secret (salt: the ephemeral public
key then the recipient's, info `INFO`); the nonce is 12 zero bytes, safe because every
blob has a fresh ephemeral key and so a key of its own. The associated data binds the
blob to its item (`item_aad`: id, tracking code, form and version, and the compression
dictionary's id), so a blob moved to another item, or opened with another form's
dictionary, does not open. The tracking code binds it to its device too: item ids are
scoped to a device at the portal, but a code belongs to one device only (its prefix, or
its claim), so a blob copied off one kiosk and sent by another does not open there.

Inside is the canonical JSON payload as raw deflate (`zlib`, stdlib) with a per-form
preset dictionary (`kiosk.seal_dict`): a short payload shares little with itself, but
much with the form's field and choice names, which both ends know. Decompression is
bounded (`MAX_PLAIN`) so a hostile blob cannot inflate memory. Damaged, foreign or
truncated blobs raise `SealError` (translatable), never anything else.

The content hash of a sealed item is SHA-256 of the blob (`blob_hash`): it says nothing
about the answers (the ephemeral key is random, so even the same answers seal to
different blobs) and is stable for retries and bundles, since the blob is made once.
"""

from __future__ import annotations

import hashlib
import zlib
from typing import TYPE_CHECKING, TypedDict

from kiosk.errors import TranslatableError
from kiosk.i18n import N_
from kiosk.signing import b64, key_id, unb64
from kiosk.wire import canonical_json

if TYPE_CHECKING:  # imported where used: the kiosk's start path loads this module
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

VERSION = 1
INFO = b"mahalla-kiosk seal v1"
KEY_PURPOSE = b"mahalla-kiosk sealing key v1\n"
KEY_PREFIX_BYTES = 4
PUBLIC_BYTES = 32
TAG_BYTES = 16
HEADER_BYTES = 1 + KEY_PREFIX_BYTES + PUBLIC_BYTES
OVERHEAD = HEADER_BYTES + TAG_BYTES  # bytes a sealed blob adds to its compressed payload
NONCE = bytes(12)
MAX_PLAIN = 256 * 1024  # decompressed payload bound (= sync.wire.MAX_ITEM_PAYLOAD_BYTES)
LEVEL = 9


class SealError(TranslatableError):
    """A blob that cannot be opened: damaged, truncated, or sealed to another key."""


class SealingKey(TypedDict):
    """The portal's sealing public key as a kiosk stores it (docs/keys.md)."""

    key_id: str  # hex of the first 8 bytes of SHA-256 of the raw public key
    public_key: str  # the raw 32-byte X25519 public key, base64
    signed_by: str | None  # the Ed25519 signing key vouching for it
    signature: str | None  # base64 Ed25519 over `key_message`


def raw_public(private: X25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def key_message(kid: str, public_key: str) -> bytes:
    """What the portal's signing key signs to vouch for a sealing key."""
    return KEY_PURPOSE + canonical_json({"key_id": kid, "public_key": public_key}).encode()


def valid_sealing_key(entry: object) -> SealingKey | None:
    """A stored or received sealing key whose id matches its key; None otherwise."""
    if not isinstance(entry, dict):
        return None
    kid, pub = entry.get("key_id"), entry.get("public_key")
    raw = unb64(pub)
    if not isinstance(kid, str) or not isinstance(pub, str) or raw is None:
        return None
    if len(raw) != PUBLIC_BYTES or key_id(raw) != kid:
        return None
    signer, signature = entry.get("signed_by"), entry.get("signature")
    return {
        "key_id": kid,
        "public_key": pub,
        "signed_by": signer if isinstance(signer, str) else None,
        "signature": signature if isinstance(signature, str) else None,
    }


def dictionary_id(zdict: bytes) -> str:
    return hashlib.sha256(zdict).hexdigest()[:16]


def item_aad(item_id: str, form_id: str, form_version: str, zdict: bytes, *, code: str) -> bytes:
    """The associated data binding a blob to its item (and so, through its tracking
    ``code``, to its device) and to its compression dictionary."""
    return canonical_json(
        {
            "dict": dictionary_id(zdict),
            "form_id": form_id,
            "form_version": form_version,
            "id": item_id,
            "tracking_code": code,
        }
    ).encode("utf-8")


def blob_hash(blob: bytes) -> str:
    """The content hash of a sealed item: SHA-256 hex of the blob."""
    return hashlib.sha256(blob).hexdigest()


def _aead_key(shared: bytes, eph_pub: bytes, recipient_pub: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=eph_pub + recipient_pub, info=INFO
    ).derive(shared)


def seal(recipient_public: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Seal ``plaintext`` to the X25519 public key ``recipient_public`` (32 raw bytes)."""
    if len(recipient_public) != PUBLIC_BYTES:
        raise ValueError("an X25519 public key is 32 bytes")
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    ephemeral = X25519PrivateKey.generate()
    eph_pub = raw_public(ephemeral)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    key = _aead_key(shared, eph_pub, recipient_public)
    prefix = bytes.fromhex(key_id(recipient_public))[:KEY_PREFIX_BYTES]
    body = ChaCha20Poly1305(key).encrypt(NONCE, plaintext, aad)
    return bytes([VERSION]) + prefix + eph_pub + body


def recipient_prefix(blob: bytes) -> str | None:
    """The hex key id prefix a blob names (the first 8 hex digits of its key id)."""
    if len(blob) < OVERHEAD or blob[0] != VERSION:
        return None
    return blob[1 : 1 + KEY_PREFIX_BYTES].hex()


def _unopenable(reason: str) -> SealError:
    return SealError(N_("The sealed answers cannot be opened: {reason}."), reason=reason)


def open_sealed(private: X25519PrivateKey | bytes, blob: bytes, aad: bytes) -> bytes:
    """The plaintext of ``blob``; `SealError` if it is damaged, foreign or not bound to ``aad``."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    key = private if isinstance(private, X25519PrivateKey) else _private_from(private)
    if len(blob) < OVERHEAD:
        raise _unopenable("too short")
    if blob[0] != VERSION:
        raise _unopenable(f"unknown version {blob[0]}")
    recipient = raw_public(key)
    if blob[1 : 1 + KEY_PREFIX_BYTES] != bytes.fromhex(key_id(recipient))[:KEY_PREFIX_BYTES]:
        raise _unopenable("sealed to another key")
    eph_pub = blob[1 + KEY_PREFIX_BYTES : HEADER_BYTES]
    try:
        shared = key.exchange(X25519PublicKey.from_public_bytes(eph_pub))
    except ValueError as exc:  # a low-order point: all-zero shared secret
        raise _unopenable("damaged") from exc
    aead = ChaCha20Poly1305(_aead_key(shared, eph_pub, recipient))
    try:
        return aead.decrypt(NONCE, blob[HEADER_BYTES:], aad)
    except InvalidTag as exc:
        raise _unopenable("damaged, or not this item's") from exc


def _private_from(raw: bytes) -> X25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    try:
        return X25519PrivateKey.from_private_bytes(raw)
    except ValueError as exc:
        raise _unopenable("not an X25519 private key") from exc


def compress(text: str, zdict: bytes) -> bytes:
    """Raw deflate (level 9) of ``text`` with the preset dictionary ``zdict``."""
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
    return packer.compress(text.encode("utf-8")) + packer.flush()


def decompress(data: bytes, zdict: bytes, limit: int = MAX_PLAIN) -> str:
    """Inverse of `compress`, never producing more than ``limit`` bytes; `SealError` else."""
    try:
        unpacker = zlib.decompressobj(-15, zdict)
        out = unpacker.decompress(data, limit + 1)
    except zlib.error as exc:
        raise _unopenable("damaged compressed answers") from exc
    if len(out) > limit:
        raise _unopenable(f"more than {limit} bytes once decompressed")
    if not unpacker.eof or unpacker.unused_data:
        raise _unopenable("damaged compressed answers")
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _unopenable("not UTF-8") from exc


def seal_payload(
    key: SealingKey,
    payload_json: str,
    item_id: str,
    form_id: str,
    form_version: str,
    zdict: bytes,
    *,
    code: str,
) -> bytes:
    """The sealed blob of one submission's canonical JSON payload (tracking ``code``)."""
    public = unb64(key["public_key"])
    assert public is not None  # a SealingKey is checked when stored (`valid_sealing_key`)
    aad = item_aad(item_id, form_id, form_version, zdict, code=code)
    return seal(public, compress(payload_json, zdict), aad)


def open_payload(
    private: X25519PrivateKey,
    blob: bytes,
    item_id: str,
    form_id: str,
    form_version: str,
    zdicts: tuple[bytes, ...],
    *,
    code: str,
) -> str:
    """The canonical JSON payload of ``blob``, trying each dictionary the kiosk may have
    used (the form's, then the common one); `SealError` when none opens it."""
    error: SealError | None = None
    for zdict in zdicts:
        try:
            aad = item_aad(item_id, form_id, form_version, zdict, code=code)
            packed = open_sealed(private, blob, aad)
        except SealError as exc:
            error = exc
            continue
        return decompress(packed, zdict)
    raise error or _unopenable("no dictionary")


def public_b64(private: X25519PrivateKey) -> str:
    return b64(raw_public(private))
