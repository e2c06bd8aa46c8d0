"""Start-up time: process start to the first interactive screen, kiosk vs a bare Textual app.

Each sample is a fresh interpreter (as `kiosk` is launched), run headless. The child
notes the wall-clock moment its first screen has been painted (the kiosk then warms
up its store and catalog behind it, without blocking input); the parent subtracts
the moment it started the process. The baseline is a bare Textual app with a Header, a
Label and a Footer, timed the same way. Budget (DESIGN.md): within 1.3x of the baseline.

Both are timed warm, as on every start but the first: the children share a bytecode
cache of their own (``PYTHONPYCACHEPREFIX`` in a temporary folder, written even when
the caller sets ``PYTHONDONTWRITEBYTECODE``), filled by one unmeasured start of each.
Otherwise an environment that forbids writing bytecode would time Textual from its
installed ``.pyc`` files against the kiosk compiled from source on every start.
That first start of the kiosk (empty bytecode cache, empty data folder) is reported
too, without a budget. Samples alternate bare and kiosk, so that a change in the
machine's load touches both alike; the figures are medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BUDGET_RATIO = 1.3

_KIOSK_CHILD = """
import asyncio, sys, time
from pathlib import Path
from kiosk.config import KioskConfig
from screens.app import KioskApp
from screens.start import StartScreen

async def ready(pilot):
    while not isinstance(pilot.app.screen, StartScreen):
        await asyncio.sleep(0.002)
    painted = asyncio.Event()
    pilot.app.screen.call_after_refresh(painted.set)
    await painted.wait()
    print(time.time(), flush=True)
    pilot.app.exit()

KioskApp(KioskConfig(Path(sys.argv[1]), probe_interval=None)).run(
    headless=True, auto_pilot=ready
)
"""

_BARE_CHILD = """
import asyncio, time
from textual.app import App
from textual.widgets import Footer, Header, Label

class Bare(App):
    def compose(self):
        yield Header()
        yield Label("Hello")
        yield Footer()

async def ready(pilot):
    painted = asyncio.Event()
    pilot.app.screen.call_after_refresh(painted.set)
    await painted.wait()
    print(time.time(), flush=True)
    pilot.app.exit()

Bare().run(headless=True, auto_pilot=ready)
"""


def _child_env(pycache: Path) -> dict[str, str]:
    """The caller's environment with a bytecode cache of the bench's own."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _time_child(code: str, *args: str, env: dict[str, str] | None = None) -> float:
    """Seconds from starting the interpreter to the child's "ready" print."""
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"start-up child failed: {done.stderr.strip()[-500:]}")
    ready = float(done.stdout.strip().splitlines()[-1])
    return ready - started


def run(quick: bool = False) -> list[dict[str, Any]]:
    runs = 5 if quick else 21
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-startup-") as tmp:
        data_dir = str(Path(tmp) / "data")
        env = _child_env(Path(tmp) / "pycache")
        cold = _time_child(_KIOSK_CHILD, data_dir, env=env)  # fills the bytecode cache
        _time_child(_BARE_CHILD, env=env)  # and Textual's
        # Alternated, so that a change in the machine's load touches both alike.
        bare_runs: list[float] = []
        kiosk_runs: list[float] = []
        for _ in range(runs):
            bare_runs.append(_time_child(_BARE_CHILD, env=env))
            kiosk_runs.append(_time_child(_KIOSK_CHILD, data_dir, env=env))
        bare = statistics.median(bare_runs)
        kiosk = statistics.median(kiosk_runs)
    ratio = kiosk / bare if bare else float("inf")
    return [
        {
            "benchmark": "startup",
            "metric": f"first interactive screen (warm, median of {runs})",
            "value": round(kiosk, 3),
            "unit": "s",
            "baseline": round(bare, 3),
            "ratio": round(ratio, 2),
            "budget": f"<= {BUDGET_RATIO}x bare Textual app",
            "met": ratio <= BUDGET_RATIO,
        },
        {
            "benchmark": "startup",
            "metric": "first interactive screen (first start, empty bytecode cache)",
            "value": round(cold, 3),
            "unit": "s",
            "baseline": round(bare, 3),
            "ratio": round(cold / bare, 2) if bare else None,
            "budget": None,
            "met": None,
        },
    ]


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    rows = run(quick=quick)
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    warm = rows[0]
    print(
        f"kiosk {warm['value']:.3f} s vs bare Textual {warm['baseline']:.3f} s: "
        f"ratio {warm['ratio']:.2f} (budget {BUDGET_RATIO}x) -> "
        f"{'met' if warm['met'] else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
