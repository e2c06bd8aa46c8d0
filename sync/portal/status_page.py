"""The citizen status page: ``GET /s/{code}``, what the receipt's QR opens on a phone.

Server-rendered HTML, no script, one inline style block (allowed by its hash in the
Content-Security-Policy), large type for a phone (docs/status-page.md). It shows the
service (the form's title in the page's language), the submission date and the status
history with translated status names and dates, and nothing personal: the view it
renders (`sync.portal.storage.StatusHistory`) holds no answers, device, application
number or note. Every text from data is escaped (`html.escape`): a form's title is
the form author's, a code is the visitor's.

Languages: uz_Latn, uz_Cyrl, ru; ``?lang=`` (the visible switch) wins over
Accept-Language; the default is uz_Latn. Every request is counted with the live status
look-ups (`PortalStorage.status_history`, the ``status_lookups`` table, so the limit
holds across portal processes); past the limit a translated 429 page. Unknown and
malformed codes get the same 404 page, in the same look.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from html import escape

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from kiosk import decisions, languages, tracking
from kiosk.form import pick_text
from kiosk.formatting import format_date
from kiosk.i18n import N_, tr
from sync.lookup import PORTAL_STATUSES
from sync.portal.storage import LookupLimited, PortalStorage, StatusHistory, enrol_source

PATH = "/s/"
LANGS = ("uz_Latn", "uz_Cyrl", "ru")
DEFAULT_LANG = "uz_Latn"
HTML_LANG = {"uz_Latn": "uz-Latn", "uz_Cyrl": "uz-Cyrl", "ru": "ru"}
MAX_CODE = 40  # longer is no code: not looked up
# Dates as the citizen's calendar has them: Uzbekistan's time (UTC+5, no daylight
# saving), whatever the portal's machine is set to.
LOCAL_TIME = timezone(timedelta(hours=5))

CSS = (
    "*{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
    "body{margin:0;background:#f2f4f7;color:#111;"
    "font:20px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans',sans-serif}"
    "main{max-width:36rem;margin:0 auto;padding:1rem}"
    "nav{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem}"
    "nav a{padding:.45rem .8rem;border:2px solid #0b4f8a;border-radius:.6rem;"
    "color:#0b4f8a;text-decoration:none;font-size:1.05rem}"
    "nav a[aria-current]{background:#0b4f8a;color:#fff}"
    "h1{font-size:1.7rem;line-height:1.25;margin:.25rem 0 1rem}"
    "h2{font-size:1.3rem;margin:0 0 .5rem}"
    "section{background:#fff;border-radius:.8rem;padding:1rem 1.1rem;margin:0 0 1rem;"
    "box-shadow:0 1px 3px rgba(0,0,0,.18)}"
    "dl{margin:0}dt{color:#4a4a4a;font-size:1rem}"
    "dd{margin:0 0 .8rem;font-size:1.3rem;font-weight:600;overflow-wrap:anywhere}"
    ".now{font-size:1.6rem;color:#0b4f8a}.good{color:#0a5c2c}.bad{color:#a3161b}"
    ".act{color:#8a4500}"
    ".code{font-family:ui-monospace,monospace;letter-spacing:.08em}"
    "ol{list-style:none;margin:0;padding:0}"
    "li{padding:.6rem 0;border-top:1px solid #ddd;font-size:1.2rem;font-weight:600}"
    "li:first-child{border-top:0}"
    "time{display:block;color:#4a4a4a;font-size:1rem;font-weight:400}"
    "p{margin:0 0 .6rem}footer{color:#4a4a4a;font-size:1rem}"
)
_CSS_HASH = base64.b64encode(hashlib.sha256(CSS.encode("utf-8")).digest()).decode("ascii")
HEADERS = {
    # Nothing may load, run or frame the page; only its own style block applies.
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # A status changes, and a shared phone or proxy should keep no copy of it.
    "Cache-Control": "no-store",
    "Vary": "Accept-Language",
}


def choose_lang(asked: str | None, accept_language: str | None) -> str:
    """The page's language: ``?lang=`` if it is one of `LANGS`, else the best of
    Accept-Language (``uz``, ``uz-Latn`` -> uz_Latn, ``uz-Cyrl`` -> uz_Cyrl, ``ru*`` ->
    ru, by q-value, then order), else `DEFAULT_LANG`."""
    if asked in LANGS:
        return str(asked)
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((accept_language or "")[:500].split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        lang = _lang_of_tag(tag.strip().lower().replace("_", "-"))
        if lang is None:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if not 0 < quality <= 1 or math.isnan(quality):
            continue
        if best is None or (-quality, index) < (-best[0], best[1]):
            best = (quality, index, lang)
    return best[2] if best else DEFAULT_LANG


def _lang_of_tag(tag: str) -> str | None:
    if tag == "uz-cyrl" or tag.startswith("uz-cyrl-"):
        return "uz_Cyrl"
    if tag == "uz" or tag.startswith("uz-"):
        return "uz_Latn"
    if tag == "ru" or tag.startswith("ru-"):
        return "ru"
    return None


def local_date(moment: str, lang: str) -> str:
    """An ISO time (UTC) as a date and time of day in Uzbekistan, in ``lang``."""
    try:
        value = datetime.fromisoformat(moment.strip().replace("Z", "+00:00"))
    except ValueError:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(LOCAL_TIME)
    return f"{format_date(local.date(), lang)}, {local:%H:%M}"


# The current status's colour: done well, refused, the citizen must act; else neutral.
# The words say it all; the colour only helps (never the only sign).
TONES = {
    "approved": "good",
    "completed": "good",
    "ready": "good",
    "rejected": "bad",
    "declined": "bad",
    "needs_info": "act",
}


def status_name(status: str, lang: str) -> str:
    """A status as the citizen reads it (`sync.lookup.PORTAL_STATUSES`); a status this
    portal does not name yet shows as its code."""
    msgid = PORTAL_STATUSES.get(status)
    return tr(lang, msgid) if msgid else status


def _switch(lang: str) -> str:
    links = []
    for code in LANGS:
        current = ' aria-current="page"' if code == lang else ""
        name = escape(languages.get(code).name)
        links.append(
            f'<a href="?lang={code}" hreflang="{HTML_LANG[code]}" '
            f'lang="{HTML_LANG[code]}"{current}>{name}</a>'
        )
    label = escape(tr(lang, N_("Language")))
    return f'<nav aria-label="{label}">{"".join(links)}</nav>'


def frame(lang: str, heading: str, sections: Sequence[str]) -> str:
    """The one look of every answer: the switch, the heading, the sections, the note
    that nothing personal is shown. ``heading`` is text; ``sections`` are HTML made
    here from escaped text."""
    title = escape(heading)
    footer = escape(
        tr(lang, N_("This page shows no personal data: only the service, dates and status."))
    )
    return (
        f'<!DOCTYPE html><html lang="{HTML_LANG[lang]}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="robots" content="noindex,nofollow">'
        f"<title>{title}</title><style>{CSS}</style></head><body><main>"
        f"{_switch(lang)}<h1>{title}</h1>{''.join(sections)}"
        f"<footer><p>{footer}</p></footer></main></body></html>"
    )


def render_status(lang: str, view: StatusHistory) -> str:
    """The page of a found application."""
    service = pick_text(view["titles"], lang) or view["form_id"]
    steps = view["steps"]
    rows = [
        (tr(lang, N_("Service")), escape(service), "service"),
        (tr(lang, N_("Submitted")), escape(local_date(view["submitted_at"], lang)), "date"),
        (
            tr(lang, N_("Tracking code")),
            escape(tracking.format_code(view["tracking_code"])),
            "code",
        ),
    ]
    if steps:
        now = steps[-1]["status"]
        tone = f"now {TONES[now]}" if now in TONES else "now"
        rows.insert(0, (tr(lang, N_("Current status")), escape(status_name(now, lang)), tone))
    rows[1:1] = _decision_rows(view, lang)
    facts = "".join(
        f'<dt>{escape(label)}</dt><dd class="{cls}">{value}</dd>' for label, value, cls in rows
    )
    history = "".join(
        f"<li>{escape(status_name(step['status'], lang))}"
        f'<time datetime="{escape(step["at"])}">{escape(local_date(step["at"], lang))}</time></li>'
        for step in reversed(steps)  # the latest first
    )
    heading = escape(tr(lang, N_("Status history")))
    sections = [
        f"<section><dl>{facts}</dl></section>",
        f"<section><h2>{heading}</h2><ol>{history}</ol></section>",
    ]
    checks = view.get("registry_checks") or []
    if checks:  # once-only prefill: when and which office, never a value
        said = tr(lang, N_("State registry consulted for this application"))
        items = "".join(
            f"<li>{escape(_office(check['office'], check['region']))}"
            f'<time datetime="{escape(check["at"])}">{escape(local_date(check["at"], lang))}'
            "</time></li>"
            for check in checks
        )
        note = escape(tr(lang, N_("With your consent, after your ID document was checked.")))
        sections.append(
            f'<section class="registry"><h2>{escape(said)}</h2><ol>{items}</ol>'
            f"<p>{note}</p></section>"
        )
    return frame(lang, tr(lang, N_("Application status")), sections)


def _office(office: str, region: str | None) -> str:
    """The office (the kiosk's enrolled name) and its region, as the page names it."""
    return f"{office} ({region})" if region else office


def _decision_rows(view: StatusHistory, lang: str) -> list[tuple[str, str, str]]:
    """The decision's reason explained and who made it, and a deadline passed without a
    decision (issue 16, docs/appeals.md): rows of the page's facts, escaped."""
    rows: list[tuple[str, str, str]] = []
    said = decisions.reason_text(lang, view.get("reason_code"))
    if said is not None:
        explained = decisions.explain(lang, view.get("reason_code")) or ""
        rows.append((tr(lang, N_("Reason")), escape(f"{said} {explained}".strip()), "reason"))
        who = decisions.who_decided(lang, view.get("automated") is True)
        rows.append((tr(lang, N_("Decided")), escape(who), "decided"))
    if view.get("stalled") is True:
        deadline = view.get("deadline_at")
        shown = local_date(deadline, lang) if isinstance(deadline, str) else ""
        text = (
            tr(lang, decisions.STALLED, date=shown)
            if shown
            else tr(lang, decisions.STALLED_NO_DATE)
        )
        rows.append((tr(lang, N_("Deadline")), escape(text), "stalled"))
    return rows


def render_not_found(lang: str, code: str) -> str:
    """The page of a code no application has, or of no code at all."""
    canon = tracking.normalize(code) if len(code) <= MAX_CODE else None
    shown = (
        f"<dl><dt>{escape(tr(lang, N_('Tracking code')))}</dt>"
        f'<dd class="code">{escape(tracking.format_code(canon))}</dd></dl>'
        if canon
        else ""
    )
    text = escape(
        tr(
            lang,
            N_(
                "No application has this tracking code. Check the code on your receipt and try again."
            ),
        )
    )
    return frame(
        lang, tr(lang, N_("Application not found")), [f"<section>{shown}<p>{text}</p></section>"]
    )


def render_limited(lang: str, retry_after: int, now: datetime | None = None) -> str:
    """The page past the look-up limit: when to come back, in Uzbekistan's time."""
    moment = (now or datetime.now(UTC)) + timedelta(seconds=retry_after)
    if moment.second or moment.microsecond:  # the next whole minute, never before
        moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    time = f"{moment.astimezone(LOCAL_TIME):%H:%M}"
    text = tr(
        lang, N_("Too many look-ups from your network. Please try again after {time}."), time=time
    )
    return frame(lang, tr(lang, N_("Please wait")), [f"<section><p>{escape(text)}</p></section>"])


def answer(
    store: PortalStorage, code: str, lang: str, client_host: str | None
) -> tuple[int, str, dict[str, str]]:
    """(HTTP status, HTML, extra headers) for ``GET /s/{code}`` in ``lang``."""
    try:
        view = store.public_history(code[:MAX_CODE], enrol_source(client_host))
    except LookupLimited as exc:
        return 429, render_limited(lang, exc.retry_after), {"Retry-After": str(exc.retry_after)}
    if view is None or len(code) > MAX_CODE:
        return 404, render_not_found(lang, code), {}
    return 200, render_status(lang, view), {}


def install(app: FastAPI, store: PortalStorage) -> None:
    """Add ``GET /s/{code}`` to the portal's app (outside the API and its schema: it
    is for people, not kiosks)."""

    # ``:path``: a code with a slash in it (%2F) gets the same 404 page, not a JSON one.
    @app.get(PATH + "{code:path}", include_in_schema=False, response_class=HTMLResponse)
    async def status_page(request: Request, code: str, lang: str | None = None) -> HTMLResponse:
        chosen = choose_lang(lang, request.headers.get("accept-language"))
        host = request.client.host if request.client else None
        status, body, extra = await run_in_threadpool(answer, store, code, chosen, host)
        headers = {**HEADERS, **extra, "Content-Language": HTML_LANG[chosen]}
        return HTMLResponse(body, status_code=status, headers=headers)
