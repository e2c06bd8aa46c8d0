"""Hardened enrolment against real portal processes on 127.0.0.1 over TLS (issue 12).

Every portal here serves https with a certificate from the test CA and every kiosk
pins it (enrolled in-process with the pins, or by `kiosk enroll --pin` / `--file`).

The attacks: re-enrolling as another device with any code and its (public) device id,
guessing codes, and a revoked device's bundles delivered by a healthy one. Wrong codes
are counted per source address, so a test that guesses gets a portal of its own, and
distinct sources are real: the client binds to another loopback address (127.0.0.x)
and connects over TLS to the portal at 127.0.0.1, whose certificate names that address.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kiosk import enrolment_code
from sync import wire
from sync.portal.process import PortalProcess, create_enrolment_code, start_portal
from sync.portal.storage import ENROL_GLOBAL_LIMIT, ENROL_SOURCE_LIMIT
from tests.integration.conftest import start_test_portal
from tests.integration.synckit import (
    Kiosk,
    enroll,
    enroll_args,
    portal_http,
    queue_submissions,
)
from tests.integration.tlskit import TlsFiles


@pytest.fixture(scope="module")
def portal_scheme() -> str:
    """Attacks run against TLS portals, as deployed (conftest)."""
    return "tls"


def post_enroll(
    portal: PortalProcess, code: str, device_id: str | None = None, source: str = "127.0.0.1"
) -> httpx.Response:
    """POST /devices/enroll from the loopback address ``source``."""
    body = {"code": code, "name": "someone", **({"device_id": device_id} if device_id else {})}
    with portal_http(portal, source=source) as client:
        return client.post(f"{wire.API}/devices/enroll", json=body)


def wrong_code() -> str:
    """Well-formed (length, check symbol) but never made: what a guesser sends."""
    return enrolment_code.format_code(enrolment_code.new_code())


def token_of(kiosk: Kiosk) -> str:
    with kiosk.store() as store:
        token = store.get_setting("portal_token")
    assert token
    return token


def status_code_with(portal: PortalProcess, token: str) -> int:
    with portal_http(portal, token) as client:
        return client.get(f"{wire.API}/status").status_code


def test_re_enrolment_hijack_is_refused_and_a_device_bound_code_works(
    private_kiosk: Kiosk, portal_tls: TlsFiles, tmp_path: Path
) -> None:
    portal, victim_id = private_kiosk.portal, private_kiosk.device_id
    assert portal.url.startswith("https://127.0.0.1:")
    victim_token = token_of(private_kiosk)
    # The attacker holds a real code (an unbound one) and the victim's id from a bundle.
    answer = post_enroll(portal, create_enrolment_code(portal.data_dir, "attacker"), victim_id)
    assert answer.status_code == 403
    assert answer.json()["code"] == "enrol.device_bound"
    assert answer.json()["params"] == {"device_id": victim_id}
    assert "token" not in answer.json()
    assert status_code_with(portal, victim_token) == 200  # the victim is untouched
    # A code the administrator made for another device does not enrol this one either.
    elsewhere = create_enrolment_code(portal.data_dir, "elsewhere", str(uuid.uuid4()))
    assert post_enroll(portal, elsewhere, victim_id).json()["code"] == "enrol.other_device"
    # The administrator makes a code for the victim's device, in an enrolment file
    # with the portal's URL and pin: the kiosk re-enrols from the USB stick.
    stick = tmp_path / "stick" / "enrol.json"
    stick.parent.mkdir()
    made = private_kiosk.run(
        "portal",
        "enrolment-code",
        "--name",
        "Chilonzor 12",
        "--device",
        victim_id,
        "--portal-dir",
        str(portal.data_dir),
        "--file",
        str(stick),
        "--url",
        portal.url,
        "--certfile",
        str(portal_tls.certfile),
    )
    assert made.returncode == 0, made.stderr
    assert victim_id in made.stderr and "Chilonzor 12" in made.stderr
    with private_kiosk.store() as store:
        prefix = store.device_prefix
    result = private_kiosk.run("enroll", "--file", str(stick))
    assert result.returncode == 0, result.stderr
    assert prefix in result.stdout and "Chilonzor 12" in result.stdout
    assert private_kiosk.device_id == victim_id
    assert status_code_with(portal, victim_token) == 401  # the old token is replaced
    assert status_code_with(portal, token_of(private_kiosk)) == 200


def test_kiosk_enroll_refuses_a_hijack_with_the_reason_translated(private_kiosk: Kiosk) -> None:
    """A kiosk already known to the portal, offered an unbound code: told what to ask for."""
    portal = private_kiosk.portal
    code = create_enrolment_code(portal.data_dir, "new kiosk")
    result = private_kiosk.run("--lang", "ru", "enroll", *enroll_args(portal), "--code", code)
    assert result.returncode == 2
    assert private_kiosk.device_id in result.stderr
    assert "enrolment-code --device" in result.stderr and "киоск" in result.stderr.lower()


def test_a_mistyped_code_is_caught_by_the_kiosk(private_kiosk: Kiosk) -> None:
    portal = private_kiosk.portal
    code = create_enrolment_code(portal.data_dir, "k").replace("-", "")
    typo = code[:5] + ("A" if code[5] != "A" else "B") + code[6:]
    result = private_kiosk.run("enroll", *enroll_args(portal), "--code", typo)
    assert result.returncode == 2 and "mistyped" in result.stderr


def test_a_revoked_devices_bundle_is_refused_from_a_healthy_uploader(
    portal: PortalProcess, tmp_path: Path
) -> None:
    kiosks = []
    for name in ("field", "office"):
        (tmp_path / name).mkdir()
        enroll(tmp_path / name, portal)
        kiosks.append(Kiosk(tmp_path / name, portal))
    field, office = kiosks
    with field.store() as store:
        queue_submissions(store, 2)
    exported = tmp_path / "field.bundle"
    assert field.run("export-bundle", str(exported)).returncode == 0
    revoked = field.run(
        "portal", "revoke-device", field.device_id, "--portal-dir", str(portal.data_dir)
    )
    assert revoked.returncode == 0, revoked.stderr
    result = office.run("import-bundle", str(exported))
    assert result.returncode == 2
    assert "revoked" in result.stderr and field.device_id in result.stderr
    with portal_http(portal, token_of(office)) as client:
        answer = client.post(f"{wire.API}/bundles", content=exported.read_bytes())
    assert answer.status_code == 403 and answer.json()["code"] == "bundle.revoked"
    assert field.portal_stats()["submissions"] == 0
    # Revocation applies to the token everywhere too.
    assert status_code_with(portal, token_of(field)) == 401


@pytest.fixture
def two_portals(
    tmp_path: Path, portal_tls: TlsFiles
) -> Iterator[tuple[PortalProcess, PortalProcess]]:
    """Two `kiosk portal serve` processes over one data directory (one SQLite database),
    both serving the test CA's certificate (two workers of one deployment)."""
    first = start_test_portal(tmp_path / "portal", portal_tls)
    try:
        second = start_test_portal(tmp_path / "portal", portal_tls)
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def test_guessing_gets_429_after_five_wrong_codes_across_two_processes(
    two_portals: tuple[PortalProcess, PortalProcess], tmp_path: Path
) -> None:
    first, second = two_portals
    assert first.url != second.url and first.data_dir == second.data_dir
    assert first.url.startswith("https://") and second.url.startswith("https://")
    good = create_enrolment_code(first.data_dir, "good")
    for n in range(ENROL_SOURCE_LIMIT):  # 3 on one process, 2 on the other
        answer = post_enroll(first if n < 3 else second, wrong_code())
        assert (answer.status_code, answer.json()["code"]) == (403, "enrol.code")
    sixth = post_enroll(second, wrong_code())
    assert sixth.status_code == 429 and sixth.json()["code"] == "enrol.rate_limited"
    retry_after = int(sixth.headers["retry-after"])
    assert 0 < retry_after <= 600
    # Even the right code is refused from this source: the limit is not an oracle.
    assert post_enroll(first, good).status_code == 429
    # Another source is not held up by this one's guessing.
    elsewhere = post_enroll(first, good, source="127.0.0.2")
    assert elsewhere.status_code == 200, elsewhere.text
    assert elsewhere.json()["name"] == "good"
    # `kiosk enroll` from the limited address says, translated, how long to wait.
    data_dir = tmp_path / "kiosk"
    data_dir.mkdir()
    fresh = Kiosk(data_dir, second)
    result = fresh.run("--lang", "uz_Latn", "enroll", *enroll_args(second), "--code", wrong_code())
    assert result.returncode == 1
    minutes = str(-(-retry_after // 60))
    assert minutes in result.stderr and "daqiqa" in result.stderr, result.stderr


def test_a_right_code_from_another_source_passes_until_the_global_ceiling(
    private_portal: PortalProcess,
) -> None:
    per_source = ENROL_SOURCE_LIMIT
    sources = [f"127.0.0.{10 + n}" for n in range(ENROL_GLOBAL_LIMIT // per_source)]
    for source in sources[:-1]:
        for _ in range(per_source):
            assert post_enroll(private_portal, wrong_code(), source=source).status_code == 403
    # Wrong codes from many addresses behind one limit each: a right code still passes.
    good = create_enrolment_code(private_portal.data_dir, "before the ceiling")
    assert post_enroll(private_portal, good, source="127.0.0.200").status_code == 200
    for _ in range(per_source):
        assert post_enroll(private_portal, wrong_code(), source=sources[-1]).status_code == 403
    # The ceiling reached: every source waits, so guessing from many addresses is bounded too.
    late = create_enrolment_code(private_portal.data_dir, "after the ceiling")
    answer = post_enroll(private_portal, late, source="127.0.0.201")
    assert answer.status_code == 429 and answer.json()["code"] == "enrol.rate_limited"
    assert int(answer.headers["retry-after"]) > 0


def test_enrolment_code_command(private_portal: PortalProcess, tmp_path: Path) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        result = Kiosk(tmp_path, private_portal).run(
            "portal", "enrolment-code", *args, "--portal-dir", str(private_portal.data_dir)
        )
        return result.returncode, result.stdout, result.stderr

    code, out, err = run("--name", "Yunusobod 4", "--ttl", "90m")
    assert code == 0, err
    shown = out.strip()
    assert enrolment_code.normalize(shown) is not None and shown.count("-") == 3
    assert "Yunusobod 4" in err and "UTC" in err
    code, _, err = run()
    assert code == 2 and "--name" in err
    code, _, err = run("--name", "k", "--ttl", "soon")
    assert code == 2 and "90m" in err
    code, _, err = run("--name", "k", "--ttl", "60d")
    assert code == 2 and "30 days" in err
    code, _, err = run("--name", "k", "--device", "not-a-uuid")
    assert code == 2 and "not-a-uuid" in err
    code, _, err = run("--name", "  ")
    assert code == 2 and "name" in err
    unknown = str(uuid.uuid4())
    code, out, err = run("--name", "k", "--device", unknown)
    assert code == 0 and unknown in err
    assert post_enroll(private_portal, out.strip(), unknown).json()["device_id"] == unknown


def test_two_portals_fixture_really_shares_the_database(
    two_portals: tuple[PortalProcess, PortalProcess],
) -> None:
    """Enrolled through one process, the token works on the other."""
    first, second = two_portals
    answer = post_enroll(first, create_enrolment_code(first.data_dir, "k"))
    assert status_code_with(second, answer.json()["token"]) == 200


def _guess_with_forwarded_for(portal: PortalProcess, n: int) -> list[int]:
    """``n`` wrong codes from 127.0.0.1, each claiming another X-Forwarded-For source."""
    statuses = []
    with httpx.Client(timeout=30) as client:
        for i in range(n):
            answer = client.post(
                f"{portal.url}{wire.API}/devices/enroll",
                json={"code": wrong_code(), "name": "someone"},
                headers={"X-Forwarded-For": f"10.9.{i}.7"},
            )
            statuses.append(answer.status_code)
    return statuses


def test_a_forged_forwarded_for_from_loopback_does_not_escape_the_limit(
    tmp_path: Path,
) -> None:
    """The review: through a loopback tunnel each guess named its own source in
    X-Forwarded-For, and 8 wrong codes were all 403. By default the header is ignored."""
    portal = start_portal(
        tmp_path / "portal", "127.0.0.1", 0, "--no-bundled", env={"FORWARDED_ALLOW_IPS": "*"}
    )
    try:
        statuses = _guess_with_forwarded_for(portal, ENROL_SOURCE_LIMIT + 3)
    finally:
        portal.stop()
    assert statuses == [403] * ENROL_SOURCE_LIMIT + [429] * 3


def test_forwarded_for_is_believed_from_a_named_proxy_only(tmp_path: Path) -> None:
    portal = start_portal(
        tmp_path / "portal", "127.0.0.1", 0, "--no-bundled", "--trust-proxy", "127.0.0.1"
    )
    try:
        # From the named proxy: each forwarded source has a limit of its own.
        assert _guess_with_forwarded_for(portal, ENROL_SOURCE_LIMIT + 3) == [403] * (
            ENROL_SOURCE_LIMIT + 3
        )
        # From another address the header is not believed: that peer is the source.
        statuses = [
            post_enroll_forwarded(portal, "127.0.0.2", f"10.8.{i}.1")
            for i in range(ENROL_SOURCE_LIMIT + 1)
        ]
        assert statuses == [403] * ENROL_SOURCE_LIMIT + [429]
    finally:
        portal.stop()


def post_enroll_forwarded(portal: PortalProcess, source: str, forwarded: str) -> int:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30) as client:
        return client.post(
            f"{portal.url}{wire.API}/devices/enroll",
            json={"code": wrong_code(), "name": "someone"},
            headers={"X-Forwarded-For": forwarded},
        ).status_code


@pytest.mark.parametrize("value", ["*", "portal.example", "10.0.0.0/99", ","])
def test_trust_proxy_takes_addresses_only(tmp_path: Path, value: str) -> None:
    from tests.integration.synckit import run_cli

    result = run_cli(
        tmp_path / "kiosk",
        "portal",
        "--lang",
        "ru",
        "serve",
        "--portal-dir",
        str(tmp_path / "portal"),
        "--port",
        "0",
        "--trust-proxy",
        value,
    )
    assert result.returncode == 2 and "--trust-proxy" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
