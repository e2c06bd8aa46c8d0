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


def _accepted_pending(store: Store) -> str:
    """A queued vote the portal answered ``accepted`` / ``pending`` (kept for a code)."""
    from kiosk import outbox

    sub = participation.submit(
        store, participation.VOTE_FORM, participation.vote_answers("s", "i", PINFL), "ru", None
    )
    [batch] = list(outbox.iter_batches(store.db, None, 10, 1_000_000))
    results = [{"id": r.id, "outcome": "accepted", "application_number": "pending"} for r in batch]
    outbox.apply_results(store, batch, results, 0, lambda _n: 1.0)
    return sub.tracking_code


def test_a_confirmed_code_tells_the_outbox_and_the_audit(data_dir: Path) -> None:
    with Store.open(data_dir) as store:
        code = _accepted_pending(store)
        assert participation.outbox_item(store, code) is not None
        assert participation.mark_confirmed(store, code)
        assert not participation.mark_confirmed(store, code)  # once
        [row] = store.db.query(
            "SELECT application_number FROM outbox WHERE tracking_code = ?", (code,)
        )
        audited = list(
            store.db.query(
                "SELECT subject FROM audit WHERE action = ?", (participation.CONFIRMED_ACTION,)
            )
        )
    assert row["application_number"] == participation.VERIFIED
    assert [a["subject"] for a in audited] == [code]


CONFIRM_CHILD = """
import sys
from pathlib import Path
from kiosk import participation
from kiosk.store import Store
with Store.open(Path(sys.argv[1])) as store:
    participation.mark_confirmed(store, sys.argv[2])
print("marked")
"""


def test_killed_while_marking_a_vote_confirmed(data_dir: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    from kiosk import audit

    with Store.open(data_dir) as store:
        code = _accepted_pending(store)
        head = store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    child = subprocess.run(
        [sys.executable, "-c", CONFIRM_CHILD, str(data_dir), code],
        capture_output=True,
        text=True,
        env=dict(os.environ, KIOSK_CRASH_AT="participation.confirmed_before_commit"),
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert "crash point participation.confirmed_before_commit" in child.stderr
    assert "marked" not in child.stdout
    with Store.open(data_dir) as store:
        [row] = store.db.query(
            "SELECT application_number FROM outbox WHERE tracking_code = ?", (code,)
        )
        assert row["application_number"] == participation.PENDING  # all or nothing
        assert store.db.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == head
        assert audit.verify(store.db).ok
        assert participation.mark_confirmed(store, code)  # and it works after
