"""The kiosk's participation requests to its portal: seasons, tallies, petitions, codes.

Reads (open seasons of the kiosk's district, a season's live tally, petitions) and the
one-time code requests are live: they need the portal and answer now, or raise the
transport's errors (`sync.transport.PortalError`, `RetryableError`) that the screens
say in the citizen's language (`sync.transport.refused` / `kiosk.reasons.say`). Votes
and signatures themselves are NOT sent here: they are queued submissions
(`kiosk.participation`), so they survive a lost connection and are deduplicated.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, TypeVar, cast
from urllib.parse import quote

from kiosk import district
from kiosk.district import PETITIONS_CACHE, SEASONS_CACHE
from kiosk.i18n import N_
from sync.client import PortalClient
from sync.transport import (
    Petition,
    PortalError,
    RequestRejected,
    RetryableError,
    Season,
    Tally,
)

T = TypeVar("T")

if TYPE_CHECKING:
    from kiosk.store import Store


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


def send_code(client: PortalClient, pinfl: str, item_id: str, lang: str) -> CodeSent:
    """Ask the portal to send a one-time code to the phone on record for ``pinfl``, for
    the pending vote or signature ``item_id`` this kiosk sent (it confirms that only)."""
    body = {"pinfl": pinfl, "item_id": item_id, "lang": lang}
    return cast(CodeSent, _object(client, "POST", "/participation/codes/send", json=body))


def confirm_code(client: PortalClient, pinfl: str, item_id: str, code: str) -> Confirmed:
    """Check the code; right: the pending item ``item_id`` now counts."""
    body = {"pinfl": pinfl, "item_id": item_id, "code": code}
    return cast(Confirmed, _object(client, "POST", "/participation/codes/confirm", json=body))


# --- for the screens: each runs on a worker thread with its own Store ------------------

# The kiosk's district and the setting keys of its kept copies: `kiosk.district`'s (set
# by `kiosk district set`, which empties the copies).


class ItemState(TypedDict):
    """Where a queued vote or signature is: the outbox row and the portal's answer."""

    tracking_code: str
    state: str  # queued | sending | sent | ...
    outcome: str | None  # accepted | duplicate | rejected | conflict
    reason_code: str | None
    params: dict[str, str]
    counted: str | None  # the portal's answer for an accepted one: verified | pending


def _district(store: Store) -> str:
    return district.current(store)


def _cached(store: Store, key: str) -> list[object]:
    import json

    raw = store.get_setting(key)
    try:
        data = json.loads(raw) if raw else []
    except ValueError:
        return []
    return data if isinstance(data, list) else []


def _live_or_kept(
    data_dir: Path, online: bool, fetch: Callable[[PortalClient, str], T | None], key: str
) -> tuple[T, bool]:
    """What ``fetch`` gets from the portal for the kiosk's district when ``online`` (kept
    under setting ``key`` for offline use), else the kept copy; (value, live)."""
    from kiosk.store import Store
    from kiosk.wire import canonical_json

    with Store.open(data_dir) as store:
        district = _district(store)
        if online:
            client = PortalClient.from_store(store)
            if client is not None:
                try:
                    with client:
                        found = fetch(client, district)
                except PortalError:
                    found = None
                if found is not None:
                    store.set_setting(key, canonical_json(found))
                    return found, True
        return cast(T, _cached(store, key)), False


def load_seasons(data_dir: Path, online: bool) -> tuple[list[Season], bool]:
    """The district's open seasons: from the portal when ``online`` (and kept for
    offline use), else the kept copy; (seasons, live)."""
    return _live_or_kept(data_dir, online, seasons, SEASONS_CACHE)


def load_petitions(data_dir: Path, online: bool) -> tuple[list[Petition], bool]:
    """The district's petitions with their progress; the kept copy when offline."""
    return _live_or_kept(data_dir, online, petitions, PETITIONS_CACHE)


def district_of(data_dir: Path) -> str:
    from kiosk.store import Store

    with Store.open(data_dir) as store:
        return _district(store)


def live_tally(data_dir: Path, season_id: str) -> Tally | None:
    """The season's live tally, or None when the portal cannot be asked."""
    from kiosk.store import Store

    with Store.open(data_dir) as store:
        client = PortalClient.from_store(store)
    if client is None:
        return None
    try:
        with client:
            return tally(client, season_id)
    except PortalError:
        return None


def _client_and_item(data_dir: Path, tracking_code: str) -> tuple[PortalClient, str]:
    from kiosk import participation
    from kiosk.store import Store

    with Store.open(data_dir) as store:
        client = PortalClient.from_store(store)
        item_id = participation.outbox_item(store, tracking_code)
    if client is None:
        raise RetryableError(NOT_ENROLLED)
    if item_id is None:
        raise RetryableError(NOT_QUEUED)
    return client, item_id


def ask_code(data_dir: Path, pinfl: str, lang: str, tracking_code: str) -> CodeSent:
    """`send_code` for the queued item ``tracking_code``, through the kiosk's enrolment;
    `PortalError` as the transport says."""
    client, item_id = _client_and_item(data_dir, tracking_code)
    with client:
        return send_code(client, pinfl, item_id, lang)


def check_code(data_dir: Path, pinfl: str, code: str, tracking_code: str) -> Confirmed:
    """`confirm_code` for the queued item ``tracking_code``; right: the outbox says it
    counts from now on (`kiosk.participation.mark_confirmed`); right but never to count
    (the PINFL had voted, the season closed): the outbox says that, and the refusal is
    raised for the screen to say."""
    from kiosk import participation
    from kiosk.store import Store

    client, item_id = _client_and_item(data_dir, tracking_code)
    try:
        with client:
            done = confirm_code(client, pinfl, item_id, code)
    except RequestRejected as exc:
        if exc.reason_code in participation.NOT_COUNTED_CODES:
            # The code was right, but the item will never count: the outbox says why.
            params = {k: str(v) for k, v in exc.kwargs.items()}
            with Store.open(data_dir) as store:
                participation.mark_not_counted(store, tracking_code, exc.reason_code, params)
        raise
    with Store.open(data_dir) as store:
        participation.mark_confirmed(store, tracking_code)
    return done


NOT_ENROLLED = N_("This kiosk is not enrolled with a portal.")
NOT_QUEUED = N_("This vote or signature is not in this kiosk's queue.")


def item_state(store: Store, tracking_code: str) -> ItemState | None:
    """The outbox's view of a queued vote or signature (called on the store's thread)."""
    import json

    rows = store.db.query(
        "SELECT tracking_code, state, outcome, reason_code, reason_params, application_number "
        "FROM outbox WHERE tracking_code = ?",
        (tracking_code,),
    )
    for row in rows:
        try:
            params = json.loads(row["reason_params"] or "{}")
        except ValueError:
            params = {}
        return {
            "tracking_code": row["tracking_code"],
            "state": row["state"],
            "outcome": row["outcome"],
            "reason_code": row["reason_code"],
            "params": params if isinstance(params, dict) else {},
            "counted": row["application_number"],
        }
    return None
