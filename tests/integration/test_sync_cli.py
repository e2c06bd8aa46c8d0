"""`kiosk sync` in a real terminal (a pty): progress bar, summary, exit codes."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time

from tests.integration.synckit import KIOSK_ARGV, REPO_ROOT, Kiosk, cli_env, queue_submissions


def run_in_pty(kiosk: Kiosk, *args: str, timeout: float = 120) -> tuple[int, str]:
    """Run `kiosk *args` with a pseudo-terminal as stdin/stdout/stderr; (exit code, output)."""
    master, slave = pty.openpty()
    env = cli_env(kiosk.data_dir)
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="30")
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [*KIOSK_ARGV, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=REPO_ROOT,
        close_fds=True,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=30)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return code, b"".join(chunks).decode("utf-8", "replace")


def test_progress_bar_and_summary_in_a_terminal(kiosk: Kiosk) -> None:
    with kiosk.store() as store:
        queue_submissions(store, 60)
        queue_submissions(store, 1, start=99, form_id="no_such_form")
    code, output = run_in_pty(kiosk, "sync", "--batch-items", "10")
    assert code == 0, output
    assert "━" in output  # rich's bar, drawn because stdout is a terminal
    assert "61/61" in output and "kB" in output  # items and bytes
    assert "Sent: 60" in output
    assert "Rejected: 1 submission" in output and "not know form no_such_form" in output
    assert "Still waiting: 0" in output


def test_exit_1_when_items_are_left_waiting(private_kiosk: Kiosk) -> None:
    kiosk = private_kiosk
    with kiosk.store() as store:
        queue_submissions(store, 5)
    kiosk.portal.stop()
    result = kiosk.run("sync", "--max-wait", "0")
    assert result.returncode == 1
    assert "Still waiting: 5" in result.stdout
    assert "Cannot reach the portal" in result.stderr
    assert "Traceback" not in result.stderr
