"""The keyed PINFL tag: how the portal applies one-per-PINFL rules without keeping PINFLs.

A PINFL has 14 digits and is printed on every ID card: a plain hash of one is
reversed by trying all of them. The tag is HMAC-SHA256 of the PINFL under a secret
that lives in a file beside the database (``pinfl_tag.key``, 0600, made on first use,
never in the database), so a copy of the database alone (a backup, a report) cannot
tell whose tags it holds. The tag is the same on every portal process that shares the
data dir, so the one-vote-per-season and one-signature-per-petition rules are plain
unique constraints on it (`sync.portal.votes`, `sync.portal.petitions`).

The ingest handlers get no data dir (`sync.portal.kinds`): the store binds its key for
the length of a batch (`bound`), and `pinfl_tag` reads the bound one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from kiosk.i18n import N_
from kiosk.validators import is_valid_pinfl
from sync.portal.keys import KeyFileError, _check_mode

KEY_FILE = "pinfl_tag.key"
PINFL_RE = re.compile(r"^[0-9]{14}$")
LOOSE_PINFL_KEY = N_(
    "The portal's PINFL tag key {path} may be read by other users (mode {mode}); "
    "allow only the portal's own user: chmod {fix} {path}"
)
BAD_PINFL_KEY = N_("The portal's PINFL tag key {path} cannot be read: {reason}")


def clean_pinfl(value: object) -> str | None:
    """A PINFL as 14 digits (spaces and dashes dropped), or None if it is not one: its
    check digit and birth date must hold (`kiosk.validators.is_valid_pinfl`), so a
    device cannot count votes or signatures for made-up numbers in a row."""
    if not isinstance(value, str):
        return None
    text = re.sub(r"[\s-]", "", value)
    return text if PINFL_RE.fullmatch(text) and is_valid_pinfl(text) else None


def load_key(data_dir: Path) -> bytes:
    """The portal's tag key (32 random bytes, hex in the file), made on first use.

    Made with O_EXCL, so two processes starting at once agree on one key; a file that
    group or others may read stops the portal (`KeyFileError`), as the signing keys do.
    """
    path = Path(data_dir) / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    _check_mode(path, LOOSE_PINFL_KEY)
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise KeyFileError(BAD_PINFL_KEY, path=str(path), reason="not 64 hex digits")
    return key


def tag_with(key: bytes, pinfl: str) -> str:
    """The tag of ``pinfl`` (already `clean_pinfl`) under ``key``: 64 hex digits."""
    return hmac.new(key, pinfl.encode("ascii"), hashlib.sha256).hexdigest()


_BOUND: ContextVar[bytes | None] = ContextVar("pinfl_key", default=None)


@contextlib.contextmanager
def bound(key: bytes) -> Iterator[None]:
    """`pinfl_tag` uses ``key`` inside this block (the store binds its own per batch)."""
    token = _BOUND.set(key)
    try:
        yield
    finally:
        _BOUND.reset(token)


def derive(key: bytes, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` from the portal key (HMAC-SHA256): the ballot box's
    sealing key (`sync.portal.ballot_box`), so one secret file serves both."""
    return hmac.new(key, b"mahalla-kiosk\0" + purpose.encode("ascii"), hashlib.sha256).digest()


def bound_key() -> bytes:
    """The portal key bound for this batch (`bound`); RuntimeError when none is."""
    key = _BOUND.get()
    if key is None:
        raise RuntimeError("no portal PINFL key is bound")
    return key


def pinfl_tag(pinfl: str) -> str:
    """The keyed tag of ``pinfl`` under the bound portal key (`bound`); RuntimeError when
    none is bound (a handler called outside a store's batch)."""
    return tag_with(bound_key(), pinfl)
