"""Pure parts of the sync engine: back-off, Retry-After, bundle signing (no portal)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime

import pytest

from kiosk.wire import content_hash
from sync import bundle, wire
from sync.backoff import backoff_delay
from sync.client import parse_retry_after


@pytest.mark.parametrize(
    ("attempts", "full"), [(1, 2.0), (2, 4.0), (5, 32.0), (30, 900.0), (100_000, 900.0)]
)
def test_backoff_grows_is_jittered_and_capped(attempts: int, full: float) -> None:
    delays = [backoff_delay(attempts) for _ in range(200)]
    assert all(full / 2 <= d <= full for d in delays)
    assert len(set(delays)) > 100  # jitter: kiosks do not retry in lockstep


def test_retry_after_forms() -> None:
    now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 7 ", now) == 7.0
    assert parse_retry_after("Fri, 27 Nov 2026 09:01:30 GMT", now) == 90.0
    assert parse_retry_after("Fri, 27 Nov 2026 08:00:00 GMT", now) == 0.0  # past: now
    for bad in (None, "", "soon", "-5", "1.5e3"):
        assert parse_retry_after(bad, now) is None


def _items() -> list[dict]:
    payload = {"full_name": "Karimova Dilnoza", "n": 1}
    return [
        {
            "id": "0" * 8 + "-0000-4000-8000-" + "0" * 12,
            "payload": payload,
            "content_hash": content_hash(payload),
        }
    ]


def test_bundle_round_trip_and_signature() -> None:
    data = bundle.build(
        _items(),
        device_id="dev",
        device_prefix="ABC",
        token="secret",
        created_at="2026-11-27T09:00:00+00:00",
    )
    # Deterministic: the same queue exports to the same bytes.
    assert data == bundle.build(
        _items(),
        device_id="dev",
        device_prefix="ABC",
        token="secret",
        created_at="2026-11-27T09:00:00+00:00",
    )
    parsed = bundle.open_bundle(data)
    assert parsed.device_id == "dev" and parsed.count == 1
    bundle.verify(parsed, wire.bundle_key("secret"))
    assert list(bundle.items(parsed)) == _items()
    with pytest.raises(bundle.BundleError) as info:
        bundle.verify(parsed, wire.bundle_key("another token"))
    assert info.value.code == "bundle.signature"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not a kiosk bundle"),
        (b'{"format": "something else"}', "not a kiosk bundle"),
        (gzip.compress(b'{"format": "something else"}\n', mtime=0), "not a kiosk bundle"),
        (b"\x1f\x8b\x08\x00garbage", "damaged"),
        (
            gzip.compress(b'{"format":"mahalla-kiosk-bundle","version":99}\n', mtime=0),
            "unsupported version",
        ),
        (gzip.compress(b'{"format":"mahalla-kiosk-bundle","version":3}\n', mtime=0), "damaged"),
        (
            gzip.compress(b'{"format":"mahalla-kiosk-bundle","version":2}\n', mtime=0),
            "older version",
        ),
        (
            gzip.compress(b'{"count":1,"format":"mahalla-kiosk-bundle","items":[{}]}', mtime=0),
            "older version",
        ),
    ],
)
def test_bad_bundles_have_clear_messages(data: bytes, words: str) -> None:
    with pytest.raises(bundle.BundleError) as info:
        bundle.verify(bundle.open_bundle(data))
    assert words in info.value.text("en")
