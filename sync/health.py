"""A cheap reachability probe of the portal, for the app's connection indicator."""

from __future__ import annotations

import httpx

from sync import wire


def probe(url: str, timeout: float = 2.0) -> bool:
    """True when ``url``'s health endpoint (``wire.API``/health) answers 200 within ``timeout`` seconds."""
    try:
        response = httpx.get(f"{url.rstrip('/')}{wire.API}/health", timeout=timeout)
    except (httpx.HTTPError, ValueError):
        return False
    return response.status_code == 200
