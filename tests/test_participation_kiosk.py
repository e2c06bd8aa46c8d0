"""The kiosk side of votes and petitions: the answers each form carries, and the
operator's ID check audited with the queued item (never the PINFL)."""

from __future__ import annotations

from pathlib import Path

from kiosk import participation
from kiosk.operators import add_operator
from kiosk.store import Store

PINFL = "31503622261234"


def test_a_vote_after_an_id_check_is_audited_and_one_without_is_not(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        oid = add_operator(store, "Dilnoza", "482193")
        checked = participation.vote_answers("s", "i", PINFL, operator_id=oid)
        plain = participation.vote_answers("s", "i", PINFL)
        assert checked["verified_by"] == participation.OPERATOR_CHECK
        assert "verified_by" not in plain and "operator_id" not in plain
        participation.submit(store, participation.VOTE_FORM, checked, "uz_Cyrl", oid)
        participation.submit(store, participation.VOTE_FORM, plain, "uz_Cyrl", None)
        rows = list(store.db.query("SELECT actor, action, subject, details FROM audit"))
    checks = [r for r in rows if r["action"] == participation.ID_CHECKED_ACTION]
    assert [(r["actor"], r["subject"]) for r in checks] == [(f"operator:{oid}", "budget_vote")]
    assert all(PINFL not in str(r["details"]) for r in rows)
    queued = [r for r in rows if r["action"] != participation.ID_CHECKED_ACTION]
    assert len(queued) >= 2


def test_every_participation_form_carries_its_kind() -> None:
    kinds = {spec["kind"] for spec in participation.FORMS.values()}
    assert kinds == {"vote", "petition_sign", "petition_start"}
    assert participation.clean_pinfl("3150 3622-261234") == PINFL
    assert participation.clean_pinfl("315036222612") is None
