"""Drafts only their citizen can reopen: a resume code, a key from it, the draft sealed.

A visit's answers are saved on every change (a power cut loses nothing), but a saved
draft must never reach the next person at the kiosk, nor anyone holding a copy of its
disk. So each draft is sealed (ChaCha20-Poly1305) under a key derived from a resume
code that only the citizen is given (shown and spoken when the first answer is
saved, and again at "Save for later"):

- The code is 12 digits, shown and read in three groups of four ("0412 3456 7890"):
  the first two digits are the draft's public *slot* (unique among live drafts, so a
  code names which draft to try, and which to lock after wrong tries), the other ten
  are the secret, drawn with `secrets`.
- The key is scrypt(secret, per-draft random salt) at N=2^17, r=8, p=1 (128 MiB, about
  0.3 s), derived once when the code is issued and once at resume, kept in memory for
  the visit only (`DraftKey`); each save re-seals with a fresh random nonce (fast).
  The cost is stored with the row (``kdf``), so it can be raised later.
- In clear in the row: id, slot, salt, nonce, form id and version, timestamps and the
  wrong-try counter; the answers, position, language and operator are sealed. The
  clear columns are bound to the seal as associated data.
- Every try is counted durably *before* the slow check (a power cut during the check
  cannot give a free try); three wrong codes lock the draft for 15 minutes (audited,
  ``draft_locked``). Drafts expire (``draft_lifetime_hours``, default 72) and are
  deleted (secure_delete zeroes them) at app start, at the idle wipe and by
  ``kiosk drafts purge``. Why 10 secret digits and this cost outlast a draft's
  lifetime against an offline search: docs/drafts.md.

Times come in as arguments (an injected clock in the UI and the tests).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, NamedTuple, Protocol, TypedDict, cast

from sqlite_utils import Database

from kiosk import audit
from kiosk.config import DRAFT_LIFETIME_HOURS
from kiosk.crashpoints import crash_point
from kiosk.i18n import N_, tr
from kiosk.store_errors import StoreError
from kiosk.wire import canonical_json, loads, now_iso


class Store(Protocol):
    """What this module needs of `kiosk.store.Store` (which delegates its draft methods
    here; a Protocol, so that neither module imports the other's)."""

    db: Database

    def transaction(self) -> AbstractContextManager[Database]: ...

    def guard(self) -> AbstractContextManager[None]: ...

    def checkpoint(self) -> bool: ...


SLOT_DIGITS = 2
SECRET_DIGITS = 10
CODE_DIGITS = SLOT_DIGITS + SECRET_DIGITS
SLOTS = 10**SLOT_DIGITS
CODE_GROUP = 4  # shown and read aloud in groups of four digits
MAX_FAILURES = 3
LOCK_FOR = timedelta(minutes=15)
# docs/drafts.md: an offline search of the 10^10 secrets takes ~11.6 days at the
# assumed attacker's rate; a lifetime (config) is capped well below it.
DEFAULT_LIFETIME_HOURS = DRAFT_LIFETIME_HOURS
KEY_BYTES = 32
SALT_BYTES = 16
NONCE_BYTES = 12


class KdfCost(NamedTuple):
    """scrypt's work factors: memory (128 * n * r bytes) and time grow with ``n * r``."""

    n: int
    r: int
    p: int


PRODUCTION_COST = KdfCost(2**17, 8, 1)
KDF_COST: KdfCost = PRODUCTION_COST  # tests lower it (monkeypatch), as operators.HASH_COST
# A stored cost asking for more memory than this never opens (a hostile row must not
# take the machine's memory).
MAXMEM = 2**28

DRAFTS_FULL = N_(
    "Too many applications are saved for later on this kiosk. Please ask an operator for help."
)

KEY_FAILED = N_(
    "Your answers cannot be kept safely for later on this kiosk right now "
    "(not enough memory). Please ask an operator for help."
)


class Draft(TypedDict):
    """An opened draft: its clear columns and its sealed content."""

    id: str
    slot: int
    form_id: str
    form_version: str
    lang: str
    answers: dict[str, object]
    position: str | None  # the engine step ref to resume at
    operator_id: int | None
    created_at: str
    updated_at: str
    expires_at: str


class DraftInfo(TypedDict):
    """What anyone may see of a draft (an operator's list): nothing of the citizen."""

    id: str
    slot: int
    form_id: str
    form_version: str
    created_at: str
    updated_at: str
    expires_at: str
    failures: int
    locked_until: str | None


@dataclass(frozen=True)
class DraftKey:
    """A draft's key and the secret half of its code: in memory, for one visit only."""

    secret: str = field(repr=False)
    salt: bytes = field(repr=False)
    kdf: str
    key: bytes = field(repr=False)

    def code(self, slot: int) -> str:
        """The resume code for this key's draft in ``slot`` (12 digits, no spaces)."""
        return f"{slot:0{SLOT_DIGITS}d}{self.secret}"


@dataclass(frozen=True)
class Saved:
    """A draft written: its id and public slot (the code's first two digits)."""

    id: str
    slot: int


@dataclass(frozen=True)
class OpenResult:
    """What a typed code did: opened the draft, was wrong, or met a locked draft."""

    outcome: Literal["opened", "wrong", "locked"]
    draft: Draft | None = None
    key: DraftKey | None = None
    locked_until: datetime | None = None
    tries_left: int = 0


# ----- codes and keys ----------------------------------------------------------------


def new_secret() -> str:
    """Ten random digits (the secret half of a resume code)."""
    return "".join(str(secrets.randbelow(10)) for _ in range(SECRET_DIGITS))


def kdf_text(cost: KdfCost) -> str:
    return f"scrypt${cost.n}${cost.r}${cost.p}"


def parse_kdf(text: str) -> KdfCost | None:
    """A stored ``scrypt$n$r$p``, or None when unknown or beyond MAXMEM."""
    parts = text.split("$")
    if len(parts) != 4 or parts[0] != "scrypt" or not all(p.isdigit() for p in parts[1:]):
        return None
    cost = KdfCost(int(parts[1]), int(parts[2]), int(parts[3]))
    if min(cost) < 1 or 128 * cost.n * cost.r * cost.p > MAXMEM:
        return None
    return cost


def derive(secret: str, salt: bytes, cost: KdfCost) -> bytes:
    """The slow step (scrypt): run it in a worker thread, never on the event loop.

    Without the memory it needs, a `StoreError` the screens already show (the answers
    stay in the visit), never a crash."""
    try:
        return hashlib.scrypt(
            secret.encode("ascii"),
            salt=salt,
            n=cost.n,
            r=cost.r,
            p=cost.p,
            maxmem=MAXMEM,
            dklen=KEY_BYTES,
        )
    except (MemoryError, ValueError) as exc:
        raise StoreError(KEY_FAILED) from exc


def new_key(cost: KdfCost | None = None) -> DraftKey:
    """A new secret, salt and key (slow: scrypt). The slot comes at the first save."""
    cost = cost or KDF_COST
    secret = new_secret()
    salt = secrets.token_bytes(SALT_BYTES)
    return DraftKey(secret, salt, kdf_text(cost), derive(secret, salt, cost))


def normalize_code(text: str) -> str | None:
    """The 12 digits of a typed code (spaces and dashes ignored), or None."""
    compact = re.sub(r"[\s\-]", "", text)
    if not re.fullmatch(rf"[0-9]{{{CODE_DIGITS}}}", compact):
        return None
    return compact


def format_code(code: str) -> str:
    """``041234567890`` -> ``0412 3456 7890`` (as shown and read aloud)."""
    return " ".join(code[i : i + CODE_GROUP] for i in range(0, len(code), CODE_GROUP))


CODE_SENTENCE = N_("Your code to continue later is {code}. Please write it down.")


def code_sentence(lang: str, code: str) -> str:
    """The sentence that gives the code to the ear (spoken privately: never cached)."""
    return tr(lang, CODE_SENTENCE, code=spoken_code(code))


def spoken_code(code: str) -> str:
    """The code for the ear: digit by digit, groups apart ("0, 4, 1, 2. 3, 4, ...");
    the speech service reads each lone digit as its word in the kiosk's language."""
    return ". ".join(", ".join(group) for group in format_code(code).split())


# ----- sealing -------------------------------------------------------------------------


def _aad(draft_id: str, slot: int, form_id: str, form_version: str) -> bytes:
    """The clear columns the seal vouches for (a row's parts cannot be swapped)."""
    return canonical_json([draft_id, slot, form_id, form_version]).encode("utf-8")


# cryptography is imported when a draft is first sealed or opened, not with the store
# (`kiosk submit` and the other commands that open the store do not pay for it).


def seal(key: DraftKey, aad: bytes, content: dict[str, object]) -> tuple[bytes, bytes]:
    """(nonce, sealed) for the content, under a fresh random nonce."""
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = ChaCha20Poly1305(key.key).encrypt(nonce, canonical_json(content).encode(), aad)
    return nonce, sealed


def unseal(key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> dict[str, object] | None:
    """The sealed content; None for a wrong key or a tampered row."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    try:
        data = loads(ChaCha20Poly1305(key).decrypt(nonce, sealed, aad))
    except InvalidTag:
        return None
    return data if isinstance(data, dict) else {}


# ----- the drafts table ----------------------------------------------------------------


def _free_slot(db: Database, now: str) -> int:
    """The lowest slot no live draft holds (the slot is public: only its uniqueness
    matters); an expired draft's slot is freed first."""
    db.execute("DELETE FROM drafts WHERE expires_at <= ?", [now])
    used = {int(row[0]) for row in db.execute("SELECT slot FROM drafts").fetchall()}
    free = [slot for slot in range(SLOTS) if slot not in used]
    if not free:
        raise StoreError(DRAFTS_FULL)
    return free[0]


def save(
    store: Store,
    draft_id: str | None,
    key: DraftKey,
    form_id: str,
    form_version: str,
    content: dict[str, object],
    now: datetime,
    lifetime_hours: float = DEFAULT_LIFETIME_HOURS,
) -> Saved:
    """Seal and write a draft (durable on return); a new one gets a free slot."""
    draft_id = draft_id or str(uuid.uuid4())
    stamp = now_iso(now)
    with store.transaction() as db:
        row = db.execute("SELECT slot FROM drafts WHERE id = ?", [draft_id]).fetchone()
        if row is None:
            slot = _free_slot(db, stamp)
            expires = now_iso(now + timedelta(hours=lifetime_hours))
            nonce, sealed = seal(key, _aad(draft_id, slot, form_id, form_version), content)
            db.execute(
                "INSERT INTO drafts (id, slot, kdf, salt, nonce, sealed, form_id, form_version,"
                " created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [draft_id, slot, key.kdf, key.salt, nonce, sealed, form_id, form_version]
                + [stamp, stamp, expires],
            )
        else:
            slot = int(row[0])
            nonce, sealed = seal(key, _aad(draft_id, slot, form_id, form_version), content)
            db.execute(
                "UPDATE drafts SET kdf = ?, salt = ?, nonce = ?, sealed = ?, form_id = ?,"
                " form_version = ?, updated_at = ? WHERE id = ?",
                [key.kdf, key.salt, nonce, sealed, form_id, form_version, stamp, draft_id],
            )
        crash_point("draft.before_commit")
    crash_point("draft.after_commit")
    return Saved(draft_id, slot)


def _opened(row: dict[str, object], content: dict[str, object]) -> Draft:
    answers = content.get("answers")
    position = content.get("position")
    operator_id = content.get("operator_id")
    return {
        "id": str(row["id"]),
        "slot": int(cast("int", row["slot"])),
        "form_id": str(row["form_id"]),
        "form_version": str(row["form_version"]),
        "lang": str(content.get("lang") or ""),
        "answers": answers if isinstance(answers, dict) else {},
        "position": position if isinstance(position, str) else None,
        "operator_id": operator_id if isinstance(operator_id, int) else None,
        "created_at": str(row["created_at"]),
        "updated_at": str(row["updated_at"]),
        "expires_at": str(row["expires_at"]),
    }


def _row_aad(row: dict[str, object]) -> bytes:
    return _aad(
        str(row["id"]), int(cast("int", row["slot"])), str(row["form_id"]), str(row["form_version"])
    )


def load(store: Store, draft_id: str, key: DraftKey) -> Draft | None:
    """The draft ``draft_id`` opened with a key already held (the visit's); None when
    there is none or the key does not open it."""
    with store.guard():
        rows = list(store.db.query("SELECT * FROM drafts WHERE id = ?", [draft_id]))
    if not rows:
        return None
    row = rows[0]
    content = unseal(key.key, bytes(row["nonce"]), bytes(row["sealed"]), _row_aad(row))
    return None if content is None else _opened(row, content)


def try_code(store: Store, code: str, now: datetime) -> OpenResult:
    """Open the draft a typed code names (slow: scrypt), counting the try first.

    ``code`` is 12 digits (`normalize_code`). A code naming no live draft is "wrong"
    (nothing to count or lock); a locked draft is not tried at all.
    """
    slot, secret = int(code[:SLOT_DIGITS]), code[SLOT_DIGITS:]
    stamp = now_iso(now)
    with store.transaction() as db:
        rows = list(
            db.query("SELECT * FROM drafts WHERE slot = ? AND expires_at > ?", [slot, stamp])
        )
        if not rows:
            return OpenResult("wrong", tries_left=MAX_FAILURES)
        row = rows[0]
        locked = row["locked_until"]
        if locked and str(locked) > stamp:
            return OpenResult("locked", locked_until=datetime.fromisoformat(str(locked)))
        # Counted before the check: a power cut during the slow part is a try spent.
        # The try that reaches the limit locks the draft at once, before its check:
        # tries in flight together (or cut off by a crash) are tries, so no parallel
        # attempt can be a fourth guess. The right code lifts the lock again.
        # A lock that has ended (one cut short by a crash kept its count) starts afresh.
        failures = (0 if locked else int(row["failures"])) + 1
        until = now + LOCK_FOR
        db.execute(
            "UPDATE drafts SET failures = ?, locked_until = ? WHERE id = ?",
            [failures, now_iso(until) if failures >= MAX_FAILURES else None, row["id"]],
        )
    crash_point("draft.try_counted")
    cost = parse_kdf(str(row["kdf"]))
    content: dict[str, object] | None = None
    key = None
    if cost is not None:
        salt = bytes(row["salt"])
        key = DraftKey(secret, salt, str(row["kdf"]), derive(secret, salt, cost))
        content = unseal(key.key, bytes(row["nonce"]), bytes(row["sealed"]), _row_aad(row))
    if content is not None and key is not None:
        with store.transaction() as db:
            db.execute(
                "UPDATE drafts SET failures = 0, locked_until = NULL WHERE id = ?", [row["id"]]
            )
        return OpenResult("opened", draft=_opened(row, content), key=key)
    if failures < MAX_FAILURES:
        return OpenResult("wrong", tries_left=MAX_FAILURES - failures)
    with store.transaction() as db:
        db.execute("UPDATE drafts SET failures = 0 WHERE id = ?", [row["id"]])
        audit.append(
            db,
            "citizen",
            "draft_locked",
            str(row["id"]),
            {"slot": slot, "failures": failures, "locked_until": now_iso(until)},
        )
    return OpenResult("locked", locked_until=until)


INFO_COLUMNS = (
    "id, slot, form_id, form_version, created_at, updated_at, expires_at, failures, locked_until"
)


def listing(store: Store) -> list[DraftInfo]:
    """Every draft, nothing of the citizen: newest first."""
    with store.guard():
        rows = list(
            store.db.query(f"SELECT {INFO_COLUMNS} FROM drafts ORDER BY created_at DESC, slot")
        )
    return cast("list[DraftInfo]", rows)


def delete(store: Store, draft_id: str) -> bool:
    """Remove a draft (zeroed: secure_delete); True if there was one."""
    with store.transaction() as db:
        cursor = db.execute("DELETE FROM drafts WHERE id = ?", [draft_id])
    return cursor.rowcount > 0


def discard(store: Store, ref: str, actor: str) -> DraftInfo | None:
    """An operator discards a draft named by its slot (digits) or id; audited."""
    column = "slot" if ref.isdigit() and len(ref) <= SLOT_DIGITS else "id"
    value: object = int(ref) if column == "slot" else ref
    with store.transaction() as db:
        rows = list(db.query(f"SELECT {INFO_COLUMNS} FROM drafts WHERE {column} = ?", [value]))
        if not rows:
            return None
        info = cast("DraftInfo", rows[0])
        db.execute("DELETE FROM drafts WHERE id = ?", [info["id"]])
        audit.append(
            db,
            actor,
            "draft_discarded",
            info["id"],
            {"slot": info["slot"], "form_id": info["form_id"]},
        )
    store.checkpoint()
    return info


def purge_expired(store: Store, now: datetime) -> int:
    """Delete every expired draft (zeroed: secure_delete); how many went."""
    with store.transaction() as db:
        cursor = db.execute("DELETE FROM drafts WHERE expires_at <= ?", [now_iso(now)])
        gone = cursor.rowcount
        if gone:
            audit.append(db, "kiosk", "drafts_expired", "", {"count": gone})
    if gone:
        store.checkpoint()
    return gone


DROPPED_KEY = "drafts.plaintext_dropped"


def note_dropped_plaintext(store: Store) -> None:
    """Migration 4 deleted the plaintext drafts of older versions and left their count
    in settings: audit it once, then truncate the WAL's old page images."""
    with store.guard():
        row = store.db.execute("SELECT value FROM settings WHERE key = ?", [DROPPED_KEY]).fetchone()
    if row is None:
        return
    with store.transaction() as db:
        audit.append(db, "kiosk", "drafts_plaintext_dropped", "", {"count": int(row[0])})
        db.execute("DELETE FROM settings WHERE key = ?", [DROPPED_KEY])
    store.checkpoint()
