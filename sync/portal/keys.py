"""The portal's Ed25519 signing keys: files outside the database, rotation by a signed chain.

Layout (docs/keys.md), under ``<portal data dir>/keys/`` (0700):

- ``<key id>.key``: one private key, PKCS#8 PEM, mode 0600, one file per key ever made;
- ``chain.json``: the public chain, oldest first: ``[{key_id, public_key, signed_by,
  signature}]``; the first key has no signer, each later one is vouched for by the key
  before it. The last entry is the current key.

The keys are created on first use. A key file or directory that group or others may
read stops the portal with `KeyFileError` (a clear message): a private key anyone on
the machine can copy would let them sign a catalog. Files, not the database, so a
copy of ``portal.db`` (a backup, a report) never carries the power to sign.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from kiosk.errors import TranslatableError
from kiosk.i18n import N_
from kiosk.signing import KeyStatement, PublicKey, b64, key_id, key_message

KEYS_DIR = "keys"
CHAIN_FILE = "chain.json"


class KeyFileError(TranslatableError):
    """The key files cannot be used (unsafe permissions, missing or damaged)."""


def _raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


LOOSE_SIGNING_KEY = N_(
    "The portal's signing key {path} may be read by other users (mode {mode}); "
    "allow only the portal's own user: chmod {fix} {path}"
)
UNREADABLE_SIGNING_KEY = N_("The portal's signing key {path} cannot be read: {reason}")


def _check_mode(path: Path, loose: str = LOOSE_SIGNING_KEY) -> None:
    """`KeyFileError` (``loose``, a msgid) when group or others may read ``path``."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise KeyFileError(
            loose, path=str(path), mode=f"{mode:04o}", fix="700" if path.is_dir() else "600"
        )


def load_private_pem(path: Path, loose: str, unreadable: str) -> PrivateKeyTypes:
    """The private key in ``path`` once its mode is checked; `KeyFileError` (the given
    msgids) when others may read it or it cannot be read or parsed. The caller checks
    the key's type and id: one reading for the signing and the sealing keys."""
    try:
        _check_mode(path, loose)
        return serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise KeyFileError(unreadable, path=str(path), reason=str(exc)) from None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PortalKeys:
    """The key directory of one portal; every call reads the files (rotation by another
    process is seen at once)."""

    def __init__(self, portal_dir: Path) -> None:
        self.dir = Path(portal_dir) / KEYS_DIR
        self.ensure()

    @property
    def chain_path(self) -> Path:
        return self.dir / CHAIN_FILE

    def ensure(self) -> None:
        """Create the directory and a first key if there are none; check permissions."""
        if not self.dir.exists():
            with contextlib.suppress(FileExistsError):
                self.dir.mkdir(mode=0o700, parents=True)
        _check_mode(self.dir)
        if not self.chain_path.exists():
            private = Ed25519PrivateKey.generate()
            raw = _raw_public(private)
            kid = self._write_key(private)
            first: KeyStatement = {
                "key_id": kid,
                "public_key": b64(raw),
                "signed_by": None,
                "signature": None,
            }
            self._write_chain([first], exclusive=True)
        for statement in self.chain():
            _check_mode(self._key_path(statement["key_id"]))

    def _key_path(self, kid: str) -> Path:
        return self.dir / f"{kid}.key"

    def _write_key(self, private: Ed25519PrivateKey) -> str:
        kid = key_id(_raw_public(private))
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(self._key_path(kid), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)  # whatever the umask
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        return kid

    def _write_chain(self, chain: list[KeyStatement], *, exclusive: bool = False) -> None:
        """Write the chain atomically (temp file, then link or rename)."""
        tmp = self.dir / f".{CHAIN_FILE}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(chain, out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        try:
            if exclusive:  # two processes starting at once: the first chain wins
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, self.chain_path)
                tmp.unlink()
            else:
                os.replace(tmp, self.chain_path)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(self.dir)

    def chain(self) -> list[KeyStatement]:
        """The key chain, oldest first (the last is the current key)."""
        try:
            data = json.loads(self.chain_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KeyFileError(
                N_("The portal's key chain {path} cannot be read: {reason}"),
                path=str(self.chain_path),
                reason=str(exc),
            ) from None
        if not isinstance(data, list) or not data:
            raise KeyFileError(
                N_("The portal's key chain {path} cannot be read: {reason}"),
                path=str(self.chain_path),
                reason="not a list of keys",
            )
        return data

    def current(self) -> PublicKey:
        last = self.chain()[-1]
        return {"key_id": last["key_id"], "public_key": last["public_key"]}

    def public_keys(self) -> list[PublicKey]:
        """Every key of the chain (what a kiosk pins at enrolment)."""
        return [{"key_id": s["key_id"], "public_key": s["public_key"]} for s in self.chain()]

    def _private(self, kid: str) -> Ed25519PrivateKey:
        path = self._key_path(kid)
        key = load_private_pem(path, LOOSE_SIGNING_KEY, UNREADABLE_SIGNING_KEY)
        if not isinstance(key, Ed25519PrivateKey) or key_id(_raw_public(key)) != kid:
            raise KeyFileError(
                UNREADABLE_SIGNING_KEY,
                path=str(path),
                reason="not the Ed25519 key its name says",
            )
        return key

    def sign(self, message: bytes) -> tuple[str, str]:
        """(key id, base64 signature) of ``message`` under the current key."""
        kid = self.current()["key_id"]
        return kid, b64(self._private(kid).sign(message))

    def rotate(self) -> KeyStatement:
        """Make a new key, vouched for by the current one; it signs from now on."""
        chain = self.chain()
        signer = chain[-1]["key_id"]
        old = self._private(signer)
        private = Ed25519PrivateKey.generate()
        kid = self._write_key(private)
        public = b64(_raw_public(private))
        statement: KeyStatement = {
            "key_id": kid,
            "public_key": public,
            "signed_by": signer,
            "signature": b64(old.sign(key_message(kid, public))),
        }
        self._write_chain([*chain, statement])
        return statement
