"""Helpers of the sync integration tests: CLI runs, queueing, the test form."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from kiosk import tracking
from kiosk.store import Store
from sync.client import client_verify
from sync.enrolment import enroll as sync_enroll
from sync.portal.process import PortalProcess, create_enrolment_code
from sync.portal.store import PortalStore
from tests.conftest import KIOSK_ARGV, REPO_ROOT
from tests.sealkit import seed_portal

__all__ = ["KIOSK_ARGV", "REPO_ROOT"]

# A form the portal always knows, whatever the bundled catalog holds: tests stay
# independent of the catalog's contents.
TEST_FORM_ID = "sync_test"
TEST_FORM_VERSION = "1"
TEST_FORM_SPEC: dict[str, Any] = {
    "type": "survey",
    "name": "data",
    "id_string": TEST_FORM_ID,
    "version": TEST_FORM_VERSION,
    "title": "Sync test",
    "children": [
        {"type": "text", "name": "full_name", "label": "Full name"},
        {"type": "integer", "name": "n", "label": "Number"},
    ],
}


@dataclass
class Kiosk:
    """An enrolled kiosk data dir and the portal it is enrolled with."""

    data_dir: Path
    portal: PortalProcess

    def store(self) -> Store:
        return Store.open(self.data_dir)

    def run(self, *args: str, timeout: float = 120, **kw: Any) -> subprocess.CompletedProcess[str]:
        return run_cli(self.data_dir, *args, timeout=timeout, **kw)

    @property
    def device_id(self) -> str:
        with self.store() as store:
            value = store.get_setting("portal_device_id")
        assert value
        return value

    def portal_stats(self) -> dict[str, int]:
        """This kiosk's counts at the portal, read from its database."""
        store = PortalStore(self.portal.data_dir)
        try:
            return store.stats(self.device_id)
        finally:
            store.close()

    def portal_stats_cli(self) -> dict[str, int]:
        """The same through `kiosk portal stats --json --device ID`."""
        result = run_cli(
            self.data_dir,
            "portal",
            "stats",
            "--json",
            "--device",
            self.device_id,
            "--portal-dir",
            str(self.portal.data_dir),
        )
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


def cli_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, KIOSK_DATA_DIR=str(data_dir), KIOSK_LANG="en")
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_cli(
    data_dir: Path, *args: str, timeout: float = 120, **kw: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KIOSK_ARGV, *args],
        capture_output=True,
        text=True,
        env=cli_env(data_dir),
        cwd=REPO_ROOT,
        timeout=timeout,
        **kw,
    )


def add_test_form(portal_dir: Path) -> None:
    """The test form, and the test sealing key's private half (tests/sealkit.py): items
    a kiosk sealed before enrolment open there."""
    seed_portal(portal_dir)
    store = PortalStore(portal_dir)
    try:
        store.add_form(TEST_FORM_ID, TEST_FORM_VERSION, "test", TEST_FORM_SPEC, "admin")
    finally:
        store.close()


def queue_submissions(
    store: Store, n: int, *, start: int = 0, form_id: str = TEST_FORM_ID
) -> list[str]:
    """Queue ``n`` submissions through Store.submit in one transaction; their tracking codes."""
    codes = []
    with store.transaction():
        for i in range(start, start + n):
            sub = store.submit(
                None,
                {"full_name": f"Aliyev Vali {i}", "n": i},
                "uz_Latn",
                form_id=form_id,
                form_version=TEST_FORM_VERSION,
            )
            codes.append(sub.tracking_code)
    return codes


def enroll(data_dir: Path, portal: PortalProcess) -> None:
    """In-process (the CLI path is tested on its own): fixtures stay fast."""
    code = create_enrolment_code(portal.data_dir)
    with Store.open(data_dir) as store:
        sync_enroll(store, portal.url, code, "test kiosk", portal.pins)


def enroll_args(portal: PortalProcess) -> list[str]:
    """`kiosk enroll`'s ``--portal URL`` and, over https, a ``--pin`` for each of the
    portal's pins (what the operator types or scans from the code slip)."""
    pins = [arg for pin in portal.pins for arg in ("--pin", pin)]
    return ["--portal", portal.url, *pins]


def portal_http(
    portal: PortalProcess,
    token: str | None = None,
    *,
    source: str | None = None,
    timeout: float = 30,
) -> httpx.Client:
    """A raw HTTP client for the portal (what an attacker's script or a test sends),
    trusting it as an enrolled kiosk does: its pins over https, nothing to check over
    loopback http. ``token`` is sent as the bearer; ``source`` is the local address
    to connect from (another 127.0.0.x: another source for the guessing limits)."""
    transport = httpx.HTTPTransport(
        verify=client_verify(portal.url, portal.pins), local_address=source
    )
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        base_url=portal.url, transport=transport, headers=headers, timeout=timeout, trust_env=False
    )


def moved(data_dir: Path, url: str) -> None:
    """The kiosk's portal now answers at ``url`` (a restarted portal on a new port).

    In the field a new origin means enrolling again (the token goes to the enrolled
    origin only); a test whose portal restarts on another port rewrites the enrolment.
    """
    from sync.tls import origin_of

    with Store.open(data_dir) as store:
        store.state.portal_url = url
        store.state.portal_origin = origin_of(url)


def outbox(store: Store) -> list[dict[str, Any]]:
    return list(store.db.query("SELECT * FROM outbox ORDER BY rowid"))


def device_id_deriving(prefix: str, unlike: str = "") -> str:
    """A device id (not ``unlike``) whose derived prefix is ``prefix``: the attacker's
    search, a few seconds for 31**4 values."""
    base = uuid.uuid4().int
    for n in range(100 * 31**tracking.DERIVED_PREFIX_LEN):
        candidate = str(uuid.UUID(int=(base + n) % 2**128))
        if candidate != unlike and tracking.prefix_from_id(candidate) == prefix:
            return candidate
    raise AssertionError("no such device id found")  # odds about e**-100


def twin_of(device_id: str) -> str:
    """A different device id with the same derived prefix."""
    return device_id_deriving(tracking.prefix_from_id(device_id), unlike=device_id)
