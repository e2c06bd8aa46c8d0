"""Sealed submissions attacked (issue 13 review): what a copied disk, a stray key file
and another enrolled device can do with a kiosk's sealed answers. Real portal processes
on loopback, real stores; each test failed before its fix."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from kiosk import seal_store
from kiosk.config import db_path
from sync.portal.process import start_portal
from sync.portal.store import PortalStore
from tests.cleartext import find_markers
from tests.integration.crashkit import kiosk_crashing, portal_rows
from tests.integration.synckit import (
    TEST_FORM_ID,
    TEST_FORM_SPEC,
    Kiosk,
    add_test_form,
    enroll,
    queue_submissions,
)
from tests.integration.test_crash_seal import payload_types, queue_clear_text

OLD_MARKER = "Oldrow Vali"  # what queue_clear_text writes in every row


def _set_states(kiosk: Kiosk, ids: list[str], *, damaged: str | None = None) -> None:
    """Make an older kiosk's rows refused (rejected, conflict, quarantined as damaged)
    without opening the Store (opening it would seal the queued ones)."""
    conn = sqlite3.connect(db_path(kiosk.data_dir))
    try:
        with conn:
            conn.execute(
                "UPDATE outbox SET state = 'rejected', outcome = 'rejected' WHERE id = ?", [ids[0]]
            )
            conn.execute(
                "UPDATE outbox SET state = 'rejected', outcome = 'conflict' WHERE id = ?", [ids[1]]
            )
            if damaged is not None:
                conn.execute(
                    "UPDATE outbox SET state = 'rejected', outcome = 'rejected', payload = ? "
                    "WHERE id = ?",
                    [damaged, ids[2]],
                )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def test_an_older_kiosks_refused_rows_keep_no_clear_text(kiosk: Kiosk) -> None:
    """Rows an older kiosk kept in clear text and the portal refused (rejected,
    conflict) or the sync quarantined as damaged are never sent again; they must not
    keep the answers readable on disk once the kiosk has a key."""
    ids = queue_clear_text(kiosk, 4)
    truncated = '{"full_name":"Oldrow Vali 2","n":'  # damaged: not JSON, still readable
    _set_states(kiosk, ids, damaged=truncated)
    assert find_markers(kiosk.data_dir, [OLD_MARKER])  # the scanner sees them before
    with kiosk.store() as store:
        assert store.seal_legacy() == 0  # done at open already
    assert payload_types(kiosk.data_dir)[3] == "blob"  # the queued one, as before
    found = find_markers(kiosk.data_dir, [OLD_MARKER])
    assert not found, "\n".join(map(str, found))


def test_a_quarantined_damaged_row_keeps_no_clear_text(kiosk: Kiosk) -> None:
    """A queued clear-text row that is damaged (not JSON) is quarantined by the sync;
    what is left of its answers must not stay on disk."""
    ids = queue_clear_text(kiosk, 1)
    conn = sqlite3.connect(db_path(kiosk.data_dir))
    with conn:
        conn.execute(
            "UPDATE outbox SET payload = ? WHERE id = ?", ['{"full_name":"Oldrow Vali 0",', ids[0]]
        )
    conn.close()
    done = kiosk.run("sync")
    assert done.returncode in (0, 1), done.stderr
    with kiosk.store() as store:
        (state,) = store.db.execute("SELECT state FROM outbox").fetchone()
        assert state == "rejected"
    found = find_markers(kiosk.data_dir, [OLD_MARKER])
    assert not found, "\n".join(map(str, found))


def test_an_installation_key_file_the_pins_do_not_vouch_for_is_not_sealed_to(
    kiosk: Kiosk,
) -> None:
    """An enrolled kiosk pins the portal's signing keys. One enrolled before sealing
    has no sealing key stored yet; ``KIOSK_SEALING_KEY`` (set for the test session to
    a file signed by a key this portal never had) must not give it one its pins do not
    vouch for: the key file is checked under the pins, as ``kiosk key install`` does."""
    with kiosk.store() as store:
        portal_key = seal_store.stored_key(store.db)
        store.set_setting(seal_store.SEALING_KEY, None)  # enrolled before sealing
        store.state.catalog_etag = None
        assert seal_store.pins(store.db)
        assert seal_store.stored_key(store.db) is None
    refused = kiosk.run("key", "install", os.environ[seal_store.ENV_KEY_FILE])
    assert refused.returncode == 1  # the same file, installed by hand, is refused
    synced = kiosk.run("sync")  # the portal's own key comes with the catalog, vouched
    assert synced.returncode == 0, synced.stderr
    with kiosk.store() as store:
        assert seal_store.stored_key(store.db) == portal_key


def test_an_older_key_file_does_not_roll_back_a_rotated_key(
    private_kiosk: Kiosk, tmp_path: Path
) -> None:
    """The portal rotated its sealing key and the kiosk took the new one at its sync. A
    key file exported before the rotation is still signed by a pinned key, but it must
    not take the kiosk back to the old key (perhaps rotated because it leaked): a kiosk
    that has its portal's key takes a new one only from the portal, at a sync."""
    kiosk = private_kiosk
    portal_dir = str(kiosk.portal.data_dir)
    old_file = tmp_path / "old-sealing-key.json"
    exported = kiosk.run("portal", "export-sealing-key", "--portal-dir", portal_dir, str(old_file))
    assert exported.returncode == 0, exported.stderr
    rotated = kiosk.run("portal", "rotate-sealing-key", "--portal-dir", portal_dir)
    assert rotated.returncode == 0, rotated.stderr
    assert kiosk.run("sync").returncode == 0
    with kiosk.store() as store:
        current = seal_store.stored_key(store.db)
    old = json.loads(old_file.read_text())["sealing_key"]
    assert current is not None and current["key_id"] != old["key_id"]
    refused = kiosk.run("key", "install", str(old_file))
    assert refused.returncode == 1, refused.stdout
    assert current["key_id"] in refused.stderr
    with kiosk.store() as store:
        assert seal_store.stored_key(store.db) == current
    # Its own current key, installed again, is harmless.
    again = tmp_path / "current.json"
    assert (
        kiosk.run("portal", "export-sealing-key", "--portal-dir", portal_dir, str(again)).returncode
        == 0
    )
    assert kiosk.run("key", "install", str(again)).returncode == 0


