"""`kiosk portal serve --database postgresql://... --workers N`: several worker processes
on one socket over one PostgreSQL database; refused on SQLite, with a clear message."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import psycopg
import pytest

from sync.portal.process import portal_argv, start_portal
from sync.portal.store import PortalStore
from tests import sealkit
from tests.integration.synckit import portal_http
from tests.test_portal_storage import SPEC, item


def test_several_workers_on_sqlite_are_refused_clearly(tmp_path: Path) -> None:
    argv = portal_argv(tmp_path / "portal", "127.0.0.1", 0, "--workers", "2")
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=dict(os.environ, KIOSK_LANG="en")
    )
    assert done.returncode != 0
    assert "Several workers need a shared PostgreSQL database" in done.stderr
    assert not (tmp_path / "portal" / "portal.db").exists()


@pytest.mark.parametrize("value", ["sqlite:///x.db", "/tmp/portal.db"])
def test_a_database_that_is_not_postgresql_is_refused(tmp_path: Path, value: str) -> None:
    argv = portal_argv(tmp_path / "portal", "127.0.0.1", 0, "--database", value)
    done = subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env=dict(os.environ, KIOSK_LANG="en")
    )
    assert done.returncode == 1
    assert "--database takes a postgresql:// URL" in done.stderr


def test_an_unreachable_database_is_said_not_traced(tmp_path: Path) -> None:
    argv = [*portal_argv(tmp_path / "portal", "127.0.0.1", 0), "--database"]
    argv.append("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    env = dict(os.environ, KIOSK_LANG="en", PGCONNECT_TIMEOUT="2")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1
    assert "Cannot open the portal's database" in done.stderr
    assert "Traceback" not in done.stderr


def test_four_workers_serve_one_database(tmp_path: Path, pg_database: str) -> None:
    folder = tmp_path / "portal"
    sealkit.seed_portal(folder)
    admin = PortalStore(folder, database=pg_database)
    admin.add_form("f", "1", "cat", SPEC, "admin")
    code = admin.create_enrolment_code("k")
    portal = start_portal(
        folder, "127.0.0.1", 0, "--no-bundled", "--database", pg_database, "--workers", "4"
    )
    try:
        with portal_http(portal) as http:
            answer = http.post("/api/v2/devices/enroll", json={"code": code, "name": "k"})
            assert answer.status_code == 200, answer.text
            enrolled = answer.json()
        items = [item(enrolled["device_prefix"]) for _ in range(40)]
        outcomes: list[str] = []
        with portal_http(portal, enrolled["token"]) as http:
            for start in range(0, 40, 5):  # new connections: spread over the workers
                http.headers["Connection"] = "close"
                sent = http.post(
                    "/api/v2/submissions/batch", json={"items": items[start : start + 5]}
                )
                assert sent.status_code == 200, sent.text
                outcomes += [r["outcome"] for r in sent.json()["results"]]
        assert outcomes == ["accepted"] * 40
        assert admin.stats(enrolled["device_id"])["submissions"] == 40
        # Each worker holds its own pool; a pool fills its connections in the background,
        # so poll (a generous deadline, not a budget) until all four have shown up.
        deadline = time.monotonic() + 60
        while True:
            with psycopg.connect(pg_database) as conn:
                row = conn.execute(
                    "SELECT count(DISTINCT application_name) FROM pg_stat_activity"
                    " WHERE datname = current_database()"
                    " AND application_name LIKE 'mahalla-portal-%%'"
                    " AND application_name <> %s",
                    (f"mahalla-portal-{os.getpid()}",),
                ).fetchone()
            assert row is not None
            if row[0] == 4 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert row[0] == 4
    finally:
        portal.stop()
        admin.close()
