"""The citizen status page's HTML (sync/portal/status_page.py): escaping of everything
from data, the language choice, the CSP hash of its one style block, dates in
Uzbekistan's time. The page from a real portal: tests/integration/test_status_page.py;
in Chromium: tests/integration/test_status_page_browser.py."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from sync.portal.status_page import (
    HEADERS,
    choose_lang,
    local_date,
    render_limited,
    render_not_found,
    render_status,
)
from sync.portal.storage import StatusHistory

HOSTILE = '</title><script>alert(1)</script><img src=x onerror="alert(2)">"\'&<style>*{}'
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "nav", "a", "h1", "h2",
    "section", "dl", "dt", "dd", "ol", "li", "time", "footer", "p",
}  # fmt: skip


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    return parser


def _view(title: str = "Maʼlumotnoma", **changes: object) -> StatusHistory:
    view: StatusHistory = {
        "tracking_code": "K7MB3AZQXF",
        "form_id": "certificate",
        "titles": {"uz_Latn": title, "ru": title},
        "submitted_at": "2026-03-21T09:30:00+00:00",
        "steps": [
            {"status": "received", "at": "2026-03-21T09:31:00+00:00"},
            {"status": "approved", "at": "2026-03-22T20:00:00+00:00"},
        ],
    }
    return {**view, **changes}  # type: ignore[typeddict-item]  # test data


@pytest.mark.parametrize("lang", ["uz_Latn", "uz_Cyrl", "ru"])
def test_a_hostile_form_title_is_text_not_markup(lang: str) -> None:
    page = render_status(lang, _view(HOSTILE))
    parsed = _parse(page)
    assert set(parsed.tags) <= ALLOWED_TAGS
    assert parsed.tags.count("style") == 1 and parsed.tags.count("title") == 1
    assert not any(name.startswith("on") for name, _ in parsed.attrs)
    assert "<script" not in page and "<img" not in page
    # Shown as the author wrote it, as text (transliterated in uz_Cyrl: still text).
    if lang != "uz_Cyrl":
        assert HOSTILE in "".join(parsed.text)


def test_a_hostile_status_or_time_is_text_too() -> None:
    steps = [{"status": "<b>x</b>", "at": '"><script>alert(1)</script>'}]
    page = render_status("ru", _view(steps=steps))
    assert set(_parse(page).tags) <= ALLOWED_TAGS and "<script" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page


def test_the_not_found_page_shows_a_code_only_if_it_is_one() -> None:
    assert "K7MB3" in render_not_found("ru", "k7mb3azqxf")
    page = render_not_found("ru", "<script>alert(1)</script>")
    assert "<script" not in page and "alert" not in page
    assert "Заявление не найдено" in page


def test_the_limit_page_says_when_in_uzbekistan_time() -> None:
    page = render_limited("ru", 120, now=datetime(2026, 3, 21, 9, 0, tzinfo=UTC))
    assert "14:02" in page and "Слишком много запросов" in page  # 09:00 UTC + 2 min, +5 h
    later = render_limited("ru", 61, now=datetime(2026, 3, 21, 9, 0, tzinfo=UTC))
    assert "14:02" in later  # rounded up to the minute


def test_dates_are_uzbekistan_dates() -> None:
    assert local_date("2026-03-22T20:00:00+00:00", "ru").startswith("23 марта 2026")
    assert local_date("2026-03-22T20:00:00+00:00", "uz_Latn").endswith("01:00")
    assert local_date("not a time", "ru") == ""


def test_the_page_shows_the_current_status_service_and_history_in_order() -> None:
    text = " ".join(_parse(render_status("ru", _view("Справка"))).text)
    assert "Одобрено" in text and "Справка" in text and "2026" in text
    assert text.index("Одобрено", text.index("История статуса")) < text.index("Принято службой")
    unknown = render_status("ru", _view(steps=[{"status": "archived", "at": "2026-03-22"}]))
    assert "archived" in unknown  # a status this portal cannot name yet: its code


def test_the_csp_allows_exactly_the_pages_style_block() -> None:
    page = render_status("uz_Latn", _view())
    [css] = re.findall(r"<style>(.*?)</style>", page, re.S)
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
    csp = HEADERS["Content-Security-Policy"]
    assert f"style-src 'sha256-{digest}'" in csp and csp.startswith("default-src 'none'")


@pytest.mark.parametrize(
    ("asked", "accept", "expected"),
    [
        ("ru", "uz", "ru"),  # the switch wins
        ("en", "ru", "ru"),  # not a page language: ignored
        (None, "ru-RU,ru;q=0.9,en;q=0.8", "ru"),
        (None, "uz-Cyrl-UZ", "uz_Cyrl"),
        (None, "uz-UZ", "uz_Latn"),
        (None, "en-US,uz-Cyrl;q=0.5,ru;q=0.7", "ru"),
        (None, "ru;q=0.3,uz;q=0.3", "ru"),  # equal: the first
        (None, "ru;q=0,uz-Cyrl", "uz_Cyrl"),  # q=0: not acceptable
        (None, "ru;q=nan,de", "uz_Latn"),
        (None, "en", "uz_Latn"),
        (None, None, "uz_Latn"),
        (None, ";;,,=q" * 200, "uz_Latn"),
    ],
)
def test_the_language_choice(asked: str | None, accept: str | None, expected: str) -> None:
    assert choose_lang(asked, accept) == expected
