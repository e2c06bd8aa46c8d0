"""Operator PINs: scrypt hashes, lock-out after repeated failures, everything audited."""

from __future__ import annotations

import os
import pty
import select
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk import audit, operators
from kiosk.operators import LoginResult, OperatorError, add_operator, login
from kiosk.store import Store
from tests.conftest import KIOSK_ARGV

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    s = Store.open(data_dir)
    yield s
    s.close()


def actions(store: Store) -> list[str]:
    return [r[0] for r in store.db.execute("SELECT action FROM audit ORDER BY seq")]


def test_pin_hash_is_salted_scrypt(store: Store) -> None:
    add_operator(store, "Dilnoza", "482193")
    stored = store.db.execute("SELECT pin_hash FROM operators").fetchone()[0]
    scheme, n, r, p, salt, digest = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", *map(str, operators.HASH_COST))
    assert "482193" not in stored and len(salt) == 32 and len(digest) == 64
    assert operators.hash_pin("482193") != operators.hash_pin("482193")
    assert operators.check_pin("482193", stored)
    assert not operators.check_pin("482194", stored)
    assert not operators.check_pin("482193", "garbage$x")


def test_login_success_and_audit(store: Store) -> None:
    assert not operators.has_operators(store)
    oid = add_operator(store, "  Dilnoza   Karimova ", "482193")
    assert operators.has_operators(store)
    result = login(store, "Dilnoza Karimova", "482193", now=T0)
    assert result == LoginResult(True, oid, None, 5, "ok")
    assert actions(store) == ["operator_add", "login"]
    assert audit.verify(store.db).ok


def test_unknown_operator_fails_and_is_audited(store: Store) -> None:
    result = login(store, "Nobody", "123456", now=T0)
    assert not result.ok and result.operator_id is None and result.reason == "unknown"
    assert actions(store) == ["login_failed"]


def test_lockout_after_five_failures_grows_and_resets(store: Store) -> None:
    oid = add_operator(store, "Aziz", "135792")
    for left in (4, 3, 2, 1):
        r = login(store, "Aziz", "000000", now=T0)
        assert (r.ok, r.attempts_left, r.reason) == (False, left, "wrong_pin")
    fifth = login(store, "Aziz", "000000", now=T0)
    assert fifth.reason == "locked" and fifth.locked_until == T0 + timedelta(minutes=1)
    # While locked even the right PIN is refused.
    during = login(store, "Aziz", "135792", now=T0 + timedelta(seconds=30))
    assert not during.ok and during.reason == "locked"
    # After the lock, one more failure locks for twice as long.
    later = T0 + timedelta(minutes=2)
    sixth = login(store, "Aziz", "000000", now=later)
    assert sixth.locked_until == later + timedelta(minutes=2)
    seventh_time = later + timedelta(minutes=3)
    seventh = login(store, "Aziz", "000000", now=seventh_time)
    assert seventh.locked_until == seventh_time + timedelta(minutes=4)
    ok = login(store, "Aziz", "135792", now=seventh_time + timedelta(minutes=5))
    assert ok.ok and ok.operator_id == oid
    row = store.db.execute("SELECT failed_attempts, locked_until FROM operators").fetchone()
    assert row == (0, None)
    acts = actions(store)
    assert acts.count("login_failed") == 7
    assert acts.count("lockout") == 3
    assert acts.count("login_locked") == 1
    assert acts[-1] == "login"
    assert audit.verify(store.db).ok


def test_lock_period_is_capped() -> None:
    assert operators.lock_period(4) == timedelta(0)
    assert operators.lock_period(5) == timedelta(minutes=1)
    assert operators.lock_period(50) == timedelta(hours=24)


@pytest.mark.parametrize(
    ("name", "pin", "match"),
    [
        ("", "123456", "empty"),
        ("A" * 65, "123456", "too long"),
        ("Ali", "12", "6 to 12"),
        ("Ali", "1234", "6 to 12"),  # 4 digits: no longer enough for a new PIN
        ("Ali", "12ab56", "digits only"),
        ("Ali", "١٢٣٤٥٦", "digits only"),
    ],
)
def test_bad_operator_input_is_refused(store: Store, name: str, pin: str, match: str) -> None:
    with pytest.raises(OperatorError, match=match):
        add_operator(store, name, pin)
    assert not operators.has_operators(store)


def test_duplicate_name_refused(store: Store) -> None:
    add_operator(store, "Ali", "123456")
    with pytest.raises(OperatorError, match="already exists"):
        add_operator(store, "Ali", "567890")
    assert len(operators.list_operators(store)) == 1


def test_cli_operator_add_and_list(run_kiosk) -> None:
    added = run_kiosk("operator", "add", "Malika", "--pin-stdin", input="246813\n")
    assert added.returncode == 0, added.stderr
    assert "Malika" in added.stdout
    again = run_kiosk("operator", "add", "Malika", "--pin-stdin", input="246813\n")
    assert again.returncode == 2 and "already exists" in again.stderr
    short = run_kiosk("operator", "add", "Bek", "--pin-stdin", input="1\n")
    assert short.returncode == 2 and "digits" in short.stderr
    listed = run_kiosk("operator", "list")
    assert listed.returncode == 0 and "Malika" in listed.stdout and "Bek" not in listed.stdout
    js = run_kiosk("operator", "list", "--json")
    assert '"name": "Malika"' in js.stdout and "pin_hash" not in js.stdout


def _run_on_tty(argv: list[str], env: dict[str, str], replies: list[str]) -> tuple[int, str]:
    """Run argv on a pseudo-terminal (getpass reads /dev/tty), answering each prompt."""
    pid, fd = pty.fork()
    if pid == 0:  # child: becomes the kiosk CLI
        os.execve(argv[0], argv, env)
    output = b""
    pending = list(replies)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
        if pending and output.count(b":") > len(replies) - len(pending):
            os.write(fd, pending.pop(0).encode() + b"\n")
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


