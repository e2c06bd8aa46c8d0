"""The UI's door to the database: one dedicated thread that owns one Store.

SQLite connections belong to one thread and `synchronous=FULL` commits wait for the
disk, so the event loop never touches the Store. Every call runs on this thread, in
the order it was made (a draft save can never overtake the submit that follows it),
and the caller awaits the result without blocking the loop.

A call that fails for a storage reason (full disk, read-only or damaged file, a data
folder that cannot be created) raises `kiosk.store.StoreError` to its caller, after
``on_failure`` has been told (the app shows and speaks it, in the current language):
callers only decide what happens next. They must catch it: Textual stops a screen's
message loop on an exception that escapes a handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from kiosk.store import StoreError

T = TypeVar("T")

FailureHandler = Callable[["StoreError"], None]


class StoreThread:
    """Runs ``fn(store, *args, **kwargs)`` on the store's own thread.

    ``fn`` is usually a method of the Store or Catalog class itself (``Store.status``),
    so a screen needs no wrapper function to reach the database.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        read_only: bool = False,
        on_failure: FailureHandler | None = None,
    ) -> None:
        """``read_only`` opens the database with SQLite's ``mode=ro`` (reads work, every
        write fails with a StoreError); ``on_failure`` hears every failed call."""
        self.data_dir = data_dir
        self.read_only = read_only
        self.on_failure = on_failure
        self._store: Any = None
        self._catalog: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-store")

    def _open(self) -> Any:
        if self._store is None:
            from kiosk.store import Store

            if self.read_only:
                from kiosk.config import db_path

                self._store = Store(db_path(self.data_dir), read_only=True)
            else:
                self._store = Store.open(self.data_dir)
        return self._store

    async def load_modules(self) -> None:
        """Import the store and catalog modules on this thread, not on the event loop."""

        def _import() -> None:
            import_module("kiosk.store")
            import_module("kiosk.catalog")

        await asyncio.wrap_future(self._pool.submit(_import))

    def _run(self, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        return fn(self._open(), *args, **kwargs)

    async def _result(self, future: Future[T]) -> T:
        from kiosk.store import StoreError

        try:
            return await asyncio.wrap_future(future)
        except StoreError as exc:
            if self.on_failure is not None:
                self.on_failure(exc)
            raise

    def _with_catalog(
        self, store: Any, fn: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        if self._catalog is None:
            from kiosk.catalog import Catalog

            self._catalog = Catalog(store)  # it caches parsed forms: keep one
        return fn(self._catalog, *args, **kwargs)

    async def catalog(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Await ``fn(catalog, *args, **kwargs)`` on the store thread (one Catalog per Store)."""
        future = self._pool.submit(self._run, self._with_catalog, (fn, args, kwargs), {})
        return await self._result(future)

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Await ``fn(store, *args, **kwargs)`` on the store thread; StoreError on a failure."""
        return await self._result(self._pool.submit(self._run, fn, args, kwargs))

    def close(self) -> None:
        def _close() -> None:
            if self._store is not None:
                self._store.close()
                self._store = None
                self._catalog = None

        self._pool.submit(_close).result()
        self._pool.shutdown(wait=True)
