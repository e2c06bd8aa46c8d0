"""The signed catalog against real portal processes on 127.0.0.1 over TLS (docs/keys.md).

The portals serve the test CA's certificate and the kiosks pin it, as deployed. A
rogue portal and a tampered database both push a version of the test form that asks
for a bank card PIN: the kiosk does not activate it and version 1 stays active. The
rogue got past TLS on purpose (a copy of the real portal's database and its TLS key,
as a stolen backup would give, but not the signing key, kept in its own file): the
signature is the wall this module tests; a rogue with another TLS key is stopped by
the pin first (test_tls.py). A key rotated with `kiosk portal rotate-signing-key` is
accepted through the chain.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.catalog import Catalog
from sync.portal.process import PortalProcess, portal_argv
from sync.portal.store import DB_NAME, PortalStore
from tests.integration.conftest import start_test_portal
from tests.integration.synckit import TEST_FORM_ID, TEST_FORM_SPEC, Kiosk, moved, run_cli
from tests.integration.tlskit import TlsFiles

PIN_SPEC = copy.deepcopy(TEST_FORM_SPEC)
PIN_SPEC["version"] = "2"
PIN_SPEC["children"].append({"type": "text", "name": "card_pin", "label": "Bank card PIN"})


@pytest.fixture(scope="module")
def portal_scheme() -> str:
    """Attacks run against TLS portals, as deployed (conftest)."""
    return "tls"


def _sync(kiosk: Kiosk) -> subprocess.CompletedProcess[str]:
    return kiosk.run("sync", "--max-wait", "0")


def _versions(kiosk: Kiosk) -> tuple[str, list[str]]:
    with kiosk.store() as store:
        catalog = Catalog(store)
        return catalog.get(TEST_FORM_ID).version, catalog.versions(TEST_FORM_ID)


def _refusals(kiosk: Kiosk) -> list[tuple[str, str]]:
    with kiosk.store() as store:
        rows = store.db.execute(
            "SELECT subject, details FROM audit WHERE action = 'form_refused' ORDER BY seq"
        ).fetchall()
    return [(r[0], json.loads(r[1])["reason"]) for r in rows]


@pytest.fixture
def rogue(private_kiosk: Kiosk, tmp_path: Path, portal_tls: TlsFiles) -> Iterator[PortalProcess]:
    """A portal over a copy of the real one's data, serving its TLS certificate and key
    (so the kiosk's pin passes), with its own signing key and a PIN form."""
    rogue_dir = tmp_path / "rogue"
    rogue_dir.mkdir()
    source = sqlite3.connect(private_kiosk.portal.data_dir / DB_NAME)
    target = sqlite3.connect(rogue_dir / DB_NAME)
    source.backup(target)
    source.close()
    target.close()
    store = PortalStore(rogue_dir)  # makes the rogue's own key
    try:
        store.add_form(TEST_FORM_ID, "2", "test", PIN_SPEC, "admin")
    finally:
        store.close()
    process = start_test_portal(rogue_dir, portal_tls)
    try:
        yield process
    finally:
        process.stop()


def test_enrolment_pins_the_portals_signing_key(private_kiosk: Kiosk) -> None:
    portal = PortalStore(private_kiosk.portal.data_dir)
    try:
        expected = {k["key_id"]: k["public_key"] for k in portal.signing_keys()}
    finally:
        portal.close()
    with private_kiosk.store() as store:
        assert store.state.signing_keys == expected


def test_a_rogue_portals_version_is_not_activated(
    private_kiosk: Kiosk, rogue: PortalProcess
) -> None:
    kiosk = private_kiosk
    assert rogue.url.startswith("https://") and rogue.pins == kiosk.portal.pins
    assert _sync(kiosk).returncode == 0
    assert _versions(kiosk) == ("1", ["1"])
    # The kiosk is pointed at the rogue (a hijacked name: same origin as enrolled); it
    # holds the portal's TLS key, so the pin passes and the signature is the wall.
    moved(kiosk.data_dir, rogue.url)
    result = _sync(kiosk)  # the items went; the refused form is the run's problem
    assert "sync_test version 2" in result.stdout + result.stderr
    assert "does not trust" in result.stdout + result.stderr
    assert _versions(kiosk) == ("1", ["1"])  # the previous version stays active
    assert _refusals(kiosk) == [(f"{TEST_FORM_ID} 2", "unknown_key")]


def test_a_tampered_version_is_not_activated(private_kiosk: Kiosk) -> None:
    kiosk = private_kiosk
    assert _sync(kiosk).returncode == 0
    harmless = copy.deepcopy(PIN_SPEC)
    harmless["children"].pop()
    portal = PortalStore(kiosk.portal.data_dir)
    try:
        portal.add_form(TEST_FORM_ID, "2", "test", harmless, "admin")  # signed
        with portal.transaction() as conn:  # the PIN question slipped in afterwards
            conn.execute(
                "UPDATE forms SET spec = ? WHERE form_id = ? AND version = '2'",
                (json.dumps(PIN_SPEC), TEST_FORM_ID),
            )
    finally:
        portal.close()
    result = kiosk.run("--lang", "ru", "sync", "--max-wait", "0")
    assert "sync_test" in result.stdout + result.stderr
    assert "подпись не совпадает" in result.stdout + result.stderr
    assert _versions(kiosk) == ("1", ["1"])
    assert _refusals(kiosk) == [(f"{TEST_FORM_ID} 2", "bad_signature")]


def test_a_rotated_key_is_accepted_through_the_chain(private_kiosk: Kiosk) -> None:
    kiosk = private_kiosk
    assert _sync(kiosk).returncode == 0
    portal_dir = str(kiosk.portal.data_dir)
    for _ in range(2):  # K1 -> K2 -> K3, while the portal serves
        rotated = run_cli(
            kiosk.data_dir, "portal", "rotate-signing-key", "--portal-dir", portal_dir
        )
        assert rotated.returncode == 0, rotated.stderr
        assert "New signing key" in rotated.stdout
    portal = PortalStore(kiosk.portal.data_dir)
    try:
        portal.add_form(TEST_FORM_ID, "2", "test", PIN_SPEC, "admin")  # signed by K3
        chain = [s["key_id"] for s in portal.key_chain()]
    finally:
        portal.close()
    result = _sync(kiosk)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _versions(kiosk) == ("2", ["1", "2"])
    with kiosk.store() as store:
        assert set(store.state.signing_keys) == set(chain)


def test_key_files_others_may_read_stop_the_portal(tmp_path: Path) -> None:
    portal_dir = tmp_path / "portal"
    PortalStore(portal_dir).close()
    key_file = next((portal_dir / "keys").glob("*.key"))
    os.chmod(key_file, 0o644)
    env = dict(os.environ, KIOSK_LANG="en")
    served = subprocess.run(
        portal_argv(portal_dir, "127.0.0.1", 0, "--no-bundled"),
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert served.returncode == 1
    assert "may be read by other users" in served.stderr and "chmod 600" in served.stderr
    assert "Traceback" not in served.stderr
    stats = run_cli(tmp_path / "kiosk", "portal", "stats", "--portal-dir", str(portal_dir))
    assert stats.returncode == 1 and "chmod 600" in stats.stderr
    os.chmod(key_file, 0o600)
    stats = run_cli(tmp_path / "kiosk", "portal", "stats", "--portal-dir", str(portal_dir))
    assert stats.returncode == 0, stats.stderr
