"""Run the reference portal as a real subprocess (tests, benchmarks, `kiosk demo`)."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from sync.health import probe

START_TIMEOUT = 30.0
_URL = re.compile(r"https?://\S+")


class PortalStartError(RuntimeError):
    """The portal process exited or never answered its health probe."""


@dataclass
class PortalProcess:
    """A running `kiosk portal serve`; ``.url`` is its base URL, ``.pins`` its key pins
    (empty for plain http on loopback)."""

    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    pins: tuple[str, ...] = ()

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate, then kill if it does not exit in time. Safe to call twice."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> PortalProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def portal_argv(data_dir: Path, host: str, port: int, *extra: str) -> list[str]:
    """`kiosk portal serve` as a child's command line (``python -m sync.portal``)."""
    return [
        sys.executable,
        "-m",
        "sync.portal",
        "--lang",
        "en",
        "portal",
        "serve",
        "--portal-dir",
        str(data_dir),
        "--host",
        host,
        "--port",
        str(port),
        *extra,
    ]


def _die_with_parent() -> None:
    """In the child: SIGTERM when the parent dies, even by SIGKILL or a closed terminal."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def start_portal(
    data_dir: Path | str,
    host: str = "127.0.0.1",
    port: int = 0,
    *extra_args: str,
    die_with_parent: bool = False,
    env: dict[str, str] | None = None,
    certfile: Path | str | None = None,
    keyfile: Path | str | None = None,
) -> PortalProcess:
    """Start `kiosk portal serve` over ``data_dir`` and wait until its health answers.

    With ``certfile`` and ``keyfile`` it serves https; its ``pins`` are the
    certificates' of ``certfile`` (leaf first), used for the health probe.

    Port 0 lets the portal pick a free port; it prints its URL on its first line.
    ``die_with_parent`` (Linux; call it from the main thread, since the signal follows
    the calling thread) stops the portal with a `kiosk demo` killed before its cleanup.
    ``env`` adds variables to the portal's environment (a test's ``KIOSK_CRASH_AT``).
    """
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    pins: tuple[str, ...] = ()
    if certfile is not None and keyfile is not None:
        from sync.tls import pem_pins

        pins = tuple(pem_pins(Path(certfile).read_bytes()))
        extra_args = (*extra_args, "--certfile", str(certfile), "--keyfile", str(keyfile))
    proc_env = dict(os.environ, PYTHONUNBUFFERED="1", KIOSK_LANG="en", **(env or {}))
    proc = subprocess.Popen(
        portal_argv(data_dir, host, port, *extra_args),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=proc_env,
        start_new_session=True,  # a Ctrl-C in the kiosk's terminal is the kiosk's alone
        preexec_fn=_die_with_parent if die_with_parent and sys.platform == "linux" else None,
    )
    output: list[str] = []
    url_box: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        # Keep draining so a chatty portal never blocks on a full pipe.
        assert proc.stdout is not None
        for line in proc.stdout:
            output.append(line.rstrip("\n"))
            del output[:-200]
            found = _URL.search(line)
            if not url_box and found:
                url_box.append(found.group(0))
                ready.set()
        ready.set()

    threading.Thread(target=pump, name="portal-output", daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    ready.wait(START_TIMEOUT)
    if url_box:
        while time.monotonic() < deadline and proc.poll() is None:
            if probe(url_box[0], timeout=1.0, pins=pins):
                return PortalProcess(url_box[0], data_dir, proc, output, pins)
            time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    raise PortalStartError("portal did not start:\n" + "\n".join(output[-20:]))


def create_enrolment_code(
    data_dir: Path | str, name: str = "kiosk", device_id: str | None = None
) -> str:
    """A one-time enrolment code for the portal over ``data_dir`` (no server needed).

    As `kiosk portal enrolment-code --name NAME [--device ID]`; tests and the demo use it.
    """
    from sync.portal.store import PortalStore

    store = PortalStore(Path(data_dir))
    try:
        return store.create_enrolment_code(name, device_id)
    finally:
        store.close()
