"""The portal killed by SIGKILL at its named crash points, then restarted.

A batch dies with the portal either before its transaction commits (nothing of it is
kept; the kiosk resends it) or after (kept; the kiosk never heard, resends, and gets
``duplicate``). Either way each submission is stored exactly once.
"""

from __future__ import annotations

import pytest

from kiosk.crashpoints import ENV
from sync.portal.process import PortalProcess, start_portal
from tests.integration.crashkit import KILLED, check_recovered, marker, wait_for_exit
from tests.integration.synckit import Kiosk, moved, queue_submissions

ITEMS = 12  # batches of 5, 5 and 2


def _crashing_portal(kiosk: Kiosk, spec: str) -> PortalProcess:
    """Replace the kiosk's private portal by one over the same data armed at ``spec``."""
    kiosk.portal.stop()
    return start_portal(kiosk.portal.data_dir, "127.0.0.1", 0, "--no-bundled", env={ENV: spec})


def _sync_through(kiosk: Kiosk, url: str, *extra: str) -> int:
    moved(kiosk.data_dir, url)
    return kiosk.run("sync", "--max-wait", "0", *extra).returncode


def _portal_died_at(portal: PortalProcess, point: str) -> None:
    assert wait_for_exit(portal) == KILLED
    assert any(marker(point) in line for line in portal.output), portal.output[-5:]


@pytest.mark.parametrize(
    ("spec", "stored"),
    [
        ("portal.batch_parsed:1", 0),
        pytest.param("portal.batch_parsed:3", 10, marks=pytest.mark.slow),
        ("portal.batch_committed:1", 5),
        pytest.param("portal.batch_committed:3", ITEMS, marks=pytest.mark.slow),
    ],
)
def test_portal_killed_mid_batch(
    private_kiosk: Kiosk, restarted: list[PortalProcess], spec: str, stored: int
) -> None:
    kiosk = private_kiosk
    with kiosk.store() as store:
        queue_submissions(store, ITEMS)
    portal = _crashing_portal(kiosk, spec)
    restarted.append(portal)
    # The portal dies under the kiosk: the sync stops with the items still queued.
    assert _sync_through(kiosk, portal.url, "--batch-items", "5") == 1
    _portal_died_at(portal, spec.partition(":")[0])
    assert kiosk.portal_stats()["submissions"] == stored
    with kiosk.store() as store:
        sent = store.queue_counts()["sent"]
    assert sent == 5 * (int(spec.rpartition(":")[2]) - 1)
    again = start_portal(kiosk.portal.data_dir, "127.0.0.1", 0, "--no-bundled")
    restarted.append(again)
    stats = check_recovered(kiosk, portal_url=again.url)
    assert stats["duplicates"] == stored - sent


def test_portal_killed_after_committing_a_bundle(
    private_kiosk: Kiosk, restarted: list[PortalProcess]
) -> None:
    kiosk = private_kiosk
    with kiosk.store() as store:
        queue_submissions(store, 4)
    target = kiosk.data_dir.parent / "queue.bundle"
    assert kiosk.run("export-bundle", str(target)).returncode == 0
    portal = _crashing_portal(kiosk, "portal.bundle_committed")
    restarted.append(portal)
    moved(kiosk.data_dir, portal.url)
    assert kiosk.run("import-bundle", str(target)).returncode == 1  # no answer: try again
    _portal_died_at(portal, "portal.bundle_committed")
    assert kiosk.portal_stats()["submissions"] == 4
    again = start_portal(kiosk.portal.data_dir, "127.0.0.1", 0, "--no-bundled")
    restarted.append(again)
    moved(kiosk.data_dir, again.url)
    retry = kiosk.run("import-bundle", str(target))
    assert retry.returncode == 0, retry.stderr
    stats = check_recovered(kiosk)
    assert stats["duplicates"] == 4 + 4  # the retried import and the sync
