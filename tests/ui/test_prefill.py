"""Once-only prefill in the app, against a real portal process (issue 16): an
operator's walk in uz_Cyrl (ID check and consent, the registry asked, the answers
marked "from the registry" on the question and review screens and spoken, a
correction kept beside the registry's value at the portal, the look-up in its access
log and on the status page); self-service never prefills; no consent, no look-up;
offline, the questions are asked as usual with a notice."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from textual.widgets import Checkbox, Input, Static

from kiosk.catalog import load_sample
from kiosk.operators import add_operator
from kiosk.store import Store
from kiosk.translit import to_cyrillic
from mahalla.cli import main as kiosk_main
from screens.prefill import PrefillScreen
from screens.question import QuestionScreen
from screens.receipt import ReceiptScreen
from screens.review import ConsentScreen, ReviewRow, ReviewScreen
from sync.portal import registry
from sync.portal.process import create_enrolment_code, start_portal
from sync.portal.store import PortalStore
from tests.ui.driver import (
    choose_language,
    choose_service,
    click,
    fill_form,
    ready,
    type_text,
    wait_until,
)
from tests.ui.test_operator import login

FORM = "old_age_pension"
SAMPLE = load_sample(FORM)
PINFL = str(SAMPLE["pinfl"])  # 31503622261234: a man born 1962-03-15
# The registry spells the name differently; the citizen corrects it to the sample's.
REGISTRY_NAME = "Yusupov Abdula Karimovich"
PERSON = registry.Person(
    pinfl=PINFL,
    full_name=REGISTRY_NAME,
    birth_date="1962-03-15",
    address="Navoiy ko'chasi, 44-uy",
    phone="+998943210011",
    benefit_status="pensioner",
    family=[],
)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    process = start_portal(tmp_path_factory.mktemp("portal"))
    store = PortalStore(process.data_dir)
    try:
        with store.transaction() as conn:
            registry.load(conn, [PERSON])
    finally:
        store.close()
    yield process
    process.stop()


def enrol(data_dir: Path, portal, name: str = "Yunusobod MFY") -> None:
    code = create_enrolment_code(portal.data_dir, name)
    args = ["enroll", "--portal", portal.url, "--code", code, "--data-dir", str(data_dir)]
    assert kiosk_main(args) == 0


def access_log(portal) -> list[dict]:
    store = PortalStore(portal.data_dir)
    try:
        return [dict(row) for row in store.registry_access_log()]
    finally:
        store.close()


def audit_actions(data_dir: Path) -> list[tuple[str, dict]]:
    with Store.open(data_dir) as store:
        rows = store.db.execute("SELECT action, details FROM audit ORDER BY seq").fetchall()
    return [(action, json.loads(details)) for action, details in rows if "prefill" in action]


async def to_prefill(pilot) -> PrefillScreen:
    await login(pilot, "Aziz", "135792")
    await pilot.press("1")  # new application
    await pilot.pause()
    await choose_language(pilot, "uz_Cyrl", "keyboard")
    await choose_service(pilot, FORM, "keyboard")
    screen = pilot.app.screen
    assert isinstance(screen, PrefillScreen), screen
    return screen


async def enter_pinfl(pilot, screen: PrefillScreen) -> None:
    await click(pilot, screen.query_one("#prefill-pinfl", Input))
    await type_text(pilot, PINFL)


def cyr(text: str) -> str:
    """uz_Cyrl follows uz_Latn by transliteration."""
    return to_cyrillic(text)


async def test_operator_prefill_walk_in_uz_cyrl(make_app, data_dir, portal, speech) -> None:
    enrol(data_dir, portal)
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
    app = make_app(mode="operator", lang="uz_Cyrl")
    async with app.run_test(size=(100, 36)) as pilot:
        await ready(pilot)
        screen = await to_prefill(pilot)
        assert cyr("Davlat reyestridan toʻldirish") in " ".join(speech.texts())
        await enter_pinfl(pilot, screen)
        await click(pilot, screen.query_one("#prefill-id-checked", Checkbox))
        await click(pilot, screen.query_one("#prefill-consent", Checkbox))
        await click(pilot, screen.query_one("#prefill-fetch"))
        await wait_until(pilot, lambda: isinstance(app.screen, QuestionScreen), "the questions")
        visit = app.visit
        assert visit is not None
        assert set(visit.prefilled) == {"full_name", "birth_date", "phone", "address"}
        assert visit.session.value("full_name") == REGISTRY_NAME
        assert visit.session.value("pinfl") == PINFL  # typed once, by the operator
        question = app.screen
        mark = str(question.query_one("#q-registry", Static).render())
        assert cyr("Reyestrdan olingan") in mark  # the first question: full_name
        assert any(cyr("Reyestrdan olingan") in text for text in speech.texts())
        # The citizen corrects the name; every other answer as the registry gave it.
        await fill_form(pilot, SAMPLE, "keyboard")
        assert isinstance(app.screen, ReviewScreen)
        rows = {row.item.ref: str(row.label) for row in app.screen.query(ReviewRow)}
        assert cyr("Reyestrdan olingan") in rows["birth_date"]
        assert cyr("Reyestrdan olingan") in rows["address"]
        assert cyr("Tuzatildi") in rows["full_name"] and REGISTRY_NAME in rows["full_name"]
        assert cyr("Reyestr") not in rows["service_years"]
        await pilot.press("enter")  # Submit
        await wait_until(pilot, lambda: isinstance(app.screen, ConsentScreen), "consent")
        await pilot.press("1")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "the receipt")
    with Store.open(data_dir) as store:
        [row] = store.queue()
        code = row["tracking_code"]
    assert kiosk_main(["sync", "--data-dir", str(data_dir)]) == 0
    admin = PortalStore(portal.data_dir)
    try:
        with admin.transaction() as conn:
            stored = conn.execute(
                "SELECT payload FROM submissions WHERE tracking_code = ?", (code,)
            ).fetchone()
    finally:
        admin.close()
    payload = json.loads(stored["payload"])
    assert payload["full_name"] == SAMPLE["full_name"]
    fields = payload["prefill"]["fields"]
    assert fields["full_name"] == {
        "field": "person.full_name",
        "registry": REGISTRY_NAME,
        "answer": SAMPLE["full_name"],
        "corrected": True,
    }
    assert fields["address"]["corrected"] is False  # apostrophes folded: not a change
    assert fields["phone"]["corrected"] is False and fields["birth_date"]["corrected"] is False
    [logged] = [r for r in access_log(portal) if r["tracking_code"] == code]
    assert logged["office"] == "Yunusobod MFY" and logged["outcome"] == "found"
    assert logged["lookup_id"] == payload["prefill"]["lookup_id"]
    page = httpx.get(f"{portal.url}/s/{code}", params={"lang": "uz_Cyrl"}, timeout=30)
    assert "Yunusobod MFY" in page.text
    assert REGISTRY_NAME not in page.text and PINFL not in page.text
    actions = [action for action, _ in audit_actions(data_dir)]
    assert actions == ["prefill_id_checked", "prefill_consent", "prefill_lookup"]
    details = dict(audit_actions(data_dir))
    assert details["prefill_lookup"]["outcome"] == "found"
    assert PINFL not in json.dumps(details)


async def test_self_service_never_prefills(make_app, data_dir, portal) -> None:
    enrol(data_dir, portal, "self-service kiosk")
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")  # citizen mode needs one who can close it
    before = len(access_log(portal))
    app = make_app(mode="citizen", lang="uz_Cyrl")
    async with app.run_test(size=(100, 36)) as pilot:
        await ready(pilot)
        await choose_language(pilot, "uz_Cyrl", "keyboard")
        await choose_service(pilot, FORM, "keyboard")
        await wait_until(pilot, lambda: isinstance(app.screen, QuestionScreen), "the questions")
        assert app.visit is not None and app.visit.prefilled == {}
        assert app.visit.session.value("full_name") is None
        assert not app.screen.query_one("#q-registry", Static).display
    assert len(access_log(portal)) == before
    assert audit_actions(data_dir) == []


async def test_no_consent_no_lookup(make_app, data_dir, portal) -> None:
    enrol(data_dir, portal, "no-consent kiosk")
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
    before = len(access_log(portal))
    app = make_app(mode="operator", lang="uz_Cyrl")
    async with app.run_test(size=(100, 36)) as pilot:
        await ready(pilot)
        screen = await to_prefill(pilot)
        await enter_pinfl(pilot, screen)
        await click(pilot, screen.query_one("#prefill-id-checked", Checkbox))
        await click(pilot, screen.query_one("#prefill-fetch"))  # no consent ticked
        await pilot.pause()
        assert app.screen is screen
        status = str(screen.query_one("#prefill-status", Static).render())
        assert cyr("faqat fuqaroning roziligi bilan") in status
        # Skipping asks the questions as usual.
        await click(pilot, screen.query_one("#prefill-skip"))
        await wait_until(pilot, lambda: isinstance(app.screen, QuestionScreen), "the questions")
        assert app.visit is not None and app.visit.prefilled == {}
    assert len(access_log(portal)) == before
    assert audit_actions(data_dir) == []


async def test_offline_asks_the_questions_with_a_notice(make_app, data_dir, speech) -> None:
    with Store.open(data_dir) as store:
        add_operator(store, "Aziz", "135792")
        store.set_setting("portal_url", "http://127.0.0.1:9")  # nothing listens there
        store.set_setting("portal_token", "t")
    app = make_app(mode="operator", lang="uz_Cyrl")
    async with app.run_test(size=(100, 36)) as pilot:
        await ready(pilot)
        screen = await to_prefill(pilot)
        await enter_pinfl(pilot, screen)
        await click(pilot, screen.query_one("#prefill-id-checked", Checkbox))
        await click(pilot, screen.query_one("#prefill-consent", Checkbox))
        await click(pilot, screen.query_one("#prefill-fetch"))
        await wait_until(pilot, lambda: isinstance(app.screen, QuestionScreen), "the questions")
        visit = app.visit
        assert visit is not None and visit.prefilled == {}
        assert visit.session.value("full_name") is None  # asked as usual
        assert visit.prefill_notice is not None
        notice = cyr("Reyestrga ulanib boʻlmadi")
        assert any(notice in text for text in speech.texts())
    outcomes = [
        d.get("outcome") for action, d in audit_actions(data_dir) if action == "prefill_lookup"
    ]
    assert outcomes == ["offline"]
