"""Sync over an emulated 2G link (64 kbit/s, 300 ms RTT) through the fault proxy,
over plain http and over TLS (the proxy as a tunnel; TLS end to end, pinned).

The figure of merit is the sync time against payload bytes / link rate: the time a
perfect link-filling transfer of the raw answers would take. Batching amortises the
round trips and gzip shrinks the bytes, so the ratio can be below 1.
"""

from __future__ import annotations

import sys
from typing import Any

from bench import result_row
from bench.sync import payloads, portal_setup, timed_sync
from kiosk.wire import canonical_json
from sync.faultproxy import FaultProxy

LINK_BPS = 64_000
RTT = 0.300
BUDGET = 1.3


def run(quick: bool = False) -> list[dict[str, Any]]:
    n = 100 if quick else 1000
    with portal_setup() as setup:
        store = setup.kiosk("poor-link", n)
        # The answers' own bytes (canonical JSON): the outbox holds them sealed and
        # compressed now (kiosk/sealing.py), so its size_bytes would flatter nothing.
        payload_bytes = sum(len(canonical_json(p).encode()) for p in payloads(n, varied=False))
        with FaultProxy(setup.portal.url, bandwidth_bps=LINK_BPS, rtt=RTT, lifetime=1800) as proxy:
            seconds, report = timed_sync(store, proxy.url)
            wire_bytes = proxy.bytes_up + proxy.bytes_down
            requests = proxy.requests
    with portal_setup(tls=True) as setup:
        store = setup.kiosk("poor-link-tls", n)
        with FaultProxy(setup.portal.url, bandwidth_bps=LINK_BPS, rtt=RTT, lifetime=1800) as proxy:
            tls_seconds, _ = timed_sync(store, proxy.url)
            tls_wire = proxy.bytes_up + proxy.bytes_down
    ideal = payload_bytes * 8 / LINK_BPS
    ratio = seconds / ideal
    wire_ideal = wire_bytes * 8 / LINK_BPS

    def row(metric: str, value: float, unit: str, **extra: Any) -> dict[str, Any]:
        return result_row("poor_link", metric, value, unit, **extra)

    return [
        row(
            f"sync {n} submissions at 64 kbit/s, 300 ms RTT",
            seconds,
            "s",
            baseline=round(ideal, 3),
            ratio=round(ratio, 3),
            budget=f"<= {BUDGET}x payload/rate",
            met=ratio <= BUDGET,
        ),
        row(
            f"sync {n} submissions at 64 kbit/s, 300 ms RTT, over TLS",
            tls_seconds,
            "s",
            baseline=round(seconds, 3),
            ratio=round(tls_seconds / seconds, 3),
            budget="<= 1.2x plain http",
            met=tls_seconds / seconds <= 1.2,
        ),
        row(
            "bytes on the wire over TLS",
            tls_wire,
            "B",
            baseline=wire_bytes,
            ratio=round(tls_wire / wire_bytes, 3),
        ),
        row("payload bytes (uncompressed answers)", payload_bytes, "B"),
        row(
            "bytes on the wire (both directions, with HTTP)",
            wire_bytes,
            "B",
            baseline=payload_bytes,
            ratio=round(wire_bytes / payload_bytes, 3),
        ),
        row("sync time vs wire bytes / link rate", seconds / wire_ideal, "x"),
        row("requests over the link", requests, "req"),
        row("request bodies sent (gzip)", report.bytes_sent, "B"),
    ]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    for r in run(quick=quick):
        print(
            f"{r['metric']:<55} {r['value']:>12} {r['unit']:<6} "
            f"{'' if r['met'] is None else ('met' if r['met'] else 'NOT MET')}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
