"""Drafts sealed under the citizen's resume code (issue 13): round trip, wrong codes,
the lock and its end, expiry, an operator's discard, old plaintext drafts dropped, and
nothing of the answers on disk. Times come from an injected clock (plain datetimes)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk import drafts
from kiosk.config import db_path
from kiosk.schema import MIGRATIONS
from kiosk.store import Store, StoreError

MARKER = "Zulfiyaxon-Drafts-Marker-4417"
T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def disk_bytes(data_dir: Path) -> bytes:
    db = db_path(data_dir)
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


def save(store: Store, key: drafts.DraftKey, now: datetime = T0, **kw: object) -> drafts.Saved:
    answers = kw.pop("answers", {"full_name": MARKER, "pinfl": "31234567890123"})
    return store.save_draft(
        kw.pop("draft_id", None),  # type: ignore[arg-type]
        key,
        "birth",
        "3",
        "uz_Latn",
        answers,  # type: ignore[arg-type]
        "pinfl",
        now=now,
        **kw,  # type: ignore[arg-type]
    )


def audit_rows(store: Store) -> list[dict[str, object]]:
    return list(store.db.query("SELECT * FROM audit ORDER BY seq"))


def wrong(code: str) -> str:
    """The same slot, a different secret."""
    last = str((int(code[-1]) + 1) % 10)
    return code[:-1] + last


@pytest.fixture
def store(data_dir: Path) -> Store:
    s = Store.open(data_dir)
    yield s  # type: ignore[misc]
    s.close()


def test_production_cost_and_code_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    """OWASP's scrypt cost, as for PINs (tests run lower: tests/conftest.py)."""
    monkeypatch.undo()
    assert drafts.KDF_COST == drafts.PRODUCTION_COST == (2**17, 8, 1)
    monkeypatch.setattr(drafts, "KDF_COST", drafts.KdfCost(2**10, 8, 1))
    assert drafts.CODE_DIGITS == 12 and drafts.SECRET_DIGITS == 10
    key = drafts.new_key()
    code = key.code(7)
    assert len(code) == 12 and code.isdigit() and code.startswith("07")
    assert drafts.format_code(code) == f"{code[:4]} {code[4:8]} {code[8:]}"
    assert drafts.normalize_code(f" {code[:4]}-{code[4:8]} {code[8:]} ") == code
    for bad in ("", "1234", "12345678901a", "1234567890123", "١٢٣٤٥٦٧٨٩٠١٢"):
        assert drafts.normalize_code(bad) is None
    assert MARKER not in repr(key) and key.secret not in repr(key)


def test_round_trip_by_code(store: Store) -> None:
    key = drafts.new_key()
    saved = save(store, key)
    again = save(store, key, draft_id=saved.id, answers={"full_name": MARKER, "n": 2})
    assert again == saved  # same row, same slot: the code stays
    result = store.open_draft(key.code(saved.slot), T0)
    assert result.outcome == "opened" and result.draft is not None and result.key is not None
    draft = result.draft
    assert draft["answers"] == {"full_name": MARKER, "n": 2}
    assert (draft["position"], draft["lang"], draft["form_id"]) == ("pinfl", "uz_Latn", "birth")
    assert result.key.key == key.key  # the visit goes on sealing under the same key
    assert store.load_draft(saved.id, result.key) == draft


def test_slots_are_unique_among_live_drafts(store: Store) -> None:
    key = drafts.new_key()
    slots = {save(store, key).slot for _ in range(30)}
    assert len(slots) == 30


def test_a_full_kiosk_says_so(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drafts, "SLOTS", 2)
    key = drafts.new_key()
    save(store, key)
    save(store, key)
    with pytest.raises(StoreError) as caught:
        save(store, key)
    assert caught.value.msgid == drafts.DRAFTS_FULL
    # An expired draft's slot is free again.
    assert save(store, key, now=T0 + timedelta(hours=73)).slot in (0, 1)


