"""The portal's storage interface: what the API layer and the admin commands use.

`PortalStorage` is the contract; `sync.portal.store.PortalStore` (SQLite) is its
first backend, and another (PostgreSQL) can be added without touching
`sync.portal.app`, `sync.portal.commands` or `sync.portal.local`. The rules every
backend must apply the same way (what makes an item acceptable) live here too, so
they have one implementation; tests/test_portal_storage.py is the contract's test.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk import languages, reasons
from kiosk.signing import KeyStatement, PublicKey
from sync.portal.anchors import AnchorAnswer, AnchorEntry, DeviceRow

STATUSES = ("received", "in_review", "needs_info", "approved", "rejected", "completed")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HASH_RE = re.compile(r"^[0-9a-f]{64}$")
CODE_RE = re.compile(r"^[0-9A-Za-z-]{1,32}$")

# ``validator(spec_json, item) -> reason | None``: re-checks answers against the form.
Validator = Callable[[str, dict[str, Any]], str | None]


class PortalStoreError(Exception):
    """An admin action that cannot be done (unknown code, bad status); message is clear."""


@dataclass(frozen=True)
class Device:
    id: str
    name: str
    prefix: str
    bundle_key: bytes


class PortalStorage(Protocol):
    """Devices, enrolment codes, the form catalog, submissions and their statuses.

    Each method is one transaction: a batch is applied whole or not at all.
    """

    def close(self) -> None: ...

    def create_enrolment_code(self) -> str:
        """A one-time code, XXXX-XXXX, valid 24 hours."""
        ...

    def enroll(self, code: str, name: str, device_id: str | None = None) -> dict[str, str] | None:
        """Spend ``code``: {device_id, token, device_prefix}, or None if refused.

        A known ``device_id`` is re-enrolled (new token, same prefix).
        """
        ...

    def device_for_token(self, token: str) -> Device | None:
        """The device holding this (unrevoked) token."""
        ...

    def device(self, device_id: str) -> Device | None: ...

    def revoke_device(self, device_id: str) -> None:
        """Refuse the device's token from now on; PortalStoreError if unknown."""
        ...

    def add_form(
        self, form_id: str, version: str, category: str, spec: dict[str, Any], source: str
    ) -> bool:
        """Store one form version; False when that version was already there."""
        ...

    def forms(self) -> list[dict[str, Any]]:
        """Every form version {form_id, version, category, spec, key_id, signature}, by id
        then version (signed by the portal's key when added: docs/keys.md)."""
        ...

    def key_chain(self) -> list[KeyStatement]:
        """The signing keys' chain, oldest first, each vouched for by the one before."""
        ...

    def signing_keys(self) -> list[PublicKey]:
        """The public signing keys a kiosk pins at enrolment."""
        ...

    def anchor_audit(
        self, device_id: str, head_seq: int, entries: list[AnchorEntry]
    ) -> AnchorAnswer:
        """Check a device's audit hashes against what is held, keep them, flag a rewrite."""
        ...

    def devices(self) -> list[DeviceRow]:
        """Every device with its audit anchor and flag (`kiosk portal devices`)."""
        ...

    def catalog_etag(self) -> str:
        """Changes exactly when a form version is added."""
        ...

    def ingest(
        self, device_id: str, items: list[Any], via: str, validator: Validator | None = None
    ) -> list[dict[str, Any]]:
        """Apply a batch in one transaction; one {index, id, outcome, ...} per item."""
        ...

    def set_status(
        self, tracking_code: str, status: str, note: str | None = None
    ) -> dict[str, Any]:
        """Change an application's status (logged for its device's status pull)."""
        ...

    def status_changes(self, device_id: str, since: int, limit: int) -> dict[str, Any]:
        """{changes, cursor, more}: this device's status changes after ``since``."""
        ...

    def stats(self, device_id: str | None = None) -> dict[str, int]:
        """Counts of submissions and outcomes; for one device if given."""
        ...


def refused(item_id: str | None, outcome: str, code: str, **params: object) -> dict[str, Any]:
    """An item's outcome that refuses it ("rejected" or "conflict") with a registered reason."""
    body = reasons.refusal(code, **params)
    return {
        "id": item_id,
        "outcome": outcome,
        "reason": body["detail"],
        "code": code,
        "params": body["params"],
    }


def check_item_fields(item: dict[str, Any]) -> tuple[str, dict[str, str]] | None:
    """The first structural problem of an item as (reason code, params), or None."""
    if not isinstance(item.get("payload"), dict):
        return "item.field", {"field": "payload"}
    for key in ("tracking_code", "form_id", "form_version", "lang", "content_hash", "created_at"):
        value = item.get(key)
        if not isinstance(value, str) or not value or len(value) > 200:
            return "item.field", {"field": key}
    if not CODE_RE.match(item["tracking_code"]):
        return "item.field", {"field": "tracking_code"}
    if not HASH_RE.match(item["content_hash"]):
        return "item.field", {"field": "content_hash"}
    if item["lang"] not in languages.codes():  # one of the kiosk's languages
        return "item.lang", {"lang": item["lang"], "accepted": ", ".join(languages.codes())}
    return None
