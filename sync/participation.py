"""The kiosk's participation requests to its portal: seasons, tallies, petitions, codes.

Reads (open seasons of the kiosk's district, a season's live tally, petitions) and the
one-time code requests are live: they need the portal and answer now, or raise the
transport's errors (`sync.transport.PortalError`, `RetryableError`) that the screens
say in the citizen's language (`sync.transport.refused` / `kiosk.reasons.say`). Votes
and signatures themselves are NOT sent here: they are queued submissions
(`kiosk.participation`), so they survive a lost connection and are deduplicated.
"""

from __future__ import annotations

from typing import TypedDict, cast
from urllib.parse import quote

from kiosk.i18n import N_
from sync.client import PortalClient
from sync.transport import RetryableError


class Initiative(TypedDict):
    id: str
    titles: dict[str, str]
    descriptions: dict[str, str]


class Season(TypedDict):
    season_id: str
    district: str
    opens_on: str
    closes_on: str
    titles: dict[str, str]
    initiatives: list[Initiative]


class Tally(TypedDict):
    season_id: str
    votes: dict[str, int]
    pending: int
    voters: int


class Petition(TypedDict):
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


class CodeSent(TypedDict):
    sent: bool
    phone_hint: str
    expires_in: int


class Confirmed(TypedDict):
    votes: list[str]
    signatures: list[str]


INCOMPLETE = N_("The portal's answer was incomplete.")


def _object(
    client: PortalClient,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    json: dict[str, str] | None = None,
) -> dict[str, object]:
    response = client._request(method, path, params=params or {}, json=json)  # noqa: SLF001
    data = client._json(response)  # noqa: SLF001 - the same package's client
    if not isinstance(data, dict):
        raise RetryableError(INCOMPLETE)
    return data


def _list(data: dict[str, object], key: str) -> list[object]:
    value = data.get(key)
    if not isinstance(value, list):
        raise RetryableError(INCOMPLETE)
    return value


def seasons(client: PortalClient, district: str | None = None) -> list[Season]:
    """The seasons open today (of ``district``, or all)."""
    params = {"district": district} if district else {}
    data = _object(client, "GET", "/participation/seasons", params=params)
    return cast(list[Season], _list(data, "seasons"))


def tally(client: PortalClient, season_id: str) -> Tally:
    data = _object(client, "GET", f"/participation/seasons/{quote(season_id, safe='')}/tally")
    if not isinstance(data.get("votes"), dict):
        raise RetryableError(INCOMPLETE)
    return cast(Tally, data)


def petitions(client: PortalClient, district: str | None = None) -> list[Petition]:
    params = {"district": district} if district else {}
    data = _object(client, "GET", "/participation/petitions", params=params)
    return cast(list[Petition], _list(data, "petitions"))


def send_code(client: PortalClient, pinfl: str, lang: str) -> CodeSent:
    """Ask the portal to send a one-time code to the phone on record for ``pinfl``."""
    data = _object(client, "POST", "/participation/codes/send", json={"pinfl": pinfl, "lang": lang})
    return cast(CodeSent, data)


def confirm_code(client: PortalClient, pinfl: str, code: str) -> Confirmed:
    """Check the code; right: the PINFL's pending votes and signatures now count."""
    data = _object(
        client, "POST", "/participation/codes/confirm", json={"pinfl": pinfl, "code": code}
    )
    return cast(Confirmed, data)
