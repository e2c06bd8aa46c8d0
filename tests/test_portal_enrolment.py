"""Enrolment codes and the guessing limit at the storage level, on an injected clock.

The portal's clock is the only one that matters (codes expire and wrong guesses leave
the window on it), so these tests move it by hand: nothing sleeps. The same limits
across real portal processes are tests/integration/test_enrolment.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk import enrolment_code, tracking
from kiosk.wire import ALPHABET
from sync.portal.storage import (
    ENROL_GLOBAL_LIMIT,
    ENROL_SOURCE_LIMIT,
    ENROL_WINDOW,
    EnrolmentRefused,
    PortalStorage,
    PortalStoreError,
    enrol_source,
)
from sync.portal.store import MIGRATIONS, PortalStore


class Clock:
    """The portal's time, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


BACKENDS: dict[str, Callable[[Path, Clock], PortalStorage]] = {
    "sqlite": lambda path, clock: PortalStore(path, clock=clock)
}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=sorted(BACKENDS))
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, clock: Clock
) -> Iterator[PortalStorage]:
    store = BACKENDS[request.param](tmp_path / "portal", clock)
    try:
        yield store
    finally:
        store.close()


def wrong_code() -> str:
    """A well-formed code (right length and check symbol) the portal never made."""
    return enrolment_code.format_code(enrolment_code.new_code())


def refusal(call: Callable[[], object]) -> EnrolmentRefused:
    with pytest.raises(EnrolmentRefused) as refused:
        call()
    return refused.value


def test_codes_are_long_self_checking_and_forgiving() -> None:
    code = enrolment_code.new_code()
    assert len(code) == enrolment_code.CODE_LEN == 14 and set(code) <= set(ALPHABET)
    assert enrolment_code.CODE_RANDOM * 4.95 >= 64  # log2(31) > 4.95: at least 64 bits
    shown = enrolment_code.format_code(code)
    assert shown.replace("-", "") == code
    cyrillic = shown.lower().translate(str.maketrans("aekmhpctxy3", "аекмнрстху3"))
    assert enrolment_code.normalize(f"  {cyrillic} ") == code
    assert enrolment_code.normalize(shown.replace("-", " ")) == code
    # Any one wrong symbol is caught by the check symbol: "mistyped", never sent.
    for i in range(len(code)):
        for other in ALPHABET:
            if other != code[i]:
                assert enrolment_code.normalize(code[:i] + other + code[i + 1 :]) is None
    for junk in ("", "ABCD", code + "A", code[:-1], "0" * 14, None, 7, "x" * 500):
        assert enrolment_code.normalize(junk) is None
    assert tracking.is_valid(code)


def test_a_code_expires_on_the_portals_clock(storage: PortalStorage, clock: Clock) -> None:
    code = storage.create_enrolment_code("k", ttl=timedelta(minutes=30))
    clock.advance(minutes=30)
    assert refusal(lambda: storage.enroll(code, "k")).body["code"] == "enrol.code"
    fresh = storage.create_enrolment_code("k", ttl=timedelta(minutes=30))
    clock.advance(minutes=29)
    assert storage.enroll(fresh, "k")["name"] == "k"


def test_codes_need_a_name_and_a_sane_validity(storage: PortalStorage) -> None:
    for bad in ("", "   ", "x" * 201, "tab\x07"):
        with pytest.raises(PortalStoreError):
            storage.create_enrolment_code(bad)
    with pytest.raises(PortalStoreError):
        storage.create_enrolment_code("k", device_id="not-a-uuid")
    for ttl in (timedelta(seconds=30), timedelta(days=31)):
        with pytest.raises(PortalStoreError):
            storage.create_enrolment_code("k", ttl=ttl)


def test_only_a_hash_of_the_code_is_stored(tmp_path: Path, clock: Clock) -> None:
    store = PortalStore(tmp_path / "portal", clock=clock)
    try:
        code = store.create_enrolment_code("k")
    finally:
        store.close()
    data = b"".join(p.read_bytes() for p in (tmp_path / "portal").iterdir() if p.is_file())
    canon = code.replace("-", "").encode()
    assert canon not in data and code.encode() not in data
    assert enrolment_code.code_hash(code.replace("-", "")).encode() in data


