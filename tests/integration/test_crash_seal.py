"""Sealing's durable steps killed by SIGKILL: an older kiosk's clear-text rows sealed at
open (``seal.legacy_before_commit``) and a sealing key installed
(``seal.key_before_commit``). Either the whole step is on disk or none of it; the rows
then reach a real portal, opened, exactly once."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import pytest

from kiosk import audit, outbox, seal_store
from kiosk.config import db_path
from kiosk.wire import canonical_and_hash, now_iso
from tests import sealkit
from tests.integration.crashkit import check_recovered, kiosk_crashing, portal_rows
from tests.integration.synckit import TEST_FORM_ID, TEST_FORM_VERSION, Kiosk


def queue_clear_text(kiosk: Kiosk, n: int) -> list[str]:
    """Rows as a kiosk made them before sealing: canonical JSON in the outbox."""
    ids = []
    with kiosk.store() as store, store.transaction() as db:
        for i in range(n):
            body, digest = canonical_and_hash({"full_name": f"Oldrow Vali {i}", "n": i})
            row = outbox.NewRow(
                str(uuid.uuid4()), TEST_FORM_ID, TEST_FORM_VERSION, "uz_Latn",
                body.encode(), digest, None, True, now_iso(),
            )  # fmt: skip
            code = outbox.add(db, row, store.device_prefix)
            db.execute("UPDATE outbox SET payload = ? WHERE id = ?", [body, row.id])
            details = {"id": row.id, "content_hash": digest}
            audit.append(db, "citizen", "submit", code, details)
            ids.append(row.id)
        # An older kiosk's database never recorded that its rows were checked.
        db.execute("DELETE FROM settings WHERE key = ?", [seal_store.LEGACY_CHECKED])
    return ids


def payload_types(data_dir: Path) -> list[str]:
    """Read without the Store (opening it would seal)."""
    conn = sqlite3.connect(db_path(data_dir))
    try:
        return [r[0] for r in conn.execute("SELECT typeof(payload) FROM outbox ORDER BY rowid")]
    finally:
        conn.close()


def test_killed_while_sealing_old_rows(kiosk: Kiosk) -> None:
    ids = queue_clear_text(kiosk, 3)
    assert payload_types(kiosk.data_dir) == ["text"] * 3
    kiosk_crashing(kiosk, "seal.legacy_before_commit", "queue")
    assert payload_types(kiosk.data_dir) == ["text"] * 3  # rolled back whole
    with kiosk.store() as store:  # the next open seals them
        assert payload_types(kiosk.data_dir) == ["blob"] * 3
        sealed = store.db.execute("SELECT COUNT(*) FROM audit WHERE action = 'seal_legacy'")
        assert sealed.fetchone()[0] == 1
    check_recovered(kiosk, ids)
    stored = {r["id"]: r for r in portal_rows(kiosk.portal.data_dir, kiosk.device_id)}
    assert set(stored) == set(ids)


def test_killed_while_installing_a_key(
    kiosk: Kiosk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(seal_store.ENV_KEY_FILE)
    with kiosk.store() as store:
        store.set_setting(seal_store.SEALING_KEY, None)  # as before enrolment brought one
    ids = queue_clear_text(kiosk, 2)
    # The portal's own key file: the kiosk pins its signing keys (enrolled), so only a
    # key they vouch for is taken.
    key_file = tmp_path / "portal-sealing-key.json"
    foreign = sealkit.write_key_file(tmp_path)
    refused = kiosk.run("key", "install", str(foreign))
    assert refused.returncode == 1 and "not signed by a key this kiosk trusts" in refused.stderr
    exported = kiosk.run(
        "portal", "export-sealing-key", "--portal-dir", str(kiosk.portal.data_dir), str(key_file)
    )
    assert exported.returncode == 0, exported.stderr
    kiosk_crashing(kiosk, "seal.key_before_commit", "key", "install", str(key_file))
    assert payload_types(kiosk.data_dir) == ["text"] * 2
    with kiosk.store() as store:
        assert store.get_setting(seal_store.SEALING_KEY) is None  # nothing half-installed
    done = kiosk.run("key", "install", str(key_file))
    portal_key = json.loads(key_file.read_text())["sealing_key"]
    assert done.returncode == 0 and portal_key["key_id"] in done.stdout, done.stderr
    assert payload_types(kiosk.data_dir) == ["blob"] * 2
    with kiosk.store() as store:
        installed = json.loads(store.get_setting(seal_store.SEALING_KEY) or "{}")
        rows = store.queue(include_payload=True)
        assert installed == portal_key
        assert [r["size_bytes"] for r in rows] == [len(r["payload"]) for r in rows]
    check_recovered(kiosk, ids)
