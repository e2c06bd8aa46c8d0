"""The UI's door to the database: one dedicated thread that owns one Store.

SQLite connections belong to one thread and `synchronous=FULL` commits wait for the
disk, so the event loop never touches the Store. Every call runs on this thread, in
the order it was made (a draft save can never overtake the submit that follows it),
and the caller awaits the result without blocking the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class StoreThread:
    """Runs ``fn(store, *args)`` on the store's own thread."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._store: Any = None
        self._catalog: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-store")

    def _open(self) -> Any:
        if self._store is None:
            from kiosk.store import Store

            self._store = Store.open(self.data_dir)
        return self._store

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        return fn(self._open(), *args)

    def _run_catalog(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if self._catalog is None:
            from kiosk.catalog import Catalog

            self._catalog = Catalog(self._open())  # it caches parsed forms: keep one
        return fn(self._catalog, *args)

    async def catalog(self, fn: Callable[..., T], *args: Any) -> T:
        """Await ``fn(catalog, *args)`` on the store thread (one Catalog per Store)."""
        return await asyncio.wrap_future(self._pool.submit(self._run_catalog, fn, args))

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Await ``fn(store, *args)`` run on the store thread."""
        return await asyncio.wrap_future(self._pool.submit(self._run, fn, args))

    def call_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """For worker threads and shutdown only: never call from the event loop."""
        return self._pool.submit(self._run, fn, args).result()

    def close(self) -> None:
        def _close() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None
                self._catalog = None

        self._pool.submit(_close).result()
        self._pool.shutdown(wait=True)
