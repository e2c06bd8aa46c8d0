"""The portal's database layer: one SQL dialect over SQLite (embedded) or PostgreSQL.

`sync.portal.store.PortalStore` holds the store's logic once; this module gives it a
`Database` whose `Database.transaction` yields a `Conn`: ``execute(sql, params)``
with ``?`` placeholders, returning a cursor whose rows are read by column name (or
position). The SQL the portal writes is portable (docs/ARCHITECTURE.md, "Portal
storage"); the few things that cannot be are methods of `Conn`:

- `Conn.for_update`: the ``FOR UPDATE`` row-lock suffix (SQLite's ``BEGIN IMMEDIATE``
  already serializes every writer, so there it is empty);
- `Conn.serialize`: a transaction-scoped advisory lock on a name (rate limits that
  must hold across portal processes; a no-op on SQLite for the same reason);
- `Conn.next_number`: the application-number sequence (a PostgreSQL SEQUENCE, which
  takes no row lock, so concurrent batches do not queue on one counter row).

Exactly-once never rests on a lock in this process: the database's constraints and
``INSERT ... ON CONFLICT`` decide (`sync.portal.store`). The RLock of `SqliteDatabase`
only guards its one connection against two threads.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, cast

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def database_errors() -> tuple[type[Exception], ...]:
    """What opening a database raises when it cannot (an unreachable server, a bad URL,
    a file that is not a database); psycopg is imported only when asked."""
    found: list[type[Exception]] = [sqlite3.Error]
    try:
        import psycopg
        from psycopg_pool import PoolTimeout

        found += [psycopg.Error, PoolTimeout]
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    return tuple(found)


def is_postgres(database: str | None) -> bool:
    """Whether ``--database`` names a PostgreSQL server (a libpq URL)."""
    return bool(database) and str(database).startswith(POSTGRES_SCHEMES)


class _Row(Protocol):
    """A result row: ``row["column"]`` (or ``row[0]``), iterable as a tuple."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...


Row: TypeAlias = _Row


class Cursor(Protocol):
    """What `Conn.execute` returns."""

    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Row | None: ...
    def fetchall(self) -> Sequence[Row]: ...
    def __iter__(self) -> Iterator[Row]: ...


class Conn(Protocol):
    """A connection inside one transaction (`Database.transaction`)."""

    dialect: str  # "sqlite" or "postgres"
    for_update: str  # " FOR UPDATE" where rows can be locked, else ""

    def execute(self, sql: str, params: Sequence[object] = (), /) -> Cursor: ...
    def serialize(self, name: str) -> None: ...
    def next_number(self, name: str) -> int: ...


class Database(Protocol):
    """Where the portal's tables live; `migrate`d when opened."""

    dialect: str

    def transaction(self) -> AbstractContextManager[Conn]: ...
    def read(self) -> AbstractContextManager[Conn]: ...
    def close(self) -> None: ...


# --- SQLite --------------------------------------------------------------------------


