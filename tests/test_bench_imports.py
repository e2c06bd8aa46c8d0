"""Every benchmark still imports and builds its inputs against the current API.

The benchmarks run by hand (`python -m bench`), not in the suite, so an API change
(a moved constant, a renamed method) could break one unnoticed until the next
measurement. These tests import each module and check what `bench/__main__.py`
relies on; they time nothing (figures are printed by the bench, never asserted).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS
from kiosk import audit, tracking
from kiosk.outbox import SEQ_KEY
from kiosk.store import Store
from tests.conftest import REPO_ROOT


def test_every_bench_module_is_run_by_the_whole_benchmark() -> None:
    files = {
        path.stem
        for path in (REPO_ROOT / "bench").glob("*.py")
        if path.name not in ("__init__.py", "__main__.py")
    }
    assert files == set(BENCHMARKS)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_bench_module_imports_and_has_run(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")
    assert callable(module.run)


def test_scale_builds_a_consistent_queue(tmp_path: Path) -> None:
    """The bulk-built queue is what a kiosk would have made: valid, distinct codes of
    the device, the codes-handed-out count, and an audit chain that verifies."""
    from bench.scale import build_queue

    build_queue(tmp_path, 30)
    with Store.open(tmp_path) as store:
        rows = store.queue()
        codes = [row["tracking_code"] for row in rows]
        assert len(set(codes)) == 30
        assert all(tracking.is_valid(code) for code in codes)
        assert all(code.startswith(store.device_prefix) for code in codes)
        assert store.get_setting(SEQ_KEY) == "30"
        with store.transaction() as db:
            report = audit.verify(db)
        assert store.queue_counts()["queued"] == 30
    assert report.ok and report.checked == 30


def test_submit_bench_runs_its_measured_loop(tmp_path: Path) -> None:
    """The submit bench's loop (draft save with a visit's key, then a sealed submit)
    runs against the current API; its timings are printed by the bench, not checked."""
    from bench.submit import measure_submit

    times, _ = measure_submit(tmp_path, 3)
    assert len(times) == 3
    with Store.open(tmp_path / "kiosk") as store:
        assert len(store.queue()) == 23  # 20 warm-up submits and the 3 measured
