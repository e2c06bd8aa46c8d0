"""The reference portal's HTTP API (protocol v2, docs/sync-protocol.md) on FastAPI.

Bodies of the batch and bundle endpoints are read by hand (not by pydantic) because
they may be gzip: the event loop only collects the bytes (bounded); decompressing,
checking and parsing them runs in a worker thread, each step bounded before the next
(`sync.bodies`, `sync.bundle`), so an oversized body, a gzip bomb or a deeply nested
one is refused with a reason and the portal keeps answering meanwhile.
"""

import asyncio
import json
import logging
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse

from kiosk import prefill, reasons
from kiosk.crashpoints import crash_point
from sync import bundle as bundle_mod
from sync import transport, wire
from sync.bodies import Unbounded, inflate
from sync.portal import participation_api, registry_api, staff_api, status_page
from sync.portal.models import (
    BODY_ERRORS,
    ERRORS,
    AnchorRequest,
    AnchorResponse,
    BatchRequest,
    BatchResponse,
    BundleResponse,
    CatalogResponse,
    EnrollRequest,
    EnrollResponse,
    ErrorBody,
    Health,
    StatusLookupResponse,
    StatusResponse,
    inline_schema,
    json_body,
    safe_errors,
    summary,
    validated,
)
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
    read_json,
)
from sync.portal.storage import AnswersProblem, Device, PortalStorage, Validator
from sync.portal.store import PortalStore

logger = logging.getLogger(__name__)

# The largest legal bodies: MAX_CLAIMS claims of at most ~230 bytes each, with room;
# MAX_ANCHOR_ENTRIES entries of two 64-hex hashes. Values: each claim or entry is one
# object of three members (four values as `sync.bodies.Shape` counts), plus the top.
MAX_ENROL_BYTES = 6 * 1024 * 1024
# Enrolment is unauthenticated: at most this many bodies are buffered at once (the
# others wait, holding only the server's small read buffer), and each must arrive
# within ENROL_READ_SECONDS, waiting included, so slow or stalled senders cannot pin
# memory (third review: 80 held-open 6 MiB bodies took 640 MB). A real enrolment body
# is a few KB; 4 x 6 MiB is the most it can cost.
ENROL_READERS = 4
ENROL_READ_SECONDS = 120.0
MAX_ENROL_VALUES = 4 * wire.MAX_CLAIMS + 64
MAX_ANCHOR_BYTES = 1024 * 1024
MAX_ANCHOR_VALUES = 4 * wire.MAX_ANCHOR_ENTRIES + 64


def _answers_validator() -> Validator:
    """kiosk.engine_json.validate_answers as a batch validator (the engine loads only if asked)."""
    from kiosk.engine_json import validate_answers
    from kiosk.form import Form

    @lru_cache(maxsize=64)
    def form_of(spec_json: str) -> Form:
        # Building a Form is far costlier than checking answers: once per version.
        return Form.from_pyxform(json.loads(spec_json))

    def check(spec_json: str, item: Mapping[str, object]) -> AnswersProblem | None:
        try:
            form = form_of(spec_json)
            payload = item["payload"]
            if not isinstance(payload, Mapping):
                return {"detail": "answers are not an object", "fields": ""}
            # Once-only prefill: the section beside the answers is checked for its shape
            # (never quoted: it holds registry values), the answers as usual.
            answers, section = prefill.split(payload)
            problem = prefill.section_problem(section, prefill.form_fields(form.walk()))
            if problem is not None:
                return {"detail": problem[:500], "fields": prefill.PAYLOAD_KEY}
            _, errors = validate_answers(form, answers, "en")
        except Exception as exc:  # noqa: BLE001 - answers the engine cannot read: invalid
            # Neither the message nor the traceback: either may quote an answer.
            logger.warning(
                "answers of item %s could not be checked: %s", item.get("id"), type(exc).__name__
            )
            return {"detail": "answers could not be checked", "fields": ""}
        if errors:
            # The field and the rule only, never the message: a form's message or label
            # may quote answers (``${full_name}``), and the reason goes back to the kiosk,
            # which keeps it in the refused row (docs/keys.md, "Sealing keys").
            detail = "; ".join(f"{e.field or 'answers'}: {e.code}" for e in errors)[:500]
            fields = ", ".join(dict.fromkeys(e.field for e in errors if e.field))[:200]
            return {"detail": detail, "fields": fields}
        return None

    return check


async def read_body(request: Request, max_body: int) -> tuple[bytes, str]:
    """The request body as received and its encoding (gzip or identity); 413/415 else.

    Nothing is decompressed or parsed here, on the event loop: that is the worker
    thread's (`rules.read_batch`, `rules.ingest_bundle`), within their bounds.
    """
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip"):
        raise Refusal("body.encoding")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        raise Refusal("body.too_large", limit=max_body)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_body:
            raise Refusal("body.too_large", limit=max_body)
        chunks.append(chunk)
    return b"".join(chunks), encoding