class SqliteConn:
    """The one SQLite connection, inside ``BEGIN IMMEDIATE`` (or a plain read)."""

    dialect = "sqlite"
    for_update = ""

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[object] = (), /) -> Cursor:
        cursor: Cursor = self.raw.execute(sql, tuple(params))
        return cursor

    def serialize(self, name: str) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` lets one writer in at a time."""
        del name

    def next_number(self, name: str) -> int:
        """The counter ``name`` plus one (the write lock makes it atomic)."""
        row = self.raw.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value",
            (name,),
        ).fetchone()
        return int(row[0])


class SqliteDatabase:
    """``<dir>/portal.db``: WAL, full sync, one connection behind an RLock (the
    connection's guard, not a rule's: a second process shares the file through
    SQLite's own locks, ``BEGIN IMMEDIATE`` and the busy timeout)."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        from sync.portal import schema

        self.path = path
        self._lock = threading.RLock()
        self.raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.raw.row_factory = sqlite3.Row
        self.raw.execute("PRAGMA journal_mode=WAL")
        self.raw.execute("PRAGMA synchronous=FULL")
        self.raw.execute("PRAGMA busy_timeout=10000")
        self.raw.execute("PRAGMA foreign_keys=ON")
        self.conn = SqliteConn(self.raw)
        with self.transaction():
            schema.migrate_sqlite(self.raw)

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
        with self._lock:
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[Conn]:
        """Reads outside an explicit transaction (each statement sees committed data)."""
        with self._lock:
            yield self.conn

    def close(self) -> None:
        self.raw.close()


# --- PostgreSQL ----------------------------------------------------------------------


class _PgRow(tuple[object, ...]):
    """A row readable by position and by column name (as sqlite3.Row is)."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:  # noqa: ANN401 - a row's values are dynamic
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: psycopg.Cursor[Any]) -> Any:  # noqa: ANN401 - psycopg's RowMaker
    names = {column.name: i for i, column in enumerate(cursor.description or ())}

    def make(values: Sequence[object]) -> _PgRow:
        row = _PgRow(values)
        row.names = names
        return row

    return make


_TRANSLATED: dict[str, str] = {}


def translate(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled). The portal's SQL
    puts no ``?`` inside string literals."""
    found = _TRANSLATED.get(sql)
    if found is None:
        found = sql.replace("%", "%%").replace("?", "%s")
        if len(_TRANSLATED) < 4096:
            _TRANSLATED[sql] = found
    return found


class PgConn:
    """A pooled psycopg connection inside its transaction."""

    dialect = "postgres"
    for_update = " FOR UPDATE"

    def __init__(self, raw: psycopg.Connection[_PgRow]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[object] = (), /) -> Cursor:
        cursor: Cursor = self.raw.execute(translate(sql), tuple(params), prepare=False)
        return cursor

    def serialize(self, name: str) -> None:
        """Wait for every other transaction holding ``name``, until this one ends."""
        self.raw.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (name,))

    def next_number(self, name: str) -> int:
        """The SEQUENCE ``name``'s next value: atomic, no row lock (a rolled-back batch
        leaves a gap: numbers are unique, not gap-free)."""
        row = self.raw.execute("SELECT nextval(%s)", (name,)).fetchone()
        assert row is not None
        return int(row[0])


# Connections one portal process holds at most (the API's worker threads share them).
POOL_MAX = 8
CONNECT_TIMEOUT = 10  # seconds


class PostgresDatabase:
    """A PostgreSQL database named by a libpq URL, through a psycopg connection pool."""

    dialect = "postgres"

    def __init__(self, dsn: str, *, pool_max: int = POOL_MAX) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        from sync.portal import schema

        self.dsn = dsn
        # One plain connection first: a wrong URL or an unreachable server fails now,
        # with libpq's reason, not after the pool's patient retries.
        psycopg.connect(dsn, connect_timeout=CONNECT_TIMEOUT).close()
        self.pool: ConnectionPool[Any] = ConnectionPool(
            dsn,
            min_size=1,
            max_size=pool_max,
            kwargs={
                "row_factory": _row_factory,
                "autocommit": False,
                # Which portal process a server session is (pg_stat_activity).
                "application_name": f"mahalla-portal-{os.getpid()}",
            },
            open=False,
            name="portal",
        )
        self.pool.open(wait=True, timeout=30)
        with self.transaction() as conn:
            assert isinstance(conn, PgConn)
            schema.migrate_postgres(conn)

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """One transaction on a pooled connection: committed at the end, rolled back on
        any exception (READ COMMITTED; the store's constraints and locks decide)."""
        with self.pool.connection() as raw:
            with raw.transaction():
                yield PgConn(cast("psycopg.Connection[_PgRow]", raw))

    read = transaction

    def close(self) -> None:
        self.pool.close()


def open_database(data_dir: Path, database: str | None = None) -> Database:
    """PostgreSQL when ``database`` is a ``postgresql://`` URL, else SQLite in ``data_dir``."""
    from sync.portal.schema import DB_NAME

    if database and is_postgres(database):
        return PostgresDatabase(database)
    if database:
        return SqliteDatabase(Path(database))
    return SqliteDatabase(Path(data_dir) / DB_NAME)