def test_five_wrong_codes_from_one_source_then_429_until_the_window_moves(
    storage: PortalStorage, clock: Clock
) -> None:
    good = storage.create_enrolment_code("k")
    for _ in range(ENROL_SOURCE_LIMIT):
        wrong = refusal(lambda: storage.enroll(wrong_code(), "k", source="10.0.0.1"))
        assert wrong.body["code"] == "enrol.code"
        clock.advance(minutes=1)  # guesses at 9:00 .. 9:04; now 9:05
    limited = refusal(lambda: storage.enroll(good, "k", source="10.0.0.1"))
    assert limited.body["code"] == "enrol.rate_limited"
    # Free when the oldest of the five leaves the window: 9:10, five minutes from now.
    assert limited.retry_after == 5 * 60 and limited.body["params"] == {"minutes": "5"}
    # Another source is not held up, and the limited code was not spent.
    other = storage.create_enrolment_code("other")
    assert storage.enroll(other, "k", source="10.0.0.2")["name"] == "other"
    clock.advance(minutes=4, seconds=59)
    assert refusal(lambda: storage.enroll(good, "k", source="10.0.0.1")).retry_after == 1
    clock.advance(seconds=1)
    assert storage.enroll(good, "k", source="10.0.0.1")["name"] == "k"
    # Four guesses are still in the window: one more wrong code and it is closed again.
    refusal(lambda: storage.enroll(wrong_code(), "k", source="10.0.0.1"))
    again = refusal(lambda: storage.enroll(wrong_code(), "k", source="10.0.0.1"))
    assert again.body["code"] == "enrol.rate_limited" and again.retry_after == 60


def test_the_global_ceiling_holds_across_sources(storage: PortalStorage, clock: Clock) -> None:
    per_source = ENROL_SOURCE_LIMIT - 1  # each source stays under its own limit
    sources = [f"10.1.{n // 250}.{n % 250}" for n in range(ENROL_GLOBAL_LIMIT)]
    for n in range(ENROL_GLOBAL_LIMIT):
        source = sources[n // per_source]
        refusal(lambda: storage.enroll(wrong_code(), "k", source=source))  # noqa: B023
    good = storage.create_enrolment_code("k")
    limited = refusal(lambda: storage.enroll(good, "k", source="192.0.2.7"))
    assert limited.body["code"] == "enrol.rate_limited"
    assert limited.retry_after == ENROL_WINDOW.total_seconds()
    clock.advance(minutes=10)
    assert storage.enroll(good, "k", source="192.0.2.7")["name"] == "k"


def test_refusals_of_a_right_code_are_not_guesses(storage: PortalStorage) -> None:
    victim = storage.enroll(storage.create_enrolment_code("victim"), "k", str(uuid.uuid4()))
    unbound = storage.create_enrolment_code("thief")
    for _ in range(ENROL_SOURCE_LIMIT + 1):
        refused = refusal(lambda: storage.enroll(unbound, "k", victim["device_id"], source="s"))
        assert refused.body["code"] == "enrol.device_bound"
    assert storage.enroll(unbound, "k", source="s")["name"] == "thief"


def test_sources_are_addresses_and_ipv6_counts_by_its_64() -> None:
    assert enrol_source("203.0.113.9") == "203.0.113.9"
    assert enrol_source("2001:db8:1:2:aaaa::1") == enrol_source("2001:db8:1:2:bbbb::9")
    assert enrol_source("2001:db8:1:2::1") != enrol_source("2001:db8:1:3::1")
    assert enrol_source("::ffff:203.0.113.9") == "203.0.113.9"
    assert enrol_source(None) == "unknown" and enrol_source("local") == "local"


def test_codes_made_before_the_upgrade_no_longer_enrol(tmp_path: Path) -> None:
    """The old 8-symbol codes had no name: after the schema step they are void."""
    import sqlite3

    from sync.portal.store import SCHEMA

    path = tmp_path / "portal"
    path.mkdir()
    conn = sqlite3.connect(path / "portal.db")
    conn.executescript(SCHEMA)
    conn.execute(
        "INSERT INTO enrolment_codes (code_hash, created_at, expires_at) "
        "VALUES ('h', '2026-01-01', '2999-01-01')"
    )
    conn.commit()
    conn.close()
    store = PortalStore(path)
    try:
        version = store.conn.execute("PRAGMA user_version").fetchone()[0]
        assert version == len(MIGRATIONS) >= 1
        row = store.conn.execute("SELECT name, device_id FROM enrolment_codes").fetchone()
        assert (row["name"], row["device_id"]) == (None, None)
    finally:
        store.close()
