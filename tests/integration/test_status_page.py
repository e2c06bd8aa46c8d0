"""The citizen status page, ``GET /s/{code}``, from a real portal process: the page in
three languages (Accept-Language and the ``?lang=`` switch), the 404 and 429 pages in
the same look, the security headers, and nothing personal (docs/status-page.md)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from sync.portal.process import PortalProcess
from sync.portal.storage import LOOKUP_SOURCE_LIMIT
from sync.portal.store import PortalStore
from tests.integration.synckit import (
    TEST_FORM_SPEC,
    TEST_FORM_VERSION,
    Kiosk,
    portal_http,
    queue_submissions,
)

FORM_ID = "status_page_test"
TITLES = {
    "Uzbek (uz)": "Maʼlumotnoma olish",
    "Uzbek Cyrillic (uz-Cyrl)": "Маълумотнома олиш",
    "Russian (ru)": "Получение справки",
}
NOTE = "Aliyev Vali, bring passport AA1234567"  # staff's note: may name the citizen


def _page_form(portal: PortalProcess) -> None:
    store = PortalStore(portal.data_dir)
    try:
        spec = {**TEST_FORM_SPEC, "id_string": FORM_ID, "title": TITLES}
        store.add_form(FORM_ID, TEST_FORM_VERSION, "test", spec, "admin")
    finally:
        store.close()


def _submitted(kiosk: Kiosk) -> str:
    _page_form(kiosk.portal)
    with kiosk.store() as store:
        [code] = queue_submissions(store, 1, form_id=FORM_ID)
    done = kiosk.run("sync")
    assert done.returncode == 0, done.stderr
    admin = PortalStore(kiosk.portal.data_dir)
    try:
        admin.set_status(code, "in_review")
        admin.set_status(code, "approved", note=NOTE)
    finally:
        admin.close()
    return code


class _Text(HTMLParser):
    """The page's visible text and its elements' names."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parsed(html: str) -> _Text:
    parser = _Text()
    parser.feed(html)
    return parser


def _check_headers(headers: httpx.Headers) -> None:
    get = headers.get
    assert get("content-type") == "text/html; charset=utf-8"
    csp = get("content-security-policy")
    assert csp.startswith("default-src 'none'; style-src 'sha256-")
    assert "script-src" not in csp and "frame-ancestors 'none'" in csp
    assert get("x-content-type-options") == "nosniff"
    assert get("referrer-policy") == "no-referrer"
    assert get("cache-control") == "no-store"


@pytest.mark.parametrize(
    ("how", "lang", "texts"),
    [
        (
            {"headers": {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}},
            "ru",
            ["Одобрено", "Получение справки", "На рассмотрении"],
        ),
        ({"params": {"lang": "uz_Cyrl"}}, "uz-Cyrl", ["Маълумотнома олиш"]),
        ({"headers": {"Accept-Language": "en-US"}}, "uz-Latn", ["Maʼlumotnoma olish"]),
    ],
    ids=["accept-ru", "switch-uz_Cyrl", "default-uz_Latn"],
)
def test_the_page_in_its_language_without_personal_data(
    kiosk: Kiosk, how: dict[str, dict[str, str]], lang: str, texts: list[str]
) -> None:
    code = _submitted(kiosk)
    with portal_http(kiosk.portal) as http:
        answer = http.get(
            f"/s/{code.lower()}", headers=how.get("headers"), params=how.get("params")
        )
    assert answer.status_code == 200, answer.text
    _check_headers(answer.headers)
    assert answer.headers["content-language"] == lang
    page = answer.text
    assert f'<html lang="{lang}">' in page
    shown = " ".join(_parsed(page).text)
    for text in texts:
        assert text in shown
    assert re.search(r"20\d\d", shown)  # the dates
    assert "approved" not in shown and "in_review" not in shown  # translated, not codes
    # Nothing personal, nothing of the device: not the note, not the answers, not the
    # application number (it names no one, but the page has no need of it).
    for secret in ("Aliyev", "AA1234567", "passport", "MK-", kiosk.device_id):
        assert secret not in page
    assert set(_parsed(page).tags) <= {
        "html", "head", "meta", "title", "style", "body", "main", "nav", "a", "h1", "h2",
        "section", "dl", "dt", "dd", "ol", "li", "time", "footer", "p",
    }  # fmt: skip


def test_the_switch_links_every_language(kiosk: Kiosk) -> None:
    code = _submitted(kiosk)
    with portal_http(kiosk.portal) as http:
        page = http.get(f"/s/{code}", params={"lang": "ru"}).text
    for lang in ("uz_Latn", "uz_Cyrl", "ru"):
        assert f'href="?lang={lang}"' in page
    assert 'aria-current="page">Русский' in page


@pytest.mark.parametrize(
    "code", ["K7MB3AZQXF", "not-a-code", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "A" * 300]
)
def test_an_unknown_or_malformed_code_is_a_clear_404_page(portal: PortalProcess, code: str) -> None:
    with portal_http(portal) as http:
        answer = http.get(f"/s/{code}", headers={"Accept-Language": "uz-Cyrl"})
    assert answer.status_code == 404
    _check_headers(answer.headers)
    page = answer.text
    assert '<html lang="uz-Cyrl">' in page
    assert "Ариза топилмади" in page  # "Application not found", in Uzbek Cyrillic
    assert "<script" not in page and "alert(1)" not in page


def test_past_the_limit_a_translated_429_page(private_portal: PortalProcess) -> None:
    with portal_http(private_portal) as http:
        for _ in range(LOOKUP_SOURCE_LIMIT):
            assert http.get("/s/K7MB3AZQXF").status_code == 404
        answer = http.get("/s/K7MB3AZQXF", params={"lang": "ru"})
    assert answer.status_code == 429
    _check_headers(answer.headers)
    assert int(answer.headers["retry-after"]) > 0
    assert "Слишком много запросов" in answer.text
