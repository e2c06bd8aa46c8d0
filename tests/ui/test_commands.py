"""`kiosk run` / `kiosk demo` options, through the real CLI."""

from __future__ import annotations


def test_run_lists_its_options(run_kiosk) -> None:
    done = run_kiosk("run", "--help")
    assert done.returncode == 0
    for option in ("--mode", "--high-contrast", "--idle-timeout", "--data-dir", "--lang"):
        assert option in done.stdout


def test_demo_is_a_command(run_kiosk) -> None:
    done = run_kiosk("demo", "--help")
    assert done.returncode == 0 and "--mode" in done.stdout


def test_bad_mode_is_refused(run_kiosk) -> None:
    done = run_kiosk("run", "--mode", "kiosk")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


def test_too_short_idle_timeout_is_refused_with_a_message(run_kiosk) -> None:
    done = run_kiosk("run", "--idle-timeout", "3")
    assert done.returncode == 2
    assert "idle timeout must be at least 10 seconds" in done.stderr
    assert "Traceback" not in done.stderr