def test_a_delivered_item_keeps_no_size(kiosk: Kiosk) -> None:
    """Once delivered, a row keeps only its receipt (docs/ARCHITECTURE.md, "What a
    copied disk reveals"): its size would still say how long the answers were (the
    compressed length of a guessed payload can be checked against it; for a row
    delivered before sealing, the exact length of its clear-text JSON)."""
    with kiosk.store() as store:
        queue_submissions(store, 2)
    assert kiosk.run("sync").returncode == 0
    conn = sqlite3.connect(db_path(kiosk.data_dir))
    with conn:  # one as an older kiosk left it: delivered before sealing
        conn.execute("UPDATE outbox SET size_bytes = 37 WHERE rowid = 1")
        conn.execute("DELETE FROM settings WHERE key = ?", [seal_store.LEGACY_CHECKED])
    conn.close()
    with kiosk.store() as store:
        rows = store.queue()
        assert [(r["state"], r["size_bytes"]) for r in rows] == [("sent", 0), ("sent", 0)]


def test_killed_while_sealing_old_rows_drops_nothing_half(kiosk: Kiosk) -> None:
    """Dropping a refused row's clear text is part of the legacy step's transaction:
    killed before it commits, neither the sealing nor the drop is on disk; the next open
    does both, and the queued rows still reach the portal once."""
    ids = queue_clear_text(kiosk, 3)
    conn = sqlite3.connect(db_path(kiosk.data_dir))
    with conn:
        conn.execute("UPDATE outbox SET state = 'rejected' WHERE id = ?", [ids[0]])
    conn.close()
    kiosk_crashing(kiosk, "seal.legacy_before_commit", "queue")
    assert payload_types(kiosk.data_dir) == ["text"] * 3  # rolled back whole
    with kiosk.store() as store:
        (kept,) = store.db.execute("SELECT payload FROM outbox WHERE id = ?", [ids[0]]).fetchone()
        assert kept == ""
    assert payload_types(kiosk.data_dir) == ["text", "blob", "blob"]
    synced = kiosk.run("sync", "--max-wait", "0")
    assert synced.returncode == 0, synced.stderr
    stored = [r["id"] for r in portal_rows(kiosk.portal.data_dir, kiosk.device_id)]
    assert sorted(stored) == sorted(ids[1:])  # each once; the refused one never sent
    assert not find_markers(kiosk.data_dir, [OLD_MARKER])


def test_a_revalidating_portal_refuses_without_repeating_the_answers(tmp_path: Path) -> None:
    """A portal that re-checks answers (``--revalidate``) says why an item is refused;
    the kiosk keeps that reason in the refused row. A form's message may quote answers
    (``${full_name}`` in a constraint message, a label): the reason must name the field
    and the rule only, or the answers come back in clear text to the kiosk's disk."""
    portal_dir = tmp_path / "portal"
    add_test_form(portal_dir)
    spec = json.loads(json.dumps(TEST_FORM_SPEC))
    spec["version"] = "2"
    spec["children"][0]["bind"] = {
        "constraint": "string-length(.) > 200",
        "jr:constraintMsg": "${full_name} is too short",
    }
    admin = PortalStore(portal_dir)
    try:
        admin.add_form(TEST_FORM_ID, "2", "quoting", spec, "admin")
    finally:
        admin.close()
    portal = start_portal(portal_dir, "127.0.0.1", 0, "--revalidate")
    try:
        data_dir = tmp_path / "kiosk"
        enroll(data_dir, portal)
        kiosk = Kiosk(data_dir, portal)
        with kiosk.store() as store:
            store.submit(
                None,
                {"full_name": "Quotova Markera", "n": 1},
                "uz_Latn",
                form_id=TEST_FORM_ID,
                form_version="2",
            )
        assert kiosk.run("sync", "--max-wait", "0").returncode in (0, 1)
        with kiosk.store() as store:
            [row] = store.queue()
        assert (row["state"], row["outcome"]) == ("rejected", "rejected")
        assert "full_name" in str(row["reason"])
        found = find_markers(data_dir, ["Quotova"])
        assert not found, "\n".join(map(str, found))
    finally:
        portal.stop()
