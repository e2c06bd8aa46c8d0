"""Operators: PINs under scrypt, login with a growing lock-out, every attempt audited.

A PIN is short, so the hash is deliberately slow (scrypt, random salt; parameters
live in the stored string so they can be raised later without breaking old
hashes) and guessing is capped: after MAX_FAILURES wrong PINs in a row the operator
is locked for LOCK_BASE, doubling with each further failure up to LOCK_MAX.

The cost is OWASP's current scrypt recommendation (N=2^17, r=8, p=1: 128 MiB and
about 0.3 s a hash), with hashlib's scrypt rather than Argon2id so that no new
dependency is needed. A 4-digit PIN under the old N=2^14 fell to a copied database
in minutes; new PINs have at least PIN_MIN (6) digits. A stored hash at other
parameters is re-hashed at the next successful login, and a PIN shorter than
PIN_MIN still logs in (LEGACY_PIN_MIN) but the result says ``must_change``.

``HASH_COST`` is the one place the cost is read: tests lower it (monkeypatch) to
keep the suite fast; tests/test_operators.py checks its production value.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import NamedTuple, TypedDict

from kiosk import audit
from kiosk.errors import TranslatableError
from kiosk.i18n import N_
from kiosk.store import Store
from kiosk.wire import now_iso


class ScryptCost(NamedTuple):
    """scrypt's work factors: memory and time grow with ``n * r``."""

    n: int
    r: int
    p: int


# OWASP Password Storage Cheat Sheet: scrypt with N=2^17, r=8, p=1.
OWASP_SCRYPT = ScryptCost(2**17, 8, 1)
HASH_COST: ScryptCost = OWASP_SCRYPT
# 128 * r * n bytes are needed (128 MiB at OWASP's cost); hashlib's default cap is
# 32 MiB. A stored hash asking for more than this never matches (a hostile DB row
# must not take the machine's memory).
MAXMEM = 2**28
MAX_FAILURES = 5
LOCK_BASE = timedelta(minutes=1)
LOCK_MAX = timedelta(hours=24)
PIN_MIN, PIN_MAX = 6, 12
LEGACY_PIN_MIN = 4  # PINs set before PIN_MIN was 6: they log in, and must be changed
NAME_MAX = 64


class OperatorError(TranslatableError, ValueError):
    """Bad operator input; `message(lang)` explains it."""


@dataclass(frozen=True)
class LoginResult:
    """`reason`: ok | wrong_pin | locked | unknown (extra to the contract, for the UI)."""

    ok: bool
    operator_id: int | None
    locked_until: datetime | None
    attempts_left: int | None
    reason: str = "ok"
    must_change: bool = False  # ok, but the PIN is shorter than PIN_MIN: set a new one


def hash_pin(pin: str, cost: ScryptCost | None = None) -> str:
    """``scrypt$n$r$p$salt_hex$hash_hex`` for a PIN, at ``cost`` (default HASH_COST)."""
    n, r, p = cost or HASH_COST
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=MAXMEM, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def needs_rehash(stored: str) -> bool:
    """True when ``stored`` was made at other parameters than HASH_COST."""
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return True
    return parts[1:4] != [str(v) for v in HASH_COST]