def unwrap_bundle(body: bytes, encoding: str) -> bytes:
    """A bundle file sent with ``Content-Encoding: gzip`` on top (it is gzip already)."""
    if encoding == "identity":
        return body
    try:
        return b"".join(
            inflate(
                body,
                bundle_mod.MAX_FILE,
                too_large="body.inflated_too_large",
                damaged="body.not_gzip",
                truncated="body.truncated",
            )
        )
    except Unbounded as exc:
        raise Refusal(exc.code, **exc.params) from exc


def create_app(
    data_dir: Path, *, revalidate: bool = False, store: PortalStorage | None = None
) -> FastAPI:
    """The portal over ``store`` (default: SQLite in ``data_dir/portal.db``).

    ``revalidate`` re-checks answers with the form engine.
    """
    if store is None:
        store = PortalStore(data_dir)
    validator = _answers_validator() if revalidate else None
    app = FastAPI(
        title="Mahalla Kiosk reference portal",
        version=f"{wire.PROTOCOL_VERSION}.0",
        description=(
            "Sync protocol v2; see docs/sync-protocol.md. Every path under "
            f"{wire.LEGACY_API}/ (protocol v1, any method) answers 426 with reason code "
            "protocol.upgrade: upgrade the kiosk."
        ),
    )
    app.state.store = store
    enrol_readers = asyncio.Semaphore(ENROL_READERS)

    @app.exception_handler(Refusal)
    async def refused(_request: Request, exc: Refusal) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
        if exc.code == "protocol.upgrade":
            headers["Upgrade"] = f"mahalla-sync/{wire.PROTOCOL_VERSION}"
        if exc.retry_after is not None:
            headers["Retry-After"] = str(exc.retry_after)
        return JSONResponse(dict(exc.body), status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own list stays in ``detail`` (the documented 422 shape), but only
        # loc, msg and type, as safe bounded text: the ``input`` it would echo may be
        # inf, NaN or a lone surrogate (no JSON answer can carry them) or megabytes.
        errors = safe_errors(exc.errors())
        body = reasons.refusal("body.invalid", detail=summary(errors))
        content = {"detail": errors, "code": body["code"]}
        return JSONResponse({**content, "params": body["params"]}, status_code=422)

    # Per-item results compress well; on a 2G link the answer matters as much as the request.
    app.add_middleware(GZipMiddleware, minimum_size=1024)

    def device(authorization: Annotated[str | None, Header()] = None) -> Device:
        found = bearer_device(store, authorization)
        if found is None:
            raise Refusal("auth.token")
        return found

    Authed = Annotated[Device, Depends(device)]

    status_page.install(app, store)  # GET /s/{code}: the citizen's page (docs/status-page.md)
    registry_api.add_routes(app, store)  # POST /registry/lookup (docs/once-only.md)

    @app.get(f"{wire.API}/health", response_model=Health)
    def health() -> dict[str, object]:
        return {"status": "ok", "protocol": wire.PROTOCOL_VERSION}

    @app.api_route(
        f"{wire.LEGACY_API}/{{rest:path}}",
        methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        include_in_schema=False,
    )
    def legacy(rest: str) -> None:
        # A v1 kiosk: a clear answer it shows (its registry lacks the code, so it
        # shows ``detail``), never a 404 it would take for a wrong URL.
        raise Refusal("protocol.upgrade", old=1, new=wire.PROTOCOL_VERSION)

    @app.post(
        f"{wire.API}/devices/enroll",
        response_model=EnrollResponse,
        openapi_extra=json_body(EnrollRequest),
        responses={
            400: BODY_ERRORS[400],
            413: BODY_ERRORS[413],
            415: BODY_ERRORS[415],
            403: {
                "model": ErrorBody,
                "description": "code unknown, used or expired, or not made for this device",
            },
            422: {
                "model": ErrorBody,
                "description": "fields invalid (body.invalid) or pre_prefix not this device's",
            },
            429: {
                "model": ErrorBody,
                "description": "too many wrong codes from this address (or in all): "
                "wait Retry-After seconds",
            },
        },
    )
    async def enroll(request: Request) -> transport.Enrolled:
        # Unauthenticated: few bodies at a time, each bounded as it arrives and in time,
        # and parsed off the loop.
        try:
            async with asyncio.timeout(ENROL_READ_SECONDS), enrol_readers:
                raw, encoding = await read_body(request, MAX_ENROL_BYTES)
        except TimeoutError as exc:
            raise Refusal("body.slow", seconds=int(ENROL_READ_SECONDS)) from exc

        def parse() -> EnrollRequest:
            doc = read_json(raw, encoding, limit=MAX_ENROL_BYTES, max_values=MAX_ENROL_VALUES)
            return validated(EnrollRequest, doc)

        body = await run_in_threadpool(parse)
        host = request.client.host if request.client else None
        claims = [claim.model_dump() for claim in body.claims]
        return await run_in_threadpool(
            enroll_device,
            store,
            body.code,
            body.name,
            body.device_id,
            body.pre_prefix,
            host,
            claims,
        )

    @app.get(
        f"{wire.API}/catalog",
        response_model=CatalogResponse,
        responses={**ERRORS, 304: {"description": "unchanged since If-None-Match"}},
    )
    def catalog(_device: Authed, if_none_match: Annotated[str | None, Header()] = None) -> Response:
        etag = store.catalog_etag()
        quoted = f'"{etag}"'
        if etag_matches(etag, if_none_match):
            return Response(status_code=304, headers={"ETag": quoted})
        return JSONResponse(catalog_answer(store, etag), headers={"ETag": quoted})

    @app.post(
        f"{wire.API}/audit/anchor",
        response_model=AnchorResponse,
        responses=BODY_ERRORS,
        openapi_extra=json_body(AnchorRequest),
    )
    async def anchor(request: Request, dev: Authed) -> dict[str, Any]:
        raw, encoding = await read_body(request, MAX_ANCHOR_BYTES)

        def parse_and_anchor() -> dict[str, Any]:
            doc = read_json(raw, encoding, limit=MAX_ANCHOR_BYTES, max_values=MAX_ANCHOR_VALUES)
            body = validated(AnchorRequest, doc)
            entries = [entry.model_dump() for entry in body.entries]
            answer = anchor_audit(store, dev.id, body.head_seq, entries)
            crash_point("portal.anchor_committed")
            return dict(answer)

        return await run_in_threadpool(parse_and_anchor)

    @app.post(
        f"{wire.API}/submissions/batch",
        response_model=BatchResponse,
        responses=BODY_ERRORS,
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "JSON, usually with Content-Encoding: gzip",
                "content": {"application/json": {"schema": inline_schema(BatchRequest)}},
            }
        },
    )
    async def batch(request: Request, dev: Authed) -> dict[str, list[transport.ItemResult]]:
        body, encoding = await read_body(request, wire.MAX_BODY_BYTES)
        items = await run_in_threadpool(read_batch, body, encoding)
        del body
        results = await run_in_threadpool(store.ingest, dev.id, items, "sync", validator)
        crash_point("portal.batch_committed")
        return {"results": results}

    @app.get(f"{wire.API}/status", response_model=StatusResponse, responses=ERRORS)
    def status(
        dev: Authed,
        since: Annotated[int, Query(ge=0, le=2**62)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    ) -> transport.StatusPage:
        return store.status_changes(dev.id, since, limit)

    @app.get(
        f"{wire.API}/status/lookup/{{tracking_code}}",
        response_model=StatusLookupResponse,
        responses={
            **ERRORS,
            429: {
                "model": ErrorBody,
                "description": "too many look-ups from this address (status.rate_limited): "
                "wait Retry-After seconds",
            },
        },
    )
    def status_lookup(
        request: Request,
        _dev: Authed,
        tracking_code: Annotated[str, PathParam(min_length=1, max_length=40)],
    ) -> transport.StatusLookup:
        """Any tracking code's status fields (no answers, no note), counted per source."""
        host = request.client.host if request.client else None
        return lookup_status(store, tracking_code, host)

    @app.post(
        f"{wire.API}/bundles",
        response_model=BundleResponse,
        responses={
            **BODY_ERRORS,
            422: {
                "model": ErrorBody,
                "description": "bundle refused (old format, damaged, signature)",
            },
        },
        openapi_extra={
            "requestBody": {
                "required": True,
                "description": "the bundle file as exported (format 3: gzip JSON lines, items sealed)",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        },
    )
    async def bundles(request: Request, _dev: Authed) -> transport.BundleResult:
        # The file itself is gzip; a Content-Encoding on top is also accepted.
        body, encoding = await read_body(request, bundle_mod.MAX_FILE)

        def ingest() -> transport.BundleResult:
            return ingest_bundle(store, unwrap_bundle(body, encoding), validator)

        answer = await run_in_threadpool(ingest)
        crash_point("portal.bundle_committed")
        return answer

    staff_api.add_routes(app, store)  # staff and the public: not kiosks
    participation_api.add_routes(app, store)  # seasons, tallies, petitions, codes
    return app