def test_nothing_of_the_answers_is_on_disk(store: Store, data_dir: Path) -> None:
    key = drafts.new_key()
    for i in range(5):
        save(store, key, answers={"full_name": MARKER, "i": i})
    raw = disk_bytes(data_dir)
    for marker in (MARKER, "31234567890123"):
        assert marker.encode("utf-8") not in raw
        assert marker.encode("utf-16-le") not in raw
        assert marker.encode("utf-16-be") not in raw


def test_three_wrong_codes_lock_for_15_minutes(store: Store) -> None:
    key = drafts.new_key()
    saved = save(store, key)
    code = key.code(saved.slot)
    first = store.open_draft(wrong(code), T0)
    assert (first.outcome, first.tries_left) == ("wrong", 2)
    assert store.open_draft(wrong(code), T0).tries_left == 1
    third = store.open_draft(wrong(code), T0)
    assert third.outcome == "locked" and third.locked_until == T0 + timedelta(minutes=15)
    # Locked: even the right code is not tried.
    assert store.open_draft(code, T0 + timedelta(minutes=14)).outcome == "locked"
    entries = [e for e in audit_rows(store) if e["action"] == "draft_locked"]
    assert len(entries) == 1 and entries[0]["subject"] == saved.id
    # 15 minutes on, the right code opens it.
    assert store.open_draft(code, T0 + timedelta(minutes=15, seconds=1)).outcome == "opened"
    [info] = store.list_drafts()
    assert info["failures"] == 0 and info["locked_until"] is None


def test_a_code_for_no_draft_is_wrong_and_locks_nothing(store: Store) -> None:
    result = store.open_draft("991234567890", T0)
    assert result.outcome == "wrong" and result.draft is None


def test_drafts_expire(store: Store) -> None:
    key = drafts.new_key()
    saved = save(store, key, lifetime_hours=72)
    code = key.code(saved.slot)
    assert store.purge_drafts(T0 + timedelta(hours=71)) == 0
    assert store.open_draft(code, T0 + timedelta(hours=72)).outcome == "wrong"
    assert store.purge_drafts(T0 + timedelta(hours=72)) == 1
    assert store.list_drafts() == []
    assert any(e["action"] == "drafts_expired" for e in audit_rows(store))


def test_operator_discards_by_slot_or_id(store: Store) -> None:
    key = drafts.new_key()
    a, b = save(store, key), save(store, key)
    info = drafts.discard(store, str(a.slot), "operator:1")
    assert info is not None and info["id"] == a.id
    assert drafts.discard(store, b.id, "operator:1") is not None
    assert drafts.discard(store, "nope", "operator:1") is None
    assert store.list_drafts() == []
    found = [e for e in audit_rows(store) if e["action"] == "draft_discarded"]
    assert [e["subject"] for e in found] == [a.id, b.id]


def test_a_tampered_row_does_not_open(store: Store) -> None:
    key = drafts.new_key()
    saved = save(store, key)
    store.db.execute("UPDATE drafts SET form_id = 'death'")  # the clear columns are bound
    store.db.conn.commit()
    assert store.load_draft(saved.id, key) is None
    assert store.open_draft(key.code(saved.slot), T0).outcome == "wrong"


def test_old_plaintext_drafts_are_deleted_and_audited(data_dir: Path) -> None:
    db = db_path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT)")
    for number, sql in enumerate(MIGRATIONS[:3], start=1):
        conn.executescript(sql)
        conn.execute("INSERT INTO schema_version VALUES (?, 'x')", [number])
    conn.execute(
        "INSERT INTO drafts (id, form_id, form_version, lang, answers, created_at, updated_at)"
        " VALUES ('d1', 'birth', '3', 'uz_Latn', ?, 't', 't')",
        [f'{{"full_name": "{MARKER}"}}'],
    )
    conn.commit()
    conn.close()
    with Store.open(data_dir) as store:
        assert store.list_drafts() == []
        [entry] = [e for e in audit_rows(store) if e["action"] == "drafts_plaintext_dropped"]
        assert '"count":1' in entry["details"]
    with Store.open(data_dir) as store:  # audited once
        assert sum(e["action"] == "drafts_plaintext_dropped" for e in audit_rows(store)) == 1
    assert MARKER.encode() not in disk_bytes(data_dir)


