"""Test certificates for TLS portals (trustme): a test CA, portal certificates, rogues.

`TlsFiles` is a certificate chain and key written where `kiosk portal serve
--certfile --keyfile` reads them, the key at mode 0600 as the portal demands.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import trustme

from sync.tls import pem_pins


@dataclass(frozen=True)
class TlsFiles:
    certfile: Path
    keyfile: Path

    @property
    def pins(self) -> list[str]:
        """The chain's pins, leaf first."""
        return pem_pins(self.certfile.read_bytes())

    @property
    def leaf_pin(self) -> str:
        return self.pins[0]


def write_cert(
    directory: Path,
    ca: trustme.CA,
    *,
    names: tuple[str, ...] = ("127.0.0.1", "localhost"),
    with_ca: bool = False,
) -> TlsFiles:
    """A server certificate for ``names`` under ``ca``; ``with_ca`` appends the CA's
    certificate to the chain (what CA-pinned mode needs the portal to send)."""
    directory.mkdir(parents=True, exist_ok=True)
    leaf = ca.issue_cert(*names)
    chain = b"".join(blob.bytes() for blob in leaf.cert_chain_pems)
    if with_ca:
        chain += ca.cert_pem.bytes()
    certfile = directory / "cert.pem"
    keyfile = directory / "key.pem"
    certfile.write_bytes(chain)
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(leaf.private_key_pem.bytes())
    return TlsFiles(certfile, keyfile)


def ca_pin(ca: trustme.CA) -> str:
    return pem_pins(ca.cert_pem.bytes())[0]
