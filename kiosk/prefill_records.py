"""Once-only prefill at the kiosk: the audited records an operator makes before the
registry is asked, and after (issue 16, docs/once-only.md).

Before a look-up the operator records, in one transaction, that they checked the
citizen's ID document (``prefill_id_checked``) and that the citizen consented to the
look-up of the fields the form names (``prefill_consent``); after it, what came of it
(``prefill_lookup``: found, not found, offline, refused; which questions were filled).
The audit entries name the look-up id and the form, never the PINFL or a value: the
audit chain is anchored at the portal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kiosk import audit, prefill
from kiosk.wire import now_iso

if TYPE_CHECKING:
    from kiosk.store import Store


def _actor(operator_id: int | None) -> str:
    return f"operator:{operator_id}" if operator_id is not None else "operator"


def record_checks(
    store: Store,
    operator_id: int | None,
    lookup_id: str,
    form_id: str,
    document: str,
    fields: Sequence[str],
) -> str:
    """Audit the operator's ID check and the citizen's consent; when (ISO-8601 UTC).
    ValueError for a document that is not one of `kiosk.prefill.DOCUMENTS`."""
    if document not in prefill.DOCUMENTS:
        raise ValueError(f"unknown ID document {document!r}")
    at = now_iso()
    actor = _actor(operator_id)
    with store.transaction() as db:
        audit.append(
            db,
            actor,
            "prefill_id_checked",
            form_id,
            {"lookup_id": lookup_id, "document": document, "method": prefill.ID_CHECK},
        )
        audit.append(
            db,
            actor,
            "prefill_consent",
            form_id,
            {"lookup_id": lookup_id, "fields": list(fields), "purpose": prefill.PURPOSE},
        )
    return at


def record_outcome(
    store: Store,
    operator_id: int | None,
    lookup_id: str,
    form_id: str,
    outcome: str,
    filled: Sequence[str],
) -> None:
    """Audit what came of a look-up (``found``, ``not_found``, ``offline``,
    ``refused:<code>``) and which questions it filled."""
    with store.transaction() as db:
        audit.append(
            db,
            _actor(operator_id),
            "prefill_lookup",
            form_id,
            {"lookup_id": lookup_id, "outcome": outcome[:80], "filled": list(filled)},
        )
