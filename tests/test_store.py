"""The durable store: pragmas, migrations, drafts, atomic submit, failures kept safe."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from kiosk import audit, drafts, tracking
from kiosk.config import db_path
from kiosk.schema import MIGRATIONS
from kiosk.store import Store, StoreError
from tests import sealkit

# A draft key at a low cost (the cost is stored with each draft).
KEY = drafts.new_key(drafts.KdfCost(2**10, 8, 1))


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    s = Store.open(data_dir)
    yield s
    s.close()


def submit(store: Store, payload: dict | None = None, **kw) -> object:
    return store.submit(
        None, payload or {"name": "Ali"}, "uz_Latn", form_id="f", form_version="1", **kw
    )


def pragma(store: Store, name: str) -> object:
    return store.db.execute(f"PRAGMA {name}").fetchone()[0]


def test_connection_pragmas(store: Store) -> None:
    assert pragma(store, "journal_mode") == "wal"
    assert pragma(store, "synchronous") == 2  # FULL
    assert pragma(store, "foreign_keys") == 1
    assert pragma(store, "busy_timeout") == 5000


def test_migrations_apply_once_and_keep_data(data_dir: Path) -> None:
    with Store.open(data_dir) as first:
        first.set_setting("portal_url", "http://127.0.0.1:1")
        assert first.schema_version() == len(MIGRATIONS)
    for _ in range(2):
        with Store.open(data_dir) as again:
            rows = again.db.execute("SELECT version FROM schema_version").fetchall()
            assert [r[0] for r in rows] == list(range(1, len(MIGRATIONS) + 1))
            assert again.get_setting("portal_url") == "http://127.0.0.1:1"
            assert {"outbox", "drafts", "audit", "settings", "operators"} <= set(
                again.db.table_names()
            )


def test_older_database_is_upgraded_in_place(data_dir: Path) -> None:
    """A database made by the first release gets the later migrations, data kept."""
    conn = sqlite3.connect(db_path(data_dir))
    conn.executescript(MIGRATIONS[0])
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    conn.execute("INSERT INTO schema_version VALUES (1, 'then')")
    conn.execute("INSERT INTO settings VALUES ('device_id', 'old-device')")
    for i, state in enumerate(["queued", "sent", "sent"]):
        conn.execute(
            "INSERT INTO outbox (id, tracking_code, form_id, form_version, lang, payload,"
            " content_hash, size_bytes, created_at, state, next_attempt_at)"
            " VALUES (?, ?, 'f', '1', 'ru', '{}', 'h', 2, 't', ?, 't')",
            [f"id{i}", f"CODE{i}", state],
        )
    conn.commit()
    conn.close()
    with Store.open(data_dir) as s:
        assert s.schema_version() == len(MIGRATIONS)
        assert s.device_id == "old-device"
        indexes = {r[0] for r in s.db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "outbox_state_created" in indexes
        applied = s.db.execute("SELECT version, applied_at FROM schema_version").fetchall()
        assert applied[0] == (1, "then") and len(applied) == len(MIGRATIONS)
        assert s.queue_counts() == {"queued": 1, "sent": 2, "rejected": 0}


def test_newer_schema_is_refused_with_a_message(data_dir: Path) -> None:
    with Store.open(data_dir) as s:
        s.db.execute("INSERT INTO schema_version VALUES (?, 'x')", [len(MIGRATIONS) + 5])
    with pytest.raises(StoreError, match="newer version"):
        Store.open(data_dir)


def test_settings_roundtrip_and_delete(store: Store) -> None:
    assert store.get_setting("nope", "dflt") == "dflt"
    store.set_setting("n", 5)
    assert store.get_setting("n") == "5"
    store.set_setting("n", None)
    assert store.get_setting("n") is None


def test_device_id_is_made_once(data_dir: Path) -> None:
    with Store.open(data_dir) as s:
        first = s.device_id
    with Store.open(data_dir) as s:
        assert s.device_id == first
        assert s.device_prefix == tracking.prefix_from_id(first)


def test_enrolled_prefix_is_used_and_bad_one_ignored(store: Store) -> None:
    store.set_setting("device_prefix", "q7z")
    assert store.device_prefix == "Q7Z"
    assert submit(store).tracking_code.startswith("Q7Z")
    store.set_setting("device_prefix", "O0!")
    assert store.device_prefix == tracking.prefix_from_id(store.device_id)


def test_draft_upsert_load_delete(store: Store) -> None:
    a = store.save_draft(None, KEY, "birth", "3", "uz_Cyrl", {"d": date(2020, 1, 2)}, "d").id
    b = store.save_draft("b-id", KEY, "death", "1", "ru", {"x": "1"}, "x", operator_id=None)
    assert b.id == "b-id"
    store.save_draft(a, KEY, "birth", "3", "uz_Cyrl", {"d": "2020-01-02", "n": 2}, "n")
    draft = store.load_draft(a, KEY)
    assert draft is not None
    assert draft["answers"] == {"d": "2020-01-02", "n": 2}
    assert draft["position"] == "n" and draft["lang"] == "uz_Cyrl"
    assert draft["created_at"] <= draft["updated_at"]
    assert {d["id"] for d in store.list_drafts()} == {a, b.id}
    assert store.delete_draft(a) is True
    assert store.delete_draft(a) is False
    assert store.load_draft(a, KEY) is None


def test_submit_writes_row_audit_and_removes_draft(store: Store) -> None:
    draft = store.save_draft(None, KEY, "f", "1", "uz_Latn", {"name": "Ali"}, "name").id
    payload = {"name": "Ўзбек", "age": 70, "b": [1, 2]}
    sub = submit(store, payload, draft_id=draft, operator_id=None, consent=True)
    row = store.db.execute("SELECT * FROM outbox").fetchall()
    assert len(row) == 1
    (r,) = store.queue(include_payload=True)
    body = '{"age":70,"b":[1,2],"name":"Ўзбек"}'
    # Sealed (tests/sealkit.py's key): no clear text in the row, the hash is the blob's.
    blob = r["payload"]
    assert isinstance(blob, bytes) and "Ўзбек".encode() not in blob
    assert sealkit.open_row(r) == payload
    assert r["content_hash"] == sub.content_hash == hashlib.sha256(blob).hexdigest()
    assert sub.content_hash != hashlib.sha256(body.encode()).hexdigest()
    assert r["size_bytes"] == len(blob)
    assert r["state"] == "queued" and r["attempts"] == 0 and r["consent"] == 1
    assert r["next_attempt_at"] == r["created_at"] == sub.created_at
    assert r["id"] == sub.id and tracking.is_valid(sub.tracking_code)
    assert store.load_draft(draft, KEY) is None
    entries = list(store.db.query("SELECT * FROM audit"))
    assert [e["action"] for e in entries] == ["submit"]
    assert entries[0]["subject"] == sub.tracking_code
    assert json.loads(entries[0]["details"])["content_hash"] == sub.content_hash
    assert audit.verify(store.db).ok


def test_content_hash_reveals_nothing_and_payload_is_canonical(store: Store) -> None:
    """The content hash is the sealed blob's: the same answers seal to different blobs
    (a fresh ephemeral key each time), so a guessed payload cannot be checked against
    it. What is sealed is the canonical JSON (key order does not matter)."""
    a = submit(store, {"b": 1, "a": {"y": [1, 2], "x": "Қ"}})
    b = submit(store, {"a": {"x": "Қ", "y": [1, 2]}, "b": 1})
    assert a.content_hash != b.content_hash
    assert a.id != b.id and a.tracking_code != b.tracking_code
    ra, rb = store.queue(include_payload=True)
    assert sealkit.open_row(ra) == sealkit.open_row(rb) == {"a": {"x": "Қ", "y": [1, 2]}, "b": 1}


def test_tracking_codes_are_unique_per_submit(store: Store) -> None:
    codes = {submit(store).tracking_code for _ in range(50)}
    assert len(codes) == 50
    assert store.get_setting("tracking_seq") == "50"


def test_submit_failure_inside_transaction_leaves_nothing(store: Store) -> None:
    draft = store.save_draft(None, KEY, "f", "1", "uz_Latn", {"name": "Ali"}, "name").id
    submit(store)
    store.db.execute(
        "CREATE TRIGGER fail_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'boom'); END"
    )
    with pytest.raises(StoreError):
        submit(store, draft_id=draft)
    assert store.queue_counts()["queued"] == 1
    assert store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 1
    assert store.load_draft(draft, KEY) is not None
    assert store.get_setting("tracking_seq") == "1"
    store.db.execute("DROP TRIGGER fail_audit")
    submit(store, draft_id=draft)
    assert audit.verify(store.db).ok
    assert store.load_draft(draft, KEY) is None


def test_unserialisable_payload_writes_nothing(store: Store) -> None:
    with pytest.raises(TypeError):
        submit(store, {"x": object()})
    with pytest.raises(ValueError):
        store.submit(None, {}, "xx", form_id="f", form_version="1")
    with pytest.raises(ValueError):
        store.submit(None, {"x": float("nan")}, "ru", form_id="f", form_version="1")
    assert store.queue() == [] and store.get_setting("tracking_seq") is None


def test_nested_transaction_rolls_back_inner_only(store: Store) -> None:
    with store.transaction():
        store.set_setting("outer", "1")
        with pytest.raises(RuntimeError), store.transaction():
            store.set_setting("inner", "1")
            raise RuntimeError
    assert store.get_setting("outer") == "1"
    assert store.get_setting("inner") is None


def test_queue_counts_oldest_and_status(store: Store) -> None:
    assert store.oldest_unsent_at() is None
    a, b, c = (submit(store) for _ in range(3))
    store.db.execute(
        "UPDATE outbox SET state='sent', outcome='accepted', application_number='A-1' WHERE id=?",
        [a.id],
    )
    store.db.execute("UPDATE outbox SET state='rejected', reason='bad pinfl' WHERE id=?", [b.id])
    assert store.queue_counts() == {"queued": 1, "sent": 1, "rejected": 1}
    assert store.oldest_unsent_at() == c.created_at
    assert [r["id"] for r in store.queue(state="rejected")] == [b.id]
    assert "payload" not in store.queue()[0]
    typed = tracking.format_code(a.tracking_code).lower().replace("-", " ")
    st = store.status(typed)
    assert st["state"] == "sent" and st["application_number"] == "A-1"
    assert st["portal_status"] is None
    store.db.execute(
        "INSERT INTO status (tracking_code, status, application_number, note, updated_at) VALUES (?, 'approved', 'A-1', 'ready', '2026-01-01')",
        [a.tracking_code],
    )
    assert store.status(a.tracking_code)["portal_status"] == "approved"
    assert store.status("not a code") is None
    assert store.status(tracking.new_code("ZZZ")) is None


def test_queue_counts_follow_every_change(store: Store) -> None:
    rng = random.Random(3)
    ids = [submit(store).id for _ in range(40)]
    for _ in range(200):
        target = rng.choice(ids)
        if rng.random() < 0.1:
            store.db.execute("DELETE FROM outbox WHERE id = ?", [target])
        else:
            state = rng.choice(["queued", "sent", "rejected"])
            store.db.execute(
                "UPDATE outbox SET state = ?, attempts = attempts + 1 WHERE id = ?", [state, target]
            )
        counted = dict.fromkeys(["queued", "sent", "rejected"], 0)
        counted.update(store.db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state"))
        assert store.queue_counts() == counted


def test_read_only_database_raises_store_error_and_keeps_data(data_dir: Path) -> None:
    with Store.open(data_dir) as s:
        first = submit(s)
    ro = Store(db_path(data_dir), read_only=True)
    assert ro.queue()[0]["id"] == first.id  # reading still works
    with pytest.raises(StoreError) as err:
        submit(ro)
    assert "read-only" in str(err.value)
    assert "read-only" in err.value.message("en")
    with pytest.raises(StoreError):
        ro.save_draft(None, KEY, "f", "1", "ru", {}, None)
    ro.close()
    with Store.open(data_dir) as s:
        assert [r["id"] for r in s.queue()] == [first.id]
        assert audit.verify(s.db).ok


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_permissions(data_dir: Path) -> None:
    with Store.open(data_dir) as s:
        submit(s)
    path = db_path(data_dir)
    path.chmod(0o444)
    try:
        with pytest.raises(StoreError, match="read-only"):
            with Store.open(data_dir) as s:
                submit(s)
    finally:
        path.chmod(0o644)


def test_disk_full_raises_store_error_and_keeps_data(store: Store) -> None:
    first = submit(store)
    draft = store.save_draft(None, KEY, "f", "1", "uz_Latn", {"a": 1}, "a").id
    pages = pragma(store, "page_count")
    store.db.execute(f"PRAGMA max_page_count = {pages}")
    # Incompressible: the answers are compressed before they are sealed.
    noise = base64.b64encode(os.urandom(150_000)).decode()
    with pytest.raises(StoreError) as err:
        submit(store, {"blob": noise}, draft_id=draft)
    assert "disk is full" in str(err.value)
    with pytest.raises(StoreError):
        store.save_draft(draft, KEY, "f", "1", "uz_Latn", {"a": "y" * 200_000}, "a")
    assert [r["id"] for r in store.queue()] == [first.id]
    assert store.load_draft(draft, KEY)["answers"]  # type: ignore[index] == {"a": 1}
    store.db.execute("PRAGMA max_page_count = 1073741823")
    submit(store, {"blob": noise}, draft_id=draft)
    assert store.queue_counts()["queued"] == 2
    assert audit.verify(store.db).ok
    assert store.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_unopenable_path_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError):
        Store.open(blocker / "sub")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(StoreError, match="damaged|cannot be opened"):
        Store(garbage)


def test_one_store_per_thread_is_enforced(store: Store) -> None:
    errors: list[BaseException] = []

    def use() -> None:
        try:
            store.get_setting("x")
        except BaseException as exc:  # noqa: BLE001 - recorded for the assert below
            errors.append(exc)

    t = threading.Thread(target=use)
    t.start()
    t.join()
    assert errors, "a Store must not be shared across threads"


def test_concurrent_stores_in_threads_submit_without_loss(data_dir: Path) -> None:
    Store.open(data_dir).close()
    codes: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        with Store.open(data_dir) as s:
            for _ in range(15):
                code = submit(s).tracking_code
                with lock:
                    codes.append(code)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(codes)) == 60
    with Store.open(data_dir) as s:
        assert s.queue_counts()["queued"] == 60
        assert audit.verify(s.db).checked == 60


DRAFT_CHILD = """
import sys
from kiosk import drafts
from kiosk.store import Store
store = Store.open(sys.argv[1])
key = drafts.DraftKey("1234567890", b"s" * 16, "scrypt$1024$8$1",
                      drafts.derive("1234567890", b"s" * 16, drafts.KdfCost(1024, 8, 1)))
