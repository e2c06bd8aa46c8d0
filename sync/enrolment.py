"""Enrol a kiosk with a portal: spend a one-time code, keep the token, prefix and trust.

What enrolment stores decides where the token may ever go: the portal's origin
(scheme://host:port) and its key pins (`sync.tls`). `PortalClient.from_store` sends
the token to that origin only, and every connection checks the pins in the handshake.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kiosk import audit
from kiosk.settings import ENROLMENT_KEYS, put_setting
from sync import tls
from sync.client import PortalClient

if TYPE_CHECKING:
    from kiosk.store import Store


def enroll(
    store: Store,
    portal_url: str,
    code: str,
    name: str | None = None,
    pins: Sequence[str] = (),
) -> dict[str, str]:
    """Enrol ``store``'s kiosk; returns {device_id, token, device_prefix}.

    ``pins`` (`sync.tls` form) are required for an https portal and checked on this
    very connection; plain http is accepted for loopback only (`tls.UrlError`, raised
    before any connection). The kiosk offers its own device id, so enrolling again
    (after a revoked token) keeps its identity and tracking-code prefix at the portal.
    Raises the client's `PortalError`s (`RequestRejected` for a wrong, used or expired
    code, `PinRefused` when the server's key matches no pin).
    """
    url = portal_url.strip().rstrip("/")
    pinned = tls.parse_pins(pins)
    origin = tls.check_url(url)
    with PortalClient(url, pins=pinned) as client:
        result = client.enroll(code.strip(), name or socket.gethostname(), store.device_id)
    values = (
        url,
        result["token"],
        result["device_prefix"],
        result["device_id"],
        origin,
        " ".join(pinned),
    )
    with store.transaction() as db:
        for key, value in zip(ENROLMENT_KEYS, values, strict=True):
            if value:
                put_setting(db, key, value)
            else:
                db.execute("DELETE FROM settings WHERE key = ?", [key])
        audit.append(
            db,
            "admin",
            "enroll",
            url,
            {
                "device_id": result["device_id"],
                "prefix": result["device_prefix"],
                "pins": list(pinned),
            },
        )
    return result
