"""A cheap reachability probe of the portal, for the app's connection indicator."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from sync import wire


def probe(url: str, timeout: float = 2.0, pins: Sequence[str] = ()) -> bool:
    """True when ``url``'s health endpoint answers 200 within ``timeout`` seconds.

    The same trust as every other request (`sync.tls`): https only with ``pins``
    (checked in the handshake), plain http only to loopback; otherwise False, and no
    connection is tried.
    """
    from sync.client import client_verify
    from sync.tls import UrlError

    try:
        verify = client_verify(url, list(pins))
        response = httpx.get(
            f"{url.rstrip('/')}{wire.API}/health", timeout=timeout, verify=verify, trust_env=False
        )
    except (httpx.HTTPError, ValueError, UrlError):
        return False
    return response.status_code == 200
