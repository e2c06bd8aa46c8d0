"""The in-process `sync.transport.Transport`: the portal's own logic, no HTTP.

It calls what the HTTP app calls (`sync.portal.rules`, the `PortalStorage`) with the
same request bytes (a batch is encoded as the HTTP client sends it and parsed as the
app does), and raises the transport errors the HTTP client raises for the same
answer. Tools and tests get a real portal without a server process; the contract
tests run against both transports to keep them the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from kiosk import reasons
from kiosk.audit import AnchorEntry
from kiosk.wire import json_problem
from sync.portal.models import EnrollRequest, validated
from sync.portal.registry_api import registry_lookup
from sync.portal.rules import (
    Refusal,
    anchor_audit,
    bearer_device,
    catalog_answer,
    enroll_device,
    etag_matches,
    ingest_bundle,
    lookup_status,
    read_batch,
)
from sync.portal.storage import Device, PortalStorage, Validator
from sync.transport import (
    AnchorAnswer,
    BatchResult,
    BundleResult,
    CatalogPage,
    Claim,
    Enrolled,
    PortalError,
    RegistryAnswer,
    RegistryRequest,
    StatusLookup,
    StatusPage,
    answer_error,
    encode_batch,
    not_accepted,
    refused,
)

if TYPE_CHECKING:
    from kiosk.outbox import SubmissionItem

LOCAL_SOURCE = "local"  # the "address" wrong enrolment codes are counted under in-process


def _error(exc: Refusal) -> PortalError:
    """The transport error the HTTP client raises for the same answer."""
    return answer_error(exc.status, exc.body, exc.retry_after)


MAX_SINCE = 2**62  # the app's bounds on /status query parameters
MAX_LIMIT = 1000
MAX_LOOKUP_CODE = 40  # the app's bound on a looked-up tracking code


class LocalTransport:
    """One device token against a `PortalStorage` in this process.

    The storage is the caller's: `close` leaves it open.
    """

    def __init__(
        self, store: PortalStorage, token: str | None = None, *, validator: Validator | None = None
    ) -> None:
        self.store = store
        self.token = token
        self.validator = validator

    def __enter__(self) -> LocalTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: the storage belongs to the caller."""

    def _device(self) -> Device:
        found = bearer_device(self.store, f"Bearer {self.token}" if self.token else None)
        if found is None:
            raise not_accepted()
        return found

    def enroll(
        self,
        code: str,
        name: str,
        device_id: str | None = None,
        pre_prefix: str | None = None,
        claims: Sequence[Claim] = (),
    ) -> Enrolled:
        as_sent = [dict(claim) for claim in claims]
        request = {
            "code": code,
            "name": name,
            "device_id": device_id,
            "pre_prefix": pre_prefix,
            "claims": as_sent,
        }
        try:
            if json_problem(request):  # what the app's read_json refuses
                raise Refusal("body.invalid", detail="not JSON")
            validated(EnrollRequest, request)  # the app's model, so the same bounds
        except Refusal as exc:
            raise _error(exc) from exc
        try:
            return enroll_device(
                self.store, code, name, device_id, pre_prefix, LOCAL_SOURCE, as_sent
            )
        except Refusal as exc:
            raise _error(exc) from exc

    def send_batch(self, items: list[SubmissionItem]) -> BatchResult:
        device = self._device()
        body = encode_batch(items)
        try:
            parsed = read_batch(body, "gzip")
        except Refusal as exc:
            raise _error(exc) from exc
        return BatchResult(self.store.ingest(device.id, parsed, "sync", self.validator), len(body))

    def status(self, since: int, limit: int = 500) -> StatusPage:
        device = self._device()
        if not 0 <= since <= MAX_SINCE or not 1 <= limit <= MAX_LIMIT:
            raise refused(
                422,
                reasons.refusal("body.invalid", detail=f"since 0-{MAX_SINCE}, limit 1-{MAX_LIMIT}"),
            )
        return self.store.status_changes(device.id, since, limit)

    def lookup_status(self, tracking_code: str) -> StatusLookup:
        self._device()
        if not 1 <= len(tracking_code) <= MAX_LOOKUP_CODE:
            raise refused(
                422, reasons.refusal("body.invalid", detail=f"a code of 1-{MAX_LOOKUP_CODE}")
            )
        try:
            return lookup_status(self.store, tracking_code, LOCAL_SOURCE)
        except Refusal as exc:
            raise _error(exc) from exc

    def catalog(self, etag: str | None = None) -> CatalogPage | None:
        self._device()
        current = self.store.catalog_etag()
        if etag_matches(current, f'"{etag}"' if etag else None):
            return None
        return catalog_answer(self.store, current)

    def anchor_audit(self, head_seq: int, entries: list[AnchorEntry]) -> AnchorAnswer:
        device = self._device()
        try:
            return anchor_audit(self.store, device.id, head_seq, list(entries))
        except Refusal as exc:
            raise _error(exc) from exc

    def upload_bundle(self, data: bytes) -> BundleResult:
        self._device()
        try:
            return ingest_bundle(self.store, data, self.validator)
        except Refusal as exc:
            raise _error(exc) from exc

    def registry_lookup(self, request: RegistryRequest) -> RegistryAnswer:
        device = self._device()
        body = dict(request)
        try:
            if json_problem(body):  # what the app's JSON reading refuses
                raise Refusal("body.invalid", detail="not JSON")
            return registry_lookup(self.store, device, body)
        except Refusal as exc:
            raise _error(exc) from exc
