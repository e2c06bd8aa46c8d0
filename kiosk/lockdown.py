"""What citizen mode needs before its first screen: an operator who can close it.

Plain sqlite3 on purpose: this runs before the first frame, where the store's
machinery (sqlite_utils and what it imports) would cost the start-up a fifth of a
second.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def any_operator(db_file: Path) -> bool:
    """Whether the kiosk database ``db_file`` holds an operator, read with sqlite3 alone.

    Asked before the first screen of citizen mode: opening the `Store` would import its
    machinery there and cost the start-up a fifth of a second. A missing file or table
    (a fresh kiosk) is no operator; any other database error is raised.
    """
    if not db_file.exists():
        return False
    conn = sqlite3.connect(f"{db_file.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT 1 FROM operators LIMIT 1").fetchone() is not None
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return False
        raise
    finally:
        conn.close()
