"""The portal API's request and response models: what FastAPI validates and what the
OpenAPI document (`sync/portal/openapi.json`) describes. Bodies read by hand
(`sync.portal.app.read_body`) are documented through `json_body` / `inline_schema`.
"""

from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar, cast

from pydantic import BaseModel, Field, ValidationError

from kiosk import reasons
from sync import wire
from sync.portal.rules import Refusal


class Claim(BaseModel):
    id: str = Field(max_length=64, description="the queued item's id (a UUID)")
    tracking_code: str = Field(max_length=32, description="a code made before enrolment")
    content_hash: str = Field(max_length=64, description="the item's content hash")


class EnrollRequest(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(
        min_length=1,
        max_length=200,
        description="what the kiosk calls itself (informational: the code's name is registered)",
    )
    device_id: str | None = Field(
        default=None,
        max_length=64,
        description="the kiosk's own id; a known one needs a code made for it",
    )
    pre_prefix: str | None = Field(
        default=None,
        max_length=16,
        description="the prefix of the kiosk's codes made before enrolment, registered for "
        "the device; must be the one derived from device_id (else 422 enrol.prefix)",
    )
    claims: list[Claim] = Field(
        default=[],
        max_length=wire.MAX_CLAIMS,
        description="the kiosk's queued items made before enrolment: only through these "
        "claims are their codes its own (first come first served)",
    )


class RefusedClaim(BaseModel):
    tracking_code: str
    code: str = Field(description="claim.taken or claim.invalid (reason codes)")
    detail: str


class SigningKey(BaseModel):
    key_id: str = Field(description="hex of the first 8 bytes of SHA-256 of the raw key")
    public_key: str = Field(description="the raw 32-byte Ed25519 public key, base64")


class KeyStatement(SigningKey):
    signed_by: str | None = Field(description="the key id vouching for this key; null: the first")
    signature: str | None = Field(description="base64 Ed25519 signature by signed_by")


class SealingKey(BaseModel):
    key_id: str = Field(description="hex of the first 8 bytes of SHA-256 of the raw key")
    public_key: str = Field(description="the raw 32-byte X25519 public key, base64")
    signed_by: str | None = Field(description="the signing key vouching for it")
    signature: str | None = Field(
        description="base64 Ed25519 signature of the sealing-key statement (docs/keys.md)"
    )


class EnrollResponse(BaseModel):
    device_id: str
    token: str
    device_prefix: str
    name: str = Field(description="the name the device is registered under (the code's)")
    signing_keys: list[SigningKey] = Field(
        default=[], description="the catalog's signing keys, to pin (docs/keys.md)"
    )
    refused_claims: list[RefusedClaim] = Field(
        default=[], description="claims not recorded: their items will be rejected at sync"
    )
    sealing_key: SealingKey | None = Field(
        default=None, description="the key submissions are sealed to (docs/keys.md)"
    )


class AnchorEntry(BaseModel):
    seq: int = Field(ge=1)
    hash: str
    prev_hash: str


class AnchorRequest(BaseModel):
    head_seq: int = Field(ge=0, description="the kiosk's last audit seq")
    entries: list[AnchorEntry] = Field(max_length=wire.MAX_ANCHOR_ENTRIES)


class AnchorResponse(BaseModel):
    anchored_seq: int = Field(description="the highest seq the portal holds for the device")
    flag: Literal["rewritten", "forked", "backwards"] | None


class Health(BaseModel):
    status: Literal["ok"]
    protocol: int


class CatalogForm(BaseModel):
    form_id: str
    version: str
    category: str
    spec: dict[str, Any]
    key_id: str | None = Field(description="the signing key's id")
    signature: str | None = Field(description="base64 Ed25519 signature (docs/keys.md)")


class CatalogResponse(BaseModel):
    etag: str
    forms: list[CatalogForm]
    keys: list[KeyStatement] = Field(description="the signing keys' chain, oldest first")
    sealing_key: SealingKey | None = Field(
        default=None, description="the current sealing key, signed (docs/keys.md)"
    )


class Item(BaseModel):
    """One submission as sent (documentation only: items are checked one by one)."""

    id: str = Field(description="client UUID, the idempotency key")
    tracking_code: str
    form_id: str
    form_version: str
    lang: str
    sealed: str = Field(
        description="base64 of the answers sealed to the portal's sealing key (docs/keys.md)"
    )
    content_hash: str | None = Field(
        default=None, description="sha256 hex of the sealed bytes (the portal computes it)"
    )
    created_at: str
    consent: bool = False
    operator_id: int | None = None


class BatchRequest(BaseModel):
    items: list[Item] = Field(max_length=wire.MAX_BATCH_ITEMS)


class ItemResult(BaseModel):
    index: int
    id: str | None
    outcome: Literal["accepted", "duplicate", "conflict", "rejected"]
    application_number: str | None = None
    reason: str | None = Field(default=None, description="the reason in English, for logs")
    code: str | None = Field(default=None, description="the reason code, when refused")
    params: dict[str, str] | None = None


class BatchResponse(BaseModel):
    results: list[ItemResult]


class BundleResponse(BaseModel):
    device_id: str
    results: list[ItemResult]


class StatusChange(BaseModel):
    tracking_code: str
    status: str
    application_number: str
    note: str | None
    reason_code: str | None = Field(
        default=None,
        description="the decision reason (a decision.* code of the registry), said by the "
        "kiosk in the citizen's language; null when none was given",
    )
    updated_at: str
    automated: bool = Field(
        default=False,
        description="true: the portal's rules made this change; false: a person did",
    )


class StatusResponse(BaseModel):
    changes: list[StatusChange]
    cursor: int
    more: bool


class StatusLookupResponse(BaseModel):
    tracking_code: str
    found: bool = Field(description="false: the portal knows no application with this code")
    status: str | None
    application_number: str | None
    updated_at: str | None
    reason_code: str | None = Field(
        default=None, description="the current status's decision reason (decision.*)"
    )
    automated: bool = Field(default=False, description="the status was set by the portal's rules")
    kind: str | None = Field(default=None, description="application, appeal, vote, ...")
    deadline_at: str | None = Field(
        default=None, description="received + the form's deadline_days; null: no deadline"
    )
    stalled: bool = Field(default=False, description="no decision past the deadline")
    appealable: bool = Field(
        default=False, description="rejected or stalled, and not appealed yet (docs/appeals.md)"
    )


class ErrorBody(BaseModel):
    code: str = Field(description="a reason code of the registry (docs/sync-protocol.md)")
    params: dict[str, str] = Field(description="the values the reason's message names")
    detail: str = Field(description="the reason in English, for logs")


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing or unknown token: enrol again"},
}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    400: {"model": ErrorBody, "description": "malformed body"},
    413: {"model": ErrorBody, "description": "body or decompressed body too large"},
    415: {"model": ErrorBody, "description": "unsupported Content-Encoding"},
}


