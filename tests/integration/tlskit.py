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


class RogueServer:
    """A real TLS server on 127.0.0.1 with a certificate of its own that records every
    plaintext byte it receives and answers every batch "accepted" (the attack of issue
    12). ``connections`` counts TCP connections; ``received`` is the decrypted bytes of
    each connection whose handshake completed on its side."""

    def __init__(self, files: TlsFiles) -> None:
        import socket
        import ssl
        import threading

        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(files.certfile, files.keyfile)
        self.files = files
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.connections = 0
        self.received: list[bytes] = []
        self.answered = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="rogue")
        self._thread.start()

    @property
    def all_bytes(self) -> bytes:
        with self._lock:
            return b"".join(self.received)

    def close(self) -> None:
        self.listener.close()
        self._thread.join(10)

    def __enter__(self) -> RogueServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _accept(self) -> None:
        import threading

        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:  # closed
                return
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: object) -> None:
        import socket
        import ssl

        assert isinstance(conn, socket.socket)
        conn.settimeout(30)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError):
            conn.close()
            return
        index = self._record(b"")
        buffer = b""
        try:
            while True:
                chunk = tls.recv(65536)
                if not chunk:
                    return
                self._record(chunk, index)
                buffer += chunk
                buffer = self._answer_complete(tls, buffer)
        except (OSError, ssl.SSLError, ValueError):
            return
        finally:
            tls.close()

    def _record(self, data: bytes, index: int | None = None) -> int:
        with self._lock:
            if index is None:
                self.received.append(data)
                return len(self.received) - 1
            self.received[index] += data
            return index

    def _answer_complete(self, tls: object, buffer: bytes) -> bytes:
        """Answer each complete request in ``buffer``; what is left of it."""
        import gzip
        import json

        while b"\r\n\r\n" in buffer:
            head, _, rest = buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                return buffer
            body, buffer = rest[:length], rest[length:]
            if b"/submissions/batch" in head.split(b"\r\n")[0]:
                items = json.loads(gzip.decompress(body))["items"]
                answer = {
                    "results": [
                        {
                            "index": i,
                            "id": item["id"],
                            "outcome": "accepted",
                            "application_number": f"MK-2026-{9000000 + i}",
                        }
                        for i, item in enumerate(items)
                    ]
                }
            else:
                answer = {"status": "ok", "protocol": 1, "changes": [], "cursor": 0}
            data = json.dumps(answer).encode()
            tls.sendall(  # type: ignore[attr-defined]
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(data)}\r\n\r\n".encode()
                + data
            )
            with self._lock:
                self.answered += 1
        return buffer
