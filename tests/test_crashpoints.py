"""Named crash points: refused when misspelt, fire exactly on their nth pass, and each
one is placed in the code, listed in docs/ARCHITECTURE.md and killed at by a test."""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import crashpoints
from kiosk.crashpoints import POINTS, CrashPointError, parse
from tests.conftest import KIOSK_ARGV, REPO_ROOT

SOURCES = ("kiosk", "sync", "screens")


def test_parse() -> None:
    assert parse("sync.batch_built") == ("sync.batch_built", 1)
    assert parse("sync.batch_built:3") == ("sync.batch_built", 3)
    for bad in ("sync.batch_bilt", "", "sync.batch_built:0", "sync.batch_built:x", ":2"):
        with pytest.raises(CrashPointError):
            parse(bad)


def test_a_misspelt_point_is_refused_at_start(tmp_path: Path) -> None:
    env = dict(os.environ, KIOSK_CRASH_AT="sync.batch_bilt", KIOSK_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [*KIOSK_ARGV, "queue"], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=60
    )
    assert done.returncode == 2
    assert "unknown crash point 'sync.batch_bilt'" in done.stderr
    assert not (tmp_path / "kiosk.db").exists()  # refused before doing anything


def test_a_misspelt_point_stops_a_process_that_skips_the_entry_point() -> None:
    script = "from kiosk.crashpoints import crash_point\ncrash_point('draft.before_commit')"
    env = dict(os.environ, KIOSK_CRASH_AT="draft.before_comit")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 1 and "CrashPointError" in done.stderr


def test_fires_on_the_nth_pass_only() -> None:
    script = (
        "from kiosk.crashpoints import crash_point\n"
        "for i in range(5):\n"
        "    crash_point('sync.batch_built'); crash_point('sync.answer_read')\n"
        "    print(i, flush=True)\n"
    )
    env = dict(os.environ, KIOSK_CRASH_AT="sync.answer_read:3")
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == -signal.SIGKILL
    assert done.stdout.split() == ["0", "1"]
    assert "crash point sync.answer_read:3 reached" in done.stderr


def test_off_by_default_and_disarmable() -> None:
    crashpoints.arm(None)
    for name in POINTS:
        crashpoints.crash_point(name)  # nothing happens: we are still here
    with pytest.raises(CrashPointError):
        crashpoints.arm("nope")
    crashpoints.arm(None)


def _placed_points() -> dict[str, list[str]]:
    """Every ``crash_point("name")`` call in the product code: name -> places."""
    found: dict[str, list[str]] = {}
    for package in SOURCES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", None)) == "crash_point"
                    and path.name != "crashpoints.py"
                ):
                    (arg,) = node.args
                    assert isinstance(arg, ast.Constant), f"{path}: crash_point takes a literal"
                    found.setdefault(arg.value, []).append(f"{path.name}:{node.lineno}")
    return found


def test_every_point_is_placed_once_and_every_placed_point_is_registered() -> None:
    placed = _placed_points()
    assert set(placed) == set(POINTS)
    assert all(len(places) == 1 for places in placed.values()), placed


def test_every_point_is_documented() -> None:
    doc = (REPO_ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Crash points") :]
    section = section[: section.index("\n## ")]
    listed = set(re.findall(r"^\| `([a-z]+\.[a-z_]+)` \|", section, re.MULTILINE))
    assert listed == set(POINTS)


def test_every_point_is_killed_at_by_a_test() -> None:
    """A crash test names its point in a KIOSK_CRASH_AT spec: "point" or "point:nth"."""
    tests = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (REPO_ROOT / "tests").rglob("test_*.py")
        if p.name != Path(__file__).name
    )
    missing = [
        name
        for name in POINTS
        if not re.search(rf"[\"']{re.escape(name)}(:\d+)?[\"']|[\"']{re.escape(name)}:\{{", tests)
    ]
    assert not missing, f"crash points no test kills at: {missing}"
