"""Storage hygiene (issue 13): secure_delete, WAL truncation, private modes, the token file,
and no payload kept once the portal has it."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from kiosk import drafts, outbox, seal_store
from kiosk.config import db_path, resolve_data_dir
from kiosk.schema import MIGRATIONS
from kiosk.store import Store
from tests import sealkit

MARKER = "Zulfiyaxon-Marker-7731"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def disk_bytes(data_dir: Path) -> bytes:
    db = db_path(data_dir)
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def submit(store: Store, name: str = MARKER) -> str:
    return store.submit(None, {"full_name": name}, "uz_Latn", form_id="f", form_version="1").id


def mark_sent(store: Store) -> None:
    batch = next(outbox.iter_batches(store.db, None, 100, 10**6))
    results = [{"id": r.id, "outcome": "accepted", "application_number": "A-1"} for r in batch]
    outbox.apply_results(store, batch, results, 0, lambda n: 1.0)


def test_secure_delete_is_on(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        assert store.db.execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_data_dir_is_made_0700_and_files_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "new" / "kiosk"
    with Store.open(data_dir) as store:
        submit(store)
        assert mode(data_dir) == 0o700
        db = db_path(data_dir)
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert mode(path) == 0o600, path
    assert mode(resolve_data_dir(tmp_path / "other")) == 0o700


def test_an_old_world_readable_database_is_tightened(data_dir: Path) -> None:
    Store.open(data_dir).close()
    db = db_path(data_dir)
    db.chmod(0o644)
    with Store.open(data_dir):
        assert mode(db) == 0o600


def test_checkpoint_truncates_the_wal_and_a_deleted_draft_leaves_no_bytes(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        key = drafts.new_key()
        draft = store.save_draft(None, key, "f", "1", "uz_Latn", {"full_name": MARKER}, None)
        assert MARKER.encode() not in disk_bytes(data_dir)  # sealed (tests/test_drafts.py)
        (sealed,) = store.db.execute("SELECT sealed FROM drafts").fetchone()
        assert bytes(sealed) in disk_bytes(data_dir)
        store.delete_draft(draft.id)
        assert store.checkpoint() is True
        assert Path(f"{db_path(data_dir)}-wal").stat().st_size == 0
        assert bytes(sealed) not in disk_bytes(data_dir)  # zeroed, in the file and the WAL


def test_a_sent_item_keeps_its_receipt_but_not_its_payload(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        submit(store)
        mark_sent(store)
        [row] = store.queue(include_payload=True)
        assert row["payload"] == "" and row["state"] == "sent"
        assert row["application_number"] == "A-1" and len(row["content_hash"]) == 64
        status = store.status(row["tracking_code"])
        assert status is not None and status["state"] == "sent"
        assert list(outbox.iter_batches(store.db, None, 100, 10**6)) == []
        store.checkpoint()
    assert MARKER.encode() not in disk_bytes(data_dir)


def _old_database(data_dir: Path) -> None:
    """A database made before migration 3: a sent and a queued row, both in clear text."""
    db = db_path(data_dir)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for number, sql in enumerate(MIGRATIONS[:2], start=1):
        conn.executescript(sql)
        conn.execute("INSERT INTO schema_version VALUES (?, 'x')", [number])
    for n, state in enumerate(("sent", "queued")):
        conn.execute(
            "INSERT INTO outbox (id, tracking_code, form_id, form_version, lang, payload,"
            " content_hash, size_bytes, created_at, state, next_attempt_at)"
            " VALUES (?, ?, 'f', '1', 'uz_Latn', ?, 'h', 1, 't', ?, 't')",
            [f"id{n}", f"CODE{n}", f'{{"n": "{MARKER}"}}', state],
        )
    conn.commit()
    conn.close()


def test_migration_drops_payloads_already_sent_and_seals_queued(data_dir: Path) -> None:
    """Opening an old database drops sent payloads and, with a sealing key known, seals
    the queued ones (kiosk/seal_store.py): no clear text is left."""
    _old_database(data_dir)
    with Store.open(data_dir) as store:
        rows = {r["state"]: r for r in store.queue(include_payload=True)}
        assert rows["sent"]["payload"] == ""
        assert sealkit.open_row(rows["queued"]) == {"n": MARKER}
        assert rows["queued"]["size_bytes"] == len(rows["queued"]["payload"])
        store.checkpoint()
    assert MARKER.encode() not in disk_bytes(data_dir)


def test_queued_clear_text_waits_for_a_key(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a sealing key an old queued row stays as it is (and is not sent: it waits,
    docs/keys.md); installing a key seals it."""
    monkeypatch.delenv(seal_store.ENV_KEY_FILE)
    _old_database(data_dir)
    with Store.open(data_dir) as store:
        (row,) = [r for r in store.queue(include_payload=True) if r["state"] == "queued"]
        assert MARKER in str(row["payload"])
        with pytest.raises(outbox.NotSealed):
            next(outbox.iter_batches(store.db, None, 10, 10**6))[0].item()
        with store.transaction() as db:
            seal_store.install(db, sealkit.KEY_FILE_TEXT.encode())
        (row,) = [r for r in store.queue(include_payload=True) if r["state"] == "queued"]
        assert sealkit.open_row(row) == {"n": MARKER}


def test_the_token_lives_in_a_0600_file_not_the_database(data_dir: Path) -> None:
    token = "tok-" + "x7" * 20
    with Store.open(data_dir) as store:
        store.state.portal_token = token
        assert store.state.portal_token == token
        assert store.get_setting("portal_token") == token
        store.checkpoint()
    path = data_dir / "portal.token"
    assert path.read_text() == token and mode(path) == 0o600
    assert token.encode() not in disk_bytes(data_dir)
    with Store.open(data_dir) as store:
        store.state.portal_token = None
        assert store.state.portal_token is None
    assert not path.exists()


def test_a_token_in_the_settings_table_moves_to_its_file(data_dir: Path) -> None:
    token = "legacy-" + "q9" * 20
    Store.open(data_dir).close()
    conn = sqlite3.connect(db_path(data_dir))
    conn.execute("INSERT INTO settings (key, value) VALUES ('portal_token', ?)", [token])
    conn.commit()
    conn.close()
    with Store.open(data_dir) as store:
        assert store.state.portal_token == token
        assert (
            store.db.execute("SELECT COUNT(*) FROM settings WHERE key = 'portal_token'").fetchone()[
                0
            ]
            == 0
        )
    assert mode(data_dir / "portal.token") == 0o600
    assert token.encode() not in disk_bytes(data_dir)


def test_a_token_file_the_committed_enrolment_does_not_name_is_never_used(
    tmp_path: Path,
) -> None:
    """Enrolment writes the token file, then commits the rest with the token's hash. A
    kill in between (here: a file written behind the store's back) must not hand the new
    portal's token to the previous enrolment's portal: such a token is not used."""
    with Store.open(tmp_path / "kiosk") as store:
        store.state.portal_token = "old-portal-token"
        assert store.state.portal_token == "old-portal-token"
        store.write_token("new-portal-token")  # the file only: no commit followed
        assert store.state.portal_token is None
    with Store.open(tmp_path / "kiosk") as store:
        assert store.state.portal_token is None
        store.state.portal_token = "new-portal-token"
        assert store.state.portal_token == "new-portal-token"
