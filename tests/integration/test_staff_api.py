"""The staff status API and open data against real portal processes (issue 15).

Staff accounts are made with `kiosk portal staff add`; `kiosk portal set-status` goes
through the API of the running portal; the kiosk pulls the status with its decision
reason and says it in the citizen's language. Open data is read over HTTP from a
portal whose database holds last month's applications.
"""

from __future__ import annotations

import csv
import io
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.crashpoints import ENV
from kiosk.i18n import tr
from sync import wire
from sync.lookup import describe
from sync.portal.process import PortalProcess
from sync.portal.store import PortalStore
from tests import sealkit
from tests.conftest import KIOSK_ARGV, REPO_ROOT
from tests.integration.conftest import start_test_portal
from tests.integration.crashkit import KILLED, marker, wait_for_exit
from tests.integration.synckit import (
    Kiosk,
    cli_env,
    moved,
    portal_http,
    queue_submissions,
    run_cli,
)
from tests.integration.test_sync_engine import engine
from tests.test_portal_storage import SPEC, item

NEEDS_DOCS = "Some required documents are missing."


def staff_token(kiosk: Kiosk, name: str, role: str) -> str:
    made = kiosk.run(
        "portal", "staff", "add", name, "--role", role, "--portal-dir", str(kiosk.portal.data_dir)
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert len(token) >= 40 and "shown only now" in made.stderr
    return token


def token_file(tmp_path: Path, token: str) -> Path:
    path = tmp_path / f"staff-{token[:6]}.token"
    path.write_text(token + "\n", encoding="utf-8")
    return path


def set_status(
    kiosk: Kiosk, url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`kiosk portal set-status ARGS --url URL` as staff run it (``env`` added)."""
    return subprocess.run(
        [*KIOSK_ARGV, "portal", "set-status", *args, "--url", url],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        env={**cli_env(kiosk.data_dir), **(env or {})},
    )


def synced(kiosk: Kiosk, n: int) -> list[str]:
    with kiosk.store() as store:
        codes = queue_submissions(store, n)
        assert engine(store).run().sent == n
    return codes


def test_set_status_goes_through_the_api_and_the_kiosk_says_the_reason(
    kiosk: Kiosk, tmp_path: Path
) -> None:
    codes = synced(kiosk, 2)
    token = staff_token(kiosk, "aziza", "reviewer")
    done = set_status(
        kiosk,
        kiosk.portal.url,
        codes[0],
        "needs_info",
        "--reason",
        "decision.documents_missing",
        "--note",
        "Bring your passport",
        "--token-file",
        str(token_file(tmp_path, token)),
    )
    assert done.returncode == 0, done.stderr
    assert f"{codes[0]}: status is now needs_info" in done.stdout
    # The token from the environment works as well.
    done = set_status(
        kiosk,
        kiosk.portal.url,
        codes[1],
        "approved",
        "--reason",
        "decision.approved_as_requested",
        env={"KIOSK_STAFF_TOKEN": token},
    )
    assert done.returncode == 0, done.stderr
    with kiosk.store() as store:
        assert engine(store).run().statuses == 2
        first = store.status(codes[0])
        assert first["portal_status"] == "needs_info"
        assert first["reason_code"] == "decision.documents_missing"
        assert first["note"] == "Bring your passport"
    said = describe(first, "ru")
    assert tr("ru", NEEDS_DOCS) in said and tr("ru", NEEDS_DOCS) != NEEDS_DOCS
    assert "decision." not in said
    # Who and when, with the reason and the note, in the history.
    with portal_http(kiosk.portal, token) as http:
        answer = http.get(f"{wire.API}/staff/applications/{codes[0].lower()}/history")
    assert answer.status_code == 200, answer.text
    history = answer.json()["history"]
    assert [(h["status"], h["reason_code"], h["actor"], h["note"]) for h in history] == [
        ("received", None, None, None),
        ("needs_info", "decision.documents_missing", "aziza", "Bring your passport"),
    ]
    assert history[1]["at"] >= history[0]["at"]


def test_device_and_staff_tokens_each_open_only_their_own_api(kiosk: Kiosk) -> None:
    (code,) = synced(kiosk, 1)
    staff = staff_token(kiosk, "bekzod", "reviewer")
    with kiosk.store() as store:
        device = store.state.portal_token
    assert device
    path = f"{wire.API}/staff/applications/{code}/status"
    body = {"status": "approved", "reason_code": "decision.approved_as_requested"}
    for token in (device, None, "not-a-token"):
        with portal_http(kiosk.portal, token) as http:
            refused = http.post(path, json=body)
            listed = http.get(f"{wire.API}/staff/applications/{code}/history")
        assert (refused.status_code, refused.json()["code"]) == (401, "staff.token")
        assert (listed.status_code, listed.json()["code"]) == (401, "staff.token")
    with portal_http(kiosk.portal, staff) as http:
        for kiosk_path in ("/status", "/catalog", f"/status/lookup/{code}"):
            answer = http.get(f"{wire.API}{kiosk_path}")
            assert (answer.status_code, answer.json()["code"]) == (401, "auth.token")
        assert http.post(path, json=body).status_code == 200  # and its own door opens


def test_roles_reasons_and_unknown_codes_are_refused_with_their_reasons(
    kiosk: Kiosk, tmp_path: Path
) -> None:
    (code,) = synced(kiosk, 1)
    reviewer = staff_token(kiosk, "dilnoza", "reviewer")
    path = f"{wire.API}/staff/applications/{code}/status"
    for role in ("ombudsman", "admin"):
        other = staff_token(kiosk, f"{role}1", role)
        with portal_http(kiosk.portal, other) as http:
            refused = http.post(path, json={"status": "in_review"})
            assert (refused.status_code, refused.json()["code"]) == (403, "staff.role")
            assert http.get(f"{wire.API}/staff/applications/{code}/history").status_code == 200
        said = set_status(
            kiosk,
            kiosk.portal.url,
            code,
            "in_review",
            "--token-file",
            str(token_file(tmp_path, other)),
            "--lang",
            "ru",
        )
        assert said.returncode == 2 and "Traceback" not in said.stderr
        assert role in said.stderr and "in_review" in said.stderr
        assert (
            tr(
                "ru",
                "Staff with the role {role} may not set the status {status}.",
                role=role,
                status="in_review",
            )
            in said.stderr
        )
    cases = [
        ({"status": "rejected"}, 422, "status.reason_needed"),
        (
            {"status": "rejected", "reason_code": "decision.approved_in_part"},
            422,
            "status.reason_mismatch",
        ),
        ({"status": "rejected", "reason_code": "decision.nope"}, 422, "status.reason_unknown"),
        ({"status": "lost"}, 422, "status.unknown"),
        ({"status": "approved", "note": "x" * 1001}, 422, "body.invalid"),
    ]
    with portal_http(kiosk.portal, reviewer) as http:
        for body, status, reason in cases:
            answer = http.post(path, json=body)
            assert (answer.status_code, answer.json()["code"]) == (status, reason), body
        missing = http.post(
            f"{wire.API}/staff/applications/NOPE1234/status", json={"status": "in_review"}
        )
        assert (missing.status_code, missing.json()["code"]) == (404, "status.not_found")
        history = http.get(f"{wire.API}/staff/applications/{code}/history").json()["history"]
        assert [h["status"] for h in history] == ["received"]  # nothing refused was kept
    bad = set_status(
        kiosk,
        kiosk.portal.url,
        "NOPE1234",
        "in_review",
        "--token-file",
        str(token_file(tmp_path, reviewer)),
    )
    assert bad.returncode == 2 and "NOPE1234" in bad.stderr
    # A disabled account's token is refused from then on.
    off = kiosk.run(
        "portal", "staff", "disable", "dilnoza", "--portal-dir", str(kiosk.portal.data_dir)
    )
    assert off.returncode == 0, off.stderr
    with portal_http(kiosk.portal, reviewer) as http:
        assert http.post(path, json={"status": "in_review"}).json()["code"] == "staff.token"
    listed = kiosk.run(
        "portal", "staff", "list", "--json", "--portal-dir", str(kiosk.portal.data_dir)
    )
    assert reviewer not in listed.stdout and '"disabled_at": null' in listed.stdout
    trail = kiosk.run("portal", "staff", "audit", "--portal-dir", str(kiosk.portal.data_dir))
    assert "staff_disabled\tdilnoza" in trail.stdout


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_set_status_says_clearly_when_the_portal_is_down_or_the_token_refused(
    kiosk: Kiosk, tmp_path: Path
) -> None:
    (code,) = synced(kiosk, 1)
    good = token_file(tmp_path, staff_token(kiosk, "erkin", "reviewer"))
    down = set_status(
        kiosk,
        f"http://127.0.0.1:{_closed_port()}",
        code,
        "in_review",
        "--token-file",
        str(good),
        "--lang",
        "ru",
    )
    assert down.returncode == 1 and "Traceback" not in down.stderr
    assert (
        tr("ru", "Cannot reach the portal at {url}: is it running?", url="X").split("X")[0]
        in down.stderr
    )
    wrong = set_status(
        kiosk,
        kiosk.portal.url,
        code,
        "in_review",
        "--token-file",
        str(token_file(tmp_path, "x" * 43)),
        "--lang",
        "ru",
    )
    assert (
        wrong.returncode == 2
        and tr("ru", "The portal does not accept this staff token.") in wrong.stderr
    )
    empty = tmp_path / "empty.token"
    empty.write_text("")
    for args in (["--token-file", str(empty)], ["--token-file", str(tmp_path / "missing")], []):
        none = set_status(kiosk, kiosk.portal.url, code, "in_review", *args)
        assert none.returncode == 2 and "Traceback" not in none.stderr and none.stderr.strip()
    plain = set_status(kiosk, "http://portal.example", code, "in_review", "--token-file", str(good))
    assert plain.returncode == 2 and "Traceback" not in plain.stderr  # a token never goes in clear


def test_portal_killed_while_setting_a_status(
    private_kiosk: Kiosk, restarted: list[PortalProcess], tmp_path: Path
) -> None:
    kiosk = private_kiosk
    (code,) = synced(kiosk, 1)
    token = token_file(tmp_path, staff_token(kiosk, "farrux", "reviewer"))
    kiosk.portal.stop()
    spec = "portal.status_set:1"
    crashing = start_test_portal(kiosk.portal.data_dir, env={ENV: spec})
    restarted.append(crashing)
    args = (code, "approved", "--reason", "decision.approved_in_part", "--token-file", str(token))
    lost = set_status(kiosk, crashing.url, *args)
    assert lost.returncode == 1 and "Traceback" not in lost.stderr
    assert wait_for_exit(crashing) == KILLED
    assert any(marker("portal.status_set") in line for line in crashing.output)
    store = PortalStore(kiosk.portal.data_dir)
    try:  # the change was never committed: neither status, history nor audit has it
        assert [h["status"] for h in store.status_history(code)] == ["received"]
        assert [a["action"] for a in store.staff_audit()] == ["staff_added"]
    finally:
        store.close()
    again = start_test_portal(kiosk.portal.data_dir)
    restarted.append(again)
    done = set_status(kiosk, again.url, *args)
    assert done.returncode == 0, done.stderr
    moved(kiosk.data_dir, again.url)
    with kiosk.store() as store:
        assert engine(store).run().statuses == 1
        assert store.status(code)["reason_code"] == "decision.approved_in_part"


def _last_month() -> str:
    first = datetime.now(UTC).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@pytest.fixture
def open_portal(tmp_path: Path) -> Iterator[PortalProcess]:
    """A portal whose database holds last month's applications: Chilonzor 3, Yunusobod
    12, Olmazor 9 (its code made with `kiosk portal enrolment-code --region`)."""
    portal_dir = tmp_path / "portal"
    sealkit.seed_portal(portal_dir)
    made = run_cli(
        tmp_path,
        "portal",
        "enrolment-code",
        "--name",
        "olmazor kiosk",
        "--region",
        "Olmazor",
        "--portal-dir",
        str(portal_dir),
    )
    assert made.returncode == 0, made.stderr
    store = PortalStore(portal_dir)
    try:
        store.add_form("f", "1", "cat", SPEC, "admin")
        codes = [made.stdout.splitlines()[0]]
        codes += [store.create_enrolment_code("k", region=r) for r in ("Chilonzor", "Yunusobod")]
        for enrolment, count in zip(codes, (9, 3, 12), strict=True):
            device = store.enroll(enrolment, "k")
            items = [item(device["device_prefix"]) for _ in range(count)]
            assert {r["outcome"] for r in store.ingest(device["device_id"], items, "sync")} == {
                "accepted"
            }
        when = f"{_last_month()}-15T10:00:00Z"
        store.conn.execute("UPDATE submissions SET received_at = ?", (when,))
        store.conn.execute("UPDATE status_log SET at = ?", (when,))
        regions = {r[0] for r in store.conn.execute("SELECT region FROM devices")}
        assert regions == {"Olmazor", "Chilonzor", "Yunusobod"}
    finally:
        store.close()
    process = start_test_portal(portal_dir)
    try:
        yield process
    finally:
        process.stop()


def test_open_data_over_http_hides_a_region_with_three_applications(
    open_portal: PortalProcess,
) -> None:
    month = _last_month()
    with portal_http(open_portal) as http:  # public: no token
        answer = http.get(f"{wire.API}/open-data/stats", params={"month": month})
        as_csv = http.get(f"{wire.API}/open-data/stats", params={"month": month, "format": "csv"})
        same_csv = http.get(f"{wire.API}/open-data/stats.csv", params={"month": month})
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    assert stats["month"] == month and stats["licence"] == "CC BY 4.0"
    table = next(t for t in stats["services"] if t["form_id"] == "f")
    regions = {r["region"]: r for r in table["regions"]}
    assert regions["Chilonzor"]["total"] is None
    assert set(regions["Chilonzor"]["counts"].values()) == {None}
    assert regions["Yunusobod"]["total"] == 12 and table["total"] == 24
    published = [v for r in table["regions"] for v in (r["total"], *r["counts"].values())]
    published += [*table["status_totals"].values(), table["total"]]
    assert 3 not in published and 0 not in published
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text == same_csv.text
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    chilonzor = [r["count"] for r in rows if r["region"] == "Chilonzor"]
    assert chilonzor and set(chilonzor) == {""}
    assert {"3", "0"}.isdisjoint(r["count"] for r in rows)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"month": datetime.now(UTC).strftime("%Y-%m")}, "opendata.not_over"),
        ({"month": "2999-01"}, "opendata.not_over"),
        ({"month": "2026-1"}, "opendata.month"),
        ({}, "opendata.month"),
        ({"month": "2025-01..2025-03"}, "opendata.range"),
        ({"month": "2025-01/2025-03"}, "opendata.range"),
        ({"from": "2025-01-01", "to": "2025-01-15"}, "opendata.range"),
        ({"month": ["2025-01", "2025-02"]}, "opendata.range"),
        ({"month": "2025-01", "format": "xml"}, "opendata.format"),
    ],
)
def test_open_data_refuses_anything_but_one_whole_past_month(
    portal: PortalProcess, params: dict[str, object], reason: str
) -> None:
    with portal_http(portal) as http:
        answer = http.get(f"{wire.API}/open-data/stats", params=params)
    assert (answer.status_code, answer.json()["code"]) == (422, reason)
