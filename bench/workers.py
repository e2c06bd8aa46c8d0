"""Submissions per second through 1, 2 and 4 portal workers on PostgreSQL (issue 15).

Each run is a fresh database and `kiosk portal serve --database ... --workers N`;
kiosks (threads here, each an enrolled device with the kiosk's own HTTP client)
send sealed submissions in batches of 50 over keep-alive connections, which the
workers share out as they accept them. The figure is stored submissions per second
of wall time; each is given with its ratio to one worker. Budget: 2 workers >= 1.7x
one.

PostgreSQL: ``KIOSK_TEST_PG`` (a cluster's URL) if set, else a throwaway cluster
started with scripts/pgtmp for the run. The load generator runs on the same machine
and shares its cores with the portal and PostgreSQL: on a 2-core machine the
portal cannot get two free cores, so the 2-worker ratio measures the machine as much
as the portal (docs/performance.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import result_row
from kiosk import seal_dict, tracking
from kiosk.sealing import blob_hash, seal_payload
from kiosk.signing import b64
from kiosk.wire import now_iso
from sync.client import PortalClient
from sync.portal.process import start_portal
from sync.portal.store import PortalStore

REPO = Path(__file__).resolve().parent.parent
FORM_ID, VERSION = "bench_workers", "1"
SPEC: dict[str, Any] = {"type": "survey", "name": "data", "id_string": FORM_ID, "children": []}
BATCH = 50
BUDGET_2 = 1.7


@contextmanager
def cluster() -> Iterator[str]:
    """A PostgreSQL cluster's admin URL: the tests' if set, else a throwaway one."""
    found = os.environ.get("KIOSK_TEST_PG")
    if found:
        yield found
        return
    folder = tempfile.mkdtemp(prefix="kiosk-pg-bench.")
    script = str(REPO / "scripts" / "pgtmp")
    dsn = subprocess.run(
        [script, "start", folder], check=True, capture_output=True, text=True
    ).stdout.strip()
    try:
        yield dsn
    finally:
        subprocess.run([script, "stop", folder], check=False)


@contextmanager
def database(admin: str) -> Iterator[str]:
    import psycopg

    name = f"bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(admin)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sealed_items(store: PortalStore, prefix: str, n: int) -> list[dict[str, object]]:
    """``n`` items sealed to the portal's current key, as a kiosk sends them."""
    key = store.sealing_key()
    items: list[dict[str, object]] = []
    for i in range(n):
        item_id, code = str(uuid.uuid4()), tracking.new_code(prefix)
        text = json.dumps({"full_name": f"Aliyev Vali {i}", "n": i}, separators=(",", ":"))
        blob = seal_payload(
            key, text, item_id, FORM_ID, VERSION, seal_dict.COMMON_DICTIONARY, code=code
        )
        items.append(
            {
                "id": item_id,
                "tracking_code": code,
                "form_id": FORM_ID,
                "form_version": VERSION,
                "lang": "uz_Latn",
                "created_at": now_iso(),
                "sealed": b64(blob),
                "content_hash": blob_hash(blob),
            }
        )
    return items


def one_run(admin: str, workers: int, kiosks: int, per_kiosk: int) -> float:
    """Stored submissions per second through ``workers`` worker processes."""
    with database(admin) as dsn, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "portal"
        store = PortalStore(folder, database=dsn)
        store.add_form(FORM_ID, VERSION, "bench", SPEC, "bench")
        portal = start_portal(
            folder, "127.0.0.1", 0, "--no-bundled", "--database", dsn, "--workers", str(workers)
        )
        try:
            loads: list[tuple[str, list[dict[str, object]]]] = []
            for k in range(kiosks):
                with PortalClient(portal.url) as client:
                    got = client.enroll(store.create_enrolment_code(f"bench {k}"), "bench")
                loads.append((got["token"], sealed_items(store, got["device_prefix"], per_kiosk)))
            errors: list[str] = []
            go = threading.Barrier(kiosks + 1)

            def kiosk(token: str, items: list[dict[str, object]]) -> None:
                with PortalClient(portal.url, token, timeout=120) as client:
                    go.wait()
                    for start in range(0, len(items), BATCH):
                        answer = client.send_batch(items[start : start + BATCH])  # type: ignore[arg-type]
                        if any(r.get("outcome") != "accepted" for r in answer.results):
                            errors.append("an item was not accepted")

            threads = [threading.Thread(target=kiosk, args=load) for load in loads]
            for thread in threads:
                thread.start()
            go.wait()
            started = time.perf_counter()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            stored = store.stats()["submissions"]
            if errors or stored != kiosks * per_kiosk:
                raise RuntimeError(f"{stored} stored of {kiosks * per_kiosk}: {errors[:3]}")
            return stored / elapsed
        finally:
            portal.stop()
            store.close()


def run(quick: bool = False) -> list[dict[str, Any]]:
    kiosks, per_kiosk = (4, 200) if quick else (8, 1000)
    rows: list[dict[str, Any]] = []
    with cluster() as admin:
        rates = {n: one_run(admin, n, kiosks, per_kiosk) for n in (1, 2, 4)}
    one = rates[1]
    cpus = os.cpu_count() or 1
    for n, rate in rates.items():
        ratio = round(rate / one, 2)
        extra: dict[str, Any] = {"baseline": round(one, 1), "ratio": ratio}
        if n == 2:
            extra.update(budget=f">= {BUDGET_2}x", met=ratio >= BUDGET_2)
        rows.append(
            result_row(
                "workers",
                f"submissions/s through {n} portal worker{'s' if n > 1 else ''} "
                f"(PostgreSQL, {cpus} CPUs shared with the load)",
                rate,
                "items/s",
                **extra,
            )
        )
    return rows


if __name__ == "__main__":
    from bench.__main__ import table

    print(table(run(quick=True)))
