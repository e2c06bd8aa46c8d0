"""Audit hash chain: any edit, deletion (middle or tail) or insertion is caught."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import audit
from kiosk.store import Store


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    s = Store.open(data_dir)
    for i in range(5):
        audit.append(s.db, "operator:1", "login", f"user{i}", {"n": i})
    yield s
    s.close()


def test_chain_links_and_verifies(store: Store) -> None:
    rows = list(store.db.query("SELECT * FROM audit ORDER BY seq"))
    assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["prev_hash"] == "0" * 64
    assert all(b["prev_hash"] == a["hash"] for a, b in zip(rows, rows[1:], strict=False))
    report = audit.verify(store.db)
    assert report == audit.AuditReport(True, 5)
    assert "5" in report.describe("en")


def test_empty_log_is_intact(data_dir: Path) -> None:
    with Store.open(data_dir) as s:
        assert audit.verify(s.db) == audit.AuditReport(True, 0)


def test_append_joins_callers_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as db:
        audit.append(db, "x", "y")
        raise RuntimeError
    assert audit.verify(store.db).checked == 5


@pytest.mark.parametrize("column", ["actor", "action", "subject", "details", "ts"])
def test_edited_row_is_caught(store: Store, column: str) -> None:
    value = '{"n":99}' if column == "details" else "tampered"
    store.db.execute(f"UPDATE audit SET {column} = ? WHERE seq = 3", [value])
    report = audit.verify(store.db)
    assert not report.ok and report.first_bad_seq == 3 and report.problem == "edited"
    assert "3" in report.describe("en")


def test_rehashed_edit_breaks_the_next_link(store: Store) -> None:
    row = store.db.execute("SELECT * FROM audit WHERE seq = 2").fetchone()
    seq, ts, actor, action, subject, details, prev, _ = row
    new_hash = audit.row_hash(seq, ts, "intruder", action, subject, details, prev)
    store.db.execute("UPDATE audit SET actor='intruder', hash=? WHERE seq=2", [new_hash])
    report = audit.verify(store.db)
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 3, "broken_link")


def test_rehashed_edit_of_last_row_is_caught_by_head(store: Store) -> None:
    row = store.db.execute("SELECT * FROM audit WHERE seq = 5").fetchone()
    seq, ts, actor, action, subject, details, prev, _ = row
    new_hash = audit.row_hash(seq, ts, "intruder", action, subject, details, prev)
    store.db.execute("UPDATE audit SET actor='intruder', hash=? WHERE seq=5", [new_hash])
    report = audit.verify(store.db)
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 5, "edited")


def test_deleted_middle_row_is_caught(store: Store) -> None:
    store.db.execute("DELETE FROM audit WHERE seq = 2")
    report = audit.verify(store.db)
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 2, "missing")


def test_deleted_last_row_is_caught(store: Store) -> None:
    store.db.execute("DELETE FROM audit WHERE seq = 5")
    report = audit.verify(store.db)
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 5, "tail_missing")
    # Appending afterwards does not heal the chain.
    audit.append(store.db, "x", "y")
    assert not audit.verify(store.db).ok


def test_deleted_and_renumbered_rows_are_caught(store: Store) -> None:
    store.db.execute("DELETE FROM audit WHERE seq = 3")
    store.db.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 3")
    report = audit.verify(store.db)
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 3, "broken_link")


def test_inserted_row_is_caught(store: Store) -> None:
    last = store.db.execute("SELECT hash FROM audit WHERE seq = 5").fetchone()[0]
    ts = "2026-01-01T00:00:00.000000+00:00"
    forged = audit.row_hash(6, ts, "x", "submit", "", "{}", last)
    store.db.execute(
        "INSERT INTO audit VALUES (6, ?, 'x', 'submit', '', '{}', ?, ?)", [ts, last, forged]
    )
    report = audit.verify(store.db)
    assert (report.ok, report.first_bad_seq, report.problem) == (False, 6, "extra")


def test_cli_audit_verify_exit_codes(store: Store, run_kiosk) -> None:
    ok = run_kiosk("audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "5 entries" in ok.stdout
    store.db.execute("UPDATE audit SET subject = 'x' WHERE seq = 4")
    bad = run_kiosk("audit", "verify")
    assert bad.returncode == 1
    assert "Audit entry 4" in bad.stdout
    js = run_kiosk("audit", "verify", "--json")
    assert js.returncode == 1 and '"first_bad_seq": 4' in js.stdout


def test_cli_audit_verify_catches_deleted_row(store: Store, run_kiosk) -> None:
    store.db.execute("DELETE FROM audit WHERE seq = 5")
    result = run_kiosk("audit", "verify")
    assert result.returncode == 1
    assert "5" in result.stdout and "missing" in result.stdout
