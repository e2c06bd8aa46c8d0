"""Benchmarks against the budgets in DESIGN.md. Run `python -m bench`."""

from typing import Any


def result_row(benchmark: str, metric: str, value: float, unit: str, **extra: Any) -> dict:
    """One row of the results table; ``extra`` sets baseline, ratio, budget, met."""
    row: dict[str, Any] = {
        "benchmark": benchmark,
        "metric": metric,
        "value": round(value, 3),
        "unit": unit,
        "baseline": None,
        "ratio": None,
        "budget": None,
        "met": None,
    }
    row.update(extra)
    return row
