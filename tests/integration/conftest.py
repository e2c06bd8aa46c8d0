"""Integration fixtures: a real portal process on 127.0.0.1 and an enrolled kiosk.

The portal runs as `kiosk portal serve` in a subprocess on a free port with its own
data directory. Starting one costs seconds, so a test module shares one portal and
each test gets its own freshly enrolled kiosk (its own device at the portal; counts
are read per device). A test that stops or breaks the portal uses `private_portal`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.portal.process import PortalProcess, start_portal
from tests.integration.synckit import Kiosk, add_test_form, enroll


def _start(portal_dir: Path) -> PortalProcess:
    add_test_form(portal_dir)
    # Bundled forms are left out for speed; tests use the test form (the catalog
    # test starts its own portal with them).
    return start_portal(portal_dir, "127.0.0.1", 0, "--no-bundled")


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalProcess]:
    """A real `kiosk portal serve` on 127.0.0.1, free port, own data dir (per module)."""
    process = _start(tmp_path_factory.mktemp("portal"))
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def private_portal(tmp_path: Path) -> Iterator[PortalProcess]:
    """A portal for one test alone (it may be stopped or killed)."""
    process = _start(tmp_path / "portal")
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
