"""PostgreSQL for the tests: a fresh database per test in the throwaway cluster.

`scripts/test` starts a cluster (scripts/pgtmp) and names it in ``KIOSK_TEST_PG``; each
test that needs PostgreSQL gets its own database there (CREATE DATABASE, dropped
after), so pytest-xdist workers and tests never see each other's rows. Without the
variable those tests skip, so the developers' quick loop (plain pytest) still runs,
except under ``CI=true``, where a missing cluster fails them: the CI log must show
that the PostgreSQL tests ran.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

ENV = "KIOSK_TEST_PG"


def admin_dsn() -> str:
    """The cluster's URL; skips the test (fails it under CI=true) when there is none."""
    dsn = os.environ.get(ENV, "")
    if dsn:
        return dsn
    message = f"{ENV} is not set: no PostgreSQL cluster (scripts/test starts one)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " -- under CI the PostgreSQL tests must run")
    pytest.skip(message)


def with_dbname(dsn: str, name: str) -> str:
    return urlsplit(dsn)._replace(path=f"/{name}").geturl()


@contextmanager
def fresh_database() -> Iterator[str]:
    """The URL of a new, empty database, dropped afterwards."""
    import psycopg

    dsn = admin_dsn()
    name = f"kiosk_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_dbname(dsn, name)
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
