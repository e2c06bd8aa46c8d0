"""The registry look-up endpoint for once-only prefill (issue 16, docs/once-only.md).

``POST {API}/registry/lookup``, device-authenticated: a PINFL, the purpose, the form,
the registry fields its questions name, the citizen's consent and the operator's ID
check, each as recorded at the kiosk. Refused (and logged as refused) without
consent, without an operator's ID check, for an unknown purpose or field, or a PINFL
that is not one; otherwise answered with the fields asked and nothing else, and
logged (`sync.portal.registry_log`). `registry_lookup` is what the HTTP app and the
in-process transport (`sync.portal.local`) both call, so they answer alike.
"""

import contextlib
from typing import Annotated

from fastapi import Depends, FastAPI, Header
from pydantic import BaseModel, Field

from kiosk import prefill, validators
from kiosk.wire import UUID_RE
from sync import wire
from sync.portal.models import BODY_ERRORS, ErrorBody, validated
from sync.portal.rules import Refusal, bearer_device
from sync.portal.storage import Device, LookupReused, PortalStorage, RegistryUnavailable
from sync.transport import RegistryAnswer, RegistryRequest

MAX_FIELDS = len(prefill.FIELDS)


class ConsentModel(BaseModel):
    given: bool = Field(description="the citizen agreed to the look-up")
    at: str = Field(min_length=1, max_length=40, description="when, ISO-8601 UTC")
    operator_id: str = Field(min_length=1, max_length=64, description="who recorded it")


class IdCheckModel(BaseModel):
    method: str = Field(max_length=32, description=f"{prefill.ID_CHECK!r}")
    document: str = Field(max_length=32, description=" or ".join(prefill.DOCUMENTS))
    operator_id: str = Field(min_length=1, max_length=64, description="who checked it")
    at: str = Field(min_length=1, max_length=40, description="when, ISO-8601 UTC")


class RegistryLookupRequest(BaseModel):
    lookup_id: str = Field(
        min_length=36,
        max_length=36,
        description="a UUID; the submission's prefill section names it",
    )
    pinfl: str = Field(min_length=1, max_length=32)
    purpose: str = Field(min_length=1, max_length=64, description=" or ".join(prefill.PURPOSES))
    form_id: str = Field(min_length=1, max_length=200)
    fields: list[str] = Field(min_length=1, max_length=MAX_FIELDS, description="registry fields")
    consent: ConsentModel | None = None
    id_check: IdCheckModel | None = None


class RegistryLookupResponse(BaseModel):
    lookup_id: str
    found: bool = Field(description="false: the registry holds nobody with this PINFL")
    values: dict[str, object] = Field(description="the fields asked, and only those")


def refusal_of(request: RegistryLookupRequest) -> Refusal | None:
    """Why a look-up may not be made, or None (checked in this order)."""
    if not UUID_RE.fullmatch(request.lookup_id):
        return Refusal("body.invalid", detail="lookup_id is not a UUID")
    if request.consent is None or not request.consent.given:
        return Refusal("registry.consent")
    check = request.id_check
    if check is None or check.method != prefill.ID_CHECK or check.document not in prefill.DOCUMENTS:
        return Refusal(
            "registry.id_check", method=prefill.ID_CHECK, documents=", ".join(prefill.DOCUMENTS)
        )
    if request.purpose not in prefill.PURPOSES:
        return Refusal(
            "registry.purpose", purpose=request.purpose[:64], expected=", ".join(prefill.PURPOSES)
        )
    unknown = [f for f in request.fields if f not in prefill.FIELDS]
    if unknown:
        return Refusal("registry.field", field=unknown[0][:64], expected=", ".join(prefill.FIELDS))
    if not validators.is_valid_pinfl(request.pinfl):
        return Refusal("registry.pinfl")
    return None


def registry_lookup(store: PortalStorage, device: Device, body: object) -> RegistryAnswer:
    """Check, log and answer one look-up; `Refusal` (logged first when the body was
    readable) for a refused one, ``registry.unavailable`` (424) when the registry fails."""
    request = validated(RegistryLookupRequest, body)
    as_sent: RegistryRequest = {
        "lookup_id": request.lookup_id,
        "pinfl": validators.normalize_pinfl(request.pinfl),
        "purpose": request.purpose,
        "form_id": request.form_id,
        "fields": list(dict.fromkeys(request.fields)),
        "consent": request.consent.model_dump() if request.consent else None,  # type: ignore[typeddict-item]  # the model's fields are the TypedDict's
        "id_check": request.id_check.model_dump() if request.id_check else None,  # type: ignore[typeddict-item]  # the same
    }
    refusal = refusal_of(request)
    if refusal is not None:
        if refusal.code != "body.invalid":
            # Logged as refused; an id reused for another person is refused either way.
            with contextlib.suppress(LookupReused):
                store.consult_registry(device.id, as_sent, refused=refusal.code)
        raise refusal
    try:
        return store.consult_registry(device.id, as_sent)
    except RegistryUnavailable:
        raise Refusal("registry.unavailable") from None
    except LookupReused:
        raise Refusal("registry.lookup_reused") from None


def add_routes(app: FastAPI, store: PortalStorage) -> None:
    """``POST {API}/registry/lookup`` on ``app`` over ``store``."""

    def device(authorization: Annotated[str | None, Header()] = None) -> Device:
        found = bearer_device(store, authorization)
        if found is None:
            raise Refusal("auth.token")
        return found

    @app.post(
        f"{wire.API}/registry/lookup",
        response_model=RegistryLookupResponse,
        responses={
            **BODY_ERRORS,
            403: {
                "model": ErrorBody,
                "description": "no consent (registry.consent) or no operator ID check "
                "(registry.id_check)",
            },
            422: {"model": ErrorBody, "description": "unknown purpose or field, not a PINFL"},
            424: {
                "model": ErrorBody,
                "description": "the registry cannot be asked now (registry.unavailable)",
            },
        },
    )
    def lookup(
        body: RegistryLookupRequest, dev: Annotated[Device, Depends(device)]
    ) -> RegistryAnswer:
        """Once-only prefill: the registry's values of the fields asked, for a PINFL, with
        the citizen's consent and the operator's ID check; every look-up is logged
        (never a value) and linked to the application that names it."""
        return registry_lookup(store, dev, body.model_dump())