def check_pin(pin: str, stored: str) -> bool:
    """Constant-time comparison against a stored hash; a malformed hash never matches."""
    try:
        scheme, n, r, p, salt_hex, hash_hex = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = bytes.fromhex(hash_hex)
        digest = hashlib.scrypt(
            pin.encode(),
            salt=bytes.fromhex(salt_hex),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


@cache
def _dummy_hash(cost: ScryptCost) -> str:
    """Checked against when the name is unknown, so a wrong name costs the same time."""
    return hash_pin("000000", cost)


def validate_pin(pin: str) -> None:
    """A new PIN: PIN_MIN to PIN_MAX ASCII digits."""
    if not pin.isdigit() or not pin.isascii():
        raise OperatorError(N_("The PIN must contain digits only."))
    if not PIN_MIN <= len(pin) <= PIN_MAX:
        raise OperatorError(
            N_("The PIN must have {min} to {max} digits."), min=PIN_MIN, max=PIN_MAX
        )


def _clean_name(name: str) -> str:
    """One spelling per name: NFC, inner whitespace collapsed, ends trimmed."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def add_operator(store: Store, name: str, pin: str) -> int:
    """Create an operator; returns the new id. Raises OperatorError for bad input."""
    name = _clean_name(name)
    if not name:
        raise OperatorError(N_("The operator name must not be empty."))
    if len(name) > NAME_MAX:
        raise OperatorError(
            N_("The operator name is too long (at most {n} characters)."), n=NAME_MAX
        )
    validate_pin(pin)
    pin_hash = hash_pin(pin)
    with store.transaction() as db:
        if db.execute("SELECT 1 FROM operators WHERE name = ?", [name]).fetchone():
            raise OperatorError(N_("An operator named {name} already exists."), name=name)
        cursor = db.execute(
            "INSERT INTO operators (name, pin_hash, created_at) VALUES (?, ?, ?)",
            [name, pin_hash, now_iso()],
        )
        operator_id = int(cursor.lastrowid or 0)
        audit.append(db, "admin", "operator_add", name, {"operator_id": operator_id})
    return operator_id


def has_operators(store: Store) -> bool:
    with store.guard():
        return store.db.execute("SELECT 1 FROM operators LIMIT 1").fetchone() is not None


class OperatorRow(TypedDict):
    """An operator as listed: everything but the PIN hash."""

    id: int
    name: str
    created_at: str
    failed_attempts: int
    locked_until: str | None


def list_operators(store: Store) -> list[OperatorRow]:
    """Operators without their PIN hashes, by name."""
    with store.guard():
        rows = store.db.execute(
            "SELECT id, name, created_at, failed_attempts, locked_until"
            " FROM operators ORDER BY name"
        ).fetchall()
    return [
        OperatorRow(
            id=row[0],
            name=row[1],
            created_at=row[2],
            failed_attempts=row[3],
            locked_until=row[4],
        )
        for row in rows
    ]


def lock_period(failures: int) -> timedelta:
    """How long the operator is locked after `failures` wrong PINs in a row."""
    if failures < MAX_FAILURES:
        return timedelta(0)
    doublings = min(failures - MAX_FAILURES, 20)  # 2**20 minutes is past the cap already
    return min(LOCK_BASE * (1 << doublings), LOCK_MAX)


def login(store: Store, name: str, pin: str, now: datetime | None = None) -> LoginResult:
    """Check a PIN; count failures, lock out, and audit every outcome."""
    now = now or datetime.now(UTC)
    name = _clean_name(name)
    with store.guard():
        row = store.db.execute(
            "SELECT id, pin_hash, failed_attempts, locked_until FROM operators WHERE name = ?",
            [name],
        ).fetchone()
    if row is None:
        check_pin(pin, _dummy_hash(HASH_COST))
        with store.transaction() as db:
            audit.append(db, "operator", "login_failed", name, {"reason": "unknown"})
        return LoginResult(False, None, None, None, "unknown")

    operator_id, pin_hash, _failures, locked_raw = row
    locked_until = datetime.fromisoformat(locked_raw) if locked_raw else None
    if locked_until is not None and now < locked_until:
        with store.transaction() as db:
            audit.append(db, f"operator:{operator_id}", "login_locked", name, {})
        return LoginResult(False, operator_id, locked_until, 0, "locked")

    if check_pin(pin, pin_hash):
        # Old parameters: hashed again now that the PIN is known (once, at this login).
        upgraded = hash_pin(pin) if needs_rehash(pin_hash) else None
        must_change = len(pin) < PIN_MIN
        with store.transaction() as db:
            db.execute(
                "UPDATE operators SET failed_attempts = 0, locked_until = NULL WHERE id = ?",
                [operator_id],
            )
            actor = f"operator:{operator_id}"
            if upgraded is not None:
                db.execute(
                    "UPDATE operators SET pin_hash = ? WHERE id = ?", [upgraded, operator_id]
                )
                audit.append(db, actor, "pin_rehash", name, {"n": HASH_COST.n})
            audit.append(db, actor, "login", name, {"must_change": True} if must_change else {})
        return LoginResult(True, operator_id, None, MAX_FAILURES, "ok", must_change)

    with store.transaction() as db:
        # Increment in SQL so two kiosk screens failing at once both count.
        failures = db.execute(
            "UPDATE operators SET failed_attempts = failed_attempts + 1 WHERE id = ?"
            " RETURNING failed_attempts",
            [operator_id],
        ).fetchone()[0]
        period = lock_period(failures)
        new_lock = now + period if period else None
        db.execute(
            "UPDATE operators SET locked_until = ? WHERE id = ?",
            [now_iso(new_lock) if new_lock else None, operator_id],
        )
        actor = f"operator:{operator_id}"
        audit.append(db, actor, "login_failed", name, {"failures": failures})
        if new_lock:
            until = now_iso(new_lock)
            seconds = int(period.total_seconds())
            audit.append(db, actor, "lockout", name, {"until": until, "seconds": seconds})
    left = max(0, MAX_FAILURES - failures)
    return LoginResult(False, operator_id, new_lock, left, "locked" if new_lock else "wrong_pin")


def set_pin(store: Store, name: str, pin: str, *, action: str, actor: str) -> int:
    """A new PIN for ``name`` (validated, hashed at HASH_COST), lock-out cleared, audited
    as ``action`` by ``actor``; returns the operator's id. OperatorError if unknown."""
    name = _clean_name(name)
    validate_pin(pin)
    pin_hash = hash_pin(pin)
    with store.transaction() as db:
        row = db.execute("SELECT id FROM operators WHERE name = ?", [name]).fetchone()
        if row is None:
            raise OperatorError(N_("There is no operator named {name}."), name=name)
        operator_id = int(row[0])
        db.execute(
            "UPDATE operators SET pin_hash = ?, failed_attempts = 0, locked_until = NULL"
            " WHERE id = ?",
            [pin_hash, operator_id],
        )
        audit.append(db, actor, action, name, {"operator_id": operator_id})
    return operator_id


def reset_pin(store: Store, name: str, pin: str) -> int:
    """`kiosk operator reset`: from the machine's own shell, when the PIN is lost or
    every operator is locked out (whoever has that shell owns the kiosk anyway)."""
    return set_pin(store, name, pin, action="operator_reset", actor="admin")


def change_pin(store: Store, operator_id: int, name: str, pin: str) -> int:
    """A logged-in operator sets a new PIN (the one asked after ``must_change``)."""
    return set_pin(store, name, pin, action="pin_change", actor=f"operator:{operator_id}")
