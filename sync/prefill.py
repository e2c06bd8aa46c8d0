"""Asking the portal's registry for once-only prefill, from the kiosk (docs/once-only.md).

`ask_registry` runs in a worker thread (never on the UI's event loop): it opens the
kiosk's store, the enrolled portal's client, and makes one look-up. Whatever happens
it answers an `Asked`: the registry's values, or why there are none (not enrolled,
offline or the portal failing, refused with a reason code, nobody with that PINFL),
so the kiosk falls back to asking the questions with a short notice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.i18n import N_
from kiosk.store import Store
from sync.transport import AuthError, RegistryAnswer, RegistryRequest, RequestRejected

logger = logging.getLogger(__name__)

# Why the questions are asked as usual, said to the operator and the citizen.
NOT_ENROLLED = N_("This kiosk is not enrolled with a portal: the questions are asked as usual.")
OFFLINE = N_("The registry could not be reached: the questions are asked as usual.")
NOT_FOUND = N_("The registry holds nobody with this PINFL: the questions are asked as usual.")
REFUSED = N_("The registry look-up was refused ({reason}): the questions are asked as usual.")


@dataclass
class Asked:
    """A look-up's outcome: ``outcome`` is ``found``, ``not_found``, ``offline``,
    ``not_enrolled`` or ``refused:<code>``; ``notice`` the msgid said when nothing was
    filled, with ``params``."""

    outcome: str
    answer: RegistryAnswer | None = None
    notice: str | None = None
    params: dict[str, object] = field(default_factory=dict)
    refusal: RequestRejected | None = None


def ask_registry(data_dir: Path, request: RegistryRequest) -> Asked:
    """One look-up at the enrolled portal; never raises."""
    from sync.client import PortalClient

    try:
        with Store.open(data_dir) as store:
            client = PortalClient.from_store(store)
            if client is None:
                return Asked("not_enrolled", notice=NOT_ENROLLED)
            with client:
                answer = client.registry_lookup(request)
    except RequestRejected as exc:
        return Asked(f"refused:{exc.reason_code or exc.http_status}", notice=REFUSED, refusal=exc)
    except AuthError:
        return Asked("refused:auth.token", notice=OFFLINE)
    except Exception:  # offline, the portal failing, a bad answer: ask as usual
        logger.info("registry look-up failed", exc_info=True)
        return Asked("offline", notice=OFFLINE)
    if not answer["found"]:
        return Asked("not_found", answer=answer, notice=NOT_FOUND)
    return Asked("found", answer=answer)
