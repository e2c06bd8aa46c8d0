"""The ``settings`` table (key -> text) read and written inside the caller's transaction.

The store, the audit head, the sync cursor and enrolment all keep values there; one
upsert keeps them from drifting apart.
"""

from __future__ import annotations

import json
from typing import Protocol

from sqlite_utils import Database


def get_setting(db: Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def put_setting(db: Database, key: str, value: str) -> None:
    """Insert or replace one value; joins whatever transaction ``db`` is in."""
    db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


# The runtime state kept in the table (not configuration: see kiosk.config). Modules
# that own a bookkeeping value keep its key themselves (audit head and count, the
# tracking-code sequence, the bundled catalog's hashes).
PORTAL_URL = "portal_url"
PORTAL_TOKEN = "portal_token"
# SHA-256 of the token in its file, committed with the rest of an enrolment: the file is
# written before that commit, so a kill in between leaves a file that does not match,
# and such a token is never used (the kiosk enrols again) rather than sent to the
# previous enrolment's portal.
PORTAL_TOKEN_SHA256 = "portal_token_sha256"
PORTAL_DEVICE_ID = "portal_device_id"
# The origin (scheme://host:port) the token may go to, and the portal's key pins
# (``sha256/<base64>``, space-separated): set at enrolment, changed only by enrolling.
PORTAL_ORIGIN = "portal_origin"
PORTAL_PINS = "portal_pins"
DEVICE_ID = "device_id"
DEVICE_PREFIX = "device_prefix"
STATUS_CURSOR = "status_cursor"
# When statuses were last pulled (any page, changes or not): how old the local copy is.
STATUS_PULLED_AT = "status_pulled_at"
CATALOG_ETAG = "catalog_etag"
LAST_SYNC_AT = "last_sync_at"
LAST_SYNC_ATTEMPT_AT = "last_sync_attempt_at"
LAST_SYNC_ERROR = "last_sync_error"
ENROLMENT_KEYS = (
    PORTAL_URL,
    PORTAL_TOKEN,
    DEVICE_PREFIX,
    PORTAL_DEVICE_ID,
    PORTAL_ORIGIN,
    PORTAL_PINS,
)
# The portal's catalog signing keys pinned at enrolment (and by rotation), as JSON
# {key id: base64 public key}; absent for a kiosk enrolled before the catalog was signed.
SIGNING_KEYS = "portal_signing_keys"
# The last audit seq the portal holds (audit anchoring); the next sync sends from it.
AUDIT_ANCHOR_SEQ = "audit_anchor_seq"


def pins_json(pins: dict[str, str]) -> str:
    """The stored form of pinned signing keys."""
    return json.dumps(pins, sort_keys=True)


class SettingsStore(Protocol):
    """What `RuntimeState` needs of a store (`kiosk.store.Store` is one)."""

    def get_setting(self, key: str, default: str | None = None) -> str | None: ...

    def set_setting(self, key: str, value: str | int | None) -> None: ...


class _Text:
    """A text setting; assigning None removes it."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __get__(self, state: RuntimeState, owner: type | None = None) -> str | None:
        return state.store.get_setting(self.key)

    def __set__(self, state: RuntimeState, value: str | None) -> None:
        state.store.set_setting(self.key, value)


class _Count:
    """A whole-number setting, 0 when unset."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __get__(self, state: RuntimeState, owner: type | None = None) -> int:
        return int(state.store.get_setting(self.key) or 0)

    def __set__(self, state: RuntimeState, value: int) -> None:
        state.store.set_setting(self.key, int(value))


class _Words:
    """A tuple of words kept as one space-separated text; () when unset."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __get__(self, state: RuntimeState, owner: type | None = None) -> tuple[str, ...]:
        return tuple((state.store.get_setting(self.key) or "").split())

    def __set__(self, state: RuntimeState, value: tuple[str, ...]) -> None:
        state.store.set_setting(self.key, " ".join(value) or None)


class _Pins:
    """The pinned signing keys {key id: base64 public key}; {} when none (or damaged)."""

    def __get__(self, state: RuntimeState, owner: type | None = None) -> dict[str, str]:
        raw = state.store.get_setting(SIGNING_KEYS)
        try:
            data = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, str)}

    def __set__(self, state: RuntimeState, value: dict[str, str]) -> None:
        state.store.set_setting(SIGNING_KEYS, pins_json(value) if value else None)


class RuntimeState:
    """The settings table's runtime state as typed attributes (``store.state.portal_url``).

    Each read and write is its own transaction on the store; code that must write a
    value together with other rows uses `put_setting` with the key constant above.
    """

    portal_url = _Text(PORTAL_URL)
    portal_token = _Text(PORTAL_TOKEN)
    portal_device_id = _Text(PORTAL_DEVICE_ID)
    portal_origin = _Text(PORTAL_ORIGIN)
    portal_pins = _Words(PORTAL_PINS)
    device_prefix = _Text(DEVICE_PREFIX)
    status_cursor = _Count(STATUS_CURSOR)
    catalog_etag = _Text(CATALOG_ETAG)
    last_sync_at = _Text(LAST_SYNC_AT)
    last_sync_attempt_at = _Text(LAST_SYNC_ATTEMPT_AT)
    last_sync_error = _Text(LAST_SYNC_ERROR)
    signing_keys = _Pins()
    audit_anchor_seq = _Count(AUDIT_ANCHOR_SEQ)

    def __init__(self, store: SettingsStore) -> None:
        self.store = store
