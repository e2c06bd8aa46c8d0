"""Lockdown holds in a real terminal (issue 13): the real `kiosk run --mode citizen` in tmux.

tests/ui/test_lockdown.py checks the screens with Textual's Pilot, which never sees a
terminal: there ctrl+c and ctrl+z are keys by construction. Here the program runs on a
real pseudo-terminal (tmux, its own server socket), so the line discipline would turn
ctrl+c into SIGINT and ctrl+z into SIGTSTP if the kiosk left the terminal's signal keys
on (`TEXTUAL_ALLOW_SIGNALS`, which the test sets to prove the kiosk drops it).

Every wait polls the pane (or /proc) until what is expected shows, with a generous
deadline: nothing depends on the machine's speed. A key with no visible effect (ctrl+z)
is followed by ctrl+q: the PIN prompt can only appear once the earlier key was read,
so the app is known to have handled ctrl+z, and to be alive and not stopped, after it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk.i18n import tr
from kiosk.operators import MAX_FAILURES
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow

PIN = "482916"
OPERATOR = "Dilnoza"
DEADLINE = 90.0  # seconds: generous, only ever reached when something is wrong
EXIT_MARK = "KIOSK-EXITED="
PROMPT_EN = "Operator PIN needed to close the kiosk"
SIZES = [(80, 24), (60, 20)]


def _need_tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("tmux is not installed on this CI runner: scripts/setup installs it")
        pytest.skip("tmux is not installed here; CI must have it (scripts/setup)")
    return found


class Pane:
    """One tmux server (private socket) with one shell in a pane of a given size."""

    def __init__(self, tmux: str, home: Path, size: tuple[int, int]) -> None:
        self.tmux = tmux
        self.socket = f"kiosk-lock-{uuid.uuid4().hex[:12]}"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PS1": "SHELL-READY$ ",
        }
        width, height = size
        self._tmux(
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            str(width),
            "-y",
            str(height),
            "-s",
            "k",
            "-c",
            str(REPO_ROOT),
            "env",
            "-i",
            *(f"{k}={v}" for k, v in env.items()),
            "sh",
        )

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            [self.tmux, "-L", self.socket, *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def send(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "k", *keys)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", "k", "-l", text)

    def text(self) -> str:
        """The visible pane, wrapped lines joined (a message wraps at the pane's width)."""
        return self._tmux("capture-pane", "-p", "-J", "-t", "k")

    def wait_for(self, what: Callable[[str], bool], why: str) -> str:
        end = time.monotonic() + DEADLINE
        while True:
            shown = self.text()
            if what(shown):
                return shown
            if (
                _exit_status(shown) is not None
            ):  # the program ended: what is awaited will never show
                raise AssertionError(f"{why}: the kiosk ended instead; pane:\n{shown}")
            if time.monotonic() > end:
                raise AssertionError(f"{why}: not shown within {DEADLINE} s; pane:\n{shown}")
            time.sleep(0.1)

    def close(self) -> None:
        subprocess.run(
            [self.tmux, "-L", self.socket, "kill-server"], capture_output=True, timeout=60
        )


@pytest.fixture(params=SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def pane(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Pane]:
    tmux = _need_tmux()
    home = tmp_path / "home"
    home.mkdir()
    shell = Pane(tmux, home, request.param)
    try:
        shell.wait_for(lambda s: "SHELL-READY$" in s, "the shell's prompt")
        yield shell
    finally:
        shell.close()


def _kiosk_line(data_dir: Path, lang: str, pid_file: Path) -> str:
    """The shell line that runs citizen mode (its pid written first) and then says how it
    ended. Deterministic: no speech engine, no portal probe, no animation, and the
    terminal's signal keys asked for (the kiosk must drop that in citizen mode)."""
    env = {
        "PYTHONPATH": str(REPO_ROOT),
        "KIOSK_DATA_DIR": str(data_dir),
        "KIOSK_LANG": lang,
        "KIOSK_SPEECH_ENGINES": "none",
        "KIOSK_SPEECH_PLAYER": "true",
        "KIOSK_PROBE_INTERVAL": "0",
        "KIOSK_ANIMATIONS": "false",
        "KIOSK_IDLE_TIMEOUT": "100000",
        "TEXTUAL_ALLOW_SIGNALS": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    run = shlex.join([sys.executable, "-m", "mahalla", "run", "--mode", "citizen"])
    inner = f"echo $$ > {shlex.quote(str(pid_file))}; exec {run}"
    assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    return f"env {assigns} sh -c {shlex.quote(inner)}; echo {EXIT_MARK}$?"


def _showing(text: str) -> Callable[[str], bool]:
    return lambda shown: text in shown


def _ended_or(text: str) -> Callable[[str], bool]:
    return lambda shown: _exit_status(shown) is not None or text in shown


def _exit_status(shown: str) -> int | None:
    """The status the shell printed after the kiosk ended (not the typed command line)."""
    found = re.search(rf"^{EXIT_MARK}([0-9]+)\s*$", shown, re.MULTILINE)
    return None if found is None else int(found.group(1))


def _state(pid: int) -> str | None:
    """The process's state letter from /proc (R, S, T...), or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    state = stat[stat.rindex(")") + 2 :].split()[0]
    return None if state in ("Z", "X") else state


def _add_operator(data_dir: Path) -> None:
    env = dict(os.environ, KIOSK_DATA_DIR=str(data_dir), KIOSK_LANG="en")
    done = subprocess.run(
        [sys.executable, "-m", "mahalla", "operator", "add", OPERATOR, "--pin-stdin"],
        input=PIN + "\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_fresh_data_dir_citizen_mode_refuses_with_the_message(
    pane: Pane, tmp_path: Path, lang: str
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    pid_file = tmp_path / "kiosk.pid"
    pane.type(_kiosk_line(data_dir, lang, pid_file))
    pane.send("Enter")
    shown = pane.wait_for(lambda s: _exit_status(s) is not None, "the kiosk's exit")
    # It ended by itself, with status 2 (no restart loop under systemd), before any key:
    # the citizen UI never ran (it would wait for a citizen, not exit).
    assert _exit_status(shown) == 2, shown
    message = tr(
        lang,
        "Citizen mode needs an operator who can close the kiosk, and there is none yet."
        " Add one from this machine's shell: kiosk operator add NAME",
    )
    assert "kiosk operator add NAME" in message
    if lang != "en":
        assert "there is none yet" not in message  # really translated
    assert " ".join(message.split()) in " ".join(shown.split()), shown
    # Nothing was created on the way: no operator, and no database written.
    assert not (data_dir / "kiosk.db").exists()


def _open_prompt(pane: Pane, key: str) -> None:
    pane.send(key)
    pane.wait_for(lambda s: PROMPT_EN in s, f"the PIN prompt after {key}")


def _log_in(pane: Pane, name: str, pin: str) -> None:
    """Name, Enter, PIN, Enter, typed as a person does, each key seen on screen before the
    next (a PIN digit shows as a dot). This once lost the PIN's second digit: the box's
    select-on-focus came after the first digit and selected it for the next to replace."""
    pane.type(name)
    pane.wait_for(_showing(name), "the typed name")
    pane.send("Enter")
    for typed in range(1, len(pin) + 1):
        pane.type(pin[typed - 1])
        pane.wait_for(_showing("\u2022" * typed), f"{typed} PIN digits")
    pane.send("Enter")


def _back_to_start(pane: Pane, start_text: str) -> None:
    pane.send("Escape")
    pane.wait_for(lambda s: start_text in s and PROMPT_EN not in s, "the start screen")


def test_with_an_operator_no_key_leaves_without_the_pin(pane: Pane, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    _add_operator(data_dir)
    pid_file = tmp_path / "kiosk.pid"
    pane.type(_kiosk_line(data_dir, "en", pid_file))
    pane.send("Enter")
    # The start screen greets in every language; the Uzbek line fits the narrow pane too.
    start = tr("uz_Latn", "Welcome! Choose your language")
    pane.wait_for(lambda s: start in s, "the citizen start screen")
    pid = int(pid_file.read_text())

    def alive() -> None:
        shown = pane.text()
        assert _exit_status(shown) is None, shown
        assert _state(pid) not in (None, "T", "t"), f"state {_state(pid)}"

    # ctrl+q asks for the PIN; a wrong PIN leaves the app running.
    _open_prompt(pane, "C-q")
    alive()
    _log_in(pane, OPERATOR, "000000")
    wrong = tr("en", "Wrong PIN. Attempts left: {n}.", n=MAX_FAILURES - 1)
    pane.wait_for(_showing(wrong), f"{wrong!r}")
    alive()
    _back_to_start(pane, start)
    alive()

    # ctrl+c asks for the PIN too (it is a key here, not SIGINT).
    _open_prompt(pane, "C-c")
    alive()
    _back_to_start(pane, start)
    alive()

    # ctrl+z does nothing: not suspended (the shell would print "Stopped"), still here.
    # ctrl+q after it can only open the prompt once ctrl+z has been read.
    pane.send("C-z")
    _open_prompt(pane, "C-q")
    alive()
    assert "Stopped" not in pane.text()
    _back_to_start(pane, start)
    alive()

    # The right PIN closes the kiosk: exit 0, back at the shell.
    _open_prompt(pane, "C-c")
    _log_in(pane, OPERATOR, PIN)
    shown = pane.wait_for(_ended_or(tr("en", "Wrong PIN. Attempts left: {n}.", n=3)), "the exit")
    assert _exit_status(shown) == 0, shown
    assert "SHELL-READY$" in shown
    end = time.monotonic() + DEADLINE
    while _state(pid) is not None:
        assert time.monotonic() < end, "the kiosk's process is still there"
        time.sleep(0.1)
