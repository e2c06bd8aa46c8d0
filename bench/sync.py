"""Sync throughput on loopback: batched vs one request per submission, and wire bytes;
the same batched sync over TLS (a test CA's certificate, pinned) against plain http.

Runs the real portal (`kiosk portal serve`) in a subprocess and the sync engine
in-process, over realistic payloads (a bundled form's sample answers). The
one-request-per-submission figure (what ODK Collect does) is measured on a subset
and scaled to the full count, so the benchmark stays minutes, not tens of minutes.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import result_row
from kiosk import outbox
from kiosk.store import Store
from sync.client import PortalClient
from sync.engine import SyncEngine
from sync.enrolment import enroll
from sync.portal.process import PortalProcess, create_enrolment_code, start_portal
from sync.portal.store import PortalStore

FORM_ID = "bench_form"
FORM_VERSION = "1"
SPEC = {"type": "survey", "name": "data", "id_string": FORM_ID, "version": FORM_VERSION}


def sample_payload() -> dict[str, Any]:
    """A realistic answer set: the first bundled form's sample, else a typical one."""
    from kiosk.catalog import CatalogError, bundled_form_files, load_sample

    for path in bundled_form_files():
        try:
            return load_sample(path.stem)
        except CatalogError:  # a form without a sample: try the next
            continue
    return {
        "full_name": "Abdullayev Sardor Baxtiyorovich",
        "pinfl": "31507951234567",
        "phone": "+998901234567",
        "region": "tashkent_city",
        "district": "yunusobod",
        "address": "Yunusobod tumani, 4-mavze, 12-uy, 34-xonadon",
        "reason": "Nafaqa tayinlash uchun ariza",
    }


@dataclass
class Setup:
    root: Path
    portal: PortalProcess

    def kiosk(self, name: str, n: int) -> Store:
        """A new enrolled kiosk with ``n`` queued submissions."""
        store = Store.open(self.root / name)
        code = create_enrolment_code(self.portal.data_dir)
        enroll(store, self.portal.url, code, name, self.portal.pins)
        payload = sample_payload()
        with store.transaction():
            for i in range(n):
                store.submit(
                    None,
                    {**payload, "seq": i},
                    "uz_Latn",
                    form_id=FORM_ID,
                    form_version=FORM_VERSION,
                )
        return store


def write_test_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 from a throw-away test CA (trustme), key at 0600.

    ECDSA P-256, as docs/keys.md recommends: a smaller handshake on a 2G link."""
    import os

    import trustme

    directory.mkdir(parents=True, exist_ok=True)
    leaf = trustme.CA(key_type=trustme.KeyType.ECDSA).issue_cert("127.0.0.1", "localhost")
    certfile, keyfile = directory / "cert.pem", directory / "key.pem"
    certfile.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    fd = os.open(keyfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(leaf.private_key_pem.bytes())
    return certfile, keyfile


@contextmanager
def portal_setup(tls: bool = False) -> Iterator[Setup]:
    """A portal on loopback with the bench form: plain http, or https when ``tls``."""
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        root = Path(tmp)
        portal_store = PortalStore(root / "portal")
        portal_store.add_form(FORM_ID, FORM_VERSION, "bench", SPEC, "admin")
        portal_store.close()
        certfile, keyfile = write_test_cert(root / "tls") if tls else (None, None)
        portal = start_portal(
            root / "portal", "127.0.0.1", 0, "--no-bundled", certfile=certfile, keyfile=keyfile
        )
        try:
            yield Setup(root, portal)
        finally:
            portal.stop()


def timed_sync(store: Store, url: str | None = None, **engine_kw: Any) -> tuple[float, Any]:
    """One forced sync, timed; through ``url`` (a proxy: another origin, so the client is
    built with the store's token and pins) or to the enrolled portal."""
    if url is None:
        client = PortalClient.from_store(store)
        assert client is not None
    else:
        client = PortalClient(url, store.state.portal_token, pins=store.state.portal_pins)
    with client:
        engine = SyncEngine(store, client, **engine_kw)
        start = time.perf_counter()
        report = engine.run(pull=False, force=True)
        elapsed = time.perf_counter() - start
    if report.error or report.waiting:
        raise RuntimeError(f"sync did not finish: {report.error} ({report.waiting} waiting)")
    return elapsed, report


def plain_body_bytes(store: Store, batch_items: int, batch_bytes: int) -> int:
    """Size of the same request bodies without gzip."""
    total = 0
    for batch in outbox.iter_batches(store.db, None, batch_items, batch_bytes):
        items = [row.item() for row in batch]
        total += len(
            json.dumps({"items": items}, ensure_ascii=False, separators=(",", ":")).encode()
        )
    return total


def row(metric: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
    return result_row("sync", metric, value, unit, **extra)


def run(quick: bool = False) -> list[dict[str, Any]]:
    n = 1000 if quick else 10_000
    single_n = 100 if quick else 500
    with portal_setup() as setup:
        batched = setup.kiosk("batched", n)
        # Measure the bodies without gzip before the items are sent (they leave the queue).
        plain = plain_body_bytes(batched, 500, 256 * 1024)
        seconds, report = timed_sync(batched)
        single = setup.kiosk("single", single_n)
        single_seconds, _ = timed_sync(single, batch_items=1)
    with portal_setup(tls=True) as setup:
        tls_seconds, _ = timed_sync(setup.kiosk("batched-tls", n))
    tls_ratio = tls_seconds / seconds
    per_request = single_seconds / single_n * n
    speedup = per_request / seconds
    gz_per_item = report.bytes_sent / n
    plain_per_item = plain / n
    return [
        row(
            f"sync {n} queued submissions, batched, loopback",
            seconds,
            "s",
            budget="< 10 s",
            met=seconds < 10,
        ),
        row(
            f"sync {n} queued submissions, batched, loopback over TLS (pinned)",
            tls_seconds,
            "s",
            baseline=round(seconds, 3),
            ratio=round(tls_ratio, 3),
            budget="<= 1.2x plain http",
            met=tls_ratio <= 1.2,
        ),
        row(f"one request per submission, {n} (scaled from {single_n})", per_request, "s"),
        row(
            "speed-up of batching",
            speedup,
            "x",
            baseline=round(per_request, 3),
            ratio=round(speedup, 2),
            budget=">= 10x",
            met=speedup >= 10,
        ),
        row(
            "request bytes per submission, gzip",
            gz_per_item,
            "B",
            baseline=round(plain_per_item, 1),
            ratio=round(gz_per_item / plain_per_item, 3),
        ),
        row("request bytes per submission, no gzip", plain_per_item, "B"),
    ]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    for r in run(quick=quick):
        print(
            f"{r['metric']:<60} {r['value']:>12} {r['unit']:<3} "
            f"{'' if r['met'] is None else ('met' if r['met'] else 'NOT MET')}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
