"""Audit anchoring against real portal processes on 127.0.0.1 over TLS (the test CA's
certificate, pinned by the kiosks), and killed at its points.

The kiosk's audit table rewritten wholesale with a recomputed valid chain (`kiosk audit
verify` passes) is flagged at the portal on the next sync, visible in `kiosk portal
devices` and `stats`; an honest kiosk is never flagged; a kill between the portal's
commit and the kiosk recording its anchor only makes the rows go again, harmlessly.
"""

from __future__ import annotations

import json

import pytest

from kiosk import audit
from kiosk.crashpoints import ENV
from sync.client import PortalClient
from sync.engine import SyncEngine
from sync.portal.process import PortalProcess
from sync.portal.store import PortalStore
from tests.auditkit import rewrite_chain
from tests.integration.conftest import start_test_portal
from tests.integration.crashkit import (
    KILLED,
    SYNC,
    check_recovered,
    kiosk_crashing,
    marker,
    wait_for_exit,
)
from tests.integration.synckit import Kiosk, moved, queue_submissions, run_cli
from tests.integration.tlskit import TlsFiles


@pytest.fixture(scope="module")
def portal_scheme() -> str:
    """Attacks run against TLS portals, as deployed (conftest)."""
    return "tls"


def _device_row(kiosk: Kiosk) -> dict[str, object]:
    listed = run_cli(
        kiosk.data_dir, "portal", "devices", "--json", "--portal-dir", str(kiosk.portal.data_dir)
    )
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    row: dict[str, object] = next(r for r in rows if r["device_id"] == kiosk.device_id)
    return row


def _anchor(kiosk: Kiosk) -> tuple[int, int]:
    """(the kiosk's recorded anchor, its audit head)."""
    with kiosk.store() as store:
        return store.state.audit_anchor_seq, audit.head_seq(store.db)


def test_a_rewritten_audit_chain_is_flagged_on_the_next_sync(private_kiosk: Kiosk) -> None:
    kiosk = private_kiosk
    assert kiosk.portal.url.startswith("https://127.0.0.1:")
    with kiosk.store() as store:
        queue_submissions(store, 4)
    assert kiosk.run("sync", "--max-wait", "0").returncode == 0
    assert _device_row(kiosk)["audit_flag"] is None
    with kiosk.store() as store:
        rewrite_chain(store.db, edit_seq=2)
    assert kiosk.run("audit", "verify").returncode == 0  # invisible on the kiosk itself
    kiosk.run("sync", "--max-wait", "0")
    row = _device_row(kiosk)
    assert row["audit_flag"] == "rewritten"
    stats = run_cli(kiosk.data_dir, "portal", "stats", "--portal-dir", str(kiosk.portal.data_dir))
    assert "audit_flagged: 1" in stats.stdout
    assert f"Device {kiosk.device_id}" in stats.stdout and "FLAGGED" in stats.stdout
    assert "rewritten" in stats.stdout
    listed = run_cli(
        kiosk.data_dir, "portal", "devices", "--portal-dir", str(kiosk.portal.data_dir)
    )
    assert "FLAGGED" in listed.stdout and "audit log rewritten" in listed.stdout


def test_an_honest_kiosk_is_never_flagged_across_many_syncs(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        client = PortalClient.from_store(store)
        assert client is not None
        with client:
            for round_ in range(20):
                queue_submissions(store, 1, start=round_)
                report = SyncEngine(store, client).run()
                assert report.error is None and report.audit_flag is None
                assert report.audit_anchored == audit.head_seq(store.db)
    assert kiosk.run("sync", "--max-wait", "0").returncode == 0
    row = _device_row(kiosk)
    assert row["audit_flag"] is None
    assert row["anchored_seq"] == _anchor(kiosk)[1]


def test_sync_killed_before_recording_the_anchor(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 3)
    kiosk_crashing(kiosk, "sync.anchor_answered:1", *SYNC)
    recorded, head = _anchor(kiosk)
    assert recorded == 0  # the portal holds the rows; the kiosk never heard
    portal = PortalStore(kiosk.portal.data_dir)
    try:
        held = next(d for d in portal.devices() if d["device_id"] == kiosk.device_id)
    finally:
        portal.close()
    assert held["anchored_seq"] == head
    check_recovered(kiosk)  # sends them again: the same hashes, harmless
    recorded, head = _anchor(kiosk)
    assert recorded == head
    assert _device_row(kiosk)["audit_flag"] is None


def test_portal_killed_after_committing_anchors(
    private_kiosk: Kiosk, restarted: list[PortalProcess], portal_tls: TlsFiles
) -> None:
    kiosk = private_kiosk
    with kiosk.store() as store:
        queue_submissions(store, 3)
    kiosk.portal.stop()
    spec = "portal.anchor_committed:1"
    crashing = start_test_portal(kiosk.portal.data_dir, portal_tls, env={ENV: spec})
    restarted.append(crashing)
    moved(kiosk.data_dir, crashing.url)
    kiosk.run("sync", "--max-wait", "0")
    assert wait_for_exit(crashing) == KILLED
    assert any(marker("portal.anchor_committed") in line for line in crashing.output)
    assert _anchor(kiosk)[0] == 0  # the answer never came
    again = start_test_portal(kiosk.portal.data_dir, portal_tls)
    restarted.append(again)
    check_recovered(kiosk, portal_url=again.url)
    recorded, head = _anchor(kiosk)
    assert recorded == head
    assert _device_row(kiosk)["audit_flag"] is None