answers = {}
for i in range(100):
    answers[f"q{i}"] = f"answer {i}"
    store.save_draft("d1", key, "birth", "1", "uz_Latn", answers, f"q{i}")
    print(i, flush=True)
"""
CHILD_KEY = drafts.DraftKey(
    "1234567890",
    b"s" * 16,
    "scrypt$1024$8$1",
    drafts.derive("1234567890", b"s" * 16, drafts.KdfCost(1024, 8, 1)),
)


@pytest.mark.parametrize(
    ("point", "kept"),
    [("draft.before_commit", 20), ("draft.after_commit", 21)],
)
def test_draft_survives_a_killed_process(data_dir: Path, point: str, kept: int) -> None:
    """Killed during the 21st answer's save: before its commit the draft holds the 20
    earlier answers, after it all 21; never a torn draft."""
    child = subprocess.run(
        [sys.executable, "-c", DRAFT_CHILD, str(data_dir)],
        capture_output=True,
        text=True,
        env=dict(os.environ, KIOSK_CRASH_AT=f"{point}:21"),
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert f"crash point {point}:21" in child.stderr
    assert child.stdout.split() == [str(i) for i in range(20)]  # acknowledged saves
    with Store.open(data_dir) as s:
        draft = s.load_draft("d1", CHILD_KEY)
        assert draft is not None and draft["id"] == "d1"
        assert draft["answers"] == {f"q{i}": f"answer {i}" for i in range(kept)}
        assert draft["position"] == f"q{kept - 1}"
        assert s.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
