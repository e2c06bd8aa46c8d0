"""`kiosk sync` killed with SIGKILL at random moments, then restarted.

Whatever moment the kill lands on (start-up, mid-request, between the portal's commit
and the kiosk's), the portal ends up with every submission exactly once and the
kiosk's outbox and audit chain stay consistent.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time

from sync.portal.process import start_portal
from tests.integration.synckit import (
    KIOSK_ARGV,
    REPO_ROOT,
    Kiosk,
    cli_env,
    outbox,
    queue_submissions,
)

KILLS = 22
MAX_RUNS = 60


def test_sigkill_during_sync_never_loses_or_duplicates(kiosk: Kiosk) -> None:
    rng = random.Random(20261127)
    total = 0
    killed_mid_run = 0
    # Kill at a random moment of each run; runs that finish before their moment do not
    # count, so the loop goes on until enough kills landed mid-run.
    for _ in range(MAX_RUNS):
        if killed_mid_run >= KILLS:
            break
        with kiosk.store() as store:
            queue_submissions(store, 40, start=total)
        total += 40
        proc = subprocess.Popen(
            [*KIOSK_ARGV, "sync", "--batch-items", "5", "--max-wait", "0", "--json"],
            env=cli_env(kiosk.data_dir),
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.2, 2.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed_mid_run += 1
        proc.wait(30)
    assert killed_mid_run >= KILLS
    with kiosk.store() as store:
        counts = store.queue_counts()
    assert counts["sent"] > 0  # the killed runs did get work done in between
    # Restart: one clean sync finishes the job.
    result = kiosk.run("sync", "--max-wait", "0", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    with kiosk.store() as store:
        rows = outbox(store)
    assert len(rows) == total
    assert all(r["state"] == "sent" for r in rows)
    assert len({r["application_number"] for r in rows}) == total
    stats = kiosk.portal_stats()
    assert stats["submissions"] == total and stats["conflicts"] == 0 and stats["rejected"] == 0
    audit = kiosk.run("audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_portal_killed_mid_sync_and_restarted(private_kiosk: Kiosk) -> None:
    """The portal dies with SIGKILL mid-batch: its transaction rolls back, the kiosk
    keeps the items queued, and after a restart each is stored exactly once."""
    kiosk = private_kiosk
    rng = random.Random(7)
    portal = kiosk.portal
    total = 0
    try:
        for _ in range(6):
            with kiosk.store() as store:
                queue_submissions(store, 60, start=total)
            total += 60
            proc = subprocess.Popen(
                [
                    *KIOSK_ARGV,
                    "sync",
                    "--portal",
                    portal.url,
                    "--batch-items",
                    "3",
                    "--max-wait",
                    "0",
                ],
                env=cli_env(kiosk.data_dir),
                cwd=REPO_ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(rng.uniform(0.5, 1.5))
            portal.kill()
            assert proc.wait(60) in (0, 1)
            portal = start_portal(portal.data_dir, "127.0.0.1", 0, "--no-bundled")
        result = kiosk.run("sync", "--portal", portal.url, "--max-wait", "0")
        assert result.returncode == 0, result.stdout + result.stderr
    finally:
        portal.stop()
    with kiosk.store() as store:
        rows = outbox(store)
    assert len(rows) == total and all(r["state"] == "sent" for r in rows)
    assert len({r["application_number"] for r in rows}) == total
    assert kiosk.portal_stats()["submissions"] == total
