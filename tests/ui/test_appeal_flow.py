"""Issue 16: a decision's reason shown and spoken, and an appeal walked at the kiosk, in
uz_Cyrl, against a real portal process (with its bundled forms, the appeal form too).

The citizen checks a refused application's code: the status screen shows and the
voice reads the reason, its explanation and "decided by a person"; the appeal screen
speaks its prompts, asks the appellant's PINFL (only the applicant may appeal: a PINFL
that is not one is refused at once, the portal compares a real one with the
application's), takes the grounds and gives a receipt with the appeal's own code;
the appeal reaches the ombudsman's queue; once decided, the kiosk reads its status."""

from __future__ import annotations

import pytest

from kiosk import decisions
from kiosk.catalog import load_sample
from kiosk.i18n import tr
from kiosk.store import Store
from mahalla.cli import main as kiosk_main
from screens.appeal import ASK_CODE, ASK_GROUNDS, ASK_PINFL, NOT_APPEALABLE, AppealScreen
from screens.participate import BAD_PINFL
from screens.receipt import ReceiptScreen
from screens.start import tool_keys
from screens.status import StatusScreen
from sync.lookup import PORTAL_STATUSES
from sync.portal.process import start_portal
from sync.portal.store import PortalStore
from tests.ui.driver import ready, type_text, wait_until
from tests.ui.test_sync import FORM, enrol, submit_sample

LANG = "uz_Cyrl"
NOT_ELIGIBLE = "The applicant is not eligible for this service."
GROUNDS = "Men bu xizmatga haqliman: pensiya yoshiga yetganman, hujjatlar ilova qilingan."


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory):
    process = start_portal(tmp_path_factory.mktemp("portal"))  # with the bundled forms
    yield process
    process.stop()


def at_portal(portal) -> PortalStore:
    return PortalStore(portal.data_dir)


def delivered(data_dir, portal) -> str:
    enrol(data_dir, portal)
    with Store.open(data_dir) as store:
        sub = submit_sample(store, "uz_Latn")
    assert kiosk_main(["sync", "--data-dir", str(data_dir)]) == 0
    return sub.tracking_code


def decided(portal, code: str, status: str, reason: str) -> None:
    store = at_portal(portal)
    try:
        store.set_status(code, status, reason_code=reason, actor="aziza")
    finally:
        store.close()


async def check(pilot, code: str) -> str:
    app = pilot.app
    await pilot.press(tool_keys()[0])
    await wait_until(pilot, lambda: isinstance(app.screen, StatusScreen), "the status screen")
    await type_text(pilot, code)
    await pilot.press("enter")
    result = app.screen.query_one("#status-result")
    await wait_until(pilot, lambda: code in str(result.content).replace("-", ""), "an answer")
    return str(result.content)


async def test_a_refusal_is_read_aloud_then_appealed_and_the_ombudsman_decides(
    make_app, data_dir, portal, speech
) -> None:
    code = delivered(data_dir, portal)
    decided(portal, code, "rejected", "decision.not_eligible")
    reason = tr(LANG, "Reason: {reason}", reason=tr(LANG, NOT_ELIGIBLE))
    explanation = decisions.explain(LANG, "decision.not_eligible")
    person = tr(LANG, decisions.DECIDED_BY_PERSON)
    assert explanation and explanation != decisions.explain("en", "decision.not_eligible")
    app = make_app(lang=LANG)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        app.online = True
        shown = await check(pilot, code)
        for line in (reason, explanation, person, tr(LANG, decisions.APPEALABLE)):
            assert line in shown
        spoken = speech.private[-1]  # the voice reads the decision's reason aloud
        assert reason in spoken and explanation in spoken and person in spoken
        button = app.screen.query_one("#status-appeal")
        assert button.display
        await pilot.click("#status-appeal")
        await wait_until(pilot, lambda: isinstance(app.screen, AppealScreen), "the appeal")
        screen = app.screen
        ask = tr(LANG, ASK_GROUNDS)
        await wait_until(pilot, lambda: any(ask in t for t in speech.private), "the prompt")
        prompt = next(t for t in speech.private if ask in t)
        assert reason in prompt and explanation in prompt  # the decision, then the question
        assert tr(LANG, ASK_PINFL) in prompt  # only the applicant may appeal
        assert screen.query_one("#pinfl").has_focus  # the PINFL first
        # Not a PINFL: refused at once, said in the language, the PINFL asked again.
        await type_text(pilot, "123")
        await pilot.press("enter")  # on to the grounds
        await type_text(pilot, GROUNDS)
        await pilot.press("enter")
        problem = screen.query_one("#appeal-problem")
        bad = tr(LANG, BAD_PINFL)
        await wait_until(pilot, lambda: str(problem.content) == bad, "the PINFL refused")
        assert bad in speech.texts() and screen.query_one("#pinfl").has_focus
        screen.query_one("#pinfl").value = ""
        await type_text(pilot, str(load_sample(FORM)["pinfl"]))  # the applicant's own
        # Too short grounds are refused by the form's own rule, said in the language.
        await pilot.click("#appeal-grounds")
        screen.query_one("#appeal-grounds").value = ""
        await type_text(pilot, "Nega?")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: str(problem.content) not in ("", bad), "the grounds refused"
        )
        assert isinstance(app.screen, AppealScreen)
        screen.query_one("#appeal-grounds").value = ""
        await type_text(pilot, GROUNDS)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, ReceiptScreen), "the receipt")
        appeal_code = app.screen.receipt.tracking_code
        assert appeal_code != code
    assert kiosk_main(["sync", "--data-dir", str(data_dir)]) == 0
    store = at_portal(portal)
    try:
        queue = [e for e in store.appeal_queue() if e["tracking_code"] == appeal_code]
        assert len(queue) == 1 and queue[0]["grounds"] == GROUNDS
        assert queue[0]["identified_by"] == "pinfl"  # the applicant's PINFL matched
        assert queue[0]["application"]["reason_code"] == "decision.not_eligible"
        store.decide_appeal(appeal_code, "upheld", actor="ombuds")
    finally:
        store.close()
    app = make_app(lang=LANG)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        app.online = True
        shown = await check(pilot, appeal_code)
    assert tr(LANG, PORTAL_STATUSES["upheld"]) in shown
    assert decisions.explain(LANG, "decision.appeal_upheld") in shown
    assert decisions.explain(LANG, "decision.appeal_upheld") in speech.private[-1]


async def test_an_approved_application_cannot_be_appealed(
    make_app, data_dir, portal, speech
) -> None:
    code = delivered(data_dir, portal)
    decided(portal, code, "approved", "decision.approved_as_requested")
    app = make_app(lang=LANG)
    async with app.run_test(size=(100, 40)) as pilot:
        await ready(pilot)
        app.online = True
        shown = await check(pilot, code)
        assert tr(LANG, decisions.APPEALABLE) not in shown
        assert not app.screen.query_one("#status-appeal").display
        app.push_screen(app.new_screen("appeal"))
        await wait_until(pilot, lambda: isinstance(app.screen, AppealScreen), "the appeal")
        await wait_until(pilot, lambda: tr(LANG, ASK_CODE) in speech.texts(), "the prompt")
        await type_text(pilot, code)
        await pilot.press("enter")
        refused = tr(LANG, NOT_APPEALABLE)
        decision = app.screen.query_one("#appeal-decision")
        await wait_until(pilot, lambda: refused in str(decision.content), "refused")
        assert refused in speech.private[-1]
        assert not app.screen.query_one("#appeal-send").display
