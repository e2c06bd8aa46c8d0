"""Open data (docs/open-data.md): small cells suppressed so that no published total gives
one away, whole past months only, the same figures in JSON and CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync.portal import open_data
from sync.portal.open_data import MonthProblem, Stats, check_month
from sync.portal.store import PortalStore
from sync.portal.suppression import THRESHOLD, Published, suppress
from tests import sealkit
from tests.test_portal_storage import SPEC, item

Line = tuple[list[int | None], int | None]  # published cells, published total


def published_lines(shown: Published) -> list[Line]:
    """Every equation a reader can write from the published table alone."""
    lines: list[Line] = [
        (list(row), total) for row, total in zip(shown.cells, shown.row_totals, strict=True)
    ]
    for j, total in enumerate(shown.col_totals):
        lines.append(([row[j] for row in shown.cells], total))
    lines.append((list(shown.row_totals), shown.total))
    lines.append((list(shown.col_totals), shown.total))
    return lines


def recoverable(line: Line) -> bool:
    """Whether a hidden entry of a line can be worked out from the line: one hidden entry
    (a cell or the total), or hidden cells that must all be 0 (total minus the rest)."""
    cells, total = line
    hidden = [c for c in cells if c is None] + ([None] if total is None else [])
    if not hidden:
        return False
    if len(hidden) == 1:
        return True
    if total is None:
        return False
    return total - sum(c for c in cells if c is not None) == 0


def table_lines(table: open_data.ServiceTable, statuses: Sequence[str]) -> list[Line]:
    """The published equations of one service's table in the JSON answer."""
    rows = table["regions"]
    lines: list[Line] = [([r["counts"][s] for s in statuses], r["total"]) for r in rows]
    for s in statuses:
        lines.append(([r["counts"][s] for r in rows], table["status_totals"][s]))
    lines.append(([r["total"] for r in rows], table["total"]))
    lines.append(([table["status_totals"][s] for s in statuses], table["total"]))
    return lines


