"""Enrol a kiosk with a portal: spend a one-time code, keep the token and prefix.

The code is checked here first (`kiosk.enrolment_code`: length and check symbol), so a
mistyped code is said at once and never counts against the portal's guessing limit.
"""

from __future__ import annotations

import socket
import uuid
from typing import TYPE_CHECKING

from kiosk import audit, enrolment_code, tracking
from kiosk.errors import TranslatableError
from kiosk.i18n import N_
from kiosk.settings import ENROLMENT_KEYS, put_setting
from sync.client import PortalClient

if TYPE_CHECKING:
    from kiosk.store import Store


def _adoptable(device_id: str) -> bool:
    """Whether the portal adopts this id (a canonical uuid) and so can check its prefix."""
    try:
        return str(uuid.UUID(device_id)) == device_id
    except ValueError:
        return False


class CodeMistyped(TranslatableError):
    """The code cannot be one the portal made (wrong length or check symbol)."""


def enroll(store: Store, portal_url: str, code: str, name: str | None = None) -> dict[str, str]:
    """Enrol ``store``'s kiosk; returns {device_id, token, device_prefix, ...}.

    The kiosk offers its own device id, so enrolling again (after a revoked token)
    keeps its identity and tracking-code prefix at the portal; the portal asks for a
    code made for that device (`kiosk portal enrolment-code --device ID`). It also
    registers the prefix its codes carried before enrolment (derived from the device
    id), so the portal accepts those codes, still queued, as this device's. Raises
    `CodeMistyped` before contacting the portal, else the client's `PortalError`s
    (`RequestRejected` for a wrong, used or expired code, `RetryableError` with
    ``retry_after`` when the portal's guessing limit says wait).
    """
    canon = enrolment_code.normalize(code)
    if canon is None:
        raise CodeMistyped(
            N_(
                "The enrolment code {code} is mistyped: it has {length} symbols, in groups "
                "like ABCD-EFGH-JKMN-PQ. Check it against the one the portal printed."
            ),
            code=code.strip()[:40],
            length=enrolment_code.CODE_LEN,
        )
    url = portal_url.rstrip("/")
    device_id = store.device_id
    with PortalClient(url) as client:
        result = client.enroll(
            canon,
            name or socket.gethostname(),
            device_id,
            tracking.prefix_from_id(device_id) if _adoptable(device_id) else None,
        )
    values = (url, result["token"], result["device_prefix"], result["device_id"])
    with store.transaction() as db:
        for key, value in zip(ENROLMENT_KEYS, values, strict=True):
            put_setting(db, key, value)
        audit.append(
            db,
            "admin",
            "enroll",
            url,
            {"device_id": result["device_id"], "prefix": result["device_prefix"]},
        )
    return result
