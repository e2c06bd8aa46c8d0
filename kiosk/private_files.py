"""Files only the kiosk's user may read: the database files (0600) and the device
token, which lives in its own file beside the database, never in it."""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.errors import os_error
from kiosk.i18n import N_
from kiosk.store_errors import StoreError

PRIVATE_FILE_MODE = 0o600


def make_private(path: Path) -> None:
    """Create ``path`` (empty) as 0600 if missing; tighten it to 0600 if it exists."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE_MODE)
        os.close(fd)
    except OSError:
        return  # a read-only folder: the open below reports it in the user's language
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if name.exists() and (name.stat().st_mode & 0o777) != PRIVATE_FILE_MODE:
                name.chmod(PRIVATE_FILE_MODE)
        except OSError:
            pass  # not ours to change: the store still works


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as a 0600 file: temporary file, fsync, rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, PRIVATE_FILE_MODE)  # an older leftover kept its mode through O_TRUNC
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_token(path: Path) -> str | None:
    """The token in ``path``; None when there is none. `StoreError` when unreadable."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(
            N_("The kiosk's portal token cannot be read: {path} ({error})"),
            path=str(path),
            error=os_error(exc),  # said, never the OS's English
        ) from exc
    return text or None


def write_token(path: Path, token: str | None) -> None:
    """Keep the device token in its 0600 file (None removes the file)."""
    try:
        if token is None:
            path.unlink(missing_ok=True)
        else:
            write_private_file(path, token)
    except OSError as exc:
        raise StoreError(
            N_("The kiosk's portal token cannot be saved: {path} ({error})"),
            path=str(path),
            error=os_error(exc),  # said, never the OS's English
        ) from exc
