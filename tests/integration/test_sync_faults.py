"""The portal failing through the fault proxy: nothing lost, nothing duplicated.

The real portal runs in a subprocess; the fault proxy sits between it and the sync
engine and answers 500, 503/429 with Retry-After, delays past the client's timeout,
drops connections, and resets or truncates responses after the portal has stored the
batch (so the resend must come back as a duplicate).
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sync import faultproxy
from sync.client import PortalClient
from sync.engine import SyncEngine
from sync.faultproxy import FaultProxy
from sync.health import probe
from tests.integration.synckit import REPO_ROOT, Kiosk, outbox, queue_submissions


def via(store, url: str, **kw) -> PortalClient:
    """A client for ``store``'s enrolment that goes through ``url`` (the proxy)."""
    return PortalClient(url, store.state.portal_token, pins=store.state.portal_pins, **kw)


@pytest.fixture
def proxy(kiosk: Kiosk) -> Iterator[FaultProxy]:
    with FaultProxy(kiosk.portal.url, lifetime=120, io_timeout=30) as p:
        yield p


def engine_for(kiosk: Kiosk, proxy: FaultProxy, store, timeout: float = 5.0, **kw) -> SyncEngine:
    # The proxy is another origin, which `from_store` refuses: a test builds the client
    # to go through it with the store's token and pins itself.
    client = via(store, proxy.url, timeout=timeout)
    return SyncEngine(store, client, base_delay=0.05, max_delay=0.2, **kw)


def assert_exactly_once(kiosk: Kiosk, store, n: int) -> None:
    rows = outbox(store)
    assert [r["state"] for r in rows] == ["sent"] * n
    assert all(r["application_number"] for r in rows)
    assert len({r["application_number"] for r in rows}) == n
    assert kiosk.portal_stats()["submissions"] == n


def test_500_backs_off_and_records_schedule(kiosk: Kiosk, proxy: FaultProxy) -> None:
    store = kiosk.store()
    queue_submissions(store, 5)
    proxy.push(faultproxy.status(500))
    report = engine_for(kiosk, proxy, store).run(pull=False)
    assert report.error and "500" in report.error
    assert report.waiting == 5 and report.sent == 0
    rows = outbox(store)
    assert all(r["attempts"] == 1 and r["state"] == "queued" for r in rows)
    assert all("500" in r["last_error"] for r in rows)
    assert store.get_setting("last_sync_error") == report.error
    # The schedule is in the rows: a new engine (a restart) resumes it.
    # max_wait is a generous deadline: the run returns as soon as every item is sent.
    report = engine_for(kiosk, proxy, store).run(max_wait=120)
    assert report.error is None and report.sent == 5 and report.waiting == 0
    assert store.get_setting("last_sync_error") is None
    assert_exactly_once(kiosk, store, 5)


@pytest.mark.parametrize("code", [503, 429])
def test_retry_after_is_honoured(kiosk: Kiosk, proxy: FaultProxy, code: int) -> None:
    store = kiosk.store()
    queue_submissions(store, 3)
    proxy.push(faultproxy.status(code, retry_after="120"))
    before = datetime.now(UTC)
    report = engine_for(kiosk, proxy, store).run(pull=False)
    assert report.error and str(code) in report.error
    for row in outbox(store):
        wait = (datetime.fromisoformat(row["next_attempt_at"]) - before).total_seconds()
        # The portal's 120 s, not the engine's 0.05 s backoff base.
        assert 119 <= wait <= 180
    # Not due yet: a background run sends nothing; a forced run (kiosk sync) does.
    report = engine_for(kiosk, proxy, store).run(pull=False)
    assert report.sent == 0 and report.waiting == 3
    report = engine_for(kiosk, proxy, store).run(pull=False, force=True)
    assert report.sent == 3 and report.waiting == 0
    assert_exactly_once(kiosk, store, 3)


def test_http_date_retry_after(kiosk: Kiosk, proxy: FaultProxy) -> None:
    store = kiosk.store()
    queue_submissions(store, 1)
    proxy.push(faultproxy.status(503, retry_after="Fri, 01 Jan 2100 00:00:00 GMT"))
    engine_for(kiosk, proxy, store).run(pull=False)
    (row,) = outbox(store)
    # Far-future dates are capped (6 hours), never taken literally.
    wait = (datetime.fromisoformat(row["next_attempt_at"]) - datetime.now(UTC)).total_seconds()
    assert 5 * 3600 < wait <= 6 * 3600


