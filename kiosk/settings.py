"""The ``settings`` table (key -> text) read and written inside the caller's transaction.

The store, the audit head, the sync cursor and enrolment all keep values there; one
upsert keeps them from drifting apart.
"""

from __future__ import annotations

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