@pytest.mark.parametrize(("second", "code"), [("864213", 0), ("864214", 2)])
def test_cli_operator_add_asks_pin_twice_on_a_terminal(
    data_dir: Path, second: str, code: int
) -> None:
    env = {**os.environ, "KIOSK_DATA_DIR": str(data_dir), "KIOSK_LANG": "en"}
    argv = [*KIOSK_ARGV, "operator", "add", "Sevara"]
    exit_code, output = _run_on_tty(argv, env, ["864213", second])
    assert exit_code == code, output
    assert "864213" not in output  # the PIN is never echoed
    with Store.open(data_dir) as store:
        assert operators.has_operators(store) is (code == 0)
        if code == 0:
            assert login(store, "Sevara", "864213").ok
        else:
            assert "do not match" in output


def test_production_cost_is_owasps_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """OWASP Password Storage Cheat Sheet: scrypt N=2^17, r=8, p=1 (tests run lower)."""
    monkeypatch.undo()  # drop the conftest's cheap cost: the module as production has it
    assert operators.HASH_COST == (2**17, 8, 1) == operators.OWASP_SCRYPT
    assert operators.PIN_MIN >= 6
    stored = operators.hash_pin("482193")  # one hash at 128 MiB: maxmem is raised enough
    assert stored.startswith(f"scrypt${2**17}$8$1$")
    assert operators.check_pin("482193", stored) and not operators.needs_rehash(stored)


OLD_COST = operators.ScryptCost(2**14, 8, 1)


def _old_operator(store: Store, name: str, pin: str) -> int:
    """An operator as the previous release stored one: N=2^14, a PIN of any 4+ digits."""
    with store.transaction() as db:
        cursor = db.execute(
            "INSERT INTO operators (name, pin_hash, created_at) VALUES (?, ?, '2026-01-01')",
            [name, operators.hash_pin(pin, OLD_COST)],
        )
    return int(cursor.lastrowid or 0)


def _stored(store: Store, oid: int) -> str:
    return str(store.db.execute("SELECT pin_hash FROM operators WHERE id = ?", [oid]).fetchone()[0])


def test_old_hash_upgraded_and_short_pin_must_change(store: Store) -> None:
    oid = _old_operator(store, "Aziz", "1357")
    assert operators.needs_rehash(_stored(store, oid))
    assert not login(store, "Aziz", "1358", now=T0).ok
    assert _stored(store, oid).startswith(f"scrypt${2**14}$")  # only a right PIN upgrades
    result = login(store, "Aziz", "1357", now=T0)
    assert result.ok and result.must_change
    upgraded = _stored(store, oid)
    assert not operators.needs_rehash(upgraded) and operators.check_pin("1357", upgraded)
    assert "pin_rehash" in actions(store)
    with pytest.raises(OperatorError, match="6 to 12"):
        operators.change_pin(store, oid, "Aziz", "2468")
    operators.change_pin(store, oid, "Aziz", "246813")
    again = login(store, "Aziz", "246813", now=T0)
    assert again.ok and not again.must_change
    assert actions(store)[-2:] == ["pin_change", "login"]
    assert audit.verify(store.db).ok


def test_old_six_digit_pin_is_upgraded_without_change(store: Store) -> None:
    oid = _old_operator(store, "Malika", "135792")
    result = login(store, "Malika", "135792", now=T0)
    assert result.ok and not result.must_change
    assert not operators.needs_rehash(_stored(store, oid))


def test_hostile_stored_cost_never_matches(store: Store) -> None:
    """A row asking for more memory than MAXMEM is refused, not computed."""
    huge = f"scrypt${2**24}$8$1${'00' * 16}${'00' * 32}"
    assert not operators.check_pin("123456", huge)


def test_cli_reset_sets_a_new_pin_and_clears_the_lock(run_kiosk, data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        oid = add_operator(store, "Aziz", "135792")
        for _ in range(operators.MAX_FAILURES):
            login(store, "Aziz", "000000")
    short = run_kiosk("operator", "reset", "Aziz", "--pin-stdin", input="1234\n")
    assert short.returncode == 2 and "6 to 12" in short.stderr
    unknown = run_kiosk("operator", "reset", "Nobody", "--pin-stdin", input="246813\n")
    assert unknown.returncode == 2 and "Nobody" in unknown.stderr
    done = run_kiosk("operator", "reset", "Aziz", "--pin-stdin", input="246813\n")
    assert done.returncode == 0, done.stderr
    with Store.open(data_dir) as store:
        assert _stored(store, oid).startswith(f"scrypt${2**17}$8$1$")  # the CLI: production
        assert login(store, "Aziz", "246813").ok
        row = store.db.execute(
            "SELECT actor, details FROM audit WHERE action = 'operator_reset'"
        ).fetchone()
        assert row is not None and row[0] == "admin" and str(oid) in row[1]


def test_any_operator_reads_the_database_without_the_store(tmp_path: Path) -> None:
    from kiosk.config import db_path
    from kiosk.lockdown import any_operator

    assert any_operator(db_path(tmp_path / "fresh")) is False  # no file yet
    with Store.open(tmp_path / "kiosk") as store:
        assert any_operator(db_path(tmp_path / "kiosk")) is False
        add_operator(store, "Dilnoza", "482913")
    assert any_operator(db_path(tmp_path / "kiosk")) is True
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database" * 100)
    with pytest.raises(sqlite3.DatabaseError):
        any_operator(broken)
