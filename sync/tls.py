"""TLS for the kiosk's connections: SPKI pins checked in the handshake, loopback-only http.

Why pins and not the system's CA store: a kiosk is enrolled once, by an operator who
can carry the portal's key fingerprint to it (an enrolment file on a USB stick, or a
scanned code), and a rogue server on a mall's Wi-Fi must never see the device token.
So the kiosk trusts exactly the keys it was given at enrolment:

- a pin is the SHA-256 of a certificate's SubjectPublicKeyInfo (DER), written
  ``sha256/<base64>`` (as HPKP did) or as 64 hex digits (colons and spaces allowed:
  what a hand-held scanner or a person types); stored as ``sha256/<base64>``;
- a pin matching the portal's own (leaf) certificate is the whole trust: a self-signed
  portal certificate is fine, and no CA is consulted;
- a pin matching a CA certificate the portal sends in its chain makes the kiosk check
  the chain from the leaf up to that CA, and the leaf's name against the URL's host
  (``cryptography``'s X.509 verifier);
- certificate dates are not judged on the kiosk's clock, which may be wrong (a kiosk
  is never locked out by its clock); a key that must go is retired by rotating pins.

The check runs in the handshake (`PinnedSocket.do_handshake`), before httpx writes a
single byte of HTTP, so a server with another key never sees a request, a header or
the token. A mismatch is `PinMismatch`, which the client reports as a retryable error
(nothing is marked sent). Plain ``http://`` is refused, before any name lookup, unless
the host is loopback: an IP literal in 127.0.0.0/8 or ::1, or the exact name
``localhost`` (not ``*.localhost``, which the resolver may send to DNS): the demo runs
that way.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import re
import ssl
from collections.abc import Iterable, Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from kiosk.errors import TranslatableError
from kiosk.i18n import N_
from kiosk.textnorm import escape_unprintable

PIN_PREFIX = "sha256/"
MAX_PINS = 8
_ENCODING_DER = 2  # _ssl.ENCODING_DER: what Certificate.public_bytes takes for DER
_HEX = re.compile(r"[0-9a-fA-F]{64}")


class UrlError(TranslatableError):
    """A portal URL the kiosk will not use (not http(s), plain http off loopback, bad)."""


class PinError(TranslatableError):
    """A pin that is not a SHA-256 in base64 or hex."""


class PinMismatch(ssl.SSLError):
    """The server's keys match none of the pins; raised inside the TLS handshake."""


PLAIN_HTTP = N_(
    "Refused: {url} is plain http. The kiosk talks to a portal over https only "
    "(plain http is allowed to this computer itself, for the demo)."
)


