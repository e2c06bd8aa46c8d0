"""Once-only prefill against a real portal process (issue 16, docs/once-only.md): the
look-up answers only the fields asked and is logged without values; no consent or no
operator ID check, no look-up; a correction travels beside the registry's value and
the portal links the log to the application, whose status page says when and by which
office the registry was consulted (no values); offline and a portal killed after
logging fall back to asking."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from kiosk import prefill
from kiosk.crashpoints import ENV
from kiosk.store import Store
from sync.client import PortalClient
from sync.portal.process import PortalProcess
from sync.portal.registry import Person
from sync.prefill import OFFLINE, ask_registry
from sync.transport import RequestRejected
from tests.integration.conftest import start_test_portal
from tests.integration.crashkit import KILLED, marker, wait_for_exit
from tests.integration.prefillkit import (
    FIELDS,
    OFFICE,
    PREFILL_FORM_ID,
    REGION,
    access_log,
    load_people,
    office_kiosk,
    request,
    stored_payload,
)
from tests.integration.synckit import TEST_FORM_VERSION, Kiosk, moved, portal_http


@pytest.fixture
def kiosk(tmp_path: Path, portal: PortalProcess) -> Kiosk:
    """A kiosk enrolled under an office's name and region."""
    return office_kiosk(tmp_path / "kiosk", portal)


@pytest.fixture(scope="module")
def people(portal: PortalProcess, tmp_path_factory: pytest.TempPathFactory) -> list[Person]:
    return load_people(portal, tmp_path_factory.mktemp("registry"))


def _client(kiosk: Kiosk) -> PortalClient:
    with kiosk.store() as store:
        client = PortalClient.from_store(store)
    assert client is not None
    return client


def _token(kiosk: Kiosk) -> str:
    with kiosk.store() as store:
        token = store.state.portal_token
    assert token
    return token


def test_a_lookup_answers_only_the_fields_asked_and_is_logged_without_values(
    kiosk: Kiosk, people: list[Person], tmp_path: Path
) -> None:
    person = people[3]
    asked = request(person.pinfl, fields=["person.full_name", "person.birth_date"])
    with _client(kiosk) as client:
        answer = client.registry_lookup(asked)
    assert answer["found"] is True
    assert answer["values"] == {
        "person.full_name": person.full_name,
        "person.birth_date": person.birth_date,
    }
    # The raw answer too: no other field, whatever a client keeps.
    with portal_http(kiosk.portal, _token(kiosk)) as http:
        raw = http.post("/api/v2/registry/lookup", json=request(person.pinfl, fields=FIELDS[:1]))
    assert raw.status_code == 200
    assert raw.json()["values"] == {"person.full_name": person.full_name}
    assert person.phone not in raw.text and person.address not in raw.text
    rows = [r for r in access_log(kiosk.portal, tmp_path) if r["device_id"] == kiosk.device_id]
    mine = next(r for r in rows if r["lookup_id"] == asked["lookup_id"])
    assert (mine["office"], mine["region"]) == (OFFICE, REGION)
    assert mine["operator_id"] == "7"
    assert mine["purpose"] == prefill.PURPOSE and mine["form_id"] == PREFILL_FORM_ID
    assert mine["fields"] == ["person.full_name", "person.birth_date"]
    assert mine["outcome"] == "found" and mine["id_document"] == "id_card"
    assert mine["consent_at"] == asked["consent"]["at"]  # type: ignore[index]  # given above
    logged = str(rows)
    assert person.pinfl not in logged and person.full_name not in logged
    assert person.birth_date not in logged


@pytest.mark.parametrize(
    ("consent", "id_check", "code"),
    [(False, True, "registry.consent"), (True, False, "registry.id_check")],
)
def test_no_consent_or_no_id_check_no_lookup(
    kiosk: Kiosk,
    people: list[Person],
    tmp_path: Path,
    consent: bool,
    id_check: bool,
    code: str,
) -> None:
    person = people[5]
    asked = request(person.pinfl, consent=consent, id_check=id_check)
    with portal_http(kiosk.portal, _token(kiosk)) as http:
        refused = http.post("/api/v2/registry/lookup", json=asked)
    assert refused.status_code == 403
    assert refused.json()["code"] == code
    assert person.full_name not in refused.text
    with _client(kiosk) as client, pytest.raises(RequestRejected) as caught:
        client.registry_lookup(request(person.pinfl, consent=consent, id_check=id_check))
    assert caught.value.reason_code == code
    rows = [r for r in access_log(kiosk.portal, tmp_path) if r["lookup_id"] == asked["lookup_id"]]
    assert [r["outcome"] for r in rows] == [f"refused:{code}"]  # logged, nothing answered


