"""Crash tests' toolkit: run a process until a named crash point kills it, then check
that the restarted kiosk and portal lost and duplicated nothing.

A kill is proven, not assumed: the process must end by SIGKILL *and* have said on
stderr which crash point it reached (`kiosk.crashpoints`), so a kill from elsewhere or
a normal exit fails the test.
"""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from kiosk import audit
from kiosk.crashpoints import ENV
from kiosk.drafts import Draft, DraftKey, KdfCost, derive
from kiosk.store import Store
from sync.portal.process import PortalProcess
from sync.portal.store import DB_NAME
from tests.integration.synckit import (
    KIOSK_ARGV,
    REPO_ROOT,
    TEST_FORM_ID,
    TEST_FORM_VERSION,
    Kiosk,
    cli_env,
    moved,
)

KILLED = -signal.SIGKILL
SYNC = ("sync", "--batch-items", "5", "--max-wait", "0", "--json")


def sent_count(kiosk: Kiosk) -> int:
    with kiosk.store() as store:
        return store.queue_counts()["sent"]


# The key SUBMITTER seals its drafts under (a fixed secret and salt, a low cost).
SUBMITTER_KEY = DraftKey(
    "1234567890", b"s" * 16, "scrypt$1024$8$1", derive("1234567890", b"s" * 16, KdfCost(1024, 8, 1))
)


def drafts(kiosk: Kiosk) -> list[Draft]:
    """The drafts left, opened with SUBMITTER's key."""
    with kiosk.store() as store:
        opened = [store.load_draft(info["id"], SUBMITTER_KEY) for info in store.list_drafts()]
    assert None not in opened
    return [d for d in opened if d is not None]


def marker(point: str) -> str:
    """What `kiosk.crashpoints.crash_point` writes to stderr just before the kill."""
    return f"crash point {point}"


