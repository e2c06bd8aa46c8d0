"""The portal's X25519 sealing keys: the private half of sealed submissions (docs/keys.md).

Layout, under ``<portal data dir>/keys/sealing/`` (0700, beside the signing keys):

- ``<key id>.key``: one private key, PKCS#8 PEM, 0600, every key ever made (kept, so
  items sealed to an older key still open after a rotation);
- ``current``: the id of the key kiosks are given from now on.

The first key is made on first use. Permissions are checked as for the signing keys
(`sync.portal.keys`): a sealing key others may read would open every citizen's answers.
The public key travels signed by the current signing key (`statement`), so a kiosk
takes it only from the portal whose catalog keys it pins, at enrolment or from a file
(`kiosk portal export-sealing-key`, `kiosk key install`).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from kiosk.i18n import N_
from kiosk.sealing import SealingKey, key_message, public_b64, raw_public
from kiosk.signing import key_id
from sync.portal.keys import (
    KEYS_DIR,
    KeyFileError,
    PortalKeys,
    _check_mode,
    _fsync_dir,
    load_private_pem,
)

SEALING_DIR = "sealing"
CURRENT_FILE = "current"
LOOSE_SEALING_KEY = N_(
    "The portal's sealing key {path} may be read by other users (mode {mode}); "
    "allow only the portal's own user: chmod {fix} {path}"
)
UNREADABLE_SEALING_KEY = N_("The portal's sealing key {path} cannot be read: {reason}")


class SealingKeys:
    """One portal's sealing keys; every call reads the files (a rotation is seen at once)."""

    def __init__(self, portal_dir: Path, signer: PortalKeys) -> None:
        self.dir = Path(portal_dir) / KEYS_DIR / SEALING_DIR
        self.signer = signer
        # Parsed keys by (id, file identity): a PEM parse per item would dominate ingest.
        self._loaded: dict[tuple[str, int, int], X25519PrivateKey] = {}
        self.ensure()

    def ensure(self) -> None:
        """Create the directory and a first key if there is none; check permissions."""
        if not self.dir.exists():
            with contextlib.suppress(FileExistsError):
                self.dir.mkdir(mode=0o700, parents=True)
        _check_mode(self.dir, LOOSE_SEALING_KEY)
        if not (self.dir / CURRENT_FILE).exists():
            self.rotate(exclusive=True)
        for path in self.dir.glob("*.key"):
            _check_mode(path, LOOSE_SEALING_KEY)

    def rotate(self, *, exclusive: bool = False) -> SealingKey:
        """Make a new key; kiosks are given it from now on, old ones still open."""
        private = X25519PrivateKey.generate()
        kid = key_id(raw_public(private))
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(self.dir / f"{kid}.key", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp = self.dir / f".{CURRENT_FILE}.{os.getpid()}.tmp"
        tmp.write_text(kid + "\n", encoding="ascii")
        try:
            if exclusive:  # two processes starting at once: the first key wins
                with contextlib.suppress(FileExistsError):
                    os.link(tmp, self.dir / CURRENT_FILE)
            else:
                os.replace(tmp, self.dir / CURRENT_FILE)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(self.dir)
        return self.statement()

    def current_id(self) -> str:
        path = self.dir / CURRENT_FILE
        try:
            return path.read_text(encoding="ascii").strip()
        except OSError as exc:
            raise KeyFileError(
                UNREADABLE_SEALING_KEY,
                path=str(path),
                reason=exc.strerror or str(exc),
            ) from None

    def private(self, kid: str) -> X25519PrivateKey:
        path = self.dir / f"{kid}.key"
        try:
            _check_mode(path, LOOSE_SEALING_KEY)
            info = path.stat()
        except OSError as exc:
            raise KeyFileError(UNREADABLE_SEALING_KEY, path=str(path), reason=str(exc)) from None
        cached = self._loaded.get((kid, info.st_ino, info.st_mtime_ns))
        if cached is not None:
            return cached
        key = load_private_pem(path, LOOSE_SEALING_KEY, UNREADABLE_SEALING_KEY)
        if not isinstance(key, X25519PrivateKey) or key_id(raw_public(key)) != kid:
            raise KeyFileError(
                UNREADABLE_SEALING_KEY, path=str(path), reason="not the X25519 key its name says"
            )
        self._loaded[(kid, info.st_ino, info.st_mtime_ns)] = key
        return key

    def for_prefix(self, prefix: str) -> list[X25519PrivateKey]:
        """Every held key whose id starts with ``prefix`` (the 8 hex digits a blob names)."""
        if len(prefix) != 8 or not all(c in "0123456789abcdef" for c in prefix):
            return []
        return [self.private(p.stem) for p in sorted(self.dir.glob(f"{prefix}*.key"))]

    def statement(self) -> SealingKey:
        """The current public key, signed by the portal's current signing key."""
        kid = self.current_id()
        public = public_b64(self.private(kid))
        signer, signature = self.signer.sign(key_message(kid, public))
        return {"key_id": kid, "public_key": public, "signed_by": signer, "signature": signature}
