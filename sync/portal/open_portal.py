"""What every `kiosk portal` command shares: ``--portal-dir``, ``--database`` and
opening the storage.

The portal keeps its data in ``--portal-dir`` or, by default, ``<data dir>/portal``,
separate from the kiosk's own database. Its tables are in SQLite there
(``portal.db``) unless ``--database postgresql://...`` (or ``KIOSK_PORTAL_DATABASE``)
names a PostgreSQL database; the signing and sealing keys stay files in the portal
directory either way (docs/operations-postgresql.md). A command that cannot open it (a signing key
file others may read: docs/keys.md) says why in the user's language, through
`guarded`, instead of a traceback.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk import cliutil
from kiosk.i18n import tr
from sync.portal.db import database_errors, is_postgres

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
    parser.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help=f"a PostgreSQL database (postgresql://user@host/db; default: ${DATABASE_ENV}, "
        "else SQLite in the portal directory)",
    )


DATABASE_ENV = "KIOSK_PORTAL_DATABASE"


def database(args: argparse.Namespace) -> str | None:
    """``--database`` or ``KIOSK_PORTAL_DATABASE``: a PostgreSQL URL, or None for SQLite."""
    chosen = getattr(args, "database", None) or os.environ.get(DATABASE_ENV) or None
    return str(chosen) if chosen else None


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
    """The portal's storage (SQLite, or the PostgreSQL database `database` names);
    PortalUnusable when its signing keys cannot be used (a key file others may read:
    docs/keys.md) or the database cannot be reached."""
    from sync.portal.keys import KeyFileError
    from sync.portal.store import PortalStore

    lang = cliutil.lang(args)
    url = database(args)
    if url is not None and not is_postgres(url):
        raise PortalUnusable(
            tr(lang, "--database takes a postgresql:// URL, not {value}.", value=url[:100])
        )
    try:
        return PortalStore(portal_dir(args), database=url)
    except KeyFileError as exc:
        raise PortalUnusable(exc.message(lang)) from None
    except database_errors() as exc:
        raise PortalUnusable(
            tr(lang, "Cannot open the portal's database: {error}", error=str(exc)[:300])
        ) from None


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
