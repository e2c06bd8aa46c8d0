"""The portal's HTTP API in several worker processes (`kiosk portal serve --workers N`).

uvicorn starts each worker by spawning a fresh interpreter that imports the app by
name, so the app cannot be handed over as an object: `create_worker_app` builds it in
the worker from what `kiosk portal serve` put in the environment (`export_settings`):
the portal directory (its keys are files there) and the PostgreSQL database every
worker shares. Nothing in one worker's memory keeps a rule: uniqueness, limits and
the status log's order are the database's (`sync.portal.store`), so a worker can be
killed at any moment and another carry on.

SQLite is refused with more than one worker (`cmd_serve`): its backend keeps one
connection per process behind a lock and is meant for the demo and one process.
"""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

PORTAL_DIR_ENV = "KIOSK_PORTAL_DIR"
DATABASE_ENV = "KIOSK_PORTAL_DATABASE"
REVALIDATE_ENV = "KIOSK_PORTAL_REVALIDATE"
APP = "sync.portal.workers:create_worker_app"


def export_settings(portal_dir: Path, database: str, revalidate: bool) -> None:
    """Put what the workers need in this process's environment (inherited by them)."""
    os.environ[PORTAL_DIR_ENV] = str(portal_dir)
    os.environ[DATABASE_ENV] = database
    os.environ[REVALIDATE_ENV] = "1" if revalidate else ""


def create_worker_app() -> FastAPI:
    """The API over the shared database, in one worker (uvicorn calls this: factory)."""
    from sync.portal.app import create_app
    from sync.portal.store import PortalStore

    folder = Path(os.environ[PORTAL_DIR_ENV])
    store = PortalStore(folder, database=os.environ[DATABASE_ENV])
    return create_app(folder, revalidate=bool(os.environ.get(REVALIDATE_ENV)), store=store)