TRY_CHILD = """
import sys
from datetime import datetime, UTC
from kiosk import drafts
from kiosk.store import Store
store = Store.open(sys.argv[1])
store.open_draft(sys.argv[2], datetime(2026, 11, 26, 9, 30, tzinfo=UTC))
"""


def test_a_try_is_counted_before_the_slow_check(data_dir: Path) -> None:
    """Killed after the try was counted, before the code was checked: the try is spent
    (a power cut cannot give free tries)."""
    with Store.open(data_dir) as store:
        key = drafts.new_key()
        code = key.code(save(store, key).slot)
    child = subprocess.run(
        [sys.executable, "-c", TRY_CHILD, str(data_dir), code],
        capture_output=True,
        text=True,
        env=dict(os.environ, KIOSK_CRASH_AT="draft.try_counted"),
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "crash point draft.try_counted" in child.stderr
    with Store.open(data_dir) as store:
        [info] = store.list_drafts()
        assert info["failures"] == 1
        assert store.open_draft(code, T0).outcome == "opened"  # the right code still opens
        [info] = store.list_drafts()
        assert info["failures"] == 0


def test_tries_in_flight_count_toward_the_lock(data_dir: Path) -> None:
    """Three tries counted and not yet checked (three processes trying at once, here
    each killed at the moment between): the draft is locked before any of their checks
    ends, so a fourth try in parallel cannot be a fourth guess, even with the right code."""
    with Store.open(data_dir) as store:
        key = drafts.new_key()
        code = key.code(save(store, key).slot)
    for _ in range(drafts.MAX_FAILURES):
        child = subprocess.run(
            [sys.executable, "-c", TRY_CHILD, str(data_dir), wrong(code)],
            capture_output=True,
            text=True,
            env=dict(os.environ, KIOSK_CRASH_AT="draft.try_counted"),
            timeout=120,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr
    with Store.open(data_dir) as store:
        assert store.open_draft(code, T0).outcome == "locked"
        after = T0 + drafts.LOCK_FOR + timedelta(seconds=1)
        outcomes = [store.open_draft(wrong(code), after).outcome for _ in range(3)]
        assert outcomes == ["wrong", "wrong", "locked"]  # after the lock, three more tries
        later = after + drafts.LOCK_FOR + timedelta(seconds=1)
        assert store.open_draft(code, later).outcome == "opened"


def test_cli_lists_discards_and_purges_without_personal_data(data_dir: Path, run_kiosk) -> None:
    with Store.open(data_dir) as store:
        key = drafts.new_key()
        kept = save(store, key, now=datetime.now(UTC))
        save(store, key, now=datetime.now(UTC) - timedelta(hours=80))  # expired
    listed = run_kiosk("drafts", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert MARKER not in listed.stdout and "3123456789" not in listed.stdout
    text = run_kiosk("drafts", "list")
    assert f"slot {kept.slot:02d}" in text.stdout and MARKER not in text.stdout
    purged = run_kiosk("drafts", "purge")
    assert purged.returncode == 0 and "1" in purged.stdout
    assert run_kiosk("drafts", "discard", "77").returncode == 1
    gone = run_kiosk("drafts", "discard", f"{kept.slot:02d}")
    assert gone.returncode == 0, gone.stderr
    with Store.open(data_dir) as store:
        assert store.list_drafts() == []
        assert [r["action"] for r in audit_rows(store)][-1] == "draft_discarded"
    ru = run_kiosk("drafts", "list", env={"KIOSK_LANG": "ru"})
    assert "черновиков нет" in ru.stdout


def test_a_key_that_cannot_be_derived_is_a_store_error() -> None:
    """scrypt refused (more memory than MAXMEM): a message the screens show, no crash."""
    with pytest.raises(StoreError) as caught:
        drafts.derive("1234567890", b"s" * 16, drafts.KdfCost(2**20, 8, 1))
    assert caught.value.msgid == drafts.KEY_FAILED
