"""The staff status API and the public open-data endpoint (issue 15), added to the app.

Kept out of `sync.portal.app` because they serve other people than kiosks: staff, who
authenticate with their own bearer tokens (`sync.portal.staff`; a device token is
refused here, a staff token on the kiosks' endpoints), and the public, who need none.
The role matrix and the decision rules are `sync.portal.staff`'s; the figures and
their suppression `sync.portal.open_data`'s and `sync.portal.suppression`'s.
"""

from typing import Annotated

from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi import Path as PathParam

from sync import wire
from sync.portal import open_data
from sync.portal.appeals import AppealUpdate, QueueEntry
from sync.portal.models import (
    APPEAL_ERRORS,
    STAFF_ERRORS,
    AppealQueueResponse,
    AppealStatusRequest,
    AppealUpdateResponse,
    ErrorBody,
    HistoryResponse,
    OpenDataResponse,
    StaffStatusRequest,
    StaffStatusResponse,
)
from sync.portal.rules import Refusal
from sync.portal.staff import (
    DecisionRefused,
    HistoryEntry,
    StaffMember,
    handles_appeals,
    may_set,
)
from sync.portal.storage import STATUSES, PortalStorage, StatusUpdate

# Query parameters that would ask for a range, refused with opendata.range: the figures
# are published by whole months only, so two ranges cannot be differenced.
_RANGE_SIGNS = ("..", "/", ",", " ")
_OPEN_DATA_PARAMS = {"month", "format"}


def bearer_staff(store: PortalStorage, authorization: str | None) -> StaffMember | None:
    """The staff account an ``Authorization: Bearer TOKEN`` value names; None if none
    does (a device's token names none: the tables are apart)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return store.staff_for_token(token.strip())


def decide(
    store: PortalStorage,
    who: StaffMember,
    tracking_code: str,
    status: str,
    reason_code: str | None,
    note: str | None,
) -> StatusUpdate:
    """``who`` sets an application's status; `Refusal` with the registered reason when
    the status is unknown (422), not theirs to set (403), lacks or mismatches its
    decision reason (422), or names no application (404)."""
    if status not in STATUSES:
        raise Refusal("status.unknown", status=status, expected=", ".join(STATUSES))
    if not may_set(who.role, status):
        raise Refusal("staff.role", role=who.role, status=status)
    clean_note = note.strip() or None if note is not None else None
    try:
        return store.set_status(
            tracking_code, status, clean_note, reason_code=reason_code, actor=who.name
        )
    except DecisionRefused as exc:
        raise Refusal(exc.body["code"], **exc.body["params"]) from exc


def ombudsman(who: StaffMember) -> StaffMember:
    """``who`` if their role handles appeals; `Refusal` staff.appeals_role (403) else."""
    if not handles_appeals(who.role):
        raise Refusal("staff.appeals_role", role=who.role)
    return who


def decide_appeal(
    store: PortalStorage, who: StaffMember, appeal_code: str, body: AppealStatusRequest
) -> AppealUpdate:
    """An ombudsman decides an appeal (docs/appeals.md); `Refusal` with the registered
    reason otherwise."""
    ombudsman(who)
    clean_note = body.note.strip() or None if body.note is not None else None
    try:
        return store.decide_appeal(
            appeal_code,
            body.status,
            clean_note,
            actor=who.name,
            application_status=body.application_status,
        )
    except DecisionRefused as exc:
        raise Refusal(exc.body["code"], **exc.body["params"]) from exc


def appeal_queue(store: PortalStorage, who: StaffMember, status: str | None) -> list[QueueEntry]:
    """The ombudsman's queue; `Refusal` for another role or an unknown status."""
    ombudsman(who)
    try:
        return store.appeal_queue(status)
    except DecisionRefused as exc:
        raise Refusal(exc.body["code"], **exc.body["params"]) from exc


def history(store: PortalStorage, tracking_code: str) -> list[HistoryEntry]:
    """An application's status history; `Refusal` status.not_found (404)."""
    try:
        return store.status_history(tracking_code)
    except DecisionRefused as exc:
        raise Refusal(exc.body["code"], **exc.body["params"]) from exc


def stats(store: PortalStorage, request: Request, month: str | None) -> open_data.Stats:
    """The month's published figures; `Refusal` for a range, a month that is not
    YYYY-MM, or one not over yet on the portal's clock."""
    asked = [name for name, _ in request.query_params.multi_items()]
    if set(asked) - _OPEN_DATA_PARAMS or asked.count("month") > 1:
        raise Refusal("opendata.range")
    if month is not None and any(sign in month for sign in _RANGE_SIGNS):
        raise Refusal("opendata.range")
    try:
        checked = open_data.check_month(month, store.now())
    except open_data.MonthProblem as exc:
        raise Refusal(exc.code, **exc.params) from exc
    services, regions = store.open_data_axes()
    return open_data.publish(checked, store.open_data_counts(checked), services, regions)


