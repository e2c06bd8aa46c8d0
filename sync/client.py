"""The HTTP `sync.transport.Transport` (httpx): enrolment, batches, status, catalog, bundles.

HTTP failures map onto the transport's three errors: 401 is `AuthError`; network
faults, timeouts, 5xx and 429 are `RetryableError` (with Retry-After); another 4xx
is `RequestRejected`.

Trust (`sync.tls`): an https client checks the portal's key pins in the TLS handshake,
before any request is written; plain http is for loopback only. `from_store` sends the
token only to the origin the kiosk enrolled with.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote

import httpx

from kiosk.audit import AnchorEntry
from kiosk.crashpoints import crash_point
from kiosk.i18n import N_
from kiosk.sealing import valid_sealing_key
from kiosk.signing import PublicKey, valid_public_key
from sync import tls, wire
from sync.transport import (
    AnchorAnswer,
    BatchResult,
    BundleResult,
    CatalogPage,
    Claim,
    Enrolled,
    ItemResult,
    PortalError,
    RegistryAnswer,
    RegistryRequest,
    RetryableError,
    StatusLookup,
    StatusPage,
    answer_error,
    encode_batch,
)

if TYPE_CHECKING:
    from kiosk.outbox import SubmissionItem
    from kiosk.store import Store

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


class PinRefused(RetryableError):
    """The server's TLS key matched no pin: nothing was sent; the items stay queued."""


PIN_MISMATCH = N_(
    "The server at {origin} is not the portal this kiosk enrolled with: its key does "
    "not match the pinned key, so nothing was sent. If the portal's key was changed, "
    "enrol again with a new enrolment file."
)
OTHER_ORIGIN = N_(
    "Refused: this kiosk is enrolled with {enrolled} and sends its token nowhere else "
    "({url} is another server). To change portals, enrol again."
)
NOT_PINNED = N_(
    "No key pin is known for {origin}: the kiosk cannot check it is the real portal. "
    "Enrol again with an enrolment file or --pin."
)


_E = TypeVar("_E", bound=BaseException)