grids = st.integers(min_value=1, max_value=4).flatmap(
    lambda rows: st.integers(min_value=1, max_value=5).flatmap(
        lambda cols: st.lists(
            st.lists(
                st.one_of(st.integers(0, 6), st.integers(0, 60)), min_size=cols, max_size=cols
            ),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(grids)
def test_no_suppressed_cell_can_be_recovered_from_a_published_total(
    counts: list[list[int]],
) -> None:
    shown = suppress(counts)
    rows, cols = len(counts), len(counts[0])
    # Every count under the threshold is hidden, cells and totals alike; never shown as 0.
    for i in range(rows):
        for j in range(cols):
            value = shown.cells[i][j]
            assert value is None or (value == counts[i][j] and value >= THRESHOLD)
        assert shown.row_totals[i] in (None, sum(counts[i]))
        assert sum(counts[i]) >= THRESHOLD or shown.row_totals[i] is None
    for j in range(cols):
        column = sum(row[j] for row in counts)
        assert shown.col_totals[j] in (None, column)
        assert column >= THRESHOLD or shown.col_totals[j] is None
    grand = sum(map(sum, counts))
    assert shown.total in (None, grand) and (grand >= THRESHOLD or shown.total is None)
    # No row, column or margin lets a reader work a hidden entry out.
    for line in published_lines(shown):
        assert not recoverable(line), (counts, shown)


def test_the_recoverable_check_can_fail() -> None:
    """The property above is not vacuous: a table with only primary suppression leaks."""
    leaky = Published(cells=[[3, 10]], row_totals=[13], col_totals=[None, 10], total=13)
    assert any(recoverable(line) for line in published_lines(leaky))
    assert recoverable(([None, None, 7], 7))  # two hidden zeros under a published total


@pytest.mark.parametrize(
    ("month", "code"),
    [
        ("2026-11", None),
        ("2025-01", None),
        ("2026-12", "opendata.not_over"),  # the running month
        ("2027-01", "opendata.not_over"),  # the future
        ("2026-13", "opendata.month"),
        ("2026-00", "opendata.month"),
        ("2026-1", "opendata.month"),
        ("2026-11-01", "opendata.month"),  # a day, not a month
        ("26-11", "opendata.month"),
        ("", "opendata.month"),
        (None, "opendata.month"),
        ("２０２５-11", "opendata.month"),  # digits of another script
    ],
)
def test_whole_past_months_only(month: str | None, code: str | None) -> None:
    now = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
    if code is None:
        assert check_month(month, now) == month
        return
    with pytest.raises(MonthProblem) as refused:
        check_month(month, now)
    assert refused.value.code == code


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[tuple[PortalStore, Clock]]:
    sealkit.seed_portal(tmp_path / "portal")
    clock = Clock()
    store = PortalStore(tmp_path / "portal", clock=clock)
    store.add_form("f", "1", "cat", SPEC, "admin")
    store.add_form("g", "1", "cat", {**SPEC, "id_string": "g"}, "admin")
    try:
        yield store, clock
    finally:
        store.close()


def _applications(store: PortalStore, region: str | None, count: int, form_id: str = "f") -> None:
    device = store.enroll(store.create_enrolment_code("k", region=region), "k")
    items = [item(device["device_prefix"], form_id=form_id) for _ in range(count)]
    results = store.ingest(device["device_id"], items, "sync")
    assert {r["outcome"] for r in results} == {"accepted"}


def _published(store: PortalStore, clock: Clock) -> Stats:
    month = clock.now.strftime("%Y-%m")
    clock.now = clock.now.replace(day=1) + timedelta(days=32)  # the month is over
    services, regions = store.open_data_axes()
    return open_data.publish(
        check_month(month, clock.now), store.open_data_counts(month), services, regions
    )


def test_a_region_with_three_applications_shows_no_count(
    portal: tuple[PortalStore, Clock],
) -> None:
    store, clock = portal
    _applications(store, "Chilonzor", 3)
    _applications(store, "Yunusobod", 12)
    _applications(store, "Olmazor", 9)
    _applications(store, None, 6)  # enrolled without a region: "unknown"
    stats = _published(store, clock)
    assert stats["licence"] == "CC BY 4.0" and stats["threshold"] == 5
    table = next(t for t in stats["services"] if t["form_id"] == "f")
    regions = {r["region"]: r for r in table["regions"]}
    assert set(regions) == {"Chilonzor", "Olmazor", "Unknown".lower(), "Yunusobod"}
    small = regions["Chilonzor"]
    assert small["total"] is None and set(small["counts"].values()) == {None}
    # The larger regions' totals are published, and the whole: 3 is not their difference
    # with anything published (another total is hidden with it).
    assert regions["Yunusobod"]["total"] == 12 and regions["Olmazor"]["total"] == 9
    assert table["total"] == 30 and regions["unknown"]["total"] is None
    published = [v for r in table["regions"] for v in (r["total"], *r["counts"].values())]
    assert 3 not in published and 0 not in published
    for line in table_lines(table, stats["statuses"]):
        assert not recoverable(line)
    # A service nobody used this month: listed, every cell hidden (zeros too, never 0).
    empty = next(t for t in stats["services"] if t["form_id"] == "g")
    assert empty["total"] is None
    assert all(v is None for r in empty["regions"] for v in r["counts"].values())
    # The CSV says the same: the small region's cells and total are empty.
    rows = list(csv.DictReader(io.StringIO(open_data.to_csv(stats))))
    assert set(rows[0]) == set(open_data.CSV_FIELDS)
    chilonzor = [r for r in rows if r["form_id"] == "f" and r["region"] == "Chilonzor"]
    assert len(chilonzor) == len(stats["statuses"]) + 1
    assert {r["count"] for r in chilonzor} == {""}
    assert "0" not in {r["count"] for r in rows}
    for r in rows:  # every CSV figure is the JSON's
        form = next(t for t in stats["services"] if t["form_id"] == r["form_id"])
        if r["region"] == open_data.ALL:
            value = (
                form["total"]
                if r["status"] == open_data.ALL
                else form["status_totals"][r["status"]]
            )
        else:
            region = next(x for x in form["regions"] if x["region"] == r["region"])
            value = (
                region["total"] if r["status"] == open_data.ALL else region["counts"][r["status"]]
            )
        assert r["count"] == ("" if value is None else str(value))


def test_counts_follow_the_status_at_the_end_of_the_month(
    portal: tuple[PortalStore, Clock],
) -> None:
    store, clock = portal
    _applications(store, "Yunusobod", 10)
    codes = [r[0] for r in store.conn.execute("SELECT tracking_code FROM submissions")]
    for code in codes[:6]:
        store.set_status(code, "approved", reason_code="decision.approved_as_requested")
    month = clock.now.strftime("%Y-%m")
    counted = {(r["region"], r["status"]): r["count"] for r in store.open_data_counts(month)}
    assert counted == {("Yunusobod", "approved"): 6, ("Yunusobod", "received"): 4}
    # A change after the month's end does not change the month's figures.
    after = (clock.now.replace(day=1) + timedelta(days=32)).strftime("%Y-%m-01T00:00:00Z")
    store.conn.execute("UPDATE status_log SET at = ? WHERE status = 'approved'", (after,))
    counted = {(r["region"], r["status"]): r["count"] for r in store.open_data_counts(month)}
    assert counted == {("Yunusobod", "received"): 10}


def test_a_kiosk_that_moves_moves_no_closed_months_count(
    portal: tuple[PortalStore, Clock],
) -> None:
    """Figures of a month are those of the region each application came from: a kiosk
    re-enrolled in another region later changes nothing (else two publications of one
    month could be differenced to reveal a hidden count)."""
    store, clock = portal
    _applications(store, "Tashkent", 7)
    _applications(store, "Tashkent", 3)
    month = clock.now.strftime("%Y-%m")
    before = store.open_data_counts(month)
    moved = store.conn.execute(
        "SELECT device_id FROM submissions GROUP BY device_id HAVING COUNT(*) = 3"
    ).fetchone()[0]
    store.conn.execute("UPDATE devices SET region = 'Samarkand' WHERE id = ?", (moved,))
    assert store.open_data_counts(month) == before
    assert {r["region"] for r in before} == {"Tashkent"}
