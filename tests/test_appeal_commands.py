"""`kiosk portal appeals queue|decide` run as a command against a real portal store, on
SQLite and PostgreSQL (issue 16, docs/appeals.md): the queue says the decision
appealed, its reason and explanation, who decided and the grounds; a decision changes
the appeal's status (and the application's, on an overturn) through the staff API's
own rules; a bad code, a wrong account or status gets a clear message and exit 2."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk import decisions, reasons, tracking
from kiosk.i18n import tr
from sync.portal.store import PortalStore
from tests import sealkit
from tests.conftest import RunKiosk
from tests.test_appeals import APPEAL_SPEC, APPLICANT, appeal, submitted
from tests.test_portal_storage import SPEC, backend, enrolled

__all__ = ["backend"]  # the fixture: each test runs on SQLite and PostgreSQL

GROUNDS = "Every paper was given at the office."


class Portal:
    """A portal's store with one rejected application appealed by its applicant."""

    def __init__(self, folder: Path, database: str | None) -> None:
        self.folder, self.database = folder, database
        sealkit.seed_portal(folder)
        store = self.open()
        try:
            store.add_form("f", "1", "cat", SPEC, "admin")
            version = str(APPEAL_SPEC["version"])
            store.add_form("decision_appeal", version, "appeals", APPEAL_SPEC, "b")
            device = enrolled(store)
            self.application = submitted(store, device)
            store.set_status(self.application, "rejected", reason_code="decision.documents_missing")
            made = appeal(store, device, self.application, GROUNDS)
            assert made["outcome"] == "accepted", made
            self.appeal = str(made["tracking_code"])
            store.add_staff("ombuds", "ombudsman")
            store.add_staff("aziza", "reviewer")
        finally:
            store.close()

    def open(self) -> PortalStore:
        return PortalStore(self.folder, database=self.database)

    def args(self) -> list[str]:
        where = ["--portal-dir", str(self.folder)]
        return [*where, "--database", self.database] if self.database else where


@pytest.fixture
def portal(backend: tuple[str, str | None], tmp_path: Path) -> Iterator[Portal]:
    yield Portal(tmp_path / "portal", backend[1])


def appeals(run_kiosk: RunKiosk, portal: Portal, *args: str) -> Any:
    return run_kiosk("portal", "appeals", *args, *portal.args())


def test_the_queue_says_the_decision_its_reason_and_the_grounds(
    run_kiosk: RunKiosk, portal: Portal
) -> None:
    shown = appeals(run_kiosk, portal, "queue")
    assert shown.returncode == 0, shown.stderr
    out = shown.stdout
    assert tracking.format_code(portal.appeal) in out
    assert tracking.format_code(portal.application) in out
    assert "Some required documents are missing. [decision.documents_missing]" in out
    assert decisions.explain("en", "decision.documents_missing") in out
    assert tr("en", decisions.DECIDED_BY_PERSON) in out
    assert GROUNDS in out and "the applicant (PINFL matched" in out
    assert APPLICANT not in out  # never a PINFL
    russian = appeals(run_kiosk, portal, "queue", "--lang", "ru")
    assert decisions.explain("ru", "decision.documents_missing") in russian.stdout
    as_json = appeals(run_kiosk, portal, "queue", "--json")
    (entry,) = json.loads(as_json.stdout)
    assert entry["tracking_code"] == portal.appeal and entry["grounds"] == GROUNDS
    assert entry["application"]["reason_code"] == "decision.documents_missing"


def test_decide_changes_the_status_through_the_apis_rules(
    run_kiosk: RunKiosk, portal: Portal
) -> None:
    step = appeals(run_kiosk, portal, "decide", portal.appeal, "--status", "in_review")
    assert step.returncode == 2 and "--actor" in step.stderr  # who decides is required
    step = appeals(
        run_kiosk,
        portal,
        "decide",
        portal.appeal.lower(),
        "--status",
        "in_review",
        "--actor",
        "ombuds",
    )
    assert step.returncode == 0, step.stderr
    assert f"{portal.appeal}: the appeal is now in_review" in step.stdout
    done = appeals(
        run_kiosk,
        portal,
        "decide",
        portal.appeal,
        "--status",
        "overturned",
        "--note",
        "Qayta koʻrib chiqiladi.",
        "--actor",
        "ombuds",
    )
    assert done.returncode == 0, done.stderr
    assert f"The application {portal.application} is now in_review." in done.stdout
    store = portal.open()
    try:
        (last,) = store.status_history(portal.application)[-1:]
        assert (last["status"], last["reason_code"], last["actor"]) == (
            "in_review",
            "decision.overturned_on_appeal",
            "ombuds",
        )
        audit = [a for a in store.staff_audit() if a["action"] == "appeal_decided"]
        assert [a["actor"] for a in audit] == ["ombuds", "ombuds"]
    finally:
        store.close()
    empty = appeals(run_kiosk, portal, "queue")
    assert empty.returncode == 0 and "No appeals in the queue." in empty.stdout
    decided = appeals(run_kiosk, portal, "queue", "--status", "overturned")
    assert tracking.format_code(portal.appeal) in decided.stdout


def test_refusals_are_said_clearly_with_a_non_zero_exit(
    run_kiosk: RunKiosk, portal: Portal
) -> None:
    def refused(*args: str) -> str:
        answer = appeals(run_kiosk, portal, *args)
        assert answer.returncode == 2, (answer.stdout, answer.stderr)
        assert "Traceback" not in answer.stderr and answer.stdout == ""
        return str(answer.stderr)

    said = refused("decide", "NOPE-2222-Z", "--status", "upheld", "--actor", "ombuds")
    assert reasons.say("en", "appeal.not_found", {"tracking_code": "NOPE-2222-Z"}) in said
    said = refused("decide", portal.appeal, "--status", "upheld", "--actor", "aziza")
    assert "may not handle appeals" in said  # a reviewer, who may have made the decision
    said = refused("decide", portal.appeal, "--status", "upheld", "--actor", "nobody")
    assert "No enabled staff account is named nobody" in said
    said = refused("decide", portal.appeal, "--status", "rejected", "--actor", "ombuds")
    assert "rejected" in said and "in_review, upheld, overturned" in said
    said = refused("queue", "--status", "bogus")
    assert "bogus" in said
    ok = appeals(
        run_kiosk, portal, "decide", portal.appeal, "--status", "upheld", "--actor", "ombuds"
    )
    assert ok.returncode == 0, ok.stderr
    said = refused("decide", portal.appeal, "--status", "overturned", "--actor", "ombuds")
    assert reasons.say("en", "appeal.decided", {"tracking_code": portal.appeal}) in said
    russian = appeals(
        run_kiosk,
        portal,
        "decide",
        "NOPE-2222-Z",
        "--status",
        "upheld",
        "--actor",
        "ombuds",
        "--lang",
        "ru",
    )
    assert russian.returncode == 2
    assert reasons.say("ru", "appeal.not_found", {"tracking_code": "NOPE-2222-Z"}) in russian.stderr
