"""Small-cell suppression of a two-way table with its totals (open data, docs/open-data.md).

A table of counts (rows x columns) is published with its row totals, column totals and
overall total. Every count under `THRESHOLD` is hidden (primary suppression, zeros
too: a published 0 beside a hidden cell narrows it). A hidden cell must not be
recoverable from a published total, so each "line" -- a row with its total, a column
with its total, the row totals with the overall total, the column totals with the
overall total -- is checked: it may hide nothing, or hide at least two entries such
that the total is hidden too or the hidden cells sum to more than zero (two hidden
zeros under a published total would both be known to be 0). A line that fails gets
its smallest published cell hidden (its total only when no cell is left), and the
check runs again until every line holds (complementary suppression). Hiding only
ever grows, so it ends.

This protects every hidden count against any single published equation (a total
minus the cells it sums). It is not a full linear-programming audit across lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

THRESHOLD = 5

Entry = tuple[int, int]


@dataclass(frozen=True)
class Line:
    """Entries that sum to ``total`` (grid coordinates, the totals at row/column index
    ``rows``/``cols``)."""

    cells: tuple[Entry, ...]
    total: Entry


@dataclass(frozen=True)
class Published:
    """The table as published: None where a count is hidden."""

    cells: list[list[int | None]]
    row_totals: list[int | None]
    col_totals: list[int | None]
    total: int | None


def grid(counts: Sequence[Sequence[int]]) -> list[list[int]]:
    """``counts`` with the row totals as a last column and the column totals (and the
    overall total) as a last row."""
    cols = len(counts[0]) if counts else 0
    full = [[*row, sum(row)] for row in counts]
    full.append([sum(row[j] for row in full) for j in range(cols + 1)])
    return full


def lines(rows: int, cols: int) -> list[Line]:
    """Every published equation of a rows x cols table with its totals."""
    found = [
        Line(tuple((i, j) for j in range(cols)), (i, cols)) for i in range(rows + 1)
    ]  # each row, and the column totals' row
    found += [
        Line(tuple((i, j) for i in range(rows)), (rows, j)) for j in range(cols + 1)
    ]  # each column, and the row totals' column
    return found


def exposed(line: Line, values: list[list[int]], hidden: set[Entry]) -> bool:
    """Whether a hidden entry of ``line`` can be worked out from it alone."""
    entries = (*line.cells, line.total)
    hid = [e for e in entries if e in hidden]
    if not hid:
        return False
    if len(hid) == 1:
        return True
    if line.total in hidden:
        return False
    return sum(values[i][j] for i, j in hid) == 0


def hidden_entries(counts: Sequence[Sequence[int]]) -> set[Entry]:
    """The grid entries (`grid` coordinates) to hide: primary, then complementary."""
    values = grid(counts)
    rows, cols = len(counts), (len(counts[0]) if counts else 0)
    if rows == 0 or cols == 0:
        return {(rows, cols)} if values[rows][cols] < THRESHOLD else set()
    hidden = {(i, j) for i in range(rows + 1) for j in range(cols + 1) if values[i][j] < THRESHOLD}
    checks = lines(rows, cols)
    changed = True
    while changed:
        changed = False
        for line in checks:
            if not exposed(line, values, hidden):
                continue
            candidates = [e for e in (*line.cells, line.total) if e not in hidden]
            if not candidates:
                continue  # everything in it is hidden already
            # The smallest published cell (totals are the most useful: kept if possible).
            pick = min(candidates, key=lambda e: (e == line.total, values[e[0]][e[1]], e))
            hidden.add(pick)
            changed = True
    return hidden


def suppress(counts: Sequence[Sequence[int]]) -> Published:
    """``counts`` (rows x columns, every row as long) with totals, small cells hidden."""
    values = grid(counts)
    hidden = hidden_entries(counts)
    rows, cols = len(counts), (len(counts[0]) if counts else 0)

    def shown(i: int, j: int) -> int | None:
        return None if (i, j) in hidden else values[i][j]

    return Published(
        cells=[[shown(i, j) for j in range(cols)] for i in range(rows)],
        row_totals=[shown(i, cols) for i in range(rows)],
        col_totals=[shown(rows, j) for j in range(cols)],
        total=shown(rows, cols),
    )
