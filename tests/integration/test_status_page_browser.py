"""The citizen status page in a real headless Chromium at phone size (issue 15).

A real application goes through the kiosk path (`kiosk enroll`, `kiosk submit` of a
bundled form's sample with a marker name and a valid marker PINFL, `kiosk sync`) to a
real portal process; staff set a status with a note that names the citizen. Then, in
Debian's chromium driven by selenium at 390x844, the page is opened in uz_Latn (the
default for an English-speaking browser) and the other two languages are reached by
clicking the page's own switch. Each time: the status, the service and the date are in
the page's text, its style applied (the CSP allows it by hash), and neither the marker
name (nor its Latin or Cyrillic transliteration, nor its parts), the PINFL, the
passport nor the phone is anywhere in the page's source. An unknown code gets its
page in the same look. Screenshots go to
``$KIOSK_ARTIFACTS/status-page/`` (default ``artifacts/`` in the repository); a copy of
each is committed under docs/screenshots/.

Under CI=true a missing chromium or chromedriver fails the test instead of skipping it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from kiosk.catalog import load_sample
from kiosk.form import pick_text, texts_by_lang
from kiosk.formatting import format_date
from kiosk.i18n import tr
from kiosk.store import Store
from kiosk.translit import to_cyrillic, to_latin
from sync.lookup import PORTAL_STATUSES
from sync.portal.process import PortalProcess, start_portal
from sync.portal.status_page import LOCAL_TIME
from sync.portal.store import PortalStore
from tests.test_no_cleartext import MARKER_NAME, cli, enrolled, with_markers

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("KIOSK_ARTIFACTS") or ROOT / "artifacts") / "status-page"
FORM_ID = "criminal_record_certificate"  # a name, a PINFL, a passport and a phone
WIDTH, HEIGHT = 390, 844


def _chromium_or_skip() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        message = f"Chromium for the status page test is missing: {', '.join(missing)}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: scripts/setup installs chromium, chromium-driver)")
        pytest.skip(message)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalProcess]:
    """A real portal with the bundled forms (the sample must be accepted)."""
    process = start_portal(tmp_path_factory.mktemp("portal"), "127.0.0.1", 0)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium at 390x844 with a fresh profile, nothing fetched on its own."""
    _chromium_or_skip()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=en-US",
        f"--window-size={WIDTH},{HEIGHT}",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
    ):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "en-US,en"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        # The viewport itself is the phone's, whatever the window's frame takes.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": True},
        )
        yield driver
    finally:
        driver.quit()


def _submit_with_markers(
    data_dir: Path, portal: PortalProcess, work: Path
) -> tuple[str, dict[str, object]]:
    """Through the kiosk's own commands: enrol, submit the sample with the markers, sync.
    The tracking code and the answers sent."""
    enrolled(data_dir, portal)
    answers = with_markers(load_sample(FORM_ID))
    assert isinstance(answers, dict) and answers["full_name"] == MARKER_NAME
    answers_file = work / "answers.json"
    answers_file.write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    cli(data_dir, "submit", "--form", FORM_ID, "--answers", str(answers_file))
    cli(data_dir, "sync")
    with Store.open(data_dir) as store:
        [row] = store.queue()
    assert row["state"] == "sent", row
    return row["tracking_code"], answers


def _forbidden(answers: dict[str, object]) -> list[str]:
    """Everything personal the page must not carry: the marker name whole and in parts,
    in both scripts, the PINFL, the passport and the phone (as typed and as digits)."""
    names = [MARKER_NAME, *MARKER_NAME.split()]
    found = {variant for name in names for variant in (name, to_cyrillic(name), to_latin(name))}
    phone = str(answers["phone"])
    found |= {str(answers["pinfl"]), str(answers["passport"]), phone}
    found.add("".join(ch for ch in phone if ch.isdigit()))
    return sorted(found)


def test_status_page_in_chromium_in_three_languages(
    portal: PortalProcess, browser: WebDriver, tmp_path: Path
) -> None:
    driver = browser
    kiosk_dir = tmp_path / "kiosk"
    kiosk_dir.mkdir()
    code, answers = _submit_with_markers(kiosk_dir, portal, tmp_path)
    forbidden = _forbidden(answers)
    admin = PortalStore(portal.data_dir)
    try:
        admin.set_status(code, "in_review")
        # Staff's note to the citizen's kiosk names them: the page never shows notes.
        admin.set_status(code, "approved", note=f"{MARKER_NAME}, {answers['pinfl']}: ready")
        spec = next(f["spec"] for f in admin.forms() if f["form_id"] == FORM_ID)
        history = admin.public_history(code, "test")
    finally:
        admin.close()
    assert history is not None
    titles = texts_by_lang(spec["title"])
    submitted = datetime.fromisoformat(history["submitted_at"]).astimezone(LOCAL_TIME).date()
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.get(f"{portal.url}/s/{code}")
    for lang, switch in (("uz_Latn", None), ("uz_Cyrl", "Ўзбекча"), ("ru", "Русский")):
        if switch is not None:  # the page's own language switch, clicked
            driver.find_element(By.LINK_TEXT, switch).click()
        html_lang = driver.find_element(By.TAG_NAME, "html").get_attribute("lang")
        assert html_lang == lang.replace("_", "-"), (lang, html_lang)
        assert driver.execute_script("return window.innerWidth") == WIDTH
        text = driver.find_element(By.TAG_NAME, "body").text
        assert tr(lang, PORTAL_STATUSES["approved"]) in text, text
        assert tr(lang, PORTAL_STATUSES["in_review"]) in text, text
        assert pick_text(titles, lang) in text, text
        assert format_date(submitted, lang) in text, text
        # The style block ran (the CSP allows it by its hash): large type for a phone.
        size = driver.execute_script("return getComputedStyle(document.body).fontSize")
        assert size == "20px", size
        source = driver.page_source
        leaked = [marker for marker in forbidden if marker in source or marker in text]
        assert not leaked, (lang, leaked)
        shot = SHOTS / f"status-{lang}.png"
        assert driver.save_screenshot(str(shot)), shot
        assert shot.stat().st_size > 1000
    # The marker check can fail: the kiosk did send the markers to this portal.
    assert forbidden and MARKER_NAME in json.dumps(answers, ensure_ascii=False)


def test_an_unknown_code_in_chromium_is_a_page_in_the_same_look(
    portal: PortalProcess, browser: WebDriver
) -> None:
    driver = browser
    driver.get(f"{portal.url}/s/K7MB3AZQXF?lang=ru")
    text = driver.find_element(By.TAG_NAME, "body").text
    assert "Заявление не найдено" in text and "K7MB3-AZQX-F" in text, text
    assert driver.execute_script("return getComputedStyle(document.body).fontSize") == "20px"
    SHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SHOTS / "status-404-ru.png"))


def test_missing_chromium_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard itself: CI=true turns a missing browser into a failure, not a skip."""
    monkeypatch.setattr(f"{__name__}.CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        _chromium_or_skip()
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception):
        _chromium_or_skip()


def test_shots_directory_is_outside_git() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/artifacts/" in ignored or shutil.which("git") is None
