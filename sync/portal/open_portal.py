"""What every `kiosk portal` command shares: ``--portal-dir`` and opening the storage.

The portal keeps its data in ``--portal-dir`` or, by default, ``<data dir>/portal``,
separate from the kiosk's own database. A command that cannot open it (a signing key
file others may read: docs/keys.md) says why in the user's language, through
`guarded`, instead of a traceback.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk import cliutil

if TYPE_CHECKING:
    from sync.portal.storage import PortalStorage


def add_portal_dir(parser: argparse.ArgumentParser) -> None:
    """The ``--portal-dir DIR`` option."""
    parser.add_argument(
        "--portal-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the portal's own data directory (default: <data dir>/portal)",
    )


def portal_dir(args: argparse.Namespace) -> Path:
    """The portal's data directory: ``--portal-dir`` or ``<data dir>/portal``."""
    chosen = getattr(args, "portal_dir", None)
    return Path(chosen).expanduser() if chosen else cliutil.data_dir(args) / "portal"


class PortalUnusable(Exception):
    """The portal cannot open its storage or keys; ``message`` is in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def open_storage(args: argparse.Namespace) -> PortalStorage:
    """The portal's storage (SQLite, its only backend today); PortalUnusable when its
    signing keys cannot be used (a key file others may read: docs/keys.md)."""
    from sync.portal.keys import KeyFileError
    from sync.portal.store import PortalStore

    try:
        return PortalStore(portal_dir(args))
    except KeyFileError as exc:
        raise PortalUnusable(exc.message(cliutil.lang(args))) from None


Command = Callable[[argparse.Namespace], int]


def guarded(handler: Command) -> Command:
    """A command that says why the portal cannot be opened, instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            code: int = handler(args)
        except PortalUnusable as exc:
            return cliutil.fail(exc.message, 1)
        return code

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run
