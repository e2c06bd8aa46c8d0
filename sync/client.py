"""The HTTP `sync.transport.Transport` (httpx): enrolment, batches, status, catalog, bundles.

HTTP failures map onto the transport's three errors: 401 is `AuthError`; network
faults, timeouts, 5xx and 429 are `RetryableError` (with Retry-After); another 4xx
is `RequestRejected`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from kiosk.audit import AnchorEntry
from kiosk.crashpoints import crash_point
from kiosk.i18n import N_
from kiosk.signing import PublicKey, valid_public_key
from sync import wire
from sync.transport import (
    AnchorAnswer,
    BatchResult,
    Enrolled,
    PortalError,
    RetryableError,
    encode_batch,
    not_accepted,
    refused,
)

# Per socket operation, not per request: a slow 2G upload that keeps moving is fine.
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
USER_AGENT = f"mahalla-kiosk-sync/{wire.PROTOCOL_VERSION}"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _error_body(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return {"detail": response.text[:200]}


class PortalClient:
    """One portal, one device token. Not thread-safe: make one per thread."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        headers = {"User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    @classmethod
    def from_store(
        cls, store: Any, portal_url: str | None = None, **kwargs: Any
    ) -> PortalClient | None:
        """The client for the store's enrolment; None when the kiosk is not enrolled."""
        url = portal_url or store.state.portal_url
        token = store.state.portal_token
        if not url or not token:
            return None
        return cls(url, token, **kwargs)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transport -------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, answered: Callable[[], None] | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One request, its body read in full; ``answered`` runs between the portal's
        answer arriving and the kiosk reading it (where a crash point goes)."""
        try:
            request = self.http.build_request(method, f"{wire.API}{path}", **kwargs)
            response = self.http.send(request, stream=True)
            try:
                if answered:
                    answered()
                response.read()
            finally:
                response.close()
        except httpx.TimeoutException as exc:
            raise RetryableError(N_("The portal did not answer in time.")) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise RetryableError(
                N_("Cannot reach the portal: {error}"), error=type(exc).__name__
            ) from exc
        status = response.status_code
        if status == 401:
            raise not_accepted()
        if status in (429, 503) or status >= 500:
            raise RetryableError(
                N_("The portal is busy or failing (HTTP {status})."),
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                status=status,
            )
        if 400 <= status < 500:
            raise refused(status, _error_body(response))
        return response

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError as exc:
            # A cut or garbled answer is a transport fault: the request is repeated.
            raise RetryableError(N_("The portal's answer was incomplete.")) from exc

    # --- protocol --------------------------------------------------------------

    def health(self) -> bool:
        try:
            self._request("GET", "/health")
        except PortalError:
            return False
        return True

    def enroll(self, code: str, name: str, device_id: str | None = None) -> Enrolled:
        """Spend an enrolment code: {device_id, token, device_prefix, signing_keys}."""
        body: dict[str, Any] = {"code": code, "name": name}
        if device_id:
            body["device_id"] = device_id
        data = self._json(self._request("POST", "/devices/enroll", json=body))
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("device_id", "token", "device_prefix")
        ):
            raise RetryableError(N_("The portal's answer was incomplete."))
        result: Enrolled = {
            "device_id": data["device_id"],
            "token": data["token"],
            "device_prefix": data["device_prefix"],
        }
        offered = data.get("signing_keys")
        if isinstance(offered, list):
            keys: list[PublicKey] = [k for k in map(valid_public_key, offered) if k is not None]
            result["signing_keys"] = keys
        return result

    def send_batch(self, items: list[dict[str, Any]]) -> BatchResult:
        """POST one gzip batch; the per-item results, in the items' order."""
        body = encode_batch(items)
        response = self._request(
            "POST",
            "/submissions/batch",
            answered=lambda: crash_point("sync.request_sent"),
            content=body,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        )
        data = self._json(response)
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise RetryableError(N_("The portal's answer was incomplete."))
        return BatchResult([r for r in results if isinstance(r, dict)], len(body))

    def status(self, since: int, limit: int = 500) -> dict[str, Any]:
        data = self._json(self._request("GET", "/status", params={"since": since, "limit": limit}))
        if not isinstance(data, dict) or not isinstance(data.get("changes"), list):
            raise RetryableError(N_("The portal's answer was incomplete."))
        return data

    def catalog(self, etag: str | None = None) -> dict[str, Any] | None:
        """The catalog {etag, forms}, or None when unchanged since ``etag`` (304)."""
        headers = {"If-None-Match": f'"{etag}"'} if etag else {}
        response = self._request("GET", "/catalog", headers=headers)
        if response.status_code == 304:
            return None
        data = self._json(response)
        if not isinstance(data, dict) or not isinstance(data.get("forms"), list):
            raise RetryableError(N_("The portal's answer was incomplete."))
        return data

    def anchor_audit(self, head_seq: int, entries: list[AnchorEntry]) -> AnchorAnswer:
        """POST audit hashes; the portal's {anchored_seq, flag}."""
        body = {"head_seq": head_seq, "entries": entries}
        data = self._json(self._request("POST", "/audit/anchor", json=body))
        seq = data.get("anchored_seq") if isinstance(data, dict) else None
        flag = data.get("flag") if isinstance(data, dict) else None
        if not isinstance(seq, int) or not (flag is None or isinstance(flag, str)):
            raise RetryableError(N_("The portal's answer was incomplete."))
        return {"anchored_seq": seq, "flag": flag}

    def upload_bundle(self, data: bytes) -> dict[str, Any]:
        """Deliver a bundle file as it is; the portal checks its signature."""
        response = self._request(
            "POST",
            "/bundles",
            content=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        result = self._json(response)
        if not isinstance(result, dict) or not isinstance(result.get("results"), list):
            raise RetryableError(N_("The portal's answer was incomplete."))
        return result
