"""What the store says when it cannot do its job: `StoreError` with messages an
operator can act on (read-only file, full disk, damaged file, lock held too long)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kiosk.errors import TranslatableError, os_error_text
from kiosk.i18n import N_, tr


class StoreError(TranslatableError):
    """A storage failure the kiosk must show, not crash on. `message(lang)` says it."""


def failure_message(exc: BaseException, lang: str) -> str:
    """What to tell the user when the store cannot be used: a StoreError's own message,
    or (an OSError from creating the data folder before the store opened) its reason."""
    if isinstance(exc, StoreError):
        return exc.message(lang)
    reason = os_error_text(exc, lang)  # what the errno means, not the OS's English text
    where = getattr(exc, "filename", None) or ""
    return tr(lang, "The data folder cannot be used: {path} ({error})", path=where, error=reason)


def store_error(exc: sqlite3.Error, path: Path | str) -> StoreError:
    """Map SQLite's error codes to messages an operator can act on."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith("SQLITE_READONLY") or "readonly" in text:
        err = StoreError(
            N_(
                "The kiosk database is read-only, so nothing new can be saved. "
                "Ask the administrator to check the permissions of {path}."
            ),
            path=str(path),
        )
    elif name.startswith("SQLITE_FULL") or "disk is full" in text:
        err = StoreError(
            N_(
                "The disk is full, so this could not be saved. Everything saved "
                "before is safe. Free some disk space and try again."
            )
        )
    elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        err = StoreError(N_("The kiosk database is busy. Please try again in a moment."))
    elif name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text:
        err = StoreError(N_("The kiosk database file is damaged: {path}"), path=str(path))
    elif name.startswith("SQLITE_CANTOPEN") or "unable to open" in text:
        err = StoreError(N_("The kiosk database cannot be opened: {path}"), path=str(path))
    elif name.startswith("SQLITE_IOERR") or "i/o error" in text:
        err = StoreError(
            N_(
                "The disk could not be written, so this was not saved. Everything "
                "saved before is safe. Please try again."
            )
        )
    else:
        # SQLite's own text is English: its error code names it instead (the text is
        # in the exception chain, for the log).
        code = name or "SQLITE_ERROR"
        err = StoreError(N_("Database error: {error}"), error=code)
    err.__cause__ = exc
    return err
