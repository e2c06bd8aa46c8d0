"""Nothing of a delivered submission, nor the device token, stays in kiosk.db's files
(issue 13): submit with a marker name, sync to a real portal, search the bytes."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

from kiosk.config import db_path
from sync.client import PortalClient
from sync.engine import SyncEngine
from tests.integration.synckit import TEST_FORM_ID, TEST_FORM_VERSION, Kiosk

MARKER = "Gulnoraxon-Hygiene-4417"


def database_bytes(data_dir: Path) -> bytes:
    db = db_path(data_dir)
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def test_after_sync_no_marker_and_no_token_in_the_database_files(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        store.submit(
            None,
            {"full_name": MARKER},
            "uz_Latn",
            form_id=TEST_FORM_ID,
            form_version=TEST_FORM_VERSION,
        )
        # Sealed at submit: not in the kiosk's files even before it is sent.
        assert MARKER.encode() not in database_bytes(kiosk.data_dir)
        client = PortalClient.from_store(store)
        assert client is not None
        with client:
            report = SyncEngine(store, client).run(pull=False)
        assert report.error is None and report.sent == 1
        token = store.state.portal_token
        assert token
    assert MARKER.encode() not in database_bytes(kiosk.data_dir)
    assert token.encode() not in database_bytes(kiosk.data_dir)
    # The portal opened the sealed item: the answers are there (and the search finds them).
    conn = sqlite3.connect(kiosk.portal.data_dir / "portal.db")
    (stored,) = conn.execute("SELECT payload FROM submissions").fetchone()
    conn.close()
    assert MARKER in stored
    token_file = kiosk.data_dir / "portal.token"
    assert token_file.read_text() == token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