def add_routes(app: FastAPI, store: PortalStorage) -> None:
    """The staff endpoints and the open-data endpoint, on ``app`` over ``store``."""

    def member(authorization: Annotated[str | None, Header()] = None) -> StaffMember:
        found = bearer_staff(store, authorization)
        if found is None:
            raise Refusal("staff.token")
        return found

    Staff = Annotated[StaffMember, Depends(member)]
    Code = Annotated[str, PathParam(min_length=1, max_length=40)]

    @app.post(
        f"{wire.API}/staff/applications/{{tracking_code}}/status",
        response_model=StaffStatusResponse,
        responses={
            **STAFF_ERRORS,
            403: {"model": ErrorBody, "description": "the role may not set it (staff.role)"},
            422: {
                "model": ErrorBody,
                "description": "unknown status, missing or unfitting decision reason, "
                "invalid fields",
            },
        },
    )
    def set_status(tracking_code: Code, body: StaffStatusRequest, who: Staff) -> StatusUpdate:
        """Set an application's status with a decision reason and a note; recorded with
        who and when in its history and the staff audit (docs/staff.md)."""
        return decide(store, who, tracking_code, body.status, body.reason_code, body.note)

    @app.get(
        f"{wire.API}/staff/applications/{{tracking_code}}/history",
        response_model=HistoryResponse,
        responses=STAFF_ERRORS,
    )
    def status_history(tracking_code: Code, _who: Staff) -> dict[str, object]:
        """Every status change of an application, oldest first: status, reason, note,
        who, when."""
        return {"tracking_code": tracking_code, "history": history(store, tracking_code)}

    @app.get(
        f"{wire.API}/staff/appeals", response_model=AppealQueueResponse, responses=APPEAL_ERRORS
    )
    def appeals_queue(
        who: Staff,
        status: Annotated[
            str | None, Query(max_length=32, description="received, in_review, ...; default: open")
        ] = None,
    ) -> dict[str, object]:
        """The ombudsman's queue, oldest first: each appeal with the original
        application's service, decision, reason code and explanation, automated flag and
        dates, and the citizen's grounds; never the application's answers."""
        return {"appeals": appeal_queue(store, who, status)}

    @app.post(
        f"{wire.API}/staff/appeals/{{tracking_code}}/status",
        response_model=AppealUpdateResponse,
        responses={
            **APPEAL_ERRORS,
            404: {"model": ErrorBody, "description": "no appeal with this code (appeal.not_found)"},
            409: {"model": ErrorBody, "description": "already decided (appeal.decided)"},
        },
    )
    def appeal_status(tracking_code: Code, body: AppealStatusRequest, who: Staff) -> AppealUpdate:
        """An ombudsman sets an appeal's status: in_review, upheld or overturned (an
        overturn also changes the application's status, audited)."""
        return decide_appeal(store, who, tracking_code, body)

    open_data_errors: dict[int | str, dict[str, object]] = {
        422: {
            "model": ErrorBody,
            "description": "not one whole past month (opendata.month, opendata.not_over, "
            "opendata.range, opendata.format)",
        }
    }

    @app.get(
        f"{wire.API}/open-data/stats",
        response_model=OpenDataResponse,
        responses={
            **open_data_errors,
            200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        },
    )
    def open_data_stats(
        request: Request,
        month: Annotated[str | None, Query(max_length=32, description="YYYY-MM")] = None,
        format: Annotated[str, Query(max_length=8, description="json or csv")] = "json",
    ) -> Response:
        """Public (no token): applications of one whole past month by service, region
        and status, counts under 5 suppressed; CC BY 4.0 (docs/open-data.md)."""
        if format not in ("json", "csv"):
            raise Refusal("opendata.format", format=format)
        figures = stats(store, request, month)
        if format == "csv":
            return _csv(figures)
        return Response(
            OpenDataResponse.model_validate(figures).model_dump_json(),
            media_type="application/json",
            headers={"Cache-Control": "public, max-age=3600"},
        )

    @app.get(
        f"{wire.API}/open-data/stats.csv",
        responses={
            **open_data_errors,
            200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        },
        response_class=Response,
    )
    def open_data_csv(
        request: Request,
        month: Annotated[str | None, Query(max_length=32, description="YYYY-MM")] = None,
    ) -> Response:
        """The same figures as CSV (suppressed cells empty)."""
        return _csv(stats(store, request, month))


def _csv(figures: open_data.Stats) -> Response:
    return Response(
        open_data.to_csv(figures),
        media_type="text/csv; charset=utf-8",
        headers={
            "Cache-Control": "public, max-age=3600",
            "Content-Disposition": f'attachment; filename="mahalla-{figures["month"]}.csv"',
        },
    )
