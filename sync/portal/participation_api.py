"""The participation endpoints (issue 16): seasons and tallies, petitions, one-time codes.

Kiosks read a district's open seasons and petitions and ask for and check one-time
codes with their device token; the live tally of a season is public (counts only,
docs/participation.md). Votes and signatures themselves are NOT here: they travel as
sealed items in batches and bundles (`sync.portal.kinds`), queued like applications.
"""

from typing import Annotated

from fastapi import Depends, FastAPI, Header, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from kiosk import languages
from sync import wire
from sync.portal.models import ERRORS, ErrorBody
from sync.portal.participation_store import Confirmed, OtpSent, ParticipationRefused
from sync.portal.rules import Refusal, bearer_device
from sync.portal.storage import Device, PortalStorage
from sync.transport import Petition, Season, Tally

ITEM_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"  # kiosk.wire.UUID_RE


class CodeSendRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pinfl: str = Field(min_length=1, max_length=32)
    item_id: str = Field(pattern=ITEM_ID, description="the pending vote's or signature's item")
    lang: str = Field(default="uz_Latn", min_length=2, max_length=16)


class CodeConfirmRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pinfl: str = Field(min_length=1, max_length=32)
    item_id: str = Field(pattern=ITEM_ID, description="the item the code was sent for")
    code: str = Field(min_length=1, max_length=16)


class InitiativeModel(BaseModel):
    id: str
    titles: dict[str, str]
    descriptions: dict[str, str]


class SeasonModel(BaseModel):
    season_id: str
    district: str
    opens_on: str
    closes_on: str
    titles: dict[str, str]
    initiatives: list[InitiativeModel]


class SeasonsResponse(BaseModel):
    seasons: list[SeasonModel]


class TallyResponse(BaseModel):
    season_id: str
    votes: dict[str, int]
    pending: int
    voters: int


class PetitionModel(BaseModel):
    petition_id: str
    district: str
    title: str
    body: str
    lang: str
    threshold: int
    signatures: int
    pending: int
    state: str
    started_on: str
    review_at: str | None


class PetitionsResponse(BaseModel):
    petitions: list[PetitionModel]


class CodeSentResponse(BaseModel):
    sent: bool
    phone_hint: str
    expires_in: int


class ConfirmedResponse(BaseModel):
    votes: list[str]
    signatures: list[str]


def refusal(exc: ParticipationRefused) -> Refusal:
    """The API's refusal for a storage one (same code and params, Retry-After)."""
    out = Refusal(exc.code, **exc.body["params"])
    out.retry_after = exc.retry_after
    return out


District = Annotated[str | None, Query(min_length=1, max_length=64)]


def add_routes(app: FastAPI, store: PortalStorage) -> None:
    """The participation endpoints on ``app`` over ``store``."""

    def device(authorization: Annotated[str | None, Header()] = None) -> Device:
        found = bearer_device(store, authorization)
        if found is None:
            raise Refusal("auth.token")
        return found

    Authed = Annotated[Device, Depends(device)]

    @app.get(f"{wire.API}/participation/seasons", response_model=SeasonsResponse, responses=ERRORS)
    def open_seasons(_dev: Authed, district: District = None) -> dict[str, list[Season]]:
        """The open-budget seasons open today, of ``district`` (or all), with their
        initiatives' titles and descriptions in uz_Latn, uz_Cyrl and ru."""
        return {"seasons": store.open_seasons(district)}

    @app.get(
        f"{wire.API}/participation/seasons/{{season_id}}/tally",
        response_model=TallyResponse,
        responses={404: {"model": ErrorBody, "description": "no such season"}},
    )
    def tally(season_id: Annotated[str, PathParam(min_length=1, max_length=64)]) -> Tally:
        """A season's live tally (public: verified votes per initiative, pending count)."""
        try:
            return store.vote_tally(season_id)
        except ParticipationRefused as exc:
            raise refusal(exc) from exc

    @app.get(
        f"{wire.API}/participation/petitions",
        response_model=PetitionsResponse,
        responses=ERRORS,
    )
    def petitions(_dev: Authed, district: District = None) -> dict[str, list[Petition]]:
        """Petitions (of ``district`` or all), most signed first, with their progress."""
        return {"petitions": store.petitions(district)}

    @app.post(
        f"{wire.API}/participation/codes/send",
        response_model=CodeSentResponse,
        responses={
            **ERRORS,
            404: {"model": ErrorBody, "description": "nothing pending, or no phone on record"},
            429: {"model": ErrorBody, "description": "too many codes for this PINFL"},
        },
    )
    def send_code(body: CodeSendRequest, dev: Authed) -> OtpSent:
        """Send a one-time code to the phone on record for the PINFL, for ONE pending
        vote or signature this device sent (the code confirms that item only)."""
        lang = body.lang if body.lang in languages.codes() else "uz_Latn"
        try:
            return store.send_code(body.pinfl, lang, dev.id, body.item_id)
        except ParticipationRefused as exc:
            raise refusal(exc) from exc

    @app.post(
        f"{wire.API}/participation/codes/confirm",
        response_model=ConfirmedResponse,
        responses={**ERRORS, 422: {"model": ErrorBody, "description": "wrong or expired code"}},
    )
    def confirm_code(body: CodeConfirmRequest, dev: Authed) -> Confirmed:
        """Check a one-time code; right: the pending item it was sent for counts."""
        try:
            return store.confirm_code(body.pinfl, body.code, dev.id, body.item_id)
        except ParticipationRefused as exc:
            raise refusal(exc) from exc