def assert_killed_at(result: subprocess.CompletedProcess[str], point: str) -> None:
    assert result.returncode == KILLED, (
        f"expected SIGKILL at {point}, got rc={result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    assert marker(point) in result.stderr, result.stderr


def run_crashing(
    data_dir: Path, spec: str, argv: Sequence[str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` with ``KIOSK_CRASH_AT=spec``; it must die there."""
    env = dict(cli_env(data_dir), **{ENV: spec})
    result = subprocess.run(
        list(argv), capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=timeout
    )
    assert_killed_at(result, spec.partition(":")[0])
    return result


def kiosk_crashing(kiosk: Kiosk, spec: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`kiosk ARGS` killed at ``spec``."""
    return run_crashing(kiosk.data_dir, spec, [*KIOSK_ARGV, *args])


# A submitting kiosk in miniature: save a draft, submit it, print the id once submit()
# has returned. What it printed is what the citizen was acknowledged (a receipt).
SUBMITTER = f"""
import sys
from kiosk import drafts
from kiosk.store import Store
store = Store.open(sys.argv[1])
key = drafts.DraftKey("1234567890", b"s" * 16, "scrypt$1024$8$1",
                      drafts.derive("1234567890", b"s" * 16, drafts.KdfCost(1024, 8, 1)))
for i in range(int(sys.argv[2])):
    answers = {{"full_name": f"Aliyev Vali {{i}}", "n": i}}
    draft = store.save_draft(None, key, {TEST_FORM_ID!r}, {TEST_FORM_VERSION!r}, "uz_Latn",
                             answers, "n").id
    sub = store.submit(None, answers, "uz_Latn", form_id={TEST_FORM_ID!r},
                       form_version={TEST_FORM_VERSION!r}, draft_id=draft)
    print(sub.id, flush=True)
"""


def submit_until_killed(kiosk: Kiosk, spec: str, count: int) -> list[str]:
    """Submit up to ``count`` times with a crash at ``spec``; the acknowledged ids."""
    result = run_crashing(
        kiosk.data_dir, spec, [sys.executable, "-c", SUBMITTER, str(kiosk.data_dir), str(count)]
    )
    return result.stdout.split()


def submit_cleanly(kiosk: Kiosk, count: int) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", SUBMITTER, str(kiosk.data_dir), str(count)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=True,
    )
    return result.stdout.split()


def portal_rows(portal_dir: Path, device_id: str) -> list[sqlite3.Row]:
    """This device's submissions as stored at the portal (read straight from its db)."""
    conn = sqlite3.connect(portal_dir / DB_NAME)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(
            "SELECT id, content_hash, application_number FROM submissions WHERE device_id = ?",
            (device_id,),
        ).fetchall()
    finally:
        conn.close()


def check_outbox_consistent(store: Store) -> list[dict[str, object]]:
    """Rows whole and states coherent; the maintained counts match the rows."""
    rows = list(store.db.query("SELECT * FROM outbox ORDER BY rowid"))
    for row in rows:
        body = row["payload"]
        if row["state"] == "sent":  # delivered: its payload is not kept (issue 13)
            assert body == "" and len(row["content_hash"]) == 64, row["id"]
            assert row["size_bytes"] == 0, row["id"]  # nor its size
        else:
            # Sealed at submit (kiosk/sealing.py): the hash is the blob's.
            assert isinstance(body, bytes), row["id"]
            assert hashlib.sha256(body).hexdigest() == row["content_hash"], row["id"]
            assert len(body) == row["size_bytes"], row["id"]
        if row["state"] == "sent":
            assert row["outcome"] in ("accepted", "duplicate"), row
            assert row["application_number"] and row["sent_at"], row
        else:
            assert row["state"] == "queued", row  # these tests never send a bad item
            assert row["application_number"] is None and row["next_attempt_at"], row
    counted = {r["state"]: r["n"] for r in store.db.query("SELECT * FROM outbox_counts")}
    for state in ("queued", "sent", "rejected"):
        assert counted.get(state, 0) == sum(1 for r in rows if r["state"] == state), state
    assert store.get_setting("tracking_seq", "0") == str(len(rows))
    assert len({r["tracking_code"] for r in rows}) == len(rows)
    return rows


def check_kiosk(kiosk: Kiosk, acked: Sequence[str] = ()) -> list[dict[str, object]]:
    """Integrity, the audit chain, a consistent outbox holding every acknowledged id."""
    with kiosk.store() as store:
        assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = check_outbox_consistent(store)
        report = audit.verify(store.db)
        assert report.ok, report
        submits = store.db.execute("SELECT COUNT(*) FROM audit WHERE action = 'submit'")
        assert submits.fetchone()[0] == len(rows)
    ids = {r["id"] for r in rows}
    assert set(acked) <= ids, set(acked) - ids
    verify = kiosk.run("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    return rows


def check_recovered(
    kiosk: Kiosk, acked: Sequence[str] = (), *, portal_url: str | None = None
) -> dict[str, int]:
    """Restart: one clean `kiosk sync`, then the four checks. Returns the portal's counts.

    Every acknowledged submission (and every other committed one) is at the portal
    exactly once, with the kiosk's content hash and application number; integrity,
    audit chain and outbox are sound; nothing was refused or in conflict.
    """
    if portal_url:
        moved(kiosk.data_dir, portal_url)
    result = kiosk.run("sync", "--max-wait", "0", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = check_kiosk(kiosk, acked)
    assert all(r["state"] == "sent" for r in rows)
    at_portal = portal_rows(kiosk.portal.data_dir, kiosk.device_id)
    assert sorted(r["id"] for r in at_portal) == sorted(str(r["id"]) for r in rows)
    portal_by_id = {r["id"]: r for r in at_portal}
    for row in rows:
        stored = portal_by_id[row["id"]]
        assert stored["content_hash"] == row["content_hash"]
        assert stored["application_number"] == row["application_number"]
    stats = kiosk.portal_stats()
    assert stats["submissions"] == len(rows)
    assert stats["conflicts"] == 0 and stats["rejected"] == 0, stats
    return stats


def wait_for_exit(portal: PortalProcess, deadline: float = 60.0) -> int:
    """The portal's exit code once it died and its output was drained (or the deadline)."""
    code = portal.process.wait(deadline)
    end = time.monotonic() + deadline
    while time.monotonic() < end and not any("crash point" in line for line in portal.output):
        time.sleep(0.02)  # the output pump thread may still be reading the last lines
    return code
