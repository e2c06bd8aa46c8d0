"""Enrol a kiosk with a portal: spend a one-time code, keep the token and prefix."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

from kiosk import audit
from kiosk.settings import (
    AUDIT_ANCHOR_SEQ,
    ENROLMENT_KEYS,
    SIGNING_KEYS,
    pins_json,
    put_setting,
)
from sync.client import PortalClient
from sync.transport import Enrolled

if TYPE_CHECKING:
    from kiosk.store import Store


def enroll(store: Store, portal_url: str, code: str, name: str | None = None) -> Enrolled:
    """Enrol ``store``'s kiosk; returns {device_id, token, device_prefix, signing_keys}.

    The portal's catalog signing keys are pinned here (docs/keys.md): from now on only
    forms signed by them (or by keys they vouch for) are activated. The audit anchor
    starts again from the first entry, so the portal gets the whole chain (a resend of
    entries it holds is harmless).

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
        pins = {k["key_id"]: k["public_key"] for k in result.get("signing_keys", [])}
        if pins:
            put_setting(db, SIGNING_KEYS, pins_json(pins))
        else:  # a portal that does not sign: no catalog updates (docs/keys.md)
            db.execute("DELETE FROM settings WHERE key = ?", [SIGNING_KEYS])
        put_setting(db, AUDIT_ANCHOR_SEQ, "0")
        audit.append(
            db,
            "admin",
            "enroll",
            url,
            {
                "device_id": result["device_id"],
                "prefix": result["device_prefix"],
                "signing_keys": sorted(pins),
            },
        )
    return result
