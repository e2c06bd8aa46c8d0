"""Sync throughput on loopback: batched vs one request per submission, and wire bytes;
the same batched sync over TLS (a test CA's certificate, pinned) against plain http.

Runs the real portal (`kiosk portal serve`) in a subprocess and the sync engine
in-process, over realistic payloads (a bundled form's sample answers). The
one-request-per-submission figure (what ODK Collect does) is measured on a subset
and scaled to the full count, so the benchmark stays minutes, not tens of minutes.
"""

from __future__ import annotations

import functools
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import result_row
from kiosk import outbox
from kiosk.store import Store
from sync.client import PortalClient
from sync.engine import SyncEngine
from sync.enrolment import enroll
from sync.portal.process import PortalProcess, create_enrolment_code, start_portal
from sync.portal.store import PortalStore

if TYPE_CHECKING:
    from kiosk.form import Form

# A real bundled form, so the sealing dictionary (kiosk/seal_dict.py) is its own.
FORM_NAME = "address_registration"
BUDGET_SEALED_BYTES = 176  # issue 13: 2x the 88 B of unsealed items on the same mix


@functools.cache
def bench_form() -> Form:
    from kiosk.catalog import bundled_form_files, load_form_file

    (path,) = [p for p in bundled_form_files() if p.stem == FORM_NAME]
    return load_form_file(path)


def sample_payload() -> dict[str, Any]:
    """A realistic answer set: the bench form's sample."""
    from kiosk.catalog import load_sample

    return load_sample(FORM_NAME)


# The varied mix: every submission another person. Made-up names and places, drawn
# with a seeded generator; the values differ as real ones do (no two PINFLs alike).
_GIVEN = ["Malika", "Dilnoza", "Sardor", "Jasur", "Nodira", "Bobur", "Zarina", "Otabek"]
_FAMILY = ["Tursunov", "Karimov", "Rahimov", "Yusupov", "Saidov", "Nazarov", "Ergashev"]
_FATHER = ["Akmal", "Anvar", "Shavkat", "Baxtiyor", "Rustam", "Islom", "Tolib", "Sherzod"]
_STREET = ["Navoiy", "Mustaqillik", "Amir Temur", "Bogʻbon", "Istiqlol", "Guliston"]


def varied_payload(i: int, rng: random.Random) -> dict[str, Any]:
    """The sample's shape with person-specific values drawn per submission."""
    female = rng.random() < 0.5
    family = rng.choice(_FAMILY) + ("a" if female else "")
    name = f"{family} {rng.choice(_GIVEN)} {rng.choice(_FATHER)}"
    name += " qizi" if female else " oʻgʻli"

    def pinfl() -> str:
        return "".join(rng.choice("0123456789") for _ in range(14))

    def day(start: int, end: int) -> str:
        return f"{rng.randint(start, end)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"

    payload = dict(sample_payload())
    payload.update(
        full_name=name,
        pinfl=pinfl(),
        passport=f"A{rng.choice('ABCD')}{rng.randint(0, 9_999_999):07d}",
        birth_date=day(1950, 2005),
        phone=f"+998 9{rng.randint(0, 9)} {rng.randint(100, 999)} "
        f"{rng.randint(10, 99)} {rng.randint(10, 99)}",
        address=f"{rng.choice(_STREET)} koʻchasi, {rng.randint(1, 120)}-uy",
        apartment=rng.randint(1, 90),
        owner_name=f"{family} {rng.choice(_FATHER)} {rng.choice(_FATHER)}ovich",
        owner_pinfl=pinfl(),
        move_date=day(2025, 2026),
        prev_address=f"{rng.choice(_STREET)} koʻchasi, {rng.randint(1, 120)}-uy",
        family=[
            {
                "member_name": f"{family} {rng.choice(_GIVEN)} oʻgʻli",
                "member_relation": "child",
                "member_birth_date": day(2010, 2024),
                "member_pinfl": pinfl(),
            }
        ],
        seq=i,
    )
    return payload


@dataclass
class Setup:
    root: Path
    portal: PortalProcess

    def kiosk(self, name: str, n: int, varied: bool = False) -> Store:
        """A new enrolled kiosk with ``n`` queued (sealed) submissions: the sample with a
        sequence number each, or (``varied``) other people's values each time."""
        store = Store.open(self.root / name)
        code = create_enrolment_code(self.portal.data_dir)
        enroll(store, self.portal.url, code, name, self.portal.pins)
        with store.transaction():
            for payload in payloads(n, varied):
                store.submit(bench_form(), payload, "uz_Latn")
        return store


def payloads(n: int, varied: bool) -> list[dict[str, Any]]:
    rng = random.Random(13)
    sample = sample_payload()
    return [varied_payload(i, rng) if varied else {**sample, "seq": i} for i in range(n)]


def unsealed_bytes(n: int, varied: bool, batch_items: int = 500) -> int:
    """The gzip request bytes the same submissions cost before sealing: items carrying
    the answers as JSON and their SHA-256 (protocol v2 before issue 13), batched and
    gzipped as the client does (`sync.transport.encode_batch`). Computed, not sent:
    a portal now refuses clear text."""
    import uuid

    from kiosk import tracking
    from kiosk.wire import canonical_and_hash, now_iso
    from sync.transport import encode_batch

    items: list[Any] = []
    for payload in payloads(n, varied):
        body, digest = canonical_and_hash(payload)
        items.append(
            {
                "id": str(uuid.uuid4()),
                "tracking_code": tracking.new_code("ABC"),
                "form_id": FORM_NAME,
                "form_version": bench_form().version,
                "lang": "uz_Latn",
                "payload": payload,
                "content_hash": digest,
                "created_at": now_iso(),
                "consent": False,
                "operator_id": None,
            }
        )
    return sum(len(encode_batch(items[i : i + batch_items])) for i in range(0, n, batch_items))


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
        form = bench_form()
        portal_store.add_form(form.id, form.version, form.category, form.spec, "admin")
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
        varied_n = min(n, 2000)
        _, varied_report = timed_sync(setup.kiosk("varied", varied_n, varied=True))
    with portal_setup(tls=True) as setup:
        tls_seconds, _ = timed_sync(setup.kiosk("batched-tls", n))
    tls_ratio = tls_seconds / seconds
    per_request = single_seconds / single_n * n
    speedup = per_request / seconds
    gz_per_item = report.bytes_sent / n
    plain_per_item = plain / n
    unsealed_same = unsealed_bytes(n, varied=False) / n
    sealed_varied = varied_report.bytes_sent / varied_n
    unsealed_varied = unsealed_bytes(varied_n, varied=True) / varied_n
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
            "request bytes per submission, gzip, sealed",
            gz_per_item,
            "B",
            baseline=round(unsealed_same, 1),
            ratio=round(gz_per_item / unsealed_same, 3),
            budget=f"<= {BUDGET_SEALED_BYTES} B",
            met=gz_per_item <= BUDGET_SEALED_BYTES,
        ),
        row("request bytes per submission, gzip, unsealed (same mix)", unsealed_same, "B"),
        row("request bytes per submission, no gzip, sealed", plain_per_item, "B"),
        row(
            f"request bytes per submission, gzip, sealed, varied mix ({varied_n})",
            sealed_varied,
            "B",
            baseline=round(unsealed_varied, 1),
            ratio=round(sealed_varied / unsealed_varied, 3),
        ),
        row("request bytes per submission, gzip, unsealed, varied mix", unsealed_varied, "B"),
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