def test_timeout_then_success(kiosk: Kiosk, proxy: FaultProxy) -> None:
    store = kiosk.store()
    queue_submissions(store, 4)
    proxy.push(faultproxy.delay(3.0))
    report = engine_for(kiosk, proxy, store, timeout=0.5).run(pull=False)
    assert report.error and report.waiting == 4
    report = engine_for(kiosk, proxy, store, timeout=5).run(pull=False, force=True)
    assert report.sent + report.duplicates == 4
    assert_exactly_once(kiosk, store, 4)


@pytest.mark.parametrize("fault", [faultproxy.reset(5), faultproxy.truncate(5), faultproxy.drop()])
def test_lost_answer_resend_is_duplicate(kiosk: Kiosk, proxy: FaultProxy, fault) -> None:
    store = kiosk.store()
    queue_submissions(store, 6)
    proxy.push(fault)
    report = engine_for(kiosk, proxy, store).run(pull=False)
    assert report.error and report.waiting == 6
    report = engine_for(kiosk, proxy, store).run(pull=False, force=True)
    assert report.waiting == 0
    if fault.kind == "drop":  # dropped before the portal saw it: all new
        assert report.sent == 6 and report.duplicates == 0
    else:  # the portal stored the batch, the answer was lost: all duplicates
        assert report.sent == 0 and report.duplicates == 6
    stats = kiosk.portal_stats()
    assert stats["duplicates"] == report.duplicates
    assert_exactly_once(kiosk, store, 6)


@pytest.mark.slow
def test_random_faults_many_batches(kiosk: Kiosk, proxy: FaultProxy) -> None:
    store = kiosk.store()
    n = 300
    queue_submissions(store, n)
    rng = random.Random(7)
    choices = [
        faultproxy.status(500),
        faultproxy.status(503, retry_after="0"),
        faultproxy.status(429, retry_after="0"),
        faultproxy.reset(rng.randint(0, 200)),
        faultproxy.truncate(rng.randint(0, 200)),
        faultproxy.drop(),
        faultproxy.PASS,
    ]
    proxy.push(*(rng.choice(choices) for _ in range(60)))
    sent = duplicates = 0
    for _ in range(200):
        report = engine_for(kiosk, proxy, store, batch_items=20).run(pull=False, force=True)
        sent += report.sent
        duplicates += report.duplicates
        if report.waiting == 0:
            break
    assert report.waiting == 0
    # Each item settled once in the kiosk: accepted, or a duplicate when the portal's
    # first answer was lost on the way.
    assert sent + duplicates == n and duplicates > 0
    assert_exactly_once(kiosk, store, n)
    assert kiosk.portal_stats()["duplicates"] >= duplicates


def test_batch_refused_whole_is_bisected_to_the_bad_item(kiosk: Kiosk, proxy: FaultProxy) -> None:
    store = kiosk.store()
    codes = queue_submissions(store, 4)
    # 400 for the batch of 4, then for its first half (2), then for the first single.
    proxy.push(faultproxy.status(400), faultproxy.status(400), faultproxy.status(400))
    report = engine_for(kiosk, proxy, store).run(pull=False)
    assert [c for c, _ in report.rejected] == [codes[0]]
    assert "HTTP 400" in report.rejected[0][1]
    assert report.sent == 3 and report.waiting == 0
    assert kiosk.portal_stats()["submissions"] == 3


def test_health_probe(kiosk: Kiosk, proxy: FaultProxy) -> None:
    assert probe(kiosk.portal.url)
    assert probe(proxy.url)
    proxy.push(faultproxy.status(503))
    assert not probe(proxy.url)
    proxy.push(faultproxy.delay(2))
    assert not probe(proxy.url, timeout=0.3)
    assert not probe("http://127.0.0.1:9")
    assert not probe("not a url")


def test_fault_proxy_runs_as_a_subprocess(kiosk: Kiosk) -> None:
    """`python -m sync.faultproxy` (the 2G link for manual trials) relays and stops."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync.faultproxy",
            "--upstream",
            kiosk.portal.url,
            "--bandwidth",
            "640000",
            "--rtt",
            "0.05",
            "--lifetime",
            "60",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line[line.index("http://") :].strip()
        assert probe(url, timeout=10)
        with kiosk.store() as store:
            queue_submissions(store, 20)
            client = via(store, url)
            report = SyncEngine(store, client).run(pull=False)
        assert report.sent == 20
    finally:
        proc.terminate()
        proc.wait(10)


def test_wrong_portal_404_never_quarantines(kiosk: Kiosk, proxy: FaultProxy) -> None:
    store = kiosk.store()
    queue_submissions(store, 3)
    proxy.push(faultproxy.status(404))
    report = engine_for(kiosk, proxy, store).run(pull=False)
    assert report.rejected == [] and report.waiting == 3
    assert report.error and "404" in report.error
    assert all(r["state"] == "queued" and r["attempts"] == 1 for r in outbox(store))