def inline_schema(model: type[BaseModel]) -> dict[str, object]:
    """The model's JSON schema with its $defs inlined, for an openapi_extra body.

    Refs like ``#/$defs/Item`` do not resolve inside an OpenAPI document.
    """
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    resolved: dict[str, object] = resolve(schema)
    return resolved


def json_body(model: type[BaseModel]) -> dict[str, object]:
    """The OpenAPI request body of an endpoint that reads ``model`` by hand (`read_json`)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": inline_schema(model)}},
        }
    }


Model = TypeVar("Model", bound=BaseModel)

MAX_ERRORS = 20  # validation errors a 422 answer lists; the rest are only counted


def safe_errors(errors: Sequence[Mapping[str, object]]) -> list[dict[str, object]]:
    """Pydantic's errors as a 422 may echo them: loc, msg and type as valid, bounded
    text (never ``input`` or ``ctx``, client values), at most `MAX_ERRORS` of them."""
    safe: list[dict[str, object]] = []
    for error in errors[:MAX_ERRORS]:
        loc = error.get("loc", ())
        parts = loc if isinstance(loc, (list, tuple)) else (loc,)
        safe.append(
            {
                "type": reasons.safe_text(error.get("type", ""), 60),
                "loc": [
                    part if isinstance(part, int) else reasons.safe_text(part, 60)
                    for part in parts[:10]
                ],
                "msg": reasons.safe_text(error.get("msg", "")),
            }
        )
    return safe


def summary(errors: list[dict[str, object]]) -> str:
    """One line naming each error (`safe_errors`) for a refusal's ``detail``."""
    parts = []
    for error in errors:
        loc = cast(list[object], error.get("loc", []))
        parts.append(f"{'.'.join(str(p) for p in loc)}: {error.get('msg', '')}")
    return "; ".join(parts)[:300]


