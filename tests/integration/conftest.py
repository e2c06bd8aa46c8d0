"""Integration fixtures: a real portal process on 127.0.0.1 and an enrolled kiosk.

The portal runs as `kiosk portal serve` in a subprocess on a free port with its own
data directory. Starting one costs seconds, so a test module shares one portal and
each test gets its own freshly enrolled kiosk (its own device at the portal; counts
are read per device). A test that stops or breaks the portal uses `private_portal`.

Both portal fixtures serve plain http on loopback by default and https with a test
CA's certificate (trustme) when parametrised indirectly with ``"tls"``:
``@pytest.mark.parametrize("portal", ["http", "tls"], indirect=True)``; the kiosks
enrolled with them pin the portal's certificate. A module whose tests are attacks
runs them all over TLS, as a deployment would, by overriding the module-scoped
fixture `portal_scheme` to return "tls" (the plain loopback path is covered elsewhere).
A test that starts portals itself uses `start_test_portal` with the same TLS files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from sync.portal.process import PortalProcess, start_portal
from tests.integration.synckit import Kiosk, add_test_form, enroll
from tests.integration.tlskit import TlsFiles, write_cert


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    """The test CA every TLS portal's certificate is issued by."""
    return trustme.CA()


@pytest.fixture(scope="session")
def portal_tls(test_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """The TLS portals' certificate (127.0.0.1, localhost) and key."""
    return write_cert(tmp_path_factory.mktemp("portal-tls"), test_ca)


def start_test_portal(
    portal_dir: Path, tls: TlsFiles | None = None, *, env: dict[str, str] | None = None
) -> PortalProcess:
    """`kiosk portal serve` over ``portal_dir`` on 127.0.0.1 (a free port) with the test
    form: https with ``tls``'s certificate and key, else plain http. Also restarts a
    portal over its existing data dir (adding the test form again is a no-op).

    Bundled forms are left out for speed; tests use the test form (the catalog test
    starts its own portal with them). ``env`` as `start_portal`'s (crash or hold points).
    """
    add_test_form(portal_dir)
    if tls is None:
        return start_portal(portal_dir, "127.0.0.1", 0, "--no-bundled", env=env)
    return start_portal(
        portal_dir,
        "127.0.0.1",
        0,
        "--no-bundled",
        env=env,
        certfile=tls.certfile,
        keyfile=tls.keyfile,
    )


@pytest.fixture(scope="module")
def portal_scheme() -> str:
    """How this module's portals serve unless a test parametrises them: "http" or "tls"."""
    return "http"


def _scheme_tls(request: pytest.FixtureRequest) -> TlsFiles | None:
    """The TLS files when the fixture is parametrised with "tls" (or the module's
    `portal_scheme` is), else None (http)."""
    scheme = getattr(request, "param", None) or request.getfixturevalue("portal_scheme")
    assert scheme in ("http", "tls"), scheme
    return request.getfixturevalue("portal_tls") if scheme == "tls" else None


@pytest.fixture(scope="module")
def portal(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PortalProcess]:
    """A real `kiosk portal serve` on 127.0.0.1, free port, own data dir (per module)."""
    process = start_test_portal(tmp_path_factory.mktemp("portal"), _scheme_tls(request))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def private_portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PortalProcess]:
    """A portal for one test alone (it may be stopped or killed)."""
    process = start_test_portal(tmp_path / "portal", _scheme_tls(request))
    try:
        yield process
    finally:
        process.stop()


def _kiosk(data_dir: Path, portal: PortalProcess) -> Kiosk:
    data_dir.mkdir()
    enroll(data_dir, portal)
    return Kiosk(data_dir, portal)


@pytest.fixture
def kiosk(tmp_path: Path, portal: PortalProcess) -> Kiosk:
    """A kiosk data dir enrolled with the module's portal."""
    return _kiosk(tmp_path / "kiosk", portal)


@pytest.fixture
def private_kiosk(tmp_path: Path, private_portal: PortalProcess) -> Kiosk:
    """A kiosk enrolled with a portal of its own."""
    return _kiosk(tmp_path / "kiosk", private_portal)


@pytest.fixture
def restarted() -> Iterator[list[PortalProcess]]:
    """Portals a test starts; all stopped at the end."""
    started: list[PortalProcess] = []
    yield started
    for portal in started:
        portal.stop()