def test_unknown_field_and_bad_pinfl_and_no_token_are_refused(
    kiosk: Kiosk, people: list[Person]
) -> None:
    with portal_http(kiosk.portal, _token(kiosk)) as http:
        unknown = http.post(
            "/api/v2/registry/lookup",
            json=request(people[0].pinfl, fields=["person.passport_photo"]),
        )
        bad = http.post("/api/v2/registry/lookup", json=request("12345678901234"))
    assert (unknown.status_code, unknown.json()["code"]) == (422, "registry.field")
    assert (bad.status_code, bad.json()["code"]) == (422, "registry.pinfl")
    with portal_http(kiosk.portal) as anonymous:
        assert (
            anonymous.post("/api/v2/registry/lookup", json=request(people[0].pinfl)).status_code
            == 401
        )


def test_a_correction_is_kept_beside_the_registry_value_and_the_status_page_says_when(
    kiosk: Kiosk, people: list[Person], tmp_path: Path
) -> None:
    person = people[7]
    asked = request(person.pinfl)
    with _client(kiosk) as client:
        answer = client.registry_lookup(asked)
    values = answer["values"]
    filled = {  # (field, the registry's value, the answer as filled)
        "full_name": ("person.full_name", values["person.full_name"], person.full_name),
        "birth_date": ("person.birth_date", values["person.birth_date"], person.birth_date),
        "phone": ("person.phone", values["person.phone"], person.phone),
    }
    corrected = person.full_name + "jon"  # the citizen corrects the registry's spelling
    payload: dict[str, object] = {
        "full_name": corrected,
        "birth_date": person.birth_date,
        "phone": person.phone,
        "reason": "pension",
    }
    payload[prefill.PAYLOAD_KEY] = prefill.section(asked["lookup_id"], filled, payload)
    with Store.open(kiosk.data_dir) as store:
        code = store.submit(
            None, payload, "uz_Latn", form_id=PREFILL_FORM_ID, form_version=TEST_FORM_VERSION
        ).tracking_code
    synced = kiosk.run("sync")
    assert synced.returncode == 0, synced.stderr
    stored = stored_payload(kiosk.portal, code)  # the payload, opened at the portal
    assert stored["full_name"] == corrected
    section = stored[prefill.PAYLOAD_KEY]
    assert section["lookup_id"] == asked["lookup_id"]
    assert section["fields"]["full_name"] == {
        "field": "person.full_name",
        "registry": person.full_name,
        "answer": corrected,
        "corrected": True,
    }
    assert section["fields"]["birth_date"]["corrected"] is False
    row = next(
        r for r in access_log(kiosk.portal, tmp_path) if r["lookup_id"] == asked["lookup_id"]
    )
    assert row["tracking_code"] == code  # linked at ingest
    page = httpx.get(f"{kiosk.portal.url}/s/{code}", params={"lang": "uz_Latn"}, timeout=30)
    assert page.status_code == 200
    assert "davlat reyestriga murojaat qilingan" in page.text
    assert OFFICE in page.text and REGION in page.text  # which office
    for value in (person.full_name, corrected, person.pinfl, person.phone, person.address):
        assert value not in page.text
    ru = httpx.get(f"{kiosk.portal.url}/s/{code}", params={"lang": "ru"}, timeout=30)
    assert "запрашивался государственный реестр" in ru.text


def test_offline_the_kiosk_falls_back_to_asking(private_kiosk: Kiosk, tmp_path: Path) -> None:
    private_kiosk.portal.stop()
    asked = ask_registry(private_kiosk.data_dir, request("31503622261234"))
    assert asked.outcome == "offline" and asked.answer is None
    assert asked.notice == OFFLINE


def test_portal_killed_after_logging_a_lookup(
    private_kiosk: Kiosk, restarted: list[PortalProcess], tmp_path: Path
) -> None:
    kiosk = private_kiosk
    people = load_people(kiosk.portal, tmp_path, count=5)
    kiosk.portal.stop()
    spec = "portal.registry_logged:1"
    crashing = start_test_portal(kiosk.portal.data_dir, env={ENV: spec})
    restarted.append(crashing)
    moved(kiosk.data_dir, crashing.url)
    asked = request(people[0].pinfl)
    outcome = ask_registry(kiosk.data_dir, asked)
    assert outcome.outcome == "offline" and outcome.answer is None  # the answer never came
    assert wait_for_exit(crashing) == KILLED
    assert any(marker("portal.registry_logged") in line for line in crashing.output)
    again = start_test_portal(kiosk.portal.data_dir)
    restarted.append(again)
    rows = [r for r in access_log(again, tmp_path) if r["lookup_id"] == asked["lookup_id"]]
    assert [r["outcome"] for r in rows] == ["found"]  # committed before the kill
    moved(kiosk.data_dir, again.url)
    retried = ask_registry(kiosk.data_dir, asked)  # the same look-up id, asked again
    assert retried.outcome == "found"
    assert retried.answer is not None
    assert retried.answer["values"]["person.full_name"] == people[0].full_name
    rows = [r for r in access_log(again, tmp_path) if r["lookup_id"] == asked["lookup_id"]]
    assert len(rows) == 1  # logged once