# --- URLs and origins --------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """An IP literal in 127.0.0.0/8, ``::1`` (or ``::ffff:127.x.y.z``), or exactly
    ``localhost``; judged on the text, never by a lookup.

    Only these: the system's resolver answers ``localhost`` from its hosts file, but
    sends ``portal.localhost`` or ``localhost.`` to the network's DNS, and a hostile DNS
    answer once received the bearer token over plain http that way (issue 12 review).
    """
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def origin_of(url: str) -> str:
    """``scheme://host:port`` of ``url`` (default ports written out); UrlError if bad.

    The host must be an IP literal or a DNS name exactly as httpx will connect to it
    (`_check_host`), so a hostile URL (an enrolment file's) is a translated refusal,
    never a crash deep in a connection.
    """
    invalid = UrlError(N_("The portal URL {url} is not valid."), url=shown_url(url))
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise invalid from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlError(N_("The portal URL must start with http:// or https://."))
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None:
        raise invalid
    if not _check_host(url.strip(), host):
        raise invalid
    if port is None:
        port = 443 if scheme == "https" else 80
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_OTHER_DOTS = "\u3002\uff0e\uff61"  # full stops IDNA maps to "." silently


def _check_host(url: str, host: str) -> bool:
    """Whether ``host`` (of ``url``, lowercased) is an IP literal, or a name whose IDNA
    form, as httpx computes it, is all labels of 1 to 63 letters, digits and inner
    hyphens (253 characters at most). Non-ASCII dots are refused: httpx would read
    ``h\u3002example`` as ``h.example``, another host than the one shown and pinned."""
    if "%" in host or any(dot in host for dot in _OTHER_DOTS):
        return False  # percent-escapes, IPv6 zone ids, other full stops
    import httpx

    try:
        parsed = httpx.URL(url)
        parsed.host  # noqa: B018 (decodes the IDNA form: raises for a bad one)
        ascii_host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, ValueError):  # UnicodeError, idna's errors are ValueErrors
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    return len(ascii_host) <= 253 and all(_LABEL.fullmatch(x) for x in ascii_host.split("."))


def shown_url(url: str) -> str:
    """``url`` as it may be printed: at most 200 characters, anything unprintable (a
    control or bidi character, a lone surrogate) written as an escape."""
    return escape_unprintable(url[:200])


def check_url(url: str) -> str:
    """The origin of a portal URL the kiosk may talk to; UrlError otherwise.

    Plain http is for loopback only; decided from the URL's text, so a refused name is
    never looked up.
    """
    origin = origin_of(url)
    host = urlsplit(url.strip()).hostname or ""
    if origin.startswith("http://") and not is_loopback(host):
        raise UrlError(PLAIN_HTTP, url=shown_url(url))
    return origin


# --- pins ---------------------------------------------------------------------------


def spki_sha256(cert_der: bytes) -> bytes:
    """SHA-256 of a DER certificate's SubjectPublicKeyInfo."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    cert = x509.load_der_x509_certificate(cert_der)
    spki = cert.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()


def format_pin(digest: bytes) -> str:
    return PIN_PREFIX + base64.b64encode(digest).decode("ascii")


def pin_hex(pin: str) -> str:
    """A stored pin as 64 hex digits (what a scanner types most reliably)."""
    return base64.b64decode(pin[len(PIN_PREFIX) :]).hex()


def parse_pin(text: str) -> str:
    """A pin as typed or scanned (``sha256/`` base64, bare base64, or hex) -> stored form."""
    raw = text.strip()
    if raw.lower().startswith(PIN_PREFIX):
        raw = raw[len(PIN_PREFIX) :]
    compact = re.sub(r"[\s:]", "", raw)
    if _HEX.fullmatch(compact):
        return format_pin(bytes.fromhex(compact))
    try:
        digest = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        digest = b""
    if len(digest) != 32:
        raise PinError(
            N_(
                "{pin} is not a key pin: give the SHA-256 of the portal's key as "
                "sha256/BASE64 or as 64 hex digits."
            ),
            pin=text[:80],
        )
    return format_pin(digest)


def parse_pins(texts: Iterable[str]) -> tuple[str, ...]:
    """Several pins, duplicates dropped, order kept; at most `MAX_PINS`."""
    pins = tuple(dict.fromkeys(parse_pin(t) for t in texts))
    if len(pins) > MAX_PINS:
        raise PinError(N_("At most {n} key pins are accepted."), n=MAX_PINS)
    return pins


def pem_pins(pem: bytes) -> list[str]:
    """The pin of every certificate in a PEM file, in file order (leaf first)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    certs = x509.load_pem_x509_certificates(pem)
    return [format_pin(spki_sha256(c.public_bytes(Encoding.DER))) for c in certs]


def file_pins(pem: bytes) -> list[str]:
    """Pins of a PEM file: each certificate's, else the one key's (public or private).

    A private key gives its public half's pin: how a backup key made offline (no
    certificate yet) gets the backup pin that goes into enrolment files.
    """
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        PublicFormat,
        load_pem_private_key,
        load_pem_public_key,
    )

    if b"-----BEGIN CERTIFICATE-----" in pem:
        return pem_pins(pem)
    try:
        if b"PRIVATE KEY-----" in pem:
            public = load_pem_private_key(pem, password=None).public_key()
        else:
            public = load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise PinError(N_("No certificate or key found in the file.")) from exc
    spki = public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return [format_pin(hashlib.sha256(spki).digest())]


# --- the handshake check -------------------------------------------------------------


def _verify_under(chain: Sequence[bytes], anchor: int, host: str) -> None:
    """The leaf must chain up to ``chain[anchor]`` and be valid for ``host``."""
    from cryptography import x509
    from cryptography.x509.verification import (
        Criticality,
        DNSName,
        ExtensionPolicy,
        IPAddress,
        PolicyBuilder,
        Store,
        VerificationError,
    )

    certs = [x509.load_der_x509_certificate(der) for der in chain[: anchor + 1]]
    leaf = certs[0]
    subject: DNSName | IPAddress
    try:
        subject = IPAddress(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        subject = DNSName(host)
    # Judged at a moment inside the leaf's validity, not on the kiosk's clock.
    moment = leaf.not_valid_before_utc + timedelta(seconds=1)
    # Extensions as a private CA makes them (trustme marks SAN critical, which the
    # web PKI profile forbids); signatures, CA constraints and the name still count.
    builder = (
        PolicyBuilder()
        .store(Store([certs[-1]]))
        .time(moment)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=ExtensionPolicy.permit_all().require_present(
                x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
            ),
        )
    )
    verifier = builder.build_server_verifier(subject)
    try:
        verifier.verify(leaf, certs[1:-1])
    except VerificationError as exc:
        raise PinMismatch(f"certificate chain not valid under the pinned CA: {exc}") from exc


def check_chain(chain: Sequence[bytes], pins: Sequence[str], host: str) -> None:
    """Raise `PinMismatch` unless the presented ``chain`` (DER, leaf first) matches a pin."""
    if not chain:
        raise PinMismatch("the server sent no certificate")
    wanted = set(pins)
    for index, der in enumerate(chain):
        if format_pin(spki_sha256(der)) in wanted:
            if index:
                _verify_under(chain, index, host)
            return
    raise PinMismatch("the server's key matches no pinned key")


class PinnedSocket(ssl.SSLSocket):
    """An `ssl.SSLSocket` that checks its context's pins as the handshake completes."""

    def do_handshake(self, block: bool = False) -> None:
        super().do_handshake(block)
        context = self.context
        if isinstance(context, PinnedContext):
            sslobj = self._sslobj  # type: ignore[attr-defined]  # 3.11 has no public chain API
            chain = [c.public_bytes(_ENCODING_DER) for c in sslobj.get_unverified_chain()]
            check_chain(chain, context.pins, self.server_hostname or "")


class PinnedContext(ssl.SSLContext):
    """A client context whose trust is ``pins`` (set by `pinned_context`)."""

    pins: tuple[str, ...] = ()
    sslsocket_class = PinnedSocket


def pinned_context(pins: Sequence[str]) -> ssl.SSLContext:
    """A TLS 1.2+ client context that accepts exactly the servers matching ``pins``.

    The library's own chain and name checks are off: `check_chain` replaces them
    (the pin, or the chain under a pinned CA and the host name).
    """
    context = PinnedContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.pins = tuple(pins)
    return context
