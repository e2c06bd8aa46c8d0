"""A citizen's "Call the operator" (kiosk/help_calls.py, issue 14): the flag is up from
the call until an operator clears it, both audited, and survives a restart; a call
killed before its commit leaves no flag and the audit chain whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from kiosk import audit
from kiosk.store import Store


def _actions(store: Store) -> list[tuple[str, str, str]]:
    rows = store.db.execute("SELECT actor, action, subject FROM audit ORDER BY seq").fetchall()
    return [tuple(row) for row in rows]


def test_a_call_is_flagged_until_an_operator_clears_it(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        assert store.help_call() is None
        assert store.clear_help_call(7) is False  # nothing to clear: nothing audited
        store.call_operator("question", "ru")
        store.call_operator("review", "kaa")
        call = store.help_call()
        assert call is not None
        assert (call["screen"], call["lang"], call["calls"]) == ("review", "kaa", 2)
    with Store.open(data_dir) as store:  # a restart: still up
        call = store.help_call()
        assert call is not None and call["calls"] == 2
        assert store.clear_help_call(7) is True
        assert store.help_call() is None
        store.call_operator("start", "uz_Latn")  # a new call raises it again
        call = store.help_call()
        assert call is not None and (call["screen"], call["calls"]) == ("start", 1)
        actions = [a for a in _actions(store) if a[1].startswith("help_")]
        assert actions == [
            ("citizen", "help_called", "question"),
            ("citizen", "help_called", "review"),
            ("operator:7", "help_cleared", ""),
            ("citizen", "help_called", "start"),
        ]
        assert audit.verify(store.db).ok


CALL_CHILD = """
import os, signal, sys
from kiosk.store import Store
with Store.open(sys.argv[1]) as store:
    store.call_operator("services", "uz_Cyrl")
print("called", flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # a power cut right after the call returned
"""


def test_a_call_survives_a_power_cut_after_it_returned(data_dir: Path) -> None:
    Store.open(data_dir).close()
    child = subprocess.run(
        [sys.executable, "-c", CALL_CHILD, str(data_dir)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL and "called" in child.stdout, child.stderr
    with Store.open(data_dir) as store:
        call = store.help_call()
        assert call is not None and (call["screen"], call["lang"]) == ("services", "uz_Cyrl")


def test_a_call_killed_before_its_commit_leaves_no_flag(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        head = store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    child = subprocess.run(
        [sys.executable, "-c", CALL_CHILD, str(data_dir)],
        capture_output=True,
        text=True,
        env=dict(os.environ, KIOSK_CRASH_AT="help.call_before_commit"),
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "crash point help.call_before_commit" in child.stderr
    assert "called" not in child.stdout
    with Store.open(data_dir) as store:
        assert store.help_call() is None  # all or nothing
        assert store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == head
        assert audit.verify(store.db).ok
        store.call_operator("services", "ru")  # and the next call works
        call = store.help_call()
        assert call is not None and json.dumps(call)
