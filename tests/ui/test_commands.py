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


def test_the_demo_portal_holds_synthetic_people_to_vote_with(tmp_path, capsys) -> None:
    """Votes count only for people the registry holds: the demo loads synthetic ones
    and names a few PINFLs to try."""
    from screens.commands import DEMO_PEOPLE, _demo_registry
    from sync.portal import registry
    from sync.portal.store import PortalStore

    _demo_registry(tmp_path / "portal", "ru")
    printed = capsys.readouterr().out
    store = PortalStore(tmp_path / "portal")
    try:
        with store.db.read() as conn:
            assert registry.count(conn) == DEMO_PEOPLE
            pinfl = printed.rsplit(":", 1)[1].split(",")[0].strip()
            assert registry.find(conn, pinfl) is not None
    finally:
        store.close()
