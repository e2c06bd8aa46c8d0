"""Resident memory and per-item costs as the outbox grows (1k / 10k / 100k queued).

Each size runs in its own fresh process (so one size's memory cannot hide in
another's), over a queue built fast with bulk inserts that keep the database
consistent: valid tracking codes (random, as `kiosk.outbox.add` draws them, unique as
its retry keeps them), the codes-handed-out count, and a verifiable audit chain.
The figures at each size are compared with the smallest size: flat is the budget.
"""

from __future__ import annotations

import hashlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench import install_sealing_key
from kiosk import audit, tracking
from kiosk.outbox import SEQ_KEY
from kiosk.store import Store
from kiosk.wire import canonical_json, now_iso

SIZES = (1_000, 10_000, 100_000)
QUICK_SIZES = (1_000, 5_000, 20_000)
MEMORY_BUDGET_RATIO = 1.25
COST_BUDGET_RATIO = 2.0
CHUNK = 5_000
SEALED_BYTES = 300  # a sealed submission of a typical form (docs/performance.md)


def build_queue(data_dir: Path, n: int) -> None:
    """Fill the outbox with n queued items and their audit entries, in bulk."""
    with Store.open(data_dir) as store:
        prefix = store.device_prefix
        prev = audit.GENESIS
        ts = now_iso()
        rng = random.Random(n)  # seeded: fast, and the same queue every run
        codes: set[str] = set()
        for start in range(0, n, CHUNK):
            outbox, entries = [], []
            for seq in range(start + 1, min(n, start + CHUNK) + 1):
                # What a sealed item holds (kiosk/sealing.py): opaque bytes of a
                # sealed answer's size, hashed; the bench never opens them.
                body = rng.randbytes(SEALED_BYTES)
                digest = hashlib.sha256(body).hexdigest()
                # Current-shape codes, drawn again on a repeat like `outbox.add` does.
                code = tracking.new_code(prefix, rng=rng)
                while code in codes:
                    code = tracking.new_code(prefix, rng=rng)
                codes.add(code)
                sub_id = str(uuid.uuid4())
                outbox.append(
                    (
                        sub_id,
                        code,
                        "birth",
                        "1",
                        "uz_Cyrl",
                        body,
                        digest,
                        len(body),
                        ts,
                        ts,
                    )
                )
                details = canonical_json({"id": sub_id, "content_hash": digest})
                h = audit.row_hash(seq, ts, "bench", "submit", code, details, prev)
                entries.append((seq, ts, "bench", "submit", code, details, prev, h))
                prev = h
            with store.transaction() as db:
                db.conn.executemany(
                    "INSERT INTO outbox (id, tracking_code, form_id, form_version, lang, payload,"
                    " content_hash, size_bytes, created_at, next_attempt_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    outbox,
                )
                db.conn.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", entries)
        with store.transaction():
            store.set_setting(SEQ_KEY, n)
            store.set_setting(audit.COUNT_KEY, n)
            store.set_setting(audit.HEAD_KEY, prev)


def rss_kb() -> tuple[int, int]:
    """(current, peak) resident set size of this process in KiB."""
    values = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


def child(data_dir: Path, submits: int) -> dict:
    """What a kiosk does with a big queue: count, list a page, look up, submit."""
    times, counts_ms = [], []
    with Store.open(data_dir) as store:
        install_sealing_key(store)
        for _ in range(5):
            started = time.perf_counter()
            store.queue_counts()
            store.oldest_unsent_at()
            counts_ms.append((time.perf_counter() - started) * 1000)
        store.queue(state="queued", limit=100)
        for i in range(submits):
            started = time.perf_counter()
            sub = store.submit(None, {"i": i}, "uz_Latn", form_id="birth", form_version="1")
            times.append((time.perf_counter() - started) * 1000)
            store.status(sub.tracking_code)
        rss, peak = rss_kb()
    return {
        "rss_kb": rss,
        "peak_kb": peak,
        "submit_ms": statistics.median(times),
        "counts_ms": statistics.median(counts_ms),
    }


def measure(size: int, submits: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        build_queue(Path(tmp), size)
        out = subprocess.run(
            [sys.executable, "-m", "bench.scale", "--child", tmp, str(submits)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> list[dict]:
    sizes = QUICK_SIZES if quick else SIZES
    submits = 50 if quick else 200
    results = {size: measure(size, submits) for size in sizes}
    small = results[sizes[0]]
    rows = []
    for size in sizes:
        r = results[size]
        mem_ratio = r["peak_kb"] / small["peak_kb"]
        cost_ratio = r["submit_ms"] / small["submit_ms"]
        name = f"{size:,} queued"
        base = {"benchmark": "scale"}
        rows += [
            {**base, "metric": f"peak RSS, {name}", "value": r["peak_kb"] / 1024, "unit": "MiB",
             "baseline": small["peak_kb"] / 1024, "ratio": mem_ratio,
             "budget": f"<= {MEMORY_BUDGET_RATIO}x of {sizes[0]:,}",
             "met": mem_ratio <= MEMORY_BUDGET_RATIO},
            {**base, "metric": f"submit p50, {name}", "value": r["submit_ms"], "unit": "ms",
             "baseline": small["submit_ms"], "ratio": cost_ratio,
             "budget": f"<= {COST_BUDGET_RATIO}x of {sizes[0]:,}",
             "met": cost_ratio <= COST_BUDGET_RATIO},
            {**base, "metric": f"queue counts, {name}", "value": r["counts_ms"], "unit": "ms",
             "baseline": small["counts_ms"], "ratio": r["counts_ms"] / small["counts_ms"],
             "budget": None, "met": None},
        ]  # fmt: skip
    return rows


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        print(json.dumps(child(Path(sys.argv[2]), int(sys.argv[3]))))
    else:
        for result in run(quick="--quick" in sys.argv):
            print(result)
