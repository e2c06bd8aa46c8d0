"""A tracking code's status for the citizen asking now: live from the portal, else local.

Online, the portal answers for any code (`Transport.lookup_status`: status fields only,
rate-limited per source); the answer is shown, not stored (the background status pull
keeps the local copy). Offline, when not enrolled, or when the portal cannot answer
(rate-limited, failing), the kiosk's local copy is shown (its outbox and the statuses
it pulled) with how old it is: when statuses were last pulled. The status screen
(`screens/status.py`, on a worker thread) and `kiosk status CODE` both use `look_up`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from kiosk import decisions, outbox, tracking
from kiosk.errors import TranslatableError
from kiosk.formatting import format_ago
from kiosk.i18n import N_, tr
from kiosk.outbox import CodeStatus

if TYPE_CHECKING:
    from kiosk.store import Store
    from sync.transport import StatusLookup, Transport

logger = logging.getLogger(__name__)

# Portal statuses (docs/sync-protocol.md) as the citizen reads them.
PORTAL_STATUSES = {
    "received": N_("Received by the service"),
    "accepted": N_("Received by the service"),
    "in_review": N_("Being reviewed"),
    "in_progress": N_("Being processed"),
    "needs_info": N_("More information needed: please visit the office"),
    "approved": N_("Approved"),
    "ready": N_("Ready: you can collect it"),
    "completed": N_("Completed"),
    "rejected": N_("Refused"),
    "declined": N_("Refused"),
    # An appeal's own statuses (docs/appeals.md): received, in_review, then one of these.
    "upheld": N_("Appeal decided: the original decision stands"),
    "overturned": N_("Appeal decided: the original decision was changed"),
}
# The live look-up's decision fields (issue 16) copied onto the status record.
DECISION_FIELDS = ("automated", "stalled", "deadline_at", "appealable", "kind")


UNKNOWN_STATUS = N_("updated by the service; ask at the office for details")


@dataclass(frozen=True)
class Lookup:
    """What is known of a code: ``info`` (None: unknown), ``live`` when the portal
    answered just now, else ``as_of`` (when the local copy was last refreshed, ISO) and
    ``problem`` (why the portal gave no answer, in the asker's language; None offline)."""

    code: str
    info: CodeStatus | None
    live: bool
    as_of: str | None = None
    problem: str | None = None


def _blank(code: str) -> CodeStatus:
    return {
        "tracking_code": code,
        "form_id": None,
        "form_version": None,
        "created_at": None,
        "state": None,
        "outcome": None,
        "reason": None,
        "application_number": None,
        "sent_at": None,
        "portal_status": None,
        "note": None,
        "status_updated_at": None,
        "reason_code": None,
    }


def merged(local: CodeStatus | None, answer: StatusLookup) -> CodeStatus | None:
    """The local record with the portal's live status over it (None: known nowhere)."""
    if not answer["found"]:
        return local
    info = dict(local) if local is not None else dict(_blank(answer["tracking_code"]))
    info["portal_status"] = answer["status"]
    info["application_number"] = answer["application_number"] or info["application_number"]
    info["status_updated_at"] = answer["updated_at"]
    if local is None or local.get("portal_status") != answer["status"]:
        info["note"] = None  # the live answer carries no note: an older one would mislead
        info["reason_code"] = None  # nor a reason, unless it gives one (issue 16)
    if "reason_code" in answer:
        info["reason_code"] = answer["reason_code"]
    for name in DECISION_FIELDS:
        if name in answer:
            info[name] = answer[name]  # type: ignore[literal-required]  # a StatusLookup key
    return info  # type: ignore[return-value]  # the same keys as CodeStatus


def look_up(
    store: Store, raw_code: str, lang: str, *, ask_portal: bool, transport: Transport | None = None
) -> Lookup | None:
    """The status of ``raw_code`` (None: not a valid tracking code). ``ask_portal``:
    the kiosk believes it is online; ``transport`` stands in for the enrolled portal."""
    code = tracking.normalize(raw_code)
    if code is None or not tracking.is_valid(code):
        return None
    local = store.status(code)
    problem = None
    if ask_portal:
        try:
            answer = _ask(store, code, transport)
        except TranslatableError as exc:  # PortalError (limited, failing), a refused URL
            answer, problem = None, exc.message(lang)
        except Exception:  # the network failing in any other way: the local copy
            logger.info("status look-up failed", exc_info=True)
            answer, problem = None, tr(lang, "The portal could not be reached.")
        if answer is not None:
            return Lookup(code, merged(local, answer), live=True)
    with store.guard():
        as_of = outbox.status_pulled_at(store.db) or store.state.last_sync_at
    return Lookup(code, local, live=False, as_of=as_of, problem=problem)


def _ask(store: Store, code: str, transport: Transport | None) -> StatusLookup | None:
    if transport is not None:
        return transport.lookup_status(code)
    from sync.client import PortalClient

    client = PortalClient.from_store(store)
    if client is None:
        return None  # not enrolled: nothing to ask
    with client:
        return client.lookup_status(code)


def appealable(info: Mapping[str, object] | None, live: bool) -> bool:
    """Whether the citizen may write an appeal of ``info``: the portal said so live;
    offline, a refusal it sent earlier (it judges the appeal again on arrival)."""
    if info is None:
        return False
    said = info.get("appealable")
    if live and isinstance(said, bool):
        return said
    return info.get("portal_status") == "rejected"


def describe(info: Mapping[str, object] | None, lang: str) -> str:
    """The sentence shown and spoken for a status record (None: unknown code)."""
    if info is None:
        return tr(lang, "No application with this code was found on this kiosk.")
    state = info.get("state")
    portal = info.get("portal_status")
    if portal:
        # A status this kiosk has no words for is not shown as the portal spelt it (the
        # wire's text is not the citizen's language: issue 14).
        msgid = PORTAL_STATUSES.get(str(portal), UNKNOWN_STATUS)
        text = tr(lang, msgid)
        line = tr(lang, "Status: {status}", status=text)
        # The decision reason in the citizen's words, explained, who decided; stalled
        # and appealable (kiosk/decisions.py).
        for extra in decisions.decision_lines(info, lang):
            line += "\n" + extra
        if info.get("note"):
            line += "\n" + str(info["note"])
        return line
    if state == "queued":
        return tr(lang, "Saved on this kiosk. It will be sent when the network is available.")
    if state == "rejected":
        reason = info.get("reason") or ""
        said = tr(lang, "The portal did not accept the application: {reason}", reason=reason)
        return said + "\n" + decisions.who_decided(lang, True)  # the portal's rules refused it
    if state == "sent":
        number = info.get("application_number")
        if number:
            return tr(lang, "Delivered to the service. Application number: {number}", number=number)
        return tr(lang, "Delivered to the service. Waiting for the first update.")
    return tr(lang, "Status: {status}", status=str(state))


def freshness(result: Lookup, now: datetime, lang: str) -> str:
    """The line saying where the answer comes from: the portal now, or the local copy
    and how old it is ("as of 2 hours ago"), and why the portal did not answer."""
    if result.live:
        return tr(lang, "Checked with the portal just now.")
    lines = []
    if result.problem:
        lines.append(result.problem)
    if result.as_of:
        try:
            moment = datetime.fromisoformat(result.as_of)
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=now.tzinfo)
            age = format_ago(moment, now, lang)
            lines.append(tr(lang, "Saved on this kiosk, as of {age}.", age=age))
    else:
        lines.append(tr(lang, "Saved on this kiosk; never updated from the portal."))
    return "\n".join(lines)
