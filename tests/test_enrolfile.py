"""Pins, origins and the enrolment file (hostile input from a USB stick): no network."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest

from sync import enrolfile, tls

PIN = tls.format_pin(bytes(range(32)))
GOOD = {
    "format": "mahalla-kiosk-enrolment",
    "version": 1,
    "portal": "https://portal.example:8443",
    "code": "ABCD-EFGH",
    "pins": [PIN],
    "expires_at": "2026-01-02T03:04:05Z",
}


def test_pin_forms() -> None:
    digest = bytes(range(32))
    b64 = base64.b64encode(digest).decode()
    for text in (
        PIN,
        b64,
        b64.rstrip("="),
        digest.hex(),
        digest.hex().upper(),
        ":".join(f"{b:02x}" for b in digest),
        f"  sha256/{b64}  ",
    ):
        assert tls.parse_pin(text) == PIN, text
    assert tls.pin_hex(PIN) == digest.hex()
    for bad in (
        "",
        "sha256/",
        "abc",
        digest.hex()[:-2],
        base64.b64encode(bytes(31)).decode(),
        "sha1/" + b64,
        "!" * 44,
    ):
        with pytest.raises(tls.PinError):
            tls.parse_pin(bad)
    assert tls.parse_pins([PIN, digest.hex()]) == (PIN,)
    with pytest.raises(tls.PinError):
        tls.parse_pins([tls.format_pin(bytes([i]) * 32) for i in range(tls.MAX_PINS + 1)])


def test_origins_and_loopback() -> None:
    assert tls.origin_of("https://Portal.Example/api/") == "https://portal.example:443"
    assert tls.origin_of("http://127.0.0.1:8765") == "http://127.0.0.1:8765"
    assert tls.origin_of("https://[::1]:9/x") == "https://[::1]:9"
    for loop in ("127.0.0.1", "127.5.6.7", "::1", "[::1]", "localhost", "LOCALHOST"):
        assert tls.is_loopback(loop), loop
    assert tls.is_loopback("::ffff:127.0.0.1") and tls.is_loopback("[::ffff:127.9.9.9]")
    for other in ("portal.example", "10.0.0.1", "128.0.0.1", "localhost.example", "0.0.0.0"):
        assert not tls.is_loopback(other), other
    for bad in (
        "ftp://x",
        "portal.example",
        "https://",
        "https://u:p@portal.example",
        "https://portal.example:99999",
    ):
        with pytest.raises(tls.UrlError):
            tls.origin_of(bad)
    with pytest.raises(tls.UrlError):
        tls.check_url("http://portal.example")
    with pytest.raises(tls.UrlError):
        tls.check_url("http://127.0.0.1.example")
    assert tls.check_url("http://localhost:8765/") == "http://localhost:8765"


def test_names_that_only_look_loopback_are_not() -> None:
    """The system's resolver sends ``*.localhost`` and ``localhost.`` to the network's
    DNS: the review got the bearer token over plain http from a hostile answer."""
    for name in (
        "portal.localhost",
        "localhost.",
        "LOCALHOST.",
        "a.b.localhost",
        "localhost.localdomain",
        "127.1",
        "0x7f.0.0.1",
        "::ffff:10.0.0.1",
        "",
    ):
        assert not tls.is_loopback(name), name
    for url in ("http://portal.localhost:8765", "http://localhost.:8765", "http://127.1:80"):
        with pytest.raises(tls.UrlError) as refused:
            tls.check_url(url)
        # plain http off loopback; "localhost." is not even a name httpx takes whole
        assert refused.value.msgid in (tls.PLAIN_HTTP, "The portal URL {url} is not valid.")
        assert refused.value.message("ru") != refused.value.message("en")


# The review's enrolment files (/tmp/review-a/ef) whose portal URL crashed `kiosk
# enroll --file` with a traceback, and more of the kind: each is "not valid".
HOSTILE_HOSTS = [
    "https://xn--ls8h\udcff",  # a lone surrogate (an argv byte that is not UTF-8)
    "https://a\udcff.example",
    "https://a_b!\u00ff.example",
    "https://" + "a" * 70 + ".example",  # a label longer than 63
    "https://h\u3002example",  # an ideographic full stop: httpx reads h.example
    "https://h\uff0eexample",
    "https://h\uff61example",
    "https://xn--ls8h",  # an A-label IDNA refuses
    "https://a..example",
    "https://-a.example",
    "https://a.example.",
    "https://%68ost.example",
    "https://ex ample.example",
    "https://x\u202e.example",
    "https://[fe80::1%25eth0]:9",
    "https://" + "a." * 130 + "example",  # longer than 253
]


@pytest.mark.parametrize("url", HOSTILE_HOSTS)
def test_hosts_httpx_could_not_use_are_refused_translated(url: str) -> None:
    with pytest.raises(tls.UrlError) as refused:
        tls.check_url(url)
    assert refused.value.msgid == "The portal URL {url} is not valid."
    shown = refused.value.message("ru")
    assert shown != str(refused.value) and shown.isprintable()
    shown.encode("utf-8")  # printable anywhere: no lone surrogate, no bidi control


@pytest.mark.parametrize("url", [u for u in HOSTILE_HOSTS if "\udcff" not in u])
def test_enrolment_files_with_such_hosts_are_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(enrolfile.EnrolmentFileError) as refused:
        enrolfile.read(_write(tmp_path, {**GOOD, "portal": url}))
    assert "is not valid" in str(refused.value)


def test_names_httpx_can_use_are_kept() -> None:
    assert tls.check_url("https://b\u00fccher.example") == "https://b\u00fccher.example:443"
    assert tls.check_url("https://xn--bcher-kva.example/") == "https://xn--bcher-kva.example:443"
    assert tls.check_url("https://a-b.c9.example:8443") == "https://a-b.c9.example:8443"
    assert tls.check_url("https://[2001:db8::1]") == "https://[2001:db8::1]:443"


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "enrol.json"
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return path


def test_a_good_file_round_trips(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    read = enrolfile.read(path)
    assert (read.portal, read.code, read.pins) == (GOOD["portal"], "ABCD-EFGH", (PIN,))
    again = tmp_path / "again.json"
    enrolfile.write(again, read)
    assert os.stat(again).st_mode & 0o777 == 0o600
    assert enrolfile.read(again) == read
    # An expiry long past is the portal's to judge: the kiosk's clock may be wrong.
    assert enrolfile.read(_write(tmp_path, {**GOOD, "expires_at": "2001-01-01T00:00:00Z"}))


@pytest.mark.parametrize(
    "content, says",
    [
        (b"\xff\xfe", "not JSON"),
        (b"{", "not JSON"),
        (b"[" * 10_000 + b"]" * 10_000, "too large"),
        (b"[" * 8000 + b"]" * 8000, "not JSON"),  # nested past the parser's depth
        (b'{"format": "mahalla-kiosk-enrolment", "version": NaN}', "not JSON"),
        ([GOOD], "not an enrolment file"),
        ({**GOOD, "format": "other"}, "not an enrolment file"),
        ({**GOOD, "version": 2}, "version"),
        ({**GOOD, "version": True}, "version"),
        ({**GOOD, "extra": 1}, "extra"),
        ({k: v for k, v in GOOD.items() if k != "pins"}, "pins"),
        ({**GOOD, "portal": "http://portal.example"}, "plain http"),
        ({**GOOD, "portal": "ftp://portal.example"}, "http://"),
        ({**GOOD, "portal": 5}, "portal"),
        ({**GOOD, "code": "ABCD EFGH; rm -rf"}, "code"),
        ({**GOOD, "code": ""}, "code"),
        ({**GOOD, "pins": []}, "no key pin"),
        ({**GOOD, "pins": "sha256/x"}, "pins"),
        ({**GOOD, "pins": [1]}, "pins"),
        ({**GOOD, "pins": ["sha256/short"]}, "not a key pin"),
        ({**GOOD, "expires_at": "tomorrow"}, "expires_at"),
        ({**GOOD, "name": "bad\x00name"}, "name"),
    ],
)
def test_hostile_files_are_refused_with_a_reason(
    tmp_path: Path, content: object, says: str
) -> None:
    with pytest.raises(enrolfile.EnrolmentFileError) as refused:
        enrolfile.read(_write(tmp_path, content))
    assert says in str(refused.value)
    assert refused.value.message("ru") != ""


def test_not_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(enrolfile.EnrolmentFileError, match="not an enrolment file"):
        enrolfile.read(tmp_path)
    with pytest.raises(enrolfile.EnrolmentFileError, match="Cannot read"):
        enrolfile.read(tmp_path / "missing.json")


def test_loopback_http_file_needs_no_pin(tmp_path: Path) -> None:
    read = enrolfile.read(_write(tmp_path, {**GOOD, "portal": "http://127.0.0.1:8765", "pins": []}))
    assert read.pins == ()