def _in_chain(exc: BaseException, kind: type[_E]) -> _E | None:
    """The first exception of ``kind`` in ``exc``'s cause/context chain (``exc`` itself
    included); httpx wraps what the socket or TLS layer raised."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _pin_mismatch(exc: BaseException) -> tls.PinMismatch | None:
    """The `tls.PinMismatch` behind an httpx error, if that is what it was."""
    return _in_chain(exc, tls.PinMismatch)


CONNECTION_REFUSED = N_(
    "Cannot reach the portal: the connection was refused or the address was not found. "
    "Check the network and the portal address."
)
TLS_FAILED = N_("Cannot reach the portal: the secure connection (TLS) could not be set up.")
CONNECTION_BROKE = N_("Cannot reach the portal: the connection broke off.")


def _connect_failure(exc: BaseException) -> str:
    """The message of a connection that could not be made: TLS or the network."""
    return TLS_FAILED if _in_chain(exc, ssl.SSLError) is not None else CONNECTION_REFUSED


def client_verify(url: str, pins: tuple[str, ...] | list[str]) -> ssl.SSLContext | bool:
    """What httpx verifies ``url`` with: the pins for https (`tls.UrlError` if none),
    nothing for loopback http (`tls.UrlError` for any other http)."""
    origin = tls.check_url(url)
    if origin.startswith("http://"):
        return False
    if not pins:
        raise tls.UrlError(NOT_PINNED, origin=origin)
    return tls.pinned_context(pins)


class PortalClient:
    """One portal, one device token, its key pins. Not thread-safe: make one per thread.

    ``base_url`` must be https with ``pins`` (`sync.tls`), or http to loopback; anything
    else raises `sync.tls.UrlError` before a connection is tried.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        pins: tuple[str, ...] | list[str] = (),
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.origin = tls.origin_of(self.base_url)
        verify = client_verify(self.base_url, pins)
        self.token = token
        headers = {"User-Agent": USER_AGENT}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            verify=verify,
            trust_env=False,  # no proxy or CA bundle from the environment
        )

    @classmethod
    def from_store(
        cls,
        store: Store,
        portal_url: str | None = None,
        *,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> PortalClient | None:
        """The client for the store's enrolment; None when the kiosk is not enrolled.

        ``portal_url`` (e.g. `kiosk sync --portal`) may change the path, never the
        origin: the token goes only to the enrolled origin (`tls.UrlError` otherwise).
        """
        state = store.state
        enrolled_url, token = state.portal_url, state.portal_token
        if not enrolled_url or not token:
            return None
        enrolled = state.portal_origin or tls.origin_of(enrolled_url)  # older enrolments
        url = portal_url or enrolled_url
        if tls.check_url(url) != enrolled:
            raise tls.UrlError(OTHER_ORIGIN, enrolled=enrolled, url=tls.shown_url(url))
        return cls(url, token, pins=state.portal_pins, timeout=timeout, transport=transport)

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
        except httpx.ConnectError as exc:
            if _pin_mismatch(exc) is not None:
                raise PinRefused(PIN_MISMATCH, origin=self.origin) from exc
            raise RetryableError(_connect_failure(exc)) from exc
        except httpx.TimeoutException as exc:
            raise RetryableError(N_("The portal did not answer in time.")) from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            # Said, never named: an exception's class or text is English for developers.
            raise RetryableError(CONNECTION_BROKE) from exc
        status = response.status_code
        if status >= 400:
            raise answer_error(
                status,
                _error_body(response) if status < 500 else None,
                parse_retry_after(response.headers.get("retry-after")),
            )
        return response

    @staticmethod
    def _json(response: httpx.Response) -> object:
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

    def enroll(
        self,
        code: str,
        name: str,
        device_id: str | None = None,
        pre_prefix: str | None = None,
        claims: Sequence[Claim] = (),
    ) -> Enrolled:
        """Spend an enrolment code: {device_id, token, device_prefix, name?, signing_keys?,
        refused_claims?}."""
        body: dict[str, Any] = {"code": code, "name": name}
        if device_id:
            body["device_id"] = device_id
        if pre_prefix:
            body["pre_prefix"] = pre_prefix
        if claims:
            body["claims"] = list(claims)
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
        if isinstance(data.get("name"), str):
            result["name"] = data["name"]
        offered = data.get("signing_keys")
        if isinstance(offered, list):
            keys: list[PublicKey] = [k for k in map(valid_public_key, offered) if k is not None]
            result["signing_keys"] = keys
        sealing = valid_sealing_key(data.get("sealing_key"))
        if sealing is not None:
            result["sealing_key"] = sealing
        answered = data.get("refused_claims")
        if isinstance(answered, list):
            result["refused_claims"] = [
                {
                    "tracking_code": str(r.get("tracking_code", ""))[:32],
                    "code": str(r.get("code", ""))[:60],
                    "detail": str(r.get("detail", ""))[:500],
                }
                for r in answered
                if isinstance(r, dict)
            ]
        return result

    def send_batch(self, items: list[SubmissionItem]) -> BatchResult:
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
        # Objects, as far as checked here: the outbox checks each value it uses.
        shaped = [r for r in results if isinstance(r, dict)]
        return BatchResult(cast("list[ItemResult]", shaped), len(body))

    def status(self, since: int, limit: int = 500) -> StatusPage:
        data = self._json(self._request("GET", "/status", params={"since": since, "limit": limit}))
        if not isinstance(data, dict) or not isinstance(data.get("changes"), list):
            raise RetryableError(N_("The portal's answer was incomplete."))
        # A changes list, as far as checked here: the engine checks the cursor, the
        # outbox each change.
        return cast(StatusPage, data)

    def lookup_status(self, tracking_code: str) -> StatusLookup:
        """Any tracking code's status fields, live (429 ``status.rate_limited``:
        `RetryableError` with ``retry_after``)."""
        path = "/status/lookup/" + quote(tracking_code, safe="")
        data = self._json(self._request("GET", path))
        if not isinstance(data, dict) or not isinstance(data.get("found"), bool):
            raise RetryableError(N_("The portal's answer was incomplete."))
        fields = ("status", "application_number", "updated_at")
        if any(not (data.get(f) is None or isinstance(data.get(f), str)) for f in fields):
            raise RetryableError(N_("The portal's answer was incomplete."))
        answer: StatusLookup = {
            "tracking_code": str(data.get("tracking_code") or tracking_code),
            "found": data["found"],
            "status": data.get("status"),
            "application_number": data.get("application_number"),
            "updated_at": data.get("updated_at"),
        }
        # The decision's fields (issue 16), each only when it has its type (an older
        # portal sends none; a wrong type is dropped, never shown).
        reason = data.get("reason_code")
        if isinstance(reason, str) and len(reason) <= 64:
            answer["reason_code"] = reason
        for flag in ("automated", "stalled", "appealable"):
            value = data.get(flag)
            if isinstance(value, bool):
                answer[flag] = value
        kind, deadline = data.get("kind"), data.get("deadline_at")
        if isinstance(kind, str) and len(kind) <= 32:
            answer["kind"] = kind
        if "deadline_at" in data:  # null: the form sets no deadline
            answer["deadline_at"] = (
                deadline if isinstance(deadline, str) and len(deadline) <= 40 else None
            )
        return answer

    def catalog(self, etag: str | None = None) -> CatalogPage | None:
        """The catalog {etag, forms}, or None when unchanged since ``etag`` (304)."""
        headers = {"If-None-Match": f'"{etag}"'} if etag else {}
        response = self._request("GET", "/catalog", headers=headers)
        if response.status_code == 304:
            return None
        data = self._json(response)
        if not isinstance(data, dict) or not isinstance(data.get("forms"), list):
            raise RetryableError(N_("The portal's answer was incomplete."))
        # A forms list, as far as checked here: the engine checks each entry and the etag.
        return cast(CatalogPage, data)

    def anchor_audit(self, head_seq: int, entries: list[AnchorEntry]) -> AnchorAnswer:
        """POST audit hashes; the portal's {anchored_seq, flag}."""
        body = {"head_seq": head_seq, "entries": entries}
        data = self._json(self._request("POST", "/audit/anchor", json=body))
        seq = data.get("anchored_seq") if isinstance(data, dict) else None
        flag = data.get("flag") if isinstance(data, dict) else None
        if not isinstance(seq, int) or not (flag is None or isinstance(flag, str)):
            raise RetryableError(N_("The portal's answer was incomplete."))
        return {"anchored_seq": seq, "flag": flag}

    def registry_lookup(self, request: RegistryRequest) -> RegistryAnswer:
        """POST a registry look-up (once-only prefill); the values of the fields asked."""
        data = self._json(self._request("POST", "/registry/lookup", json=dict(request)))
        values = data.get("values") if isinstance(data, dict) else None
        found = data.get("found") if isinstance(data, dict) else None
        if not isinstance(found, bool) or not isinstance(values, dict):
            raise RetryableError(N_("The portal's answer was incomplete."))
        asked = set(request["fields"])
        return {
            "lookup_id": request["lookup_id"],
            "found": found,
            # Only what was asked is kept, whatever a portal sends.
            "values": {str(k): v for k, v in values.items() if k in asked},
        }

    def upload_bundle(self, data: bytes) -> BundleResult:
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
        # A results list, as far as checked here: its reader checks each value.
        return cast(BundleResult, result)