def validated(model: type[Model], doc: object) -> Model:
    """``doc`` (parsed JSON) as ``model``; 422 body.invalid, with safe detail, else."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        detail = summary(safe_errors(exc.errors(include_input=False, include_context=False)))
        raise Refusal("body.invalid", detail=detail) from None


class StaffStatusRequest(BaseModel):
    status: str = Field(min_length=1, max_length=32, description="the new status")
    reason_code: str | None = Field(
        default=None,
        max_length=64,
        description="a decision.* reason code (needed for needs_info and rejected)",
    )
    note: str | None = Field(default=None, max_length=1000, description="shown to the citizen")


class StaffStatusResponse(BaseModel):
    tracking_code: str
    status: str
    application_number: str
    note: str | None
    reason_code: str | None
    actor: str = Field(description="the staff name that made the change")
    updated_at: str
    automated: bool = Field(default=False, description="made by the portal's rules, not a person")


class AppealStatusRequest(BaseModel):
    status: str = Field(min_length=1, max_length=32, description="in_review, upheld or overturned")
    note: str | None = Field(default=None, max_length=1000, description="shown to the citizen")
    application_status: str = Field(
        default="in_review",
        max_length=32,
        description="overturned only: the application's new status (in_review or approved)",
    )


class AppealUpdateResponse(BaseModel):
    tracking_code: str = Field(description="the appeal's own tracking code")
    status: str
    reason_code: str
    note: str | None
    actor: str
    updated_at: str
    application_code: str
    application_status: str | None = Field(
        description="the application's new status after an overturn; else null"
    )


class AppealedDecisionModel(BaseModel):
    tracking_code: str
    service: str = Field(description="the form id of the application")
    titles: dict[str, str]
    status_appealed: str
    reason_code: str | None
    explanation: dict[str, str] = Field(description="the reason explained, by language")
    automated: bool
    decided_at: str | None
    stalled: bool
    submitted_at: str
    received_at: str
    status_now: str


class AppealEntry(BaseModel):
    tracking_code: str = Field(description="the appeal's own tracking code")
    status: str
    received_at: str
    grounds: str = Field(description="what the citizen wrote; the application's answers never")
    identified_by: str | None = Field(
        default=None,
        description="how the appellant was identified: pinfl (matched the application's) or "
        "operator_id_check; null for appeals made before the check",
    )
    operator_id: str | None = Field(
        default=None, description="the operator who checked the appellant's ID, if one did"
    )
    application: AppealedDecisionModel


class AppealQueueResponse(BaseModel):
    appeals: list[AppealEntry]


class HistoryEntry(BaseModel):
    status: str
    reason_code: str | None
    note: str | None
    actor: str | None = Field(description="staff name; null for changes made before staff")
    at: str


class HistoryResponse(BaseModel):
    tracking_code: str
    history: list[HistoryEntry]


class RegionCounts(BaseModel):
    region: str
    total: int | None = Field(description="null: suppressed")
    counts: dict[str, int | None] = Field(description="by status; null: suppressed")


class ServiceCounts(BaseModel):
    form_id: str
    total: int | None
    status_totals: dict[str, int | None]
    regions: list[RegionCounts]


class OpenDataResponse(BaseModel):
    month: str
    licence: str
    licence_url: str
    threshold: int = Field(description="counts under it are suppressed (null)")
    statuses: list[str]
    services: list[ServiceCounts]


STAFF_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "missing, unknown or disabled staff token"},
    404: {"model": ErrorBody, "description": "no application with this code (status.not_found)"},
}
APPEAL_ERRORS: dict[int | str, dict[str, Any]] = {
    401: STAFF_ERRORS[401],
    403: {"model": ErrorBody, "description": "not an ombudsman (staff.appeals_role)"},
    422: {"model": ErrorBody, "description": "unknown status (status.unknown), invalid fields"},
}
