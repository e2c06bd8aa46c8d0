"""Enrol a kiosk with a portal: spend a one-time code, keep the token and prefix."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from kiosk import audit
from kiosk.settings import ENROLMENT_KEYS, put_setting
from sync.client import PortalClient

if TYPE_CHECKING:
    from kiosk.store import Store


def enroll(store: Store, portal_url: str, code: str, name: str | None = None) -> dict[str, str]:
    """Enrol ``store``'s kiosk; returns {device_id, token, device_prefix}.

    The kiosk offers its own device id, so enrolling again (after a revoked token)
    keeps its identity and tracking-code prefix at the portal. Raises the client's
    `PortalError`s (`RequestRejected` for a wrong, used or expired code).
    """
    url = portal_url.rstrip("/")
    with PortalClient(url) as client:
        result = client.enroll(code.strip(), name or socket.gethostname(), store.device_id)
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
