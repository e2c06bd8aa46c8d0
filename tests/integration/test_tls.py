"""TLS between kiosk and portal (issue 12): real portal processes over https with a
test CA (trustme), enrolment files, pins checked before any byte of HTTP, plain http
for loopback only, and the token only to the enrolled origin.
"""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

import pytest
import trustme

from kiosk.i18n import tr
from kiosk.store import Store
from sync import tls
from sync.client import OTHER_ORIGIN, PIN_MISMATCH, PortalClient
from sync.engine import SyncEngine
from sync.enrolment import enroll
from sync.health import probe
from sync.portal.process import PortalProcess, create_enrolment_code, start_portal
from tests.integration.synckit import (
    Kiosk,
    add_test_form,
    moved,
    outbox,
    queue_submissions,
    run_cli,
)
from tests.integration.tlskit import RogueServer, TlsFiles, ca_pin, write_cert

TLS = pytest.mark.parametrize("portal", ["tls"], indirect=True)


@pytest.fixture
def rogue(tmp_path: Path) -> RogueServer:
    """A TLS server with a certificate from another CA, answering "accepted"."""
    with RogueServer(write_cert(tmp_path / "rogue", trustme.CA())) as server:
        yield server


def _code_file(portal: PortalProcess, certfile: Path, target: Path, *extra: str) -> list[str]:
    result = run_cli(
        target.parent,
        "portal",
        "enrolment-code",
        "--portal-dir",
        str(portal.data_dir),
        "--name",
        "tls kiosk",
        "--file",
        str(target),
        "--url",
        portal.url,
        "--certfile",
        str(certfile),
        *extra,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@TLS
def test_enrol_with_a_file_and_sync_over_tls(
    portal: PortalProcess, portal_tls: TlsFiles, tmp_path: Path
) -> None:
    assert portal.url.startswith("https://127.0.0.1:")
    stick = tmp_path / "stick" / "enrol.json"
    stick.parent.mkdir()
    lines = _code_file(portal, portal_tls.certfile, stick)
    pin = portal_tls.leaf_pin
    # The code alone on the first line; the pin for typing or a scanner after it.
    assert len(lines[0]) == len("ABCD-EFGH-JKMN-PQ") and f"Key pin: {pin}" in lines
    assert f"Key pin (hex, for a scanner): {tls.pin_hex(pin)}" in lines
    assert stat.S_IMODE(stick.stat().st_mode) == 0o600
    doc = json.loads(stick.read_text())
    assert doc["format"] == "mahalla-kiosk-enrolment" and doc["version"] == 1
    assert doc["portal"] == portal.url and doc["code"] == lines[0] and doc["pins"] == [pin]
    data_dir = tmp_path / "kiosk"
    result = run_cli(data_dir, "enroll", "--file", str(stick))
    assert result.returncode == 0, result.stderr
    with Store.open(data_dir) as store:
        assert store.state.portal_origin == tls.origin_of(portal.url)
        assert store.state.portal_pins == (pin,)
        queue_submissions(store, 7)
    result = run_cli(data_dir, "sync", "--json", "--max-wait", "0")
    summary = json.loads(result.stdout)
    assert result.returncode == 0 and summary["sent"] == 7, result.stderr
    # The code is spent: the same file cannot enrol another kiosk.
    again = run_cli(tmp_path / "other", "enroll", "--file", str(stick))
    assert again.returncode == 2 and "enrolment code" in again.stderr


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The names the process asks the resolver for from now on (none, we hope)."""
    names: list[object] = []
    real = socket.getaddrinfo

    def spy(*args: object, **kw: object) -> object:
        names.append(args[0])
        return real(*args, **kw)  # type: ignore[arg-type]  # the resolver's own signature

    monkeypatch.setattr(socket, "getaddrinfo", spy)
    return names


def test_plain_http_to_another_host_is_refused_before_any_lookup(
    tmp_path: Path, looked_up: list[object]
) -> None:
    with Store.open(tmp_path / "kiosk") as store:
        with pytest.raises(tls.UrlError) as refused:
            enroll(store, "http://portal.example", "AAAA-BBBB")
        assert "plain http" in str(refused.value)
        assert store.state.portal_url is None
    with pytest.raises(tls.UrlError):
        PortalClient("http://portal.example:8765", "token")
    assert not probe("http://portal.example")
    assert looked_up == []
    # Loopback stays allowed over http (the demo); https needs a pin.
    PortalClient("http://127.0.0.2:9").close()
    PortalClient("http://[::1]:9").close()
    PortalClient("http://localhost:9").close()
    with pytest.raises(tls.UrlError):
        PortalClient("https://portal.example", "token")


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_plain_http_enrolment_refused_by_the_command(tmp_path: Path, lang: str) -> None:
    result = run_cli(
        tmp_path, "enroll", "--lang", lang, "--portal", "http://portal.example", "--code", "X"
    )
    expected = tr(lang, tls.PLAIN_HTTP, url="http://portal.example")
    assert result.returncode == 2 and expected in result.stderr
    if lang != "en":
        assert expected != tr("en", tls.PLAIN_HTTP, url="http://portal.example")


@TLS
def test_rogue_server_gets_nothing_and_nothing_is_marked_sent(
    kiosk: Kiosk, rogue: RogueServer
) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 5)
        token = store.state.portal_token
    assert token
    # The rogue answers where the kiosk's portal was (a hijacked route or name).
    moved(kiosk.data_dir, rogue.url)
    result = kiosk.run("sync", "--json", "--max-wait", "0", "--lang", "ru")
    summary = json.loads(result.stdout)
    assert result.returncode == 1 and summary["sent"] == 0 and summary["waiting"] == 5
    assert summary["error"] == tr("ru", PIN_MISMATCH, origin=tls.origin_of(rogue.url))
    assert rogue.connections >= 1  # it was reached...
    assert rogue.all_bytes == b"" and rogue.answered == 0  # ...and heard nothing at all
    with kiosk.store() as store:
        assert [r["state"] for r in outbox(store)] == ["queued"] * 5
    # Control: the same kiosk trusting the rogue's key sends it the token, and the rogue's
    # "accepted" marks the items sent. That is the attack the pin stops.
    with kiosk.store() as store:
        client = PortalClient(rogue.url, token, pins=[rogue.files.leaf_pin])
        with client:
            report = SyncEngine(store, client).run(pull=False, force=True)
        assert report.sent == 5
    assert f"Authorization: Bearer {token}".lower().encode() in rogue.all_bytes.lower()


@TLS
def test_enrolment_file_pointing_at_a_rogue_leaks_no_code(
    portal: PortalProcess, portal_tls: TlsFiles, rogue: RogueServer, tmp_path: Path
) -> None:
    code = create_enrolment_code(portal.data_dir)
    with Store.open(tmp_path / "kiosk") as store:
        from sync.client import PinRefused

        with pytest.raises(PinRefused):
            enroll(store, rogue.url, code, "k", [portal_tls.leaf_pin])
        assert store.state.portal_token is None
    assert rogue.connections == 1 and rogue.all_bytes == b""


@TLS
def test_sync_to_another_origin_is_refused(kiosk: Kiosk, rogue: RogueServer) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 2)
        enrolled = store.state.portal_origin
    for url in (rogue.url, "https://portal.example", kiosk.portal.url.replace("https", "http")):
        result = kiosk.run("sync", "--portal", url, "--max-wait", "0")
        assert result.returncode == 2, result.stderr
        assert tr("en", OTHER_ORIGIN, enrolled=enrolled, url=url) in result.stderr
    assert rogue.connections == 0
    # The same origin with a path of its own is the enrolled portal.
    result = kiosk.run("sync", "--portal", kiosk.portal.url + "/", "--max-wait", "0")
    assert result.returncode == 0, result.stderr


@TLS
def test_backup_pin_is_accepted(
    portal: PortalProcess, portal_tls: TlsFiles, tmp_path: Path
) -> None:
    """Enrolled with [a key not in service, the portal's key]: the backup pin works,
    given as hex on the command line (what a scanner types)."""
    other = tls.format_pin(bytes(32))
    data_dir = tmp_path / "kiosk"
    result = run_cli(
        data_dir,
        "enroll",
        "--portal",
        portal.url,
        "--code",
        create_enrolment_code(portal.data_dir),
        "--pin",
        other,
        "--pin",
        tls.pin_hex(portal_tls.leaf_pin),
    )
    assert result.returncode == 0, result.stderr
    with Store.open(data_dir) as store:
        assert store.state.portal_pins == (other, portal_tls.leaf_pin)
        queue_submissions(store, 3)
    result = run_cli(data_dir, "sync", "--json", "--max-wait", "0")
    assert json.loads(result.stdout)["sent"] == 3, result.stderr


def test_ca_pinned_portal_and_rogues(tmp_path: Path, test_ca: trustme.CA) -> None:
    """A pin of the CA: the chain is checked under it, and the leaf's name too."""
    files = write_cert(tmp_path / "tls", test_ca, with_ca=True)
    portal_dir = tmp_path / "portal"
    add_test_form(portal_dir)
    portal = start_portal(
        portal_dir, "127.0.0.1", 0, "--no-bundled", certfile=files.certfile, keyfile=files.keyfile
    )
    try:
        stick = tmp_path / "enrol.json"
        _code_file(portal, files.certfile, stick, "--pin-ca")
        assert json.loads(stick.read_text())["pins"] == [ca_pin(test_ca)]
        data_dir = tmp_path / "kiosk"
        assert run_cli(data_dir, "enroll", "--file", str(stick)).returncode == 0
        with Store.open(data_dir) as store:
            queue_submissions(store, 2)
        result = run_cli(data_dir, "sync", "--json", "--max-wait", "0")
        assert json.loads(result.stdout)["sent"] == 2, result.stderr
        # Same CA, another name: not the portal. Another CA: not the portal.
        misnamed = write_cert(
            tmp_path / "misnamed", test_ca, names=("portal.example",), with_ca=True
        )
        foreign = write_cert(tmp_path / "foreign", trustme.CA(), with_ca=True)
        for files_ in (misnamed, foreign):
            with Store.open(data_dir) as store:
                queue_submissions(store, 1, start=len(outbox(store)))
            with RogueServer(files_) as rogue:
                moved(data_dir, rogue.url)
                result = run_cli(data_dir, "sync", "--json", "--max-wait", "0")
                assert json.loads(result.stdout)["sent"] == 0, result.stdout
                assert rogue.all_bytes == b""
    finally:
        portal.stop()


def test_portal_refuses_unsafe_tls_options(tmp_path: Path, test_ca: trustme.CA) -> None:
    files = write_cert(tmp_path / "tls", test_ca)
    base = ("portal", "serve", "--portal-dir", str(tmp_path / "p"), "--port", "0")
    plain = run_cli(tmp_path, *base, "--host", "0.0.0.0")
    assert plain.returncode == 2 and "--certfile" in plain.stderr
    half = run_cli(tmp_path, *base, "--certfile", str(files.certfile))
    assert half.returncode == 2 and "both" in half.stderr
    files.keyfile.chmod(0o644)
    exposed = run_cli(
        tmp_path, *base, "--certfile", str(files.certfile), "--keyfile", str(files.keyfile)
    )
    assert exposed.returncode == 2 and "chmod 600" in exposed.stderr
    wrong = write_cert(tmp_path / "other", test_ca)
    mixed = run_cli(
        tmp_path, *base, "--certfile", str(files.certfile), "--keyfile", str(wrong.keyfile)
    )
    assert mixed.returncode == 2 and "Cannot use the certificate" in mixed.stderr


def test_pin_command_prints_certificate_and_key_pins(tmp_path: Path, test_ca: trustme.CA) -> None:
    files = write_cert(tmp_path / "tls", test_ca)
    result = run_cli(tmp_path, "portal", "pin", str(files.certfile), str(files.keyfile))
    assert result.returncode == 0, result.stderr
    leaf = files.leaf_pin
    assert result.stdout.splitlines() == [
        f"{files.certfile}: {leaf} {tls.pin_hex(leaf)}",
        f"{files.keyfile}: {leaf} {tls.pin_hex(leaf)}",
    ]
    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    result = run_cli(tmp_path, "portal", "pin", str(bad))
    assert result.returncode == 2 and "No certificate or key" in result.stderr


@pytest.mark.parametrize("url", ["http://portal.localhost:8765", "http://localhost.:8765"])
def test_plain_http_to_a_name_that_only_looks_loopback_is_refused(
    tmp_path: Path, looked_up: list[object], url: str
) -> None:
    """The review: ``portal.localhost`` went to the network's DNS, whose answer got the
    bearer token over plain http. Such names are refused before any lookup."""
    with Store.open(tmp_path / "kiosk") as store:
        with pytest.raises(tls.UrlError) as refused:
            enroll(store, url, "AAAA-BBBB")
        assert store.state.portal_url is None
    with pytest.raises(tls.UrlError):
        PortalClient(url, "token")
    assert not probe(url)
    assert looked_up == []
    result = run_cli(tmp_path / "cli", "enroll", "--lang", "ru", "--portal", url, "--code", "X")
    assert result.returncode == 2 and refused.value.message("ru") in result.stderr
