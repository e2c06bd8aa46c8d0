"""Open data: monthly counts of applications by service, region and status (docs/open-data.md).

Published for whole past months only: a range of days could be differenced with a
neighbouring one to reveal a single application, and a month still running changes
under the reader. Each application counts under the status it had at the end of the
month (from ``status_log``), so a month's figures never change once it is over and
two publications of it cannot be differenced either. Each service is one table,
regions x statuses, with its totals, small cells hidden by `sync.portal.suppression`;
nothing is published across services, so no total links their tables.

The SQL (`counts`, `axes`) is portable and runs inside the caller's transaction.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import TypedDict

from sync.portal.db import Conn
from sync.portal.storage import STATUSES, UNKNOWN_REGION
from sync.portal.suppression import THRESHOLD, suppress

LICENCE = "CC BY 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
ALL = "*"  # the CSV's region or status of a total
MONTH_RE = re.compile(r"^([0-9]{4})-([0-9]{2})$")
CSV_FIELDS = ("month", "form_id", "region", "status", "count")


class CountRow(TypedDict):
    """Applications received in a month with this service, region and status."""

    form_id: str
    region: str
    status: str
    count: int


class RegionRow(TypedDict):
    region: str
    total: int | None
    counts: dict[str, int | None]


class ServiceTable(TypedDict):
    form_id: str
    total: int | None
    status_totals: dict[str, int | None]
    regions: list[RegionRow]


class Stats(TypedDict):
    """The published answer for one month (JSON)."""

    month: str
    licence: str
    licence_url: str
    threshold: int
    statuses: list[str]
    services: list[ServiceTable]


class MonthProblem(ValueError):
    """A month that is not published: ``code`` is its reason (kiosk.reasons), ``params``."""

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def bounds(month: str) -> tuple[str, str]:
    """The ISO prefixes ``[start, end)`` of a valid ``YYYY-MM``: "2026-11", "2026-12"."""
    year, mon = int(month[:4]), int(month[5:])
    after = f"{year + 1:04d}-01" if mon == 12 else f"{year:04d}-{mon + 1:02d}"
    return month, after


def check_month(month: object, now: datetime) -> str:
    """``month`` if it is one whole month, over on the portal's clock ``now`` (UTC);
    `MonthProblem` ``opendata.month`` (not YYYY-MM) or ``opendata.not_over``."""
    example = f"{now.year - 1:04d}-{now.month:02d}"
    match = MONTH_RE.match(month) if isinstance(month, str) else None
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1970:
        raise MonthProblem("opendata.month", example=example)
    assert isinstance(month, str)
    if bounds(month)[1] > f"{now.year:04d}-{now.month:02d}":
        raise MonthProblem("opendata.not_over", month=month)
    return month


def counts(conn: Conn, month: str) -> list[CountRow]:
    """Applications received in ``month`` by service, region (the kiosk's when the
    application arrived: a kiosk that moves later moves no closed month's count) and
    the status each had at the month's end (its last ``status_log`` entry before then)."""
    start, end = bounds(month)
    rows = conn.execute(
        "SELECT s.form_id AS form_id, COALESCE(s.region, ?) AS region, l.status AS status, "
        "COUNT(*) AS n FROM submissions s "
        "JOIN status_log l ON l.tracking_code = s.tracking_code "
        "WHERE s.received_at >= ? AND s.received_at < ? AND l.seq = ("
        "  SELECT MAX(l2.seq) FROM status_log l2"
        "  WHERE l2.tracking_code = s.tracking_code AND l2.at < ?) "
        "GROUP BY s.form_id, COALESCE(s.region, ?), l.status",
        (UNKNOWN_REGION, start, end, end, UNKNOWN_REGION),
    ).fetchall()
    return [
        {"form_id": r["form_id"], "region": r["region"], "status": r["status"], "count": r["n"]}
        for r in rows
    ]


def axes(conn: Conn) -> tuple[list[str], list[str]]:
    """Every service (catalog and received form ids) and region (devices'; "unknown"
    always), so each month's tables list them all and an absent row reveals nothing."""
    services = {r["form_id"] for r in conn.execute("SELECT DISTINCT form_id FROM forms")}
    services |= {r["form_id"] for r in conn.execute("SELECT DISTINCT form_id FROM submissions")}
    regions = {
        r["region"]
        for table in ("devices", "submissions")
        for r in conn.execute(f"SELECT DISTINCT region FROM {table}")
        if r["region"]
    }
    return sorted(services), sorted(regions | {UNKNOWN_REGION})


def publish(month: str, rows: list[CountRow], services: list[str], regions: list[str]) -> Stats:
    """The month's tables, one per service, small cells suppressed."""
    statuses = list(STATUSES)
    found: dict[tuple[str, str, str], int] = {}
    for row in rows:
        key = (row["form_id"], row["region"], row["status"])
        found[key] = found.get(key, 0) + row["count"]
    all_services = sorted(set(services) | {r["form_id"] for r in rows})
    all_regions = sorted(set(regions) | {r["region"] for r in rows})
    extra = sorted({r["status"] for r in rows} - set(statuses))
    statuses += extra  # a status an older portal wrote: counted, not dropped
    tables: list[ServiceTable] = []
    for form_id in all_services:
        grid = [[found.get((form_id, r, s), 0) for s in statuses] for r in all_regions]
        shown = suppress(grid)
        tables.append(
            {
                "form_id": form_id,
                "total": shown.total,
                "status_totals": dict(zip(statuses, shown.col_totals, strict=True)),
                "regions": [
                    {
                        "region": region,
                        "total": shown.row_totals[i],
                        "counts": dict(zip(statuses, shown.cells[i], strict=True)),
                    }
                    for i, region in enumerate(all_regions)
                ],
            }
        )
    return {
        "month": month,
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "threshold": THRESHOLD,
        "statuses": statuses,
        "services": tables,
    }


def to_csv(stats: Stats) -> str:
    """The same figures as CSV rows: month, form_id, region, status, count (empty when
    suppressed); ``*`` as region or status marks a total."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    month = stats["month"]

    def cell(value: int | None) -> str:
        return "" if value is None else str(value)

    for table in stats["services"]:
        form_id = table["form_id"]
        for row in table["regions"]:
            for status, value in row["counts"].items():
                writer.writerow((month, form_id, row["region"], status, cell(value)))
            writer.writerow((month, form_id, row["region"], ALL, cell(row["total"])))
        for status, value in table["status_totals"].items():
            writer.writerow((month, form_id, ALL, status, cell(value)))
        writer.writerow((month, form_id, ALL, ALL, cell(table["total"])))
    return out.getvalue()
