"""Run every benchmark, print one table, and write the results as JSON.

Each benchmark module in bench/ exposes ``run(quick: bool = False) -> list[dict]``
with rows ``{benchmark, metric, value, unit, baseline, ratio, budget, met}``.
Figures are measured against a baseline run in the same invocation because these
machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

BENCHMARKS = ("startup", "submit", "scale", "sync", "poor_link", "speech", "workers")
HERE = Path(__file__).resolve().parent
logger = logging.getLogger(__name__)


def machine() -> dict[str, object]:
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            mem = fh.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory": mem,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def table(rows: list[dict]) -> str:
    cols = ("benchmark", "metric", "value", "unit", "baseline", "ratio", "budget", "met")
    cells = [[fmt(r.get(c)) for c in cols] for r in rows]
    widths = [
        max(len(c), *(len(row[i]) for row in cells)) if cells else len(c)
        for i, c in enumerate(cols)
    ]
    line = "| " + " | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = [
        "| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    return "\n".join([line, sep, *body])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--json", default=str(HERE / "results.json"), help="where to write the results"
    )
    args = parser.parse_args(argv)

    rows: list[dict] = []
    failures: list[str] = []
    for name in args.names or BENCHMARKS:
        started = time.perf_counter()
        print(f"# {name} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"bench.{name}")
            got = module.run(quick=args.quick)
        except Exception:  # one broken benchmark must not hide the others' figures
            failures.append(name)
            logger.exception("benchmark %s failed", name)
            rows.append({"benchmark": name, "metric": "error", "value": None, "met": False})
            continue
        rows.extend(got)
        print(
            f"# {name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True
        )

    print(table(rows))
    result = {"machine": machine(), "quick": args.quick, "rows": rows}
    Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(f"\nresults written to {args.json}")
    if failures:
        print(f"benchmarks that failed to run: {', '.join(failures)}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
